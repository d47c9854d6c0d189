"""The Label Studio ML backend protocol over HTTP: ``/health``, ``/setup``, ``/predict``, training.

One client for every caller (the project's connection checks, the pre-annotation predictor, the
train action, annotation events). Every request first passes the outbound-URL rule
(``labelops.domain.outbound``): a backend on a loopback, private or link-local address needs its
host in ``allowed_hosts``. Redirects are not followed. Failures raise :class:`MLBackendCallError`,
whose message names the URL and what went wrong.
"""

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from labelops.services.outbound import OutboundURLError, check_outbound_url

PREDICT_CONTEXT_KEYS = ("login", "password", "context")


class MLBackendCallError(RuntimeError):
    """A call to an ML backend was refused, could not be made or got a bad answer."""


@dataclass(frozen=True)
class MLBackendConnection:
    """Where a backend answers and how to reach it (a stored connection, its secret decrypted)."""

    url: str
    title: str = ""
    basic_auth_user: str = ""
    basic_auth_pass: str = field(default="", repr=False)
    timeout: float = 100.0


class MLBackendClient:
    """Speaks the ML backend protocol to one backend."""

    def __init__(
        self,
        connection: MLBackendConnection,
        allowed_hosts: Collection[str],
        *,
        connect_timeout: float = 1.0,
        http: requests.Session | None = None,
    ) -> None:
        """Prepares calls to the connection's URL (no request is made yet)."""
        self.connection = connection
        self.url = connection.url.rstrip("/")
        self.allowed_hosts = list(allowed_hosts)
        self.connect_timeout = connect_timeout
        self._http = http

    def _session(self) -> requests.Session:
        if self._http is None:
            self._http = http_session()
        return self._http

    def request(self, method: str, path: str, body: Any = None) -> requests.Response:
        """Returns the backend's response to one request (any status).

        Raises:
            MLBackendCallError: The URL is refused by the outbound rule, or the backend cannot be
                reached in time.
        """
        url = self.url + path
        try:
            check_outbound_url(url, self.allowed_hosts, what="ML backend URL")
        except OutboundURLError as exc:
            raise MLBackendCallError(f"ML backend refused: {exc}") from exc
        auth = None
        if self.connection.basic_auth_user:
            auth = (self.connection.basic_auth_user, self.connection.basic_auth_pass)
        try:
            return self._session().request(
                method,
                url,
                json=body,
                auth=auth,
                timeout=(self.connect_timeout, self.connection.timeout),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise MLBackendCallError(f"ML backend {url} is unreachable: {exc}") from exc

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """Returns the JSON answer of a POST.

        Raises:
            MLBackendCallError: The call failed, answered 4xx/5xx or not JSON.
        """
        response = self.request("post", path, body)
        url = self.url + path
        if response.status_code >= 400:
            raise MLBackendCallError(
                f"ML backend {url} answered {response.status_code}: {response.text[:500]}"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise MLBackendCallError(
                f"ML backend {url} answered with something other than JSON: {response.text[:200]!r}"
            ) from exc

    def health(self) -> dict[str, Any]:
        """Returns the backend's ``/health`` answer (``{"status": "UP", ...}``).

        Raises:
            MLBackendCallError: The backend is down or not healthy.
        """
        response = self.request("get", "/health")
        try:
            body = response.json() if response.ok else {}
        except ValueError:
            body = {}
        if not isinstance(body, dict) or body.get("status") != "UP":
            raise MLBackendCallError(
                f"ML backend {self.url}/health is not healthy: {response.status_code} "
                f"{body or response.text[:200]!r}"
            )
        return body

    def setup(self, project_ref: str, label_config: str, access_token: str = "") -> str:
        """Sends the project's labeling config to ``/setup``; returns the backend's model version.

        A backend that reports no version gets "unknown", as Label Studio shows it.
        """
        body = self.post(
            "/setup",
            {
                "project": project_ref,
                "schema": label_config,
                "hostname": "",
                "access_token": access_token,
                "extra_params": {},
            },
        )
        version = body.get("model_version") if isinstance(body, dict) else None
        return str(version or "") or "unknown"

    def predict(
        self,
        project_ref: str,
        label_config: str,
        tasks: Sequence[dict[str, Any]],
        model_version: str | None,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any] | None]:
        """Returns the backend's ``/predict`` results, one per task, in order (None: no result).

        Raises:
            MLBackendCallError: The backend failed or returned a different number of results.
        """
        body = self.post(
            "/predict",
            {
                "tasks": list(tasks),
                "model_version": model_version,
                "project": project_ref,
                "label_config": label_config,
                "params": {"login": None, "password": None, "context": context},
            },
        )
        results = body.get("results", []) if isinstance(body, dict) else body
        if not isinstance(results, list) or len(results) != len(tasks):
            count = len(results) if isinstance(results, list) else "no list of"
            raise MLBackendCallError(
                f"ML backend {self.url}/predict returned {count} results for {len(tasks)} tasks"
            )
        out: list[dict[str, Any] | None] = []
        for item in results:
            if not isinstance(item, dict) or not item.get("result"):
                out.append(None)
                continue
            out.append({**item, "model_version": item.get("model_version") or model_version or ""})
        return out

    def webhook(self, event: str, payload: dict[str, Any]) -> Any:
        """Sends a Label Studio webhook event (``{"action": event, ...}``) to ``/webhook``."""
        return self.post("/webhook", {"action": event, **payload})

    def train(
        self, project: dict[str, Any], annotated_tasks: Callable[[], list[dict[str, Any]]]
    ) -> Any:
        """Starts training as Label Studio's "Start training" does.

        A ``START_TRAINING`` event on ``/webhook`` (``{"action", "project": {...}}``); a backend
        without ``/webhook`` (404/405: one written for Label Studio before 1.4.1) gets the
        legacy ``/train`` with the annotated tasks (``{annotations: [tasks], project,
        label_config}``).
        """
        path = "/webhook"
        response = self.request("post", path, {"action": "START_TRAINING", "project": project})
        if response.status_code in (404, 405):
            path = "/train"
            body = {
                "annotations": annotated_tasks(),
                "project": project_ref(project["id"]),
                "label_config": project["label_config"],
                "params": {},
            }
            response = self.request("post", path, body)
        if response.status_code >= 400:
            raise MLBackendCallError(
                f"ML backend {self.url}{path} answered {response.status_code}: "
                f"{response.text[:500]}"
            )
        try:
            return response.json()
        except ValueError:
            return {}


def http_session() -> requests.Session:
    """Returns an HTTP session for backend calls (connection errors retried twice)."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(max_retries=2)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def project_ref(project_id: int) -> str:
    """Returns the project as the protocol names it (``<id>.<created timestamp>``; 0 here)."""
    return f"{project_id}.0"
