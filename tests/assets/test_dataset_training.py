from datetime import datetime
from typing import Any

import dagster as dg
from mlflow.tracking import MlflowClient

from labelops.assets.dataset import labeled_dataset
from labelops.assets.training import trained_model
from labelops.db.models import ProjectRow
from labelops.resources.database import DatabaseResource
from labelops.resources.model_registry import MlflowModelRegistry, model_name
from labelops.services.annotations import create_annotation
from tests.assets.conftest import materialize, metadata
from tests.factories import choice_result, make_project, make_tasks, make_user

NOW = datetime(2026, 1, 1)
LABELED = [
    ("good great lovely", "Positive"),
    ("great film good acting", "Positive"),
    ("lovely good story", "Positive"),
    ("good good fun", "Positive"),
    ("bad awful boring", "Negative"),
    ("awful plot bad acting", "Negative"),
    ("boring bad story", "Negative"),
    ("bad bad dull", "Negative"),
]


def _labeled_project(database: DatabaseResource) -> ProjectRow:
    with database.session() as session:
        project = make_project(session, maximum_annotations=1)
        user = make_user(session)
        for text, label in LABELED:
            task = make_tasks(session, project, n=1, text=text)[0]
            create_annotation(session, task, user_id=user.id, result=choice_result(label), now=NOW)
    return project


def test_training_registers_a_version_and_moves_champion_only_when_better(
    database: DatabaseResource,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    registry: MlflowModelRegistry,
) -> None:
    project = _labeled_project(database)

    first = materialize([labeled_dataset, trained_model], resources, instance, project)
    second = materialize([trained_model], resources, instance, project)

    meta = metadata(first, "trained_model")
    assert meta["trained"] is True and meta["promoted"] is True
    assert meta["model_version"] == "1"
    assert meta["dataset_version"] == metadata(first, "labeled_dataset")["version"]
    assert 0.0 <= meta["accuracy"] <= 1.0
    # Same data, same seed: the same score does not beat the champion.
    assert metadata(second, "trained_model")["promoted"] is False
    client = MlflowClient(registry.tracking_uri)
    name = model_name(project.id)
    assert str(client.get_model_version_by_alias(name, "champion").version) == "1"
    assert {str(v.version) for v in client.search_model_versions(f"name='{name}'")} == {"1", "2"}
    run = client.get_run(client.get_model_version(name, "1").run_id)
    assert run.data.params["C"] == "10.0"
    assert set(run.data.metrics) >= {"accuracy", "f1_macro"}
    digests = [i.dataset.digest for i in run.inputs.dataset_inputs]
    assert digests == [meta["dataset_version"]]
    champion = registry.champion(name)
    assert champion is not None
    assert registry.load_model(champion).predict(["good great"])[0] == "Positive"


def test_training_without_two_labels_is_skipped_with_the_reason(
    database: DatabaseResource, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    with database.session() as session:
        project = make_project(session)
        user = make_user(session)
        task = make_tasks(session, project, n=1)[0]
        create_annotation(session, task, user_id=user.id, result=choice_result("Positive"), now=NOW)

    result = materialize([labeled_dataset, trained_model], resources, instance, project)

    meta = metadata(result, "trained_model")
    assert meta["trained"] is False
    assert "two labels" in meta["reason"]
