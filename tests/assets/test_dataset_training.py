import json
from datetime import datetime
from typing import Any

import dagster as dg
import mlflow
import pandas as pd
import sqlalchemy as sa
from mlflow.tracking import MlflowClient

from labelops.assets.dataset import labeled_dataset
from labelops.assets.training import trained_model
from labelops.db.models import PredictionRow, ProjectRow
from labelops.definitions import build_definitions
from labelops.resources.database import DatabaseResource
from labelops.resources.model_registry import MlflowModelRegistry, model_name
from labelops.resources.object_store import S3ObjectStore
from labelops.services.annotations import create_annotation
from labelops.services.datasets import DatasetOptions, build_dataset, list_dataset_versions
from tests.assets.conftest import make_pipeline_project, materialize, metadata
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


def _label_more(
    database: DatabaseResource, project: ProjectRow, labeled: list[tuple[str, str]]
) -> None:
    with database.session() as session:
        row = session.get_one(ProjectRow, project.id)
        user = make_user(session, f"more{len(labeled)}@example.com")
        for text, label in labeled:
            task = make_tasks(session, row, n=1, text=text)[0]
            create_annotation(session, task, user_id=user.id, result=choice_result(label), now=NOW)


def test_training_registers_a_version_with_signature_tags_and_both_inputs(
    database: DatabaseResource,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    registry: MlflowModelRegistry,
) -> None:
    project = _labeled_project(database)

    result = materialize([labeled_dataset, trained_model], resources, instance, project)

    meta = metadata(result, "trained_model")
    dataset_version = metadata(result, "labeled_dataset")["version"]
    assert meta["trained"] is True and meta["promoted"] is True
    assert meta["model_version"] == "1" and meta["dataset_version"] == dataset_version
    assert 0.0 <= meta["accuracy"] <= 1.0
    client = MlflowClient(registry.tracking_uri)
    name = model_name(project.id)
    version = client.get_model_version(name, "1")
    assert str(client.get_model_version_by_alias(name, "champion").version) == "1"
    assert version.tags["dataset_version"] == dataset_version
    # Each task has one annotation (overlap 1), so no task has an agreement figure.
    assert version.tags["agreement"] == "n/a"
    run = client.get_run(version.run_id)
    assert meta["mlflow_run_id"] == run.info.run_id
    assert run.info.run_name == f"project-{project.id}-dataset-{dataset_version[:12]}"
    assert run.data.tags["dagster.run_id"] == result.run_id
    assert run.data.tags["dagster.partition"] == str(project.id)
    assert run.data.params["C"] == "10.0"
    assert set(run.data.metrics) >= {"accuracy", "f1_macro"}
    contexts = {
        i.dataset.name: [t.value for t in i.tags if t.key == "mlflow.data.context"]
        for i in run.inputs.dataset_inputs
    }
    assert contexts == {
        f"project-{project.id}-labeled": ["training"],
        f"project-{project.id}-labeled-holdout": ["evaluation"],
    }
    training_input = next(i for i in run.inputs.dataset_inputs if "holdout" not in i.dataset.name)
    assert training_input.dataset.digest == dataset_version
    info = mlflow.models.get_model_info(f"models:/{name}/1")
    assert info.signature is not None
    assert info.signature.inputs.input_names() == ["text"]
    assert info.saved_input_example_info is not None
    served = mlflow.pyfunc.load_model(f"models:/{name}/1")
    assert list(served.predict(pd.DataFrame({"text": ["good great", "awful bad"]}))) == [
        "Positive",
        "Negative",
    ]
    champion = registry.champion(name)
    assert champion is not None
    assert registry.load_model(champion).predict(["good great"])[0] == "Positive"


def test_retraining_an_unchanged_dataset_registers_no_new_version(
    database: DatabaseResource,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    registry: MlflowModelRegistry,
) -> None:
    project = _labeled_project(database)

    first = materialize([labeled_dataset, trained_model], resources, instance, project)
    again = materialize([labeled_dataset, trained_model], resources, instance, project)
    only_training = materialize([trained_model], resources, instance, project)

    dataset_version = metadata(first, "labeled_dataset")["version"]
    for result in (again, only_training):
        meta = metadata(result, "trained_model")
        assert meta["trained"] is False and meta["promoted"] is False
        assert meta["dataset_version"] == dataset_version
        assert meta["model_version"] == "1"
        assert f"dataset {dataset_version} is already trained" in meta["reason"]
    client = MlflowClient(registry.tracking_uri)
    name = model_name(project.id)
    assert [str(v.version) for v in client.search_model_versions(f"name='{name}'")] == ["1"]
    assert len(client.search_runs([client.get_experiment_by_name("labelops").experiment_id])) == 1


def test_training_uses_the_dataset_version_of_the_upstream_materialization(
    database: DatabaseResource,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    s3_store: S3ObjectStore,
    registry: MlflowModelRegistry,
) -> None:
    project = _labeled_project(database)
    upstream = materialize([labeled_dataset], resources, instance, project)
    v1 = metadata(upstream, "labeled_dataset")["version"]
    # A newer dataset row written outside this partition's materializations (another run, an
    # export by hand): the newest row, which the model must not silently pick up.
    _label_more(database, project, [("another review", "Negative")])
    with database.session() as session:
        row = session.get_one(ProjectRow, project.id)
        v2 = build_dataset(session, row, s3_store, DatasetOptions()).version
        session.commit()
    assert v2 != v1
    with database.session() as session:
        assert list_dataset_versions(session, project.id)[0].version == v2

    result = materialize([trained_model], resources, instance, project)

    meta = metadata(result, "trained_model")
    assert meta["trained"] is True and meta["dataset_version"] == v1
    client = MlflowClient(registry.tracking_uri)
    run = client.get_run(meta["mlflow_run_id"])
    training = [i for i in run.inputs.dataset_inputs if "holdout" not in i.dataset.name]
    assert [i.dataset.digest for i in training] == [v1]
    version = client.get_model_version(model_name(project.id), meta["model_version"])
    assert version.tags["dataset_version"] == v1


def test_training_without_an_upstream_materialization_is_skipped_with_the_reason(
    database: DatabaseResource, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    project = _labeled_project(database)

    result = materialize([trained_model], resources, instance, project)

    meta = metadata(result, "trained_model")
    assert meta["trained"] is False
    assert "no labeled_dataset materialization" in meta["reason"]


def test_champion_moves_only_when_the_candidate_is_better_on_the_same_held_out_set(
    database: DatabaseResource,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    registry: MlflowModelRegistry,
) -> None:
    project = _labeled_project(database)
    first = materialize([labeled_dataset, trained_model], resources, instance, project)
    assert metadata(first, "trained_model")["accuracy"] == 1.0  # v1's own held-out score

    # One more clear example: a new dataset version on which both models score the same.
    _label_more(database, project, [("good lovely fun", "Positive")])
    tie = materialize([labeled_dataset, trained_model], resources, instance, project)
    tie_meta = metadata(tie, "trained_model")
    assert tie_meta["trained"] is True and tie_meta["model_version"] == "2"
    assert tie_meta["accuracy"] == tie_meta["champion_accuracy"]
    assert tie_meta["promoted"] is False

    # A new label the champion never saw: the candidate wins on the held-out set both share,
    # although its score there is no higher than the champion's score on its own old set.
    _label_more(database, project, [(f"meh so so {i}", "Neutral") for i in range(4)])
    better = materialize([labeled_dataset, trained_model], resources, instance, project)
    meta = metadata(better, "trained_model")
    assert meta["model_version"] == "3" and meta["champion_before"].endswith("/v1")
    assert meta["accuracy"] <= 1.0
    assert meta["champion_accuracy"] < meta["accuracy"]
    assert meta["promoted"] is True
    client = MlflowClient(registry.tracking_uri)
    name = model_name(project.id)
    assert str(client.get_model_version_by_alias(name, "champion").version) == "3"
    run = client.get_run(meta["mlflow_run_id"])
    assert run.data.metrics["champion_accuracy"] == meta["champion_accuracy"]
    (held_out,) = [i for i in run.inputs.dataset_inputs if "holdout" in i.dataset.name]
    assert [t.value for t in held_out.tags if t.key == "mlflow.data.context"] == ["evaluation"]
    assert json.loads(held_out.dataset.profile)["num_rows"] == meta["num_test"]


def test_labeling_loop_job_predicts_with_the_champion_it_just_trained(
    database: DatabaseResource,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
) -> None:
    project = make_pipeline_project(database)
    with database.session() as session:
        row = session.get_one(ProjectRow, project.id)
        user = make_user(session)
        for text, label in LABELED:
            task = make_tasks(session, row, n=1, text=text)[0]
            create_annotation(session, task, user_id=user.id, result=choice_result(label), now=NOW)
        unlabeled = make_tasks(session, row, n=3, text="good or bad")
    instance.add_dynamic_partitions("projects", [str(project.id)])
    job = build_definitions(resources).resolve_job_def("labeling_loop_job")

    result = job.execute_in_process(instance=instance, partition_key=str(project.id))

    assert result.success
    order = [
        e.step_key
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.STEP_START and e.step_key
    ]
    assert order.index("trained_model") < order.index("task_predictions")
    model = metadata(result, "trained_model")
    predictions = metadata(result, "task_predictions")
    champion = f"{model_name(project.id)}/v{model['model_version']}"
    assert model["promoted"] is True
    assert predictions["model_version"] == champion
    assert predictions["num_predictions"] == len(LABELED) + len(unlabeled)
    with database.session() as session:
        stored = session.scalars(
            sa.select(PredictionRow.model_version).where(
                PredictionRow.task_id.in_([t.id for t in unlabeled])
            )
        ).all()
    assert stored == [champion] * len(unlabeled)


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
