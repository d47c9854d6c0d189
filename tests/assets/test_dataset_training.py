import io
import json
from datetime import datetime
from typing import Any

import dagster as dg
import pyarrow.parquet as pq
import sqlalchemy as sa
from mlflow.tracking import MlflowClient

from labelops.assets.dataset import dataset_key, labeled_dataset
from labelops.assets.training import trained_model
from labelops.db.models import DatasetVersionRow, ProjectRow
from labelops.resources.database import DatabaseResource
from labelops.resources.model_registry import MlflowModelRegistry, model_name
from labelops.resources.object_store import S3ObjectStore
from labelops.services.annotations import create_annotation
from labelops.services.reviews import review_annotation
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
        project = make_project(session, maximum_annotations=2)
        user = make_user(session)
        for text, label in LABELED:
            task = make_tasks(session, project, n=1, text=text)[0]
            create_annotation(session, task, user_id=user.id, result=choice_result(label), now=NOW)
    return project


def test_dataset_is_content_addressed_and_unchanged_labels_make_no_new_version(
    database: DatabaseResource,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    s3_store: S3ObjectStore,
) -> None:
    with database.session() as session:
        project = make_project(session, maximum_annotations=2)
        tasks = make_tasks(session, project, n=3)
        a, b = make_user(session, "a@example.com"), make_user(session, "b@example.com")
        # task 0: two votes Positive; task 1: Negative (a) vs Neutral (b) accepted -> Neutral;
        # task 2: only a skip -> not in the dataset.
        create_annotation(
            session, tasks[0], user_id=a.id, result=choice_result("Positive"), now=NOW
        )
        create_annotation(
            session, tasks[0], user_id=b.id, result=choice_result("Positive"), now=NOW
        )
        create_annotation(
            session, tasks[1], user_id=a.id, result=choice_result("Negative"), now=NOW
        )
        accepted = create_annotation(
            session, tasks[1], user_id=b.id, result=choice_result("Neutral"), now=NOW
        )
        review_annotation(session, accepted, reviewer_id=a.id, decision="accepted", now=NOW)
        create_annotation(session, tasks[2], user_id=a.id, result=[], was_cancelled=True, now=NOW)

    first = materialize([labeled_dataset], resources, instance, project)
    second = materialize([labeled_dataset], resources, instance, project)

    meta = metadata(first, "labeled_dataset")
    version = meta["version"]
    assert meta["new_version"] is True
    assert meta["num_tasks"] == 2
    assert meta["label_distribution"] == {"Positive": 1, "Neutral": 1}
    assert metadata(second, "labeled_dataset")["version"] == version
    assert metadata(second, "labeled_dataset")["new_version"] is False
    event = first.asset_materializations_for_node("labeled_dataset")[0]
    assert event.tags["dagster/data_version"] == version
    table = pq.read_table(io.BytesIO(s3_store.read_bytes(dataset_key(project.id, version))))
    rows = {r["task_id"]: r for r in table.to_pylist()}
    assert rows[tasks[0].id]["method"] == "majority"
    assert rows[tasks[1].id]["label"] == "Neutral" and rows[tasks[1].id]["method"] == "reviewed"
    export = json.loads(s3_store.read_bytes(dataset_key(project.id, version, "export_json.json")))
    assert {t["id"] for t in export} == {t.id for t in tasks}
    csv_lines = s3_store.read_bytes(dataset_key(project.id, version, "export_csv.csv")).splitlines()
    assert b"sentiment" in csv_lines[0] and len(csv_lines) > 1
    checks = first.get_asset_check_evaluations()
    assert [c.check_name for c in checks] == ["labeled_dataset_has_all_tasks"] and checks[0].passed
    with database.session() as session:
        stored = session.scalars(sa.select(DatasetVersionRow)).all()
    assert [(r.version, r.num_tasks) for r in stored] == [(version, 2)]
    assert (
        stored[0].uri == f"s3://{s3_store.bucket}/datasets/{project.id}/{version}/dataset.parquet"
    )


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
