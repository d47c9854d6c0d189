"""Predictors: the registry's champion model, or a Label Studio ML backend over HTTP.

A project with its own ML backend connection is served by it (``Predictor.for_project``); the
others by the resource the deployment configures.

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
from labelops.services.ml_client import (
    MLBackendClient,
    MLBackendConnection,
    http_session,
    project_ref,
)
from labelops.services.training import class_probabilities
from labelops.settings import Settings


# Bare, as Dagster documents it (the resource is its own value): a subscript would make pydantic
# build a generic subclass at runtime.
class Predictor(dg.ConfigurableResource, ABC):  # type: ignore[type-arg]
    """Turns tasks into predictions for one project."""

    def for_project(self, backend: MLBackendConnection | None) -> "Predictor":
        """Returns the predictor of a project: its own ML backend when it has one, else this one.

        ``backend`` is the project's connection (``labelops.services.ml_backends``); this
        resource (the MLflow champion, or the deployment's default backend) serves the rest.
        """
        if backend is None:
            return self
        return LabelStudioMLBackend.of(backend)

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
    basic_auth_user: str = ""
    basic_auth_pass: str | None = None
    connect_timeout: float = 1.0
    read_timeout: float = 100.0
    allowed_hosts: list[str] | None = None

    _http: requests.Session | None = PrivateAttr(default=None)

    @classmethod
    def of(
        cls, connection: MLBackendConnection, allowed_hosts: list[str] | None = None
    ) -> "LabelStudioMLBackend":
        """Returns the predictor of a project's stored backend connection."""
        return cls(
            url=connection.url,
            basic_auth_user=connection.basic_auth_user,
            basic_auth_pass=connection.basic_auth_pass,
            read_timeout=connection.timeout,
            allowed_hosts=allowed_hosts,
        )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Opens the HTTP session once per run."""
        self._http = http_session()

    def _client(self) -> MLBackendClient:
        hosts = self.allowed_hosts
        if hosts is None:
            hosts = list(Settings.from_env().outbound_host_allowlist)
        connection = MLBackendConnection(
            url=self.url,
            basic_auth_user=self.basic_auth_user,
            basic_auth_pass=self.basic_auth_pass or "",
            timeout=self.read_timeout,
        )
        if self._http is None:
            self._http = http_session()
        return MLBackendClient(
            connection, hosts, connect_timeout=self.connect_timeout, http=self._http
        )

    def health(self) -> dict[str, Any]:
        """Returns the backend's ``/health`` answer (``{"status": "UP", "model_class": ...}``).

        Raises:
            MLBackendCallError: The backend is down or not healthy.
        """
        return self._client().health()

    def model_version(self, project_id: int, config: LabelConfig) -> str | None:
        """Returns the model version the backend reports from ``/setup``."""
        return self._client().setup(project_ref(project_id), config.text, self.access_token or "")

    def predict(
        self, project_id: int, config: LabelConfig, tasks: Sequence[Task]
    ) -> list[dict[str, Any] | None]:
        """Returns the backend's ``/predict`` results, one per task.

        Raises:
            MLBackendCallError: The backend failed or returned a different number of results.
        """
        client = self._client()
        ref = project_ref(project_id)
        version = client.setup(ref, config.text, self.access_token or "")
        body = [{"id": t.id, "data": dict(t.data)} for t in tasks]
        return client.predict(ref, config.text, body, version)
