"""Fixtures for asset and sensor tests: real database, S3 endpoint and MLflow on SQLite."""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from mlflow.tracking import MlflowClient

from labelops.db.models import ProjectRow
from labelops.resources.database import DatabaseResource
from labelops.resources.model_registry import MlflowModelRegistry
from labelops.resources.object_store import S3ObjectStore
from labelops.resources.predictor import RegistryPredictor
from labelops.services.pipeline_storage import create_storage
from labelops.services.projects import create_project
from tests.factories import TEXT_CONFIG
from tests.resources.conftest import (  # noqa: F401
    azure_container,
    azure_endpoint,
    azure_store,
    bucket,
    gcs_bucket,
    gcs_endpoint,
    gcs_store,
    s3_bucket,
    s3_endpoint,
    s3_store,
)

IMAGE_CONFIG = """<View>
  <Image name="img" value="$photo"/>
  <Choices name="kind" toName="img"><Choice value="cat"/><Choice value="dog"/></Choices>
</View>"""


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as instance:  # disposing removes its temporary folder
        yield instance


@pytest.fixture
def database(database_url: str) -> DatabaseResource:
    return DatabaseResource(url=database_url)


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow tracking database on SQLite, migrated once (the migrations take seconds)."""
    path = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def registry(tmp_path: Path, mlflow_template: Path) -> MlflowModelRegistry:
    shutil.copy(mlflow_template, tmp_path / "mlflow.db")
    return MlflowModelRegistry(
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        artifact_location=(tmp_path / "mlartifacts").as_uri(),
    )


@pytest.fixture
def resources(
    database: DatabaseResource,
    s3_store: S3ObjectStore,  # noqa: F811
    registry: MlflowModelRegistry,
) -> dict[str, Any]:
    return {
        "database": database,
        "object_store": s3_store,
        "model_registry": registry,
        "predictor": RegistryPredictor(model_registry=registry),
    }


def make_pipeline_project(
    database: DatabaseResource,
    *,
    prefix: str = "incoming",
    kind: str = "local",
    label_config: str = TEXT_CONFIG,
    maximum_annotations: int = 1,
    **storage: Any,
) -> ProjectRow:
    with database.session() as session:
        project = create_project(
            session,
            created_by=None,
            title="Pipeline",
            label_config=label_config,
            maximum_annotations=maximum_annotations,
        )
        create_storage(session, project, kind=kind, prefix=prefix, **storage)
    return project


def materialize(
    assets: list[Any],
    resources: dict[str, Any],
    instance: dg.DagsterInstance,
    project: ProjectRow,
    run_config: dict[str, Any] | None = None,
) -> dg.ExecuteInProcessResult:
    key = str(project.id)
    if not instance.has_dynamic_partition("projects", key):
        instance.add_dynamic_partitions("projects", [key])
    return dg.materialize(
        assets,
        resources=resources,
        instance=instance,
        partition_key=key,
        run_config=run_config,
        selection=[a for a in assets if isinstance(a, dg.AssetsDefinition) and a.is_materializable],
    )


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    events = result.asset_materializations_for_node(asset)
    assert events, f"{asset} was not materialized"
    return {k: v.value for k, v in events[-1].metadata.items()}
