import random
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from labelops.assets.preannotation import task_predictions
from labelops.assets.sampling import labeling_queue
from labelops.db.models import PredictionRow, ProjectRow, TaskRow
from labelops.domain.sampling import least_confidence
from labelops.resources.database import DatabaseResource
from labelops.resources.model_registry import StaticModelRegistry, TrainingRecord, model_name
from labelops.resources.predictor import RegistryPredictor
from labelops.services.annotations import create_annotation
from labelops.services.imports import import_rows
from labelops.services.training import train_baseline
from tests.assets.conftest import materialize, metadata
from tests.factories import choice_result, make_project, make_user

TRAIN = [
    ("good great lovely", "Positive"),
    ("great film, good acting", "Positive"),
    ("lovely good story", "Positive"),
    ("bad awful boring", "Negative"),
    ("awful plot, bad acting", "Negative"),
    ("boring bad story", "Negative"),
]
TEXTS = ["good great", "bad awful", "good but boring", "story"]


@pytest.fixture
def static_resources(resources: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    registry = StaticModelRegistry(root=str(tmp_path / "registry"))
    return {
        **resources,
        "model_registry": registry,
        "predictor": RegistryPredictor(model_registry=registry),
    }


def _project(
    database: DatabaseResource, texts: list[str] = TEXTS, sampling: str = "Uncertainty sampling"
) -> ProjectRow:
    with database.session() as session:
        project = make_project(session, sampling=sampling)
        rows = [(i + 1, {"text": t}) for i, t in enumerate(texts)]
        import_rows(session, project, rows, source="t")
    return project


def _champion(registry: StaticModelRegistry, project: ProjectRow) -> Any:
    texts, labels = zip(*TRAIN, strict=True)
    trained = train_baseline(list(texts), list(labels))
    record = TrainingRecord(trained.model, {}, trained.metrics, pd.DataFrame(), "d", "v1", "u")
    version = registry.log_training(model_name(project.id), record)
    registry.set_champion(version)
    return trained.model


def test_no_model_means_no_predictions_and_the_queue_keeps_id_order(
    database: DatabaseResource, instance: dg.DagsterInstance, static_resources: dict[str, Any]
) -> None:
    project = _project(database)

    result = materialize([task_predictions, labeling_queue], static_resources, instance, project)

    assert metadata(result, "task_predictions")["num_predictions"] == 0
    with database.session() as session:
        ids = session.scalars(
            sa.select(TaskRow.id).where(TaskRow.project_id == project.id)
            .order_by(TaskRow.priority.desc(), TaskRow.id)
        ).all()  # fmt: skip
    assert ids == sorted(ids)


def test_champion_predictions_order_the_queue_by_least_confidence(
    database: DatabaseResource, instance: dg.DagsterInstance, static_resources: dict[str, Any]
) -> None:
    project = _project(database)
    model = _champion(static_resources["model_registry"], project)

    first = materialize([task_predictions, labeling_queue], static_resources, instance, project)
    again = materialize([task_predictions], static_resources, instance, project)

    assert metadata(first, "task_predictions")["num_predictions"] == len(TEXTS)
    assert metadata(first, "task_predictions")["model_version"] == f"{model_name(project.id)}/v1"
    assert metadata(again, "task_predictions")["num_predictions"] == 0
    with database.session() as session:
        rows = session.execute(
            sa.select(TaskRow.id, TaskRow.data["text"].as_string(), TaskRow.priority)
            .where(TaskRow.project_id == project.id)
        ).all()  # fmt: skip
        prediction = session.scalars(sa.select(PredictionRow)).first()
        assert session.get_one(ProjectRow, project.id).model_version.endswith("/v1")
    assert prediction is not None and set(prediction.probabilities) == {"Negative", "Positive"}
    assert prediction.result[0]["value"]["choices"][0] in ("Negative", "Positive")
    expected = least_confidence(model.predict_proba([text for _, text, _ in rows]))
    for (_, _, priority), want in zip(rows, expected, strict=True):
        assert priority == pytest.approx(want)
    head = metadata(first, "labeling_queue")["head_task_ids"]
    by_text = {task_id: text for task_id, text, _ in rows}
    assert by_text[head[0]] in ("good but boring", "story")


@pytest.mark.parametrize("strategy", ["random", "sequential"])
def test_random_is_reproducible_by_seed_and_sequential_follows_ids(
    strategy: str,
    database: DatabaseResource,
    instance: dg.DagsterInstance,
    static_resources: dict[str, Any],
) -> None:
    project = _project(database)
    config = {"ops": {"labeling_queue": {"config": {"strategy": strategy, "seed": 7}}}}

    materialize([labeling_queue], static_resources, instance, project, run_config=config)

    with database.session() as session:
        rows = session.execute(
            sa.select(TaskRow.id, TaskRow.priority).where(TaskRow.project_id == project.id)
            .order_by(TaskRow.id)
        ).all()  # fmt: skip
    if strategy == "random":
        rng = random.Random(7)
        assert [p for _, p in rows] == [rng.random() for _ in rows]
    else:
        assert [p for _, p in rows] == [float(len(rows) - i) for i in range(len(rows))]


def test_each_projects_task_order_picks_the_strategy_of_its_queue(
    database: DatabaseResource, instance: dg.DagsterInstance, static_resources: dict[str, Any]
) -> None:
    sequential = _project(database, sampling="Sequential sampling")
    uniform = _project(database, sampling="Uniform sampling")
    seed = {"ops": {"labeling_queue": {"config": {"seed": 7}}}}

    results = [
        materialize([labeling_queue], static_resources, instance, project, run_config=seed)
        for project in (sequential, uniform)
    ]

    assert [metadata(r, "labeling_queue")["strategy"] for r in results] == ["sequential", "random"]
    with database.session() as session:
        queues = [
            session.execute(
                sa.select(TaskRow.id, TaskRow.priority)
                .where(TaskRow.project_id == project.id)
                .order_by(TaskRow.id)
            ).all()
            for project in (sequential, uniform)
        ]
    n = len(TEXTS)
    rng = random.Random(7)
    assert [p for _, p in queues[0]] == [float(n - i) for i in range(n)]
    assert [p for _, p in queues[1]] == [rng.random() for _ in range(n)]
    assert [t for t, _ in queues[0]] != [t for t, _ in sorted(queues[1], key=lambda r: -r[1])]


def test_disagreement_sends_disputed_tasks_first(
    database: DatabaseResource, instance: dg.DagsterInstance, static_resources: dict[str, Any]
) -> None:
    project = _project(database)
    with database.session() as session:
        session.get_one(ProjectRow, project.id).maximum_annotations = 3
        tasks = session.scalars(sa.select(TaskRow).order_by(TaskRow.id)).all()
        a, b = make_user(session, "a@example.com"), make_user(session, "b@example.com")
        now = datetime(2026, 1, 1)
        create_annotation(
            session, tasks[1], user_id=a.id, result=choice_result("Positive"), now=now
        )
        create_annotation(
            session, tasks[1], user_id=b.id, result=choice_result("Negative"), now=now
        )
        create_annotation(
            session, tasks[2], user_id=a.id, result=choice_result("Positive"), now=now
        )
        create_annotation(
            session, tasks[2], user_id=b.id, result=choice_result("Positive"), now=now
        )
    config = {"ops": {"labeling_queue": {"config": {"strategy": "disagreement"}}}}

    result = materialize([labeling_queue], static_resources, instance, project, run_config=config)

    head = metadata(result, "labeling_queue")["head_task_ids"]
    assert head[0] == tasks[1].id
    with database.session() as session:
        assert session.get_one(TaskRow, tasks[1].id).priority == pytest.approx(1.0)
        assert session.get_one(TaskRow, tasks[2].id).priority == pytest.approx(0.0)
