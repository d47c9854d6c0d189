"""Model registry: MLflow tracking + registry, or a local folder for tests.

A project's model is registered as ``labelops-project-<id>``; the alias ``champion`` names the
version that pre-annotation serves. Training logs a run (parameters, held-out metrics, the
training dataset and the held-out evaluation set as inputs, signature and input example, the
Dagster run id and partition as tags) and registers a version tagged with its dataset version.
Which version becomes champion is the training asset's decision (both models scored on the same
held-out set); the registry only moves the alias.

mlflow is imported inside the methods that use it, so importing the code location does not load
it.
"""

import json
import pickle
import re
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import PrivateAttr

from labelops.services.training import SKOPS_TRUSTED_TYPES

if TYPE_CHECKING:
    import pandas as pd
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

DATASET_VERSION_TAG = "dataset_version"
_PLAIN = re.compile(r"[A-Za-z0-9._:-]+")

CHAMPION = "champion"
# MLflow error codes that mean "no such model or alias": the only errors that mean "no model yet".
_NOT_FOUND_CODES = frozenset({"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"})


class ModelRegistryError(RuntimeError):
    """The model registry could not be asked (server down, refused, broken): not "no model"."""


def is_not_found(exc: "MlflowException") -> bool:
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
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """Returns ``<name>/v<version>``, the model_version stored on predictions."""
        return f"{self.name}/v{self.version}"


@dataclass(frozen=True)
class TrainingRecord:
    """What one training run logs: the model, its parameters and metrics, and its datasets.

    ``evaluation`` holds the held-out rows both the candidate and the champion were scored on
    (logged as an input with context "evaluation"); ``input_example`` is a one-column ``text``
    table; ``run_tags`` go on the MLflow run, ``version_tags`` on the registered version (the
    dataset version is always among them).
    """

    model: Any
    params: dict[str, Any]
    metrics: dict[str, float]
    dataset: "pd.DataFrame"
    dataset_name: str
    dataset_digest: str
    dataset_uri: str
    evaluation: "pd.DataFrame | None" = None
    input_example: "pd.DataFrame | None" = None
    run_name: str | None = None
    run_tags: dict[str, str] = field(default_factory=dict)
    version_tags: dict[str, str] = field(default_factory=dict)

    def all_version_tags(self) -> dict[str, str]:
        """Returns the version tags with the dataset version."""
        return {**self.version_tags, DATASET_VERSION_TAG: self.dataset_digest}


# Bare, as Dagster documents it (the resource is its own value): a subscript would make pydantic
# build a generic subclass at runtime.
class ModelRegistry(dg.ConfigurableResource, ABC):  # type: ignore[type-arg]
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

    @abstractmethod
    def version_for_dataset(self, name: str, dataset_version: str) -> ModelVersion | None:
        """Returns the newest version registered for that dataset version, or None."""


class MlflowModelRegistry(ModelRegistry):
    """MLflow tracking and model registry (a server URL, or ``sqlite:///...`` for one machine)."""

    tracking_uri: str
    registry_uri: str | None = None
    experiment_name: str = "labelops"
    artifact_location: str | None = None

    _client: "MlflowClient | None" = PrivateAttr(default=None)
    _models: dict[str, Any] = PrivateAttr(default_factory=dict)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Builds the MLflow client once per run."""
        self._mlflow()

    def _mlflow(self) -> "MlflowClient":
        import mlflow
        from mlflow.tracking import MlflowClient

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

        Only "not found" (no such model, or no ``champion`` alias) means no champion; any other
        MLflow failure (the server is down, a permission error) is raised, so training never
        promotes a candidate it could not compare, and pre-annotation fails visibly.

        Raises:
            ModelRegistryError: MLflow could not be asked (only "not found" means no champion).
        """
        from mlflow.exceptions import MlflowException

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
        return ModelVersion(
            name, str(found.version), found.run_id or "", dict(metrics), dict(found.tags or {})
        )

    def version_for_dataset(self, name: str, dataset_version: str) -> ModelVersion | None:
        """Returns the newest registered version tagged with that dataset version, or None.

        The tag is matched by the server when the value is a plain token (dataset versions are
        content hashes), and checked again here, so an unusual value never matches loosely.
        """
        client = self._mlflow()
        query = f"name = '{_quoted(name)}'"
        if _PLAIN.fullmatch(dataset_version):
            query += f" and tags.{DATASET_VERSION_TAG} = '{dataset_version}'"
        found = [
            v
            for v in client.search_model_versions(query)
            if (v.tags or {}).get(DATASET_VERSION_TAG) == dataset_version
        ]
        if not found:
            return None
        newest = max(found, key=lambda v: int(v.version))
        return ModelVersion(
            name, str(newest.version), newest.run_id or "", {}, dict(newest.tags or {})
        )

    def load_model(self, version: ModelVersion) -> Any:
        """Returns the scikit-learn model of the version (cached per version)."""
        import mlflow.sklearn

        if version.label not in self._models:
            self._mlflow()
            uri = f"models:/{version.name}/{version.version}"
            self._models[version.label] = mlflow.sklearn.load_model(uri)
        return self._models[version.label]

    def log_training(self, name: str, record: TrainingRecord) -> ModelVersion:
        """Logs params, metrics, the dataset inputs and the model, then registers a version.

        The model carries a signature and input example (a ``text`` column in, a label out)
        when the record has an input example; the version is tagged with the dataset version.
        """
        import mlflow
        import mlflow.sklearn
        from mlflow.data.pandas_dataset import from_pandas
        from mlflow.models import infer_signature

        self._mlflow()
        dataset = from_pandas(
            record.dataset,
            source=record.dataset_uri,
            name=record.dataset_name,
            digest=record.dataset_digest,
        )
        signature = None
        if record.input_example is not None:
            signature = infer_signature(
                record.input_example, record.model.predict(record.input_example)
            )
        with mlflow.start_run(experiment_id=self._experiment_id(), run_name=record.run_name) as run:
            mlflow.set_tags({"labelops.dataset_version": record.dataset_digest, **record.run_tags})
            mlflow.log_params(record.params)
            mlflow.log_metrics(record.metrics)
            mlflow.log_input(dataset, context="training")
            if record.evaluation is not None:
                held_out = from_pandas(
                    record.evaluation,
                    source=record.dataset_uri,
                    name=f"{record.dataset_name}-holdout",
                    digest=f"{record.dataset_digest[:24]}-holdout",
                )
                mlflow.log_input(held_out, context="evaluation")
            info = mlflow.sklearn.log_model(
                record.model,
                name="model",
                pip_requirements=PIP_REQUIREMENTS,
                signature=signature,
                input_example=record.input_example,
                skops_trusted_types=SKOPS_TRUSTED_TYPES,
            )
        tags = record.all_version_tags()
        registered = mlflow.register_model(info.model_uri, name, tags=tags)
        return ModelVersion(
            name, str(registered.version), run.info.run_id, dict(record.metrics), tags
        )

    def set_champion(self, version: ModelVersion) -> None:
        """Moves the ``champion`` alias."""
        self._mlflow().set_registered_model_alias(version.name, CHAMPION, version.version)


def _quoted(value: str) -> str:
    """Returns the value escaped for a single-quoted string of an MLflow search filter."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


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
        version = ModelVersion(
            name,
            str(len(index["versions"]) + 1),
            "",
            dict(record.metrics),
            record.all_version_tags(),
        )
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

    def version_for_dataset(self, name: str, dataset_version: str) -> ModelVersion | None:
        """Returns the newest version pickled for that dataset version, or None."""
        for entry in reversed(self._index(name)["versions"]):
            if entry.get("tags", {}).get(DATASET_VERSION_TAG) == dataset_version:
                return ModelVersion(**entry)
        return None
