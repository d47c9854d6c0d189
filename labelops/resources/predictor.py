"""Predictors: the registry's champion model, or a Label Studio ML backend over HTTP.

Both return Label Studio prediction JSON per task (``{"result", "score", "model_version"}``,
plus ``"probabilities"`` when the model gives class probabilities).
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import dagster as dg
import requests
from pydantic import PrivateAttr

from labelops.domain.label_config import LabelConfig
from labelops.domain.preannotation import prediction_from_probabilities, text_classification_target
from labelops.domain.records import Task
from labelops.resources.model_registry import ModelRegistry, ModelVersion, model_name
from labelops.services.outbound import OutboundURLError, check_outbound_url
from labelops.services.training import class_probabilities
from labelops.settings import Settings


class Predictor(dg.ConfigurableResource, ABC):
    """Turns tasks into predictions for one project."""

    @abstractmethod
    def model_version(self, project_id: int, config: LabelConfig) -> str | None:
        """Returns the version predictions would carry now, or None when there is no model."""

    @abstractmethod
    def predict(
        self, project_id: int, config: LabelConfig, tasks: Sequence[Task]
    ) -> list[dict[str, Any] | None]:
        """Returns one Label Studio prediction (or None) per task, in order."""


class RegistryPredictor(Predictor):
    """The champion of the project's registered model (the built-in text baseline)."""

    model_registry: ModelRegistry

    def _champion(self, project_id: int) -> ModelVersion | None:
        return self.model_registry.champion(model_name(project_id))

    def model_version(self, project_id: int, config: LabelConfig) -> str | None:
        """Returns the champion's ``<name>/v<version>``; None without a champion or text target."""
        champion = self._champion(project_id)
        if champion is None or text_classification_target(config) is None:
            return None
        return champion.label

    def predict(
        self, project_id: int, config: LabelConfig, tasks: Sequence[Task]
    ) -> list[dict[str, Any] | None]:
        """Returns the champion's choice and class probabilities per task."""
        champion = self._champion(project_id)
        target = text_classification_target(config)
        if champion is None or target is None:
            return [None] * len(tasks)
        model = self.model_registry.load_model(champion)
        texts = [str(task.data.get(target.data_field, "")) for task in tasks]
        return [
            prediction_from_probabilities(
                probs,
                from_name=target.control,
                to_name=target.object_name,
                model_version=champion.label,
            )
            for probs in class_probabilities(model, texts)
        ]


class LabelStudioMLBackend(Predictor):
    """A Label Studio ML backend, spoken to with its ``/health``, ``/setup`` and ``/predict``.

    Every request first passes the outbound-URL rule (``labelops.domain.outbound``): a backend on
    a loopback, private or link-local address needs its host in ``allowed_hosts`` (default: the
    ``LABELOPS_OUTBOUND_HOST_ALLOWLIST`` setting). Redirects are not followed.
    """

    url: str
    access_token: str | None = None
    connect_timeout: float = 1.0
    read_timeout: float = 100.0
    allowed_hosts: list[str] | None = None

    _http: requests.Session | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Opens the HTTP session once per run."""
        self._session()

    def _session(self) -> requests.Session:
        if self._http is None:
            self._http = requests.Session()
            adapter = requests.adapters.HTTPAdapter(max_retries=2)
            self._http.mount("http://", adapter)
            self._http.mount("https://", adapter)
        return self._http

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        hosts = self.allowed_hosts
        if hosts is None:
            hosts = list(Settings.from_env().outbound_host_allowlist)
        try:
            check_outbound_url(url, hosts, what="ML backend URL")
        except OutboundURLError as exc:
            raise RuntimeError(f"ML backend refused: {exc}") from exc
        try:
            return self._session().request(
                method,
                url,
                timeout=(self.connect_timeout, self.read_timeout),
                allow_redirects=False,
                **kwargs,
            )
        except requests.RequestException as exc:
            raise RuntimeError(f"ML backend {url} is unreachable: {exc}") from exc

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        url = self.url.rstrip("/") + path
        response = self._request("post", url, json=body)
        if response.status_code >= 400:
            raise RuntimeError(
                f"ML backend {url} answered {response.status_code}: {response.text[:500]}"
            )
        return response.json()

    def health(self) -> dict[str, Any]:
        """Returns the backend's ``/health`` answer (``{"status": "UP", "model_class": ...}``).

        Raises:
            RuntimeError: The backend is down or not healthy.
        """
        url = self.url.rstrip("/") + "/health"
        response = self._request("get", url)
        body = response.json() if response.ok else {}
        if body.get("status") != "UP":
            raise RuntimeError(f"ML backend {url} is not healthy: {response.status_code} {body}")
        return body

    def model_version(self, project_id: int, config: LabelConfig) -> str | None:
        """Returns the model version the backend reports from ``/setup``."""
        body = self._post(
            "/setup",
            {
                "project": f"{project_id}.0",
                "schema": config.text,
                "hostname": "",
                "access_token": self.access_token or "",
                "extra_params": {},
            },
        )
        return str(body.get("model_version") or "") or None

    def predict(
        self, project_id: int, config: LabelConfig, tasks: Sequence[Task]
    ) -> list[dict[str, Any] | None]:
        """Returns the backend's ``/predict`` results, one per task.

        Raises:
            RuntimeError: The backend failed or returned a different number of results.
        """
        version = self.model_version(project_id, config)
        body = self._post(
            "/predict",
            {
                "tasks": [{"id": t.id, "data": dict(t.data)} for t in tasks],
                "model_version": version,
                "project": f"{project_id}.0",
                "label_config": config.text,
                "params": {"login": None, "password": None, "context": None},
            },
        )
        results = body.get("results", []) if isinstance(body, dict) else body
        if len(results) != len(tasks):
            raise RuntimeError(
                f"ML backend {self.url} returned {len(results)} results for {len(tasks)} tasks"
            )
        out: list[dict[str, Any] | None] = []
        for item in results:
            if not item or not item.get("result"):
                out.append(None)
                continue
            out.append({**item, "model_version": item.get("model_version") or version or ""})
        return out
