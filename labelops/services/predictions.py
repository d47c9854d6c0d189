"""Predictions: a model's proposed results for tasks, in bulk, with the task's confidence score."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import PredictionRow, ProjectRow, TaskRow
from labelops.domain.errors import AnnotationError
from labelops.domain.label_config import parse_label_config, validate_result
from labelops.services.errors import NotFoundError
from labelops.services.locking import bump_project, lock_task
from labelops.services.rows import get_row


def create_predictions(
    session: Session,
    project: ProjectRow,
    items: Iterable[Mapping[str, Any]],
    *,
    now: datetime,
) -> list[PredictionRow]:
    """Returns new predictions, one per item ``{task, result, score?, model_version?}``.

    Raises:
        NotFoundError: An item's task is not in the project.
        AnnotationError: An item's result does not fit the labeling config (index named).
    """
    config = parse_label_config(project.label_config)
    rows: list[PredictionRow] = []
    for index, item in enumerate(items):
        task = session.get(TaskRow, int(item.get("task") or 0))
        if task is None or task.project_id != project.id:
            raise NotFoundError(
                f"predictions[{index}]: task {item.get('task')!r} not found in project"
            )
        result = item.get("result")
        if not isinstance(result, list):
            raise AnnotationError(f"predictions[{index}]: result must be a list", field="result")
        try:
            validate_result(config, result, task.data, require_required=False)
        except AnnotationError as exc:
            raise AnnotationError(
                f"predictions[{index}]: {exc}", index=exc.index, field=exc.field
            ) from exc
        score = item.get("score")
        if score is not None and not isinstance(score, int | float):
            raise AnnotationError(f"predictions[{index}]: score must be a number", field="score")
        version = str(item.get("model_version") or project.model_version or "")
        row = PredictionRow(
            task_id=task.id,
            project_id=project.id,
            model_version=version,
            score=float(score) if score is not None else None,
            result=list(result),
            probabilities=item.get("probabilities"),
            created_at=now,
        )
        session.add(row)
        task.total_predictions += 1
        if row.score is not None and (
            not project.model_version or version == project.model_version
        ):
            task.prediction_score = row.score
        rows.append(row)
    bump_project(session, project, num_predictions=len(rows))
    session.flush()
    return rows


def current_predictions(session: Session, project: ProjectRow, task_id: int) -> list[PredictionRow]:
    """Returns the task's predictions from the project's current model version (all if unset)."""
    query = (
        sa.select(PredictionRow).where(PredictionRow.task_id == task_id).order_by(PredictionRow.id)
    )
    if project.model_version:
        query = query.where(PredictionRow.model_version == project.model_version)
    return list(session.scalars(query))


def task_predictions(session: Session, task_id: int) -> list[PredictionRow]:
    """Returns all of the task's predictions, oldest first."""
    return list(
        session.scalars(
            sa.select(PredictionRow)
            .where(PredictionRow.task_id == task_id)
            .order_by(PredictionRow.id)
        )
    )


def project_predictions(session: Session, project_id: int, *, limit: int) -> list[PredictionRow]:
    """Returns up to ``limit`` of the project's predictions, oldest first."""
    return list(
        session.scalars(
            sa.select(PredictionRow)
            .where(PredictionRow.project_id == project_id)
            .order_by(PredictionRow.id)
            .limit(limit)
        )
    )


def get_prediction(session: Session, prediction_id: int) -> PredictionRow:
    """Returns the prediction with this id.

    Raises:
        NotFoundError: There is none.
    """
    return get_row(session, PredictionRow, prediction_id, "prediction")


def delete_prediction(session: Session, prediction: PredictionRow) -> None:
    """Deletes the prediction and updates its task's counters."""
    task = lock_task(session, session.get_one(TaskRow, prediction.task_id))
    project = session.get_one(ProjectRow, task.project_id)
    task.total_predictions -= 1
    bump_project(session, project, num_predictions=-1)
    session.delete(prediction)
    session.flush()
