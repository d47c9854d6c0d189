"""The whole loop with real parts, from files in a bucket to a model and back to the queue.

S3 endpoint, sensor, import, predictions, queue, annotations through the REST API, agreement, a
versioned dataset, an MLflow model, predictions from it and the reordered queue.
"""

import json
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa
from flask import Flask
from mlflow.tracking import MlflowClient

from labelops.assets.agreement import annotator_agreement
from labelops.assets.dataset import labeled_dataset
from labelops.assets.ingest import raw_tasks
from labelops.assets.preannotation import task_predictions
from labelops.assets.sampling import labeling_queue
from labelops.assets.training import trained_model
from labelops.db.models import DatasetVersionRow, PredictionRow, ProjectRow, TaskRow
from labelops.definitions import build_definitions
from labelops.resources.model_registry import MlflowModelRegistry, model_name
from labelops.resources.object_store import S3ObjectStore
from labelops.sensors import annotation_progress_sensor, new_champion_sensor, new_object_sensor
from tests.assets.conftest import materialize, metadata
from tests.factories import TEXT_CONFIG, choice_result
from tests.web.helpers import user_with_token

# Task text, annotator A's label, annotator B's label (None: left unlabeled).
TASKS = [
    ("good great fun", "Positive", "Positive"),
    ("great lovely film", "Positive", "Positive"),
    ("good lovely acting", "Positive", "Positive"),
    ("good but dull", "Positive", "Negative"),
    ("bad awful plot", "Negative", "Negative"),
    ("awful boring film", "Negative", "Negative"),
    ("bad dull acting", "Negative", "Negative"),
    ("boring but great", "Negative", "Positive"),
    ("great great good", None, None),
    ("awful bad boring", None, None),
    ("film", None, None),
    ("good bad", None, None),
]
# Hand-computed for A vs B over the 8 shared tasks (6 agree, 2 disagree; each marginal 4/4):
# p_o = 6/8 = 0.75, p_e = 0.5*0.5 + 0.5*0.5 = 0.5, Cohen's kappa = (0.75-0.5)/(1-0.5) = 0.5;
# Fleiss' kappa with 2 raters: P_bar = 6/8, P_e = 0.5 -> 0.5;
# Krippendorff's alpha: o_PN + o_NP = 4 of n = 16 pairable values, D_o = 4/16,
# D_e = 2 * 8 * 8 / (16 * 15) = 8/15 -> alpha = 1 - (1/4) / (8/15) = 0.53125.
KAPPA, FLEISS, ALPHA, PERCENT = 0.5, 0.5, 0.53125, 0.75


def _queue(database_url_session: Any, project_id: int) -> list[str]:
    rows = database_url_session.execute(
        sa.select(TaskRow.data)
        .where(TaskRow.project_id == project_id, TaskRow.is_labeled.is_(False))
        .order_by(TaskRow.priority.desc(), TaskRow.id)
    )
    return [data["text"] for (data,) in rows]


def test_files_to_model_and_back_to_the_queue(
    app: Flask,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    s3_store: S3ObjectStore,
    registry: MlflowModelRegistry,
) -> None:
    database = resources["database"]
    client = app.test_client()
    _, manager = user_with_token(app, "manager@example.com", can_create_projects=True)
    project_id = client.post(
        "/api/projects",
        json={"title": "Reviews", "label_config": TEXT_CONFIG, "maximum_annotations": 2},
        headers=manager,
    ).get_json()["id"]
    storage = client.post(
        f"/api/projects/{project_id}/storages",
        json={"kind": "local", "prefix": "incoming", "file_pattern": "*.*"},
        headers=manager,
    )
    assert storage.status_code == 201
    head, tail = TASKS[:8], TASKS[8:]
    s3_store.put_bytes(
        "incoming/batch1.jsonl", "".join(json.dumps({"text": t}) + "\n" for t, *_ in head).encode()
    )
    s3_store.put_bytes(
        "incoming/batch2.csv", ("text\n" + "".join(f"{t}\n" for t, *_ in tail)).encode()
    )

    # Sensor tick: the project's partition is added and one import run requested.
    with dg.build_sensor_context(
        instance=instance, resources={"database": database, "object_store": s3_store}
    ) as context:
        tick = new_object_sensor(context)
    assert [r.partition_key for r in tick.run_requests] == [str(project_id)]
    for request in tick.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    with database.session() as session:
        project = session.get_one(ProjectRow, project_id)

    # Import, predictions (no model yet) and the first queue.
    first = materialize([raw_tasks, task_predictions, labeling_queue], resources, instance, project)
    assert metadata(first, "raw_tasks")["num_tasks_added"] == 12
    assert metadata(first, "task_predictions")["num_predictions"] == 0
    with database.session() as session:
        ids = {d["text"]: i for i, d in session.execute(sa.select(TaskRow.id, TaskRow.data)).all()}
        assert _queue(session, project_id) == [t for t, *_ in TASKS]

    # Two annotators label the first eight tasks through the REST API.
    for who, column in (("a@example.com", 1), ("b@example.com", 2)):
        _, headers = user_with_token(app, who)
        client.post(f"/api/projects/{project_id}/members", json={"email": who}, headers=manager)
        for task in TASKS:
            if task[column] is not None:
                response = client.post(
                    f"/api/tasks/{ids[task[0]]}/annotations",
                    json={"result": choice_result(task[column])},
                    headers=headers,
                )
                assert response.status_code == 201, response.get_json()
    with dg.build_sensor_context(instance=instance, resources={"database": database}) as context:
        progress = annotation_progress_sensor(context)
    assert [r.partition_key for r in progress.run_requests] == [str(project_id)]

    # Agreement, dataset v1 and model v1 (the refresh the progress sensor asks for).
    refresh = materialize(
        [annotator_agreement, labeled_dataset, trained_model], resources, instance, project
    )
    agreement = metadata(refresh, "annotator_agreement")
    assert agreement["num_tasks"] == 8
    assert agreement["sentiment_mean_pair_kappa"] == pytest.approx(KAPPA)
    assert agreement["sentiment_fleiss_kappa"] == pytest.approx(FLEISS)
    assert agreement["sentiment_alpha_nominal"] == pytest.approx(ALPHA)
    report = client.get(f"/api/projects/{project_id}/agreement", headers=manager).get_json()
    (pair,) = report["report"]["controls"]["sentiment"]["pairs"]
    assert pair["kappa"] == pytest.approx(KAPPA)
    assert pair["percent_agreement"] == pytest.approx(PERCENT)
    checks = {c.check_name: c.passed for c in refresh.get_asset_check_evaluations()}
    assert checks == {
        "annotator_agreement_meets_threshold": False,  # alpha 0.53 < 0.6: a warning
        "annotator_agreement_has_no_contradictory_ground_truth": True,
        "labeled_dataset_has_all_tasks": True,
    }
    dataset = metadata(refresh, "labeled_dataset")
    assert dataset["num_tasks"] == 6  # the two 1-1 ties are left unlabeled and out
    assert dataset["num_ties"] == 2 and dataset["excluded_ties"] == 2
    assert dataset["label_distribution"] == {"Positive": 3, "Negative": 3}
    model = metadata(refresh, "trained_model")
    assert model["model_version"] == "1" and model["promoted"] is True
    assert model["dataset_version"] == dataset["version"]
    mlflow = MlflowClient(registry.tracking_uri)
    champion = mlflow.get_model_version_by_alias(model_name(project_id), "champion")
    assert str(champion.version) == "1"

    # The new champion asks for fresh predictions and a new queue order.
    with dg.build_sensor_context(
        instance=instance, definitions=build_definitions(resources)
    ) as context:
        champion_tick = list(new_champion_sensor(context))
    assert [r.partition_key for r in champion_tick] == [str(project_id)]

    # Predictions from v1 reorder the queue: uncertain texts first, clear ones last.
    second = materialize([task_predictions, labeling_queue], resources, instance, project)
    assert metadata(second, "task_predictions")["num_predictions"] == 12
    assert metadata(second, "task_predictions")["model_version"] == f"{model_name(project_id)}/v1"
    with database.session() as session:
        versions = set(session.scalars(sa.select(PredictionRow.model_version)))
        queue = _queue(session, project_id)
    assert versions == {f"{model_name(project_id)}/v1"}
    assert queue != [t for t, *_ in tail]
    assert set(queue[:2]) == {"film", "good bad"}
    _, newcomer = user_with_token(app, "c@example.com")
    client.post(
        f"/api/projects/{project_id}/members", json={"email": "c@example.com"}, headers=manager
    )
    served = client.get(f"/api/projects/{project_id}/next", headers=newcomer).get_json()
    assert served["data"]["text"] == queue[0]

    # A second identical run makes no new dataset version.
    again = materialize([labeled_dataset], resources, instance, project)
    assert metadata(again, "labeled_dataset")["version"] == dataset["version"]
    assert metadata(again, "labeled_dataset")["new_version"] is False
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count(DatasetVersionRow.id))) == 1
