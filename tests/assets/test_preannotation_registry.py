"""Pre-annotation tells "no model yet" from "the model registry is down"."""

import socket
from typing import Any

import dagster as dg
import pytest

from labelops.assets.preannotation import task_predictions
from labelops.assets.sampling import labeling_queue
from labelops.resources.database import DatabaseResource
from labelops.resources.model_registry import (
    MlflowModelRegistry,
    ModelRegistryError,
    model_name,
)
from labelops.resources.predictor import RegistryPredictor
from labelops.services.imports import import_rows
from tests.assets.conftest import materialize, metadata
from tests.factories import make_project


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _with_tasks(database: DatabaseResource) -> Any:
    with database.session() as session:
        project = make_project(session)
        rows = [(1, {"text": "good"}), (2, {"text": "bad"})]
        import_rows(session, project, rows, source="t")
    return project


def test_a_registry_without_the_model_means_no_model_yet(
    database: DatabaseResource, registry: MlflowModelRegistry, instance: dg.DagsterInstance
) -> None:
    project = _with_tasks(database)
    resources = {
        "database": database,
        "predictor": RegistryPredictor(model_registry=registry),
        "model_registry": registry,
    }

    result = materialize([task_predictions, labeling_queue], resources, instance, project)

    assert result.success
    found = metadata(result, "task_predictions")
    assert found["num_predictions"] == 0
    assert "has no champion model yet" in found["outcome"]
    assert "training_job" in found["outcome"]


def test_a_registered_model_without_a_champion_means_no_model_yet(
    registry: MlflowModelRegistry,
) -> None:
    registry._mlflow().create_registered_model(model_name(7))

    assert registry.champion(model_name(7)) is None


def test_mlflow_down_fails_the_run_and_the_queue_is_not_recomputed(
    database: DatabaseResource, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    down = MlflowModelRegistry(tracking_uri=f"http://127.0.0.1:{_free_port()}")
    project = _with_tasks(database)
    resources = {
        "database": database,
        "predictor": RegistryPredictor(model_registry=down),
        "model_registry": down,
    }
    instance.add_dynamic_partitions("projects", [str(project.id)])

    result = dg.materialize(
        [task_predictions, labeling_queue],
        resources=resources,
        instance=instance,
        partition_key=str(project.id),
        raise_on_error=False,
    )

    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "could not read the champion" in str(failure.step_failure_data.error)
    assert not result.asset_materializations_for_node("task_predictions")
    assert not result.asset_materializations_for_node("labeling_queue")
    with pytest.raises(ModelRegistryError, match="could not read the champion"):
        down.champion(model_name(project.id))
