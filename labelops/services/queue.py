"""The labeling queue as the pipeline orders it: tasks to predict, priorities from predictions."""

import random
from collections.abc import Iterable, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import PredictionRow, ProjectRow, TaskRow
from labelops.domain.label_config import parse_label_config
from labelops.domain.records import Task
from labelops.domain.sampling import SAMPLING_STRATEGIES, Strategy, queue_priorities
from labelops.services.tasks import iter_task_records


def set_model_version(session: Session, project: ProjectRow, version: str) -> None:
    """Makes ``version`` the project's current model version (the one its queue scores use)."""
    if project.model_version != version:
        project.model_version = version
        session.flush()


def tasks_without_prediction(
    session: Session, project_id: int, model_version: str, batch_size: int
) -> Iterator[list[Task]]:
    """Yields batches of the project's tasks that have no prediction from ``model_version``."""
    last_id = 0
    while True:
        has_one = sa.exists().where(
            PredictionRow.task_id == TaskRow.id, PredictionRow.model_version == model_version
        )
        rows = session.execute(
            sa.select(TaskRow.id, TaskRow.data)
            .where(TaskRow.project_id == project_id, TaskRow.id > last_id, ~has_one)
            .order_by(TaskRow.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return
        yield [Task(id=task_id, data=data) for task_id, data in rows]
        last_id = rows[-1][0]


def unlabeled_task_ids(session: Session, project_id: int) -> list[int]:
    """Returns the ids of the project's tasks that still need annotations, ascending."""
    return list(
        session.scalars(
            sa.select(TaskRow.id)
            .where(TaskRow.project_id == project_id, TaskRow.is_labeled.is_(False))
            .order_by(TaskRow.id)
        )
    )


def task_probabilities(
    session: Session, project: ProjectRow, task_ids: Sequence[int]
) -> dict[int, dict[str, float]]:
    """Returns the class probabilities of the latest current-version prediction per task."""
    out: dict[int, dict[str, float]] = {}
    for start in range(0, len(task_ids), 5_000):
        chunk = task_ids[start : start + 5_000]
        query = (
            sa.select(PredictionRow.task_id, PredictionRow.probabilities)
            .where(PredictionRow.task_id.in_(chunk), PredictionRow.probabilities.is_not(None))
            .order_by(PredictionRow.id)
        )
        if project.model_version:
            query = query.where(PredictionRow.model_version == project.model_version)
        for task_id, probs in session.execute(query):
            if probs:
                out[task_id] = {str(k): float(v) for k, v in probs.items()}
    return out


def write_priorities(session: Session, priorities: dict[int, float]) -> None:
    """Stores the queue priority of each task (higher is served first)."""
    if priorities:
        session.execute(
            sa.update(TaskRow), [{"id": tid, "priority": p} for tid, p in priorities.items()]
        )
        session.flush()


def project_strategy(project: ProjectRow) -> Strategy:
    """Returns the strategy the project's "Task order" (``sampling``) orders its queue by."""
    return SAMPLING_STRATEGIES[project.sampling]


def compute_queue_priorities(
    session: Session, project: ProjectRow, strategy: Strategy, rng: random.Random
) -> tuple[dict[int, float], int]:
    """Returns (priority per unlabeled task, number of tasks the strategy could score).

    Uncertainty strategies score the tasks that have class probabilities from the project's
    current model version; tasks without them (never predicted) rank above every scored task,
    in id order, since the model has told nothing about them yet. "disagreement" scores tasks by
    how much their annotators disagree; "random" and "sequential" score every task.
    """
    ids = unlabeled_task_ids(session, project.id)
    if strategy in ("least_confidence", "margin", "entropy"):
        probs = task_probabilities(session, project, ids)
        scored = [t for t in ids if t in probs]
        labels = _label_columns(project, probs.values())
        matrix = [[probs[t].get(label, 0.0) for label in labels] for t in scored]
        out = queue_priorities(strategy, scored, probabilities=matrix) if scored else {}
        top = max(out.values(), default=0.0) + 1.0
        unscored = [t for t in ids if t not in probs]
        n = len(unscored)
        out.update({t: top + (n - rank) / (n + 1) for rank, t in enumerate(unscored)})
        return out, len(scored)
    if strategy == "disagreement":
        wanted = set(ids)
        tasks = [
            t for t in iter_task_records(session, project.id, only_annotated=True) if t.id in wanted
        ]
        return queue_priorities(strategy, ids, tasks=tasks), len(tasks)
    return queue_priorities(strategy, ids, rng=rng), len(ids)


def _label_columns(project: ProjectRow, rows: Iterable[dict[str, float]]) -> list[str]:
    seen = dict.fromkeys(label for row in rows for label in row)
    config = parse_label_config(project.label_config)
    ordered = [v for c in config.controls.values() for v in c.label_values() if v in seen]
    return list(dict.fromkeys(ordered + sorted(seen)))
