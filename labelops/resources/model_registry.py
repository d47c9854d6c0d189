"""Model registry: MLflow tracking + registry, or a local folder for tests.

A project's model is registered as ``labelops-project-<id>``; the alias ``champion`` names the
version that pre-annotation serves. Training logs a run (parameters, held-out metrics, the
dataset as an input) and registers a version; the alias moves only when the new version beats
the champion on the chosen metric.
"""

import json
import pickle
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import mlflow
import mlflow.sklearn
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from pydantic import PrivateAttr

CHAMPION = "champion"
# MLflow error codes that mean "no such model or alias": the only errors that mean "no model yet".
_NOT_FOUND_CODES = frozenset({"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"})


class ModelRegistryError(RuntimeError):
    """The model registry could not be asked (server down, refused, broken): not "no model"."""


def is_not_found(exc: MlflowException) -> bool:
    """Returns True when MLflow says the registered model or its alias does not exist.

    MLflow answers ``RESOURCE_DOES_NOT_EXIST`` for a missing registered model and
    ``INVALID_PARAMETER_VALUE`` ("Registered model alias ... not found") for a missing alias;
    every other error (a server that is down or answers 5xx, a refused login) is not "not found".
    """
    if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
        return True
    return exc.error_code in _NOT_FOUND_CODES and "not found" in str(exc.message).lower()


PIP_REQUIREMENTS = ["scikit-learn>=1.4", "numpy>=1.26", "scipy>=1.11"]


def model_name(project_id: int) -> str:
    """Returns the registered model name of a project's model."""
    return f"labelops-project-{project_id}"


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model and the figures it was registered with."""

    name: str
    version: str
    run_id: str = ""
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """Returns ``<name>/v<version>``, the model_version stored on predictions."""
        return f"{self.name}/v{self.version}"


@dataclass(frozen=True)
class TrainingRecord:
    """What one training run logs: the model, its parameters and metrics, and its dataset."""

    model: Any
    params: dict[str, Any]
    metrics: dict[str, float]
    dataset: pd.DataFrame
    dataset_name: str
    dataset_digest: str
    dataset_uri: str


class ModelRegistry(dg.ConfigurableResource, ABC):
    """Registers trained models, names the champion and loads it."""

    @abstractmethod
    def champion(self, name: str) -> ModelVersion | None:
        """Returns the version the ``champion`` alias names, or None."""

    @abstractmethod
    def load_model(self, version: ModelVersion) -> Any:
        """Returns the fitted model of a registered version."""

    @abstractmethod
    def log_training(self, name: str, record: TrainingRecord) -> ModelVersion:
        """Logs a training run and returns the model version it registered."""

    @abstractmethod
    def set_champion(self, version: ModelVersion) -> None:
        """Points the ``champion`` alias at the version."""

    def promote_if_better(self, candidate: ModelVersion, metric: str) -> bool:
        """Returns True after moving ``champion`` to the candidate, if it beats the champion.

        A candidate beats the champion when its metric is strictly higher; with no champion yet it
        always wins.
        """
        current = self.champion(candidate.name)
        if current is not None and candidate.metrics.get(metric, float("-inf")) <= (
            current.metrics.get(metric, float("-inf"))
        ):
            return False
        self.set_champion(candidate)
        return True


class MlflowModelRegistry(ModelRegistry):
    """MLflow tracking and model registry (a server URL, or ``sqlite:///...`` for one machine)."""

    tracking_uri: str
    registry_uri: str | None = None
    experiment_name: str = "labelops"
    artifact_location: str | None = None

    _client: MlflowClient | None = PrivateAttr(default=None)
    _models: dict[str, Any] = PrivateAttr(default_factory=dict)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Builds the MLflow client once per run."""
        self._mlflow()

    def _mlflow(self) -> MlflowClient:
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.registry_uri or self.tracking_uri)
        if self._client is None:
            self._client = MlflowClient(self.tracking_uri, self.registry_uri or self.tracking_uri)
        return self._client

    def _experiment_id(self) -> str:
        client = self._mlflow()
        experiment = client.get_experiment_by_name(self.experiment_name)
        if experiment is not None:
            return experiment.experiment_id
        return client.create_experiment(
            self.experiment_name, artifact_location=self.artifact_location
        )

    def champion(self, name: str) -> ModelVersion | None:
        """Returns the champion version with its run's metrics, or None when there is none.

        Raises:
            ModelRegistryError: MLflow could not be asked (only "not found" means no champion).
        """
        client = self._mlflow()
        try:
            found = client.get_model_version_by_alias(name, CHAMPION)
        except MlflowException as exc:
            if is_not_found(exc):
                return None
            raise ModelRegistryError(
                f"could not read the champion of {name} from MLflow at {self.tracking_uri}: "
                f"{exc.message}"
            ) from exc
        try:
            metrics = client.get_run(found.run_id).data.metrics if found.run_id else {}
        except MlflowException as exc:
            raise ModelRegistryError(
                f"could not read the run {found.run_id} of {name} v{found.version} from MLflow "
                f"at {self.tracking_uri}: {exc.message}"
            ) from exc
        return ModelVersion(name, str(found.version), found.run_id or "", dict(metrics))

    def load_model(self, version: ModelVersion) -> Any:
        """Returns the scikit-learn model of the version (cached per version)."""
        if version.label not in self._models:
            self._mlflow()
            uri = f"models:/{version.name}/{version.version}"
            self._models[version.label] = mlflow.sklearn.load_model(uri)
        return self._models[version.label]

    def log_training(self, name: str, record: TrainingRecord) -> ModelVersion:
        """Logs params, metrics, the dataset input and the model, then registers a version."""
        self._mlflow()
        dataset = mlflow.data.from_pandas(
            record.dataset,
            source=record.dataset_uri,
            name=record.dataset_name,
            digest=record.dataset_digest,
        )
        with mlflow.start_run(experiment_id=self._experiment_id()) as run:
            mlflow.log_params(record.params)
            mlflow.log_metrics(record.metrics)
            mlflow.log_input(dataset, context="training")
            mlflow.set_tags({"labelops.dataset_version": record.dataset_digest})
            info = mlflow.sklearn.log_model(
                record.model, name="model", pip_requirements=PIP_REQUIREMENTS
            )
        registered = mlflow.register_model(info.model_uri, name)
        return ModelVersion(name, str(registered.version), run.info.run_id, dict(record.metrics))

    def set_champion(self, version: ModelVersion) -> None:
        """Moves the ``champion`` alias."""
        self._mlflow().set_registered_model_alias(version.name, CHAMPION, version.version)


class StaticModelRegistry(ModelRegistry):
    """A registry in a local folder (pickled models and a JSON index), for tests without MLflow."""

    root: str

    def _index_path(self, name: str) -> Path:
        return Path(self.root) / name / "index.json"

    def _index(self, name: str) -> dict[str, Any]:
        path = self._index_path(name)
        return json.loads(path.read_text()) if path.exists() else {"versions": [], "champion": None}

    def _save(self, name: str, index: dict[str, Any]) -> None:
        path = self._index_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(index, indent=1))

    def champion(self, name: str) -> ModelVersion | None:
        """Returns the champion version, or None."""
        index = self._index(name)
        for entry in index["versions"]:
            if entry["version"] == index["champion"]:
                return ModelVersion(**entry)
        return None

    def load_model(self, version: ModelVersion) -> Any:
        """Returns the unpickled model (a file this registry wrote itself)."""
        path = Path(self.root) / version.name / f"{version.version}.pkl"
        with path.open("rb") as stream:
            return pickle.load(stream)

    def log_training(self, name: str, record: TrainingRecord) -> ModelVersion:
        """Pickles the model as the next version."""
        index = self._index(name)
        version = ModelVersion(name, str(len(index["versions"]) + 1), "", dict(record.metrics))
        path = Path(self.root) / name / f"{version.version}.pkl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(record.model))
        index["versions"].append(asdict(version))
        self._save(name, index)
        return version

    def set_champion(self, version: ModelVersion) -> None:
        """Points the champion at the version."""
        index = self._index(version.name)
        index["champion"] = version.version
        self._save(version.name, index)
