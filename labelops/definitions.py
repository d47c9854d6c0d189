"""The one place that wires the Dagster side together: assets, checks, jobs, sensors, resources.

``LABELOPS_ENV`` picks the resources: "local" (default: SQLite labeling DB, a folder as object
store, MLflow on SQLite, all under LABELOPS_HOME) or "production" (URLs and credentials from the
environment, S3 as object store). In both, LABELOPS_ML_BACKEND_URL names a Label Studio ML
backend that predicts for projects without their own (connected through ``/api/ml``).

Running it:

- ``labelops up`` starts the web app and ``dagster dev`` on this code location (SQLite Dagster
  home under LABELOPS_HOME); ``dagster dev -w workspace.yaml`` starts Dagster alone.
- ``dagster job execute -m labelops.definitions -j labeling_loop_job --tags
  '{"dagster/partition": "1"}'`` runs the whole loop for project 1 from a shell.
- A deployment copies ``dagster.yaml`` into DAGSTER_HOME (PostgreSQL from the DAGSTER_PG_*
  variables), sets LABELOPS_ENV=production, LABELOPS_DATABASE_URL, LABELOPS_S3_BUCKET (and
  LABELOPS_S3_ENDPOINT_URL for S3-compatible stores), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
  MLFLOW_TRACKING_URI, and LABELOPS_STORAGE_SECRET_KEY (a Fernet key) for storage secrets, and
  runs ``dagster-webserver`` and ``dagster-daemon`` (the sensors and the nightly schedule).
"""

import os
from typing import Any

import dagster as dg

from labelops.assets.agreement import annotations, annotator_agreement
from labelops.assets.dataset import labeled_dataset
from labelops.assets.ingest import raw_tasks
from labelops.assets.preannotation import task_predictions
from labelops.assets.sampling import labeling_queue
from labelops.assets.training import trained_model
from labelops.jobs import JOBS
from labelops.resources.database import DatabaseResource
from labelops.resources.model_registry import MlflowModelRegistry
from labelops.resources.object_store import LocalObjectStore, S3ObjectStore
from labelops.resources.predictor import LabelStudioMLBackend, Predictor, RegistryPredictor
from labelops.schedules import annotations_observation_schedule, nightly_dataset_schedule
from labelops.sensors import (
    annotation_progress_sensor,
    deleted_projects_sensor,
    new_champion_sensor,
    new_object_sensor,
)
from labelops.settings import Settings

ASSETS = (
    raw_tasks,
    task_predictions,
    labeling_queue,
    annotations,
    annotator_agreement,
    labeled_dataset,
    trained_model,
)


def default_predictor(registry: MlflowModelRegistry) -> Predictor:
    """Returns the deployment's predictor for projects without their own ML backend.

    The ML backend at LABELOPS_ML_BACKEND_URL when it is set, else the registry's champion.
    """
    backend_url = os.environ.get("LABELOPS_ML_BACKEND_URL", "")
    if backend_url:
        return LabelStudioMLBackend(url=backend_url)
    return RegistryPredictor(model_registry=registry)


def local_resources(settings: Settings) -> dict[str, Any]:
    """Returns the embedded resources: everything under the settings' home folder."""
    registry = MlflowModelRegistry(
        tracking_uri=settings.mlflow_tracking_uri,
        artifact_location=(settings.home / "mlartifacts").as_uri(),
    )
    return {
        "database": DatabaseResource(url=settings.database_url),
        "object_store": LocalObjectStore(root=str(settings.object_store_root)),
        "model_registry": registry,
        "predictor": default_predictor(registry),
    }


def production_resources(settings: Settings) -> dict[str, Any]:
    """Returns the deployment's resources, configured from environment variables."""
    registry = MlflowModelRegistry(
        tracking_uri=dg.EnvVar("MLFLOW_TRACKING_URI"),
        registry_uri=os.environ.get("MLFLOW_REGISTRY_URI") or None,
    )
    return {
        "database": DatabaseResource(url=dg.EnvVar("LABELOPS_DATABASE_URL")),
        "object_store": S3ObjectStore(
            bucket=dg.EnvVar("LABELOPS_S3_BUCKET"),
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url or None,
            region=os.environ.get("AWS_REGION") or None,
            access_key_id=dg.EnvVar("AWS_ACCESS_KEY_ID"),
            secret_access_key=dg.EnvVar("AWS_SECRET_ACCESS_KEY"),
        ),
        "model_registry": registry,
        "predictor": default_predictor(registry),
    }


def resources_by_env() -> dict[str, dict[str, Any]]:
    """Returns the resources of each environment, read from the current environment variables."""
    settings = Settings.from_env()
    return {"local": local_resources(settings), "production": production_resources(settings)}


def build_definitions(resources: dict[str, Any]) -> dg.Definitions:
    """Returns the code location's definitions with the given resources."""
    return dg.Definitions(
        assets=list(ASSETS),
        jobs=list(JOBS),
        sensors=[
            new_object_sensor,
            annotation_progress_sensor,
            new_champion_sensor,
            deleted_projects_sensor,
        ],
        schedules=[nightly_dataset_schedule, annotations_observation_schedule],
        resources=resources,
    )


RESOURCES_BY_ENV = resources_by_env()
defs = build_definitions(RESOURCES_BY_ENV[os.environ.get("LABELOPS_ENV", "local")])
