"""Reading tasks: one task, keyset-paged listings with filters, and streams of task records."""

import base64
import binascii
import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.bulk import content_hash
from labelops.db.models import AnnotationRow, PredictionRow, ProjectRow, TaskRow, UserRow
from labelops.domain.errors import InvalidInputError, LabelopsError, TaskImportError
from labelops.domain.json_limits import (
    MAX_ID,
    MAX_LEAD_TIME,
    JsonLimitError,
    check_json,
    is_stored_id,
)
from labelops.domain.records import Annotation, Prediction, Task
from labelops.services.locking import bump_project
from labelops.services.rows import get_row
from labelops.services.webhook_events import tasks_deleted_event
from labelops.services.workflow import workflow_for

SORT_COLUMNS = {
    "id": TaskRow.id,
    "priority": TaskRow.priority,
    "prediction_score": sa.func.coalesce(TaskRow.prediction_score, -1.0),
    "total_annotations": TaskRow.total_annotations,
    "updated_at": TaskRow.updated_at,
}
# The built-in states; a project's workflow may add its own (see ``project_states``).
STATES = ("new", "in_progress", "completed", "skipped", "reviewed", "rejected")
MAX_PRIORITY = 1e15


@dataclass(frozen=True)
class TaskFilter:
    """What a task listing keeps; every field is optional."""

    state: str | None = None
    annotator_id: int | None = None
    has_predictions: bool | None = None
    has_annotations: bool | None = None
    min_score: float | None = None
    max_score: float | None = None
    field: str | None = None
    contains: str | None = None
    ids: Sequence[int] | None = None

    def __post_init__(self) -> None:
        """Checks the ids the filter names (a form or query string can hold any number).

        Raises:
            JsonLimitError: The annotator id or a task id is not an integer from 1 to 2^63-1.
        """
        if self.annotator_id is not None and not is_stored_id(self.annotator_id):
            raise JsonLimitError(
                f"must be a user id from 1 to {MAX_ID}, got {self.annotator_id!r}",
                path="annotator",
            )
        if self.ids is not None:
            checked_ids(self.ids, "ids")


def get_task(session: Session, task_id: int) -> TaskRow:
    """Returns the task with this id.

    Raises:
        NotFoundError: There is none.
    """
    return get_row(session, TaskRow, task_id, "task")


def check_task_record(task: Task, *, source: str | None = None, row: int | None = None) -> None:
    """Checks that a task record can be stored: data and meta are objects, JSON within limits.

    Every entry point that creates tasks (API, import page, CLI, bucket sync) passes here.

    Raises:
        TaskImportError: ``data`` or ``meta`` is not an object, a value is nested too deeply, holds
            a NUL character or a non-finite number, or a lead time or score is out of range
            (the field path is named).
    """
    try:
        if not isinstance(task.data, Mapping):
            raise JsonLimitError("must be an object", path="data")
        if not isinstance(task.meta, Mapping):
            raise JsonLimitError("must be an object", path="meta")
        check_json(task.data, "data")
        check_json(task.meta, "meta")
        for i, annotation in enumerate(task.annotations):
            check_json(annotation.result, f"annotations[{i}].result")
            _check_number(annotation.lead_time, f"annotations[{i}].lead_time", 0, MAX_LEAD_TIME)
        for i, prediction in enumerate(task.predictions):
            check_json(prediction.result, f"predictions[{i}].result")
            _check_number(prediction.score, f"predictions[{i}].score", -MAX_PRIORITY, MAX_PRIORITY)
    except JsonLimitError as exc:
        raise TaskImportError(exc.message, source=source, row=row, field=exc.path) from None


def _check_number(value: float | None, path: str, low: float, high: float) -> None:
    if value is None:
        return
    if not math.isfinite(value) or not low <= value <= high:
        raise JsonLimitError(f"must be a finite number from {low:g} to {high:g}", path=path)


def update_task(
    task: TaskRow, changes: Mapping[str, Any], *, required_fields: Sequence[str]
) -> TaskRow:
    """Returns the task with ``data``, ``meta`` or ``priority`` changed (the caller commits).

    Raises:
        TaskImportError: A field is unknown, ``data``/``meta`` is not an object or breaks a JSON
            limit, ``data`` lacks a field the labeling config needs, or ``priority`` is not a
            finite number (the field is named).
    """
    unknown = sorted(set(changes) - {"data", "meta", "priority"})
    if unknown:
        raise TaskImportError("unknown task field", source=f"task {task.id}", field=unknown[0])
    data = changes.get("data", task.data)
    meta = changes.get("meta", task.meta) or {}
    check_task_record(Task(data=data, meta=meta), source=f"task {task.id}")
    if "data" in changes:
        missing = [f for f in required_fields if f not in data]
        if missing:
            raise TaskImportError(
                "data field required by the labeling config is missing", field=missing[0]
            )
    if "priority" in changes:
        priority = changes["priority"]
        if isinstance(priority, bool) or not isinstance(priority, int | float):
            raise TaskImportError("priority must be a number", field="priority")
        try:
            _check_number(float(priority), "priority", -MAX_PRIORITY, MAX_PRIORITY)
        except JsonLimitError as exc:
            raise TaskImportError(exc.message, field="priority") from None
        task.priority = float(priority)
    if "data" in changes:
        task.data = dict(data)
        task.content_hash = content_hash(task.data)
    if "meta" in changes:
        task.meta = dict(meta)
    return task


def project_states(session: Session, project_id: int) -> tuple[str, ...]:
    """Returns the states a task of the project can be in (its workflow's, custom ones too)."""
    return workflow_for(session, project_id).states


def _filtered(session: Session, project_id: int, flt: TaskFilter) -> sa.Select[Any]:
    query = sa.select(TaskRow).where(TaskRow.project_id == project_id)
    if flt.state is not None:
        states = project_states(session, project_id)
        if flt.state not in states:
            raise InvalidInputError(
                f"unknown state {flt.state!r}; expected one of {', '.join(states)}"
            )
        query = query.where(TaskRow.state == flt.state)
    if flt.annotator_id is not None:
        query = query.where(
            sa.exists().where(
                AnnotationRow.task_id == TaskRow.id,
                AnnotationRow.completed_by_id == flt.annotator_id,
            )
        )
    if flt.has_predictions is not None:
        query = query.where((TaskRow.total_predictions > 0) == flt.has_predictions)
    if flt.has_annotations is not None:
        query = query.where((TaskRow.total_annotations > 0) == flt.has_annotations)
    if flt.min_score is not None:
        query = query.where(TaskRow.prediction_score >= flt.min_score)
    if flt.max_score is not None:
        query = query.where(TaskRow.prediction_score <= flt.max_score)
    if flt.contains:
        if not flt.field:
            raise InvalidInputError("a 'contains' filter needs the data field to search in")
        pattern = (
            "%" + flt.contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        query = query.where(TaskRow.data[flt.field].as_string().ilike(pattern, escape="\\"))
    if flt.ids is not None:
        query = query.where(TaskRow.id.in_(list(flt.ids)))
    return query


def list_tasks(
    session: Session,
    project_id: int,
    flt: TaskFilter = TaskFilter(),
    *,
    sort: str = "id",
    direction: Literal["asc", "desc"] = "asc",
    after: str | None = None,
    limit: int = 100,
) -> tuple[list[TaskRow], str | None]:
    """Returns one page of tasks and the cursor of the next page (None on the last page).

    Keyset paging: the cursor encodes the last row's sort value and id, so page 10,000 costs the
    same as page 1 and no COUNT(*) is run.

    Raises:
        InvalidInputError: Unknown sort column, direction or state.
        CursorError: A malformed cursor.
    """
    if sort not in SORT_COLUMNS:
        raise InvalidInputError(
            f"cannot sort by {sort!r}; expected one of {', '.join(SORT_COLUMNS)}"
        )
    if direction not in ("asc", "desc"):
        raise InvalidInputError(f"direction must be 'asc' or 'desc', got {direction!r}")
    column = SORT_COLUMNS[sort]
    query = _filtered(session, project_id, flt).add_columns(column.label("sort_value"))
    if after:
        value, last_id = _decode_cursor(after, sort)
        if direction == "asc":
            query = query.where(
                sa.or_(column > value, sa.and_(column == value, TaskRow.id > last_id))
            )
        else:
            query = query.where(
                sa.or_(column < value, sa.and_(column == value, TaskRow.id < last_id))
            )
    if direction == "asc":
        query = query.order_by(column.asc(), TaskRow.id.asc())
    else:
        query = query.order_by(column.desc(), TaskRow.id.desc())
    rows = session.execute(query.limit(limit + 1)).all()
    tasks = [row[0] for row in rows[:limit]]
    cursor = None
    if len(rows) > limit:
        last_value = rows[limit - 1][1]
        cursor = _encode_cursor(last_value, tasks[-1].id)
    return tasks, cursor


def page_tasks(
    session: Session,
    project_id: int | None,
    *,
    page: int,
    page_size: int,
    flt: TaskFilter = TaskFilter(),
) -> list[TaskRow]:
    """Returns tasks by page number (Label Studio's paging; an empty list past the end)."""
    if page < 1 or page_size < 1:
        raise InvalidInputError("page and page_size must be positive integers")
    query = _filtered(session, project_id, flt) if project_id is not None else sa.select(TaskRow)
    query = query.order_by(TaskRow.id).offset((page - 1) * page_size).limit(page_size)
    return list(session.scalars(query))


def checked_ids(ids: Sequence[object], where: str) -> list[int]:
    """Returns the ids as ints once each is an integer from 1 to 2^63-1 (what the database holds).

    Raises:
        JsonLimitError: An id is of another type or out of range; the path names its position.
    """
    checked = []
    for index, value in enumerate(ids):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
            raise JsonLimitError(
                f"must be an id, an integer from 1 to {MAX_ID}, got {value!r}",
                path=f"{where}[{index}]",
            )
        checked.append(value)
    return checked


def delete_tasks(
    session: Session, project: ProjectRow, task_ids: Sequence[object] | None = None
) -> int:
    """Returns how many tasks were deleted (all of the project's when ``task_ids`` is None).

    ``task_ids`` may come straight from a form or body: each is checked here.

    Raises:
        JsonLimitError: A task id is not an integer from 1 to 2^63-1 (names its position).
    """
    where = [TaskRow.project_id == project.id]
    if task_ids is not None:
        where.append(TaskRow.id.in_(checked_ids(task_ids, "task_ids")))
    doomed = sa.select(TaskRow.id).where(*where)
    tasks_deleted_event(session, project, doomed.order_by(TaskRow.id))
    annotations = (
        session.scalar(
            sa.select(sa.func.count(AnnotationRow.id)).where(
                AnnotationRow.task_id.in_(doomed), AnnotationRow.was_cancelled.is_(False)
            )
        )
        or 0
    )
    predictions = (
        session.scalar(
            sa.select(sa.func.count(PredictionRow.id)).where(PredictionRow.task_id.in_(doomed))
        )
        or 0
    )
    labeled = (
        session.scalar(sa.select(sa.func.count(TaskRow.id)).where(*where, TaskRow.is_labeled)) or 0
    )
    session.execute(sa.delete(AnnotationRow).where(AnnotationRow.task_id.in_(doomed)))
    session.execute(sa.delete(PredictionRow).where(PredictionRow.task_id.in_(doomed)))
    deleted = session.execute(sa.delete(TaskRow).where(*where)).rowcount or 0  # type: ignore[attr-defined]
    bump_project(
        session,
        project,
        num_tasks=-deleted,
        num_annotations=-annotations,
        num_predictions=-predictions,
        num_labeled_tasks=-labeled,
    )
    session.flush()
    return int(deleted)


_RECORD_COLUMNS = (
    TaskRow.id,
    TaskRow.data,
    TaskRow.meta,
    TaskRow.created_at,
    TaskRow.updated_at,
    TaskRow.total_annotations,
    TaskRow.cancelled_annotations,
    TaskRow.total_predictions,
)
_ANNOTATION_COLUMNS = (
    AnnotationRow.id,
    AnnotationRow.task_id,
    AnnotationRow.result,
    AnnotationRow.completed_by_id,
    UserRow.email,
    AnnotationRow.was_cancelled,
    AnnotationRow.ground_truth,
    AnnotationRow.lead_time,
    AnnotationRow.review_state,
    AnnotationRow.created_at,
    AnnotationRow.updated_at,
)
_PREDICTION_COLUMNS = (
    PredictionRow.id,
    PredictionRow.task_id,
    PredictionRow.result,
    PredictionRow.model_version,
    PredictionRow.score,
    PredictionRow.created_at,
)


def task_records(session: Session, rows: Sequence[Any]) -> list[Task]:
    """Returns task rows (ORM rows or column tuples) as Task records with their results.

    Only tasks whose counters say they have annotations or predictions are looked up, so a chunk of
    unlabeled tasks costs a single query.
    """
    annotated = [r.id for r in rows if r.total_annotations or r.cancelled_annotations]
    predicted = [r.id for r in rows if r.total_predictions]
    annotations: dict[int, list[Annotation]] = defaultdict(list)
    predictions: dict[int, list[Prediction]] = defaultdict(list)
    if annotated:
        for a in session.execute(
            sa.select(*_ANNOTATION_COLUMNS)
            .outerjoin(UserRow, UserRow.id == AnnotationRow.completed_by_id)
            .where(AnnotationRow.task_id.in_(annotated))
            .order_by(AnnotationRow.id)
        ):
            annotations[a.task_id].append(
                Annotation(
                    id=a.id,
                    result=a.result,
                    completed_by=a.completed_by_id,
                    completed_by_email=a.email,
                    was_cancelled=a.was_cancelled,
                    ground_truth=a.ground_truth,
                    lead_time=a.lead_time,
                    review_state=a.review_state,
                    created_at=a.created_at,
                    updated_at=a.updated_at,
                )
            )
    if predicted:
        for p in session.execute(
            sa.select(*_PREDICTION_COLUMNS)
            .where(PredictionRow.task_id.in_(predicted))
            .order_by(PredictionRow.id)
        ):
            predictions[p.task_id].append(
                Prediction(
                    id=p.id,
                    result=p.result,
                    model_version=p.model_version,
                    score=p.score,
                    created_at=p.created_at,
                )
            )
    return [
        Task(
            id=row.id,
            data=row.data,
            meta=row.meta or {},
            annotations=tuple(annotations.get(row.id, ())),
            predictions=tuple(predictions.get(row.id, ())),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        for row in rows
    ]


def iter_task_records(
    session: Session, project_id: int, *, only_annotated: bool, chunk_size: int = 5_000
) -> Iterator[Task]:
    """Yields every task of the project as a record, in id order, a chunk at a time.

    The next chunk is read in a helper thread while the caller works through the current one, so
    the database's time and the caller's (serializing an export) overlap. Only the helper thread
    touches the session while the stream is open.
    """
    return prefetched(
        lambda last_id: task_records_after(
            session, project_id, last_id, limit=chunk_size, only_annotated=only_annotated
        ),
        "task-records",
    )


def task_records_after(
    session: Session, project_id: int, last_id: int, *, limit: int, only_annotated: bool
) -> list[Task]:
    """Returns up to ``limit`` of the project's tasks with an id above ``last_id``, in id order.

    The keyset page both task streams read (:func:`iter_task_records` and the exports' batches).
    """
    query = (
        sa.select(*_RECORD_COLUMNS)
        .where(TaskRow.project_id == project_id, TaskRow.id > last_id)
        .order_by(TaskRow.id)
        .limit(limit)
    )
    if only_annotated:
        query = query.where((TaskRow.total_annotations + TaskRow.cancelled_annotations) > 0)
    rows = session.connection().execute(query).all()  # Core rows: no ORM identity overhead
    return task_records(session, rows)


def prefetched(read_after: Callable[[int], list[Task]], name: str) -> Iterator[Task]:
    """Yields the tasks of each page ``read_after(last_id)`` returns, until one is empty.

    The next page is read in a helper thread (named ``name``) while the caller works through the
    current one, so the database's time and the caller's overlap.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=name) as reader:
        pending = reader.submit(read_after, 0)
        while records := pending.result():
            pending = reader.submit(read_after, records[-1].id or 0)
            yield from records
        pending.result()


def _encode_cursor(value: Any, last_id: int) -> str:
    if hasattr(value, "isoformat"):
        value = value.isoformat()
    return base64.urlsafe_b64encode(json.dumps([value, last_id]).encode()).decode()


class CursorError(LabelopsError):
    """A page cursor that this service did not make (or that does not fit the sort)."""

    code = "invalid_cursor"


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    """Returns the sort value and task id a cursor holds, checked to fit the sort column.

    Raises:
        CursorError: The cursor is not one this service made (message names it).
    """
    problem = CursorError(f"malformed page cursor {cursor[:80]!r}")
    if len(cursor) > 1000:
        raise problem
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii", "strict")))
    except (ValueError, binascii.Error, RecursionError):
        raise problem from None
    if not isinstance(decoded, list) or len(decoded) != 2:
        raise problem
    value, last_id = decoded
    if isinstance(last_id, bool) or not isinstance(last_id, int) or not 0 <= last_id <= MAX_ID:
        raise problem
    if value is None:
        return None, last_id
    if sort == "updated_at":
        if not isinstance(value, str):
            raise problem
        try:
            return datetime.fromisoformat(value), last_id
        except ValueError:
            raise problem from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise problem
    if isinstance(value, float) and not math.isfinite(value):
        raise problem
    if isinstance(value, int) and not -MAX_ID - 1 <= value <= MAX_ID:
        raise problem
    return value, last_id
