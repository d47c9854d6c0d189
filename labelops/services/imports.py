"""Bulk import of tasks (with their annotations and predictions) into a project.

The import is one transaction: rows are parsed, checked against the labeling config and written in
chunks, and the first bad row raises :class:`TaskImportError` naming its file, row and field, which
rolls back everything the batch wrote. Tasks are written through the database's bulk interface
(PostgreSQL ``COPY``; an executemany on SQLite) with ids reserved up front, never one ORM object per
row.
"""

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.engine import is_postgres
from labelops.db.models import AnnotationRow, ImportBatchRow, PredictionRow, ProjectRow, TaskRow
from labelops.domain.errors import AnnotationError, TaskImportError
from labelops.domain.label_config import LabelConfig, parse_label_config, validate_result
from labelops.domain.records import Task
from labelops.domain.formats.readers import normalize_task
from labelops.services.users import imported_annotator

CHUNK_SIZE = 5_000
_TASK_COLUMNS = (
    "id",
    "project_id",
    "data",
    "meta",
    "priority",
    "state",
    "is_labeled",
    "total_annotations",
    "cancelled_annotations",
    "total_predictions",
    "prediction_score",
    "content_hash",
    "import_batch_id",
    "created_at",
    "updated_at",
)


@dataclass
class ImportReport:
    """What one import added to a project."""

    batch_id: int
    num_tasks: int = 0
    num_annotations: int = 0
    num_predictions: int = 0
    num_duplicates: int = 0
    task_ids: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Returns the report in Label Studio's import-response shape (plus our extra counts)."""
        return {
            "import": self.batch_id,
            "task_count": self.num_tasks,
            "annotation_count": self.num_annotations,
            "prediction_count": self.num_predictions,
            "duplicate_count": self.num_duplicates,
            "task_ids": self.task_ids,
        }


def content_hash(data: Any) -> str:
    """Returns the SHA-256 hex digest of the task data's canonical JSON."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def import_rows(
    session: Session,
    project: ProjectRow,
    rows: Iterable[tuple[int, Any]],
    *,
    source: str,
    fmt: str,
    created_by_id: int | None,
    dedupe: bool = False,
    return_task_ids: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Returns the report of importing raw items (``(row_number, item)`` pairs) as tasks.

    Args:
        session: The database session; the caller commits (or rolls back on error).
        project: The project the tasks go into.
        rows: Parsed items from a reader in ``labelops.domain.formats.readers``.
        source: The file name shown in errors and kept on the import batch.
        fmt: The format name kept on the import batch.
        created_by_id: Who imports.
        dedupe: Skip tasks whose data equals an existing task's or an earlier row's.
        return_task_ids: Keep the new task ids on the report.
        progress: Called with the number of rows handled after each chunk.

    Raises:
        TaskImportError: A row is malformed, lacks a data field, or carries an annotation or
            prediction that does not fit the labeling config.
    """
    config = parse_label_config(project.label_config)
    required = config.data_fields

    def tasks() -> Iterator[tuple[int, Task]]:
        for row, item in rows:
            yield row, normalize_task(item, source=source, row=row, required_fields=required)

    return import_tasks(
        session,
        project,
        tasks(),
        source=source,
        fmt=fmt,
        created_by_id=created_by_id,
        dedupe=dedupe,
        return_task_ids=return_task_ids,
        progress=progress,
        config=config,
    )


def import_tasks(
    session: Session,
    project: ProjectRow,
    tasks: Iterable[tuple[int, Task]],
    *,
    source: str,
    fmt: str,
    created_by_id: int | None,
    dedupe: bool = False,
    return_task_ids: bool = False,
    progress: Callable[[int], None] | None = None,
    config: LabelConfig | None = None,
) -> ImportReport:
    """Returns the report of importing Task records (numbered by source row) into the project.

    Raises:
        TaskImportError: A task's annotation or prediction does not fit the labeling config.
    """
    config = config or parse_label_config(project.label_config)
    batch = ImportBatchRow(
        project_id=project.id, source=source[:1024], format=fmt, created_by_id=created_by_id
    )
    session.add(batch)
    session.flush()  # takes SQLite's write lock before ids are reserved
    report = ImportReport(batch_id=batch.id)
    writer = _BulkWriter(session, project, config, batch.id, source)
    seen: set[bytes] = set()
    handled = 0
    iterator = iter(tasks)
    while chunk := list(islice(iterator, CHUNK_SIZE)):
        handled += len(chunk)
        hashes = [content_hash(dict(task.data)) for _, task in chunk]
        if dedupe:
            chunk, hashes, dropped = _drop_duplicates(session, project.id, chunk, hashes, seen)
            report.num_duplicates += dropped
        ids = writer.write(chunk, hashes)
        report.num_tasks += len(ids)
        if return_task_ids:
            report.task_ids.extend(ids)
        if progress:
            progress(handled)
    report.num_annotations = writer.num_annotations
    report.num_predictions = writer.num_predictions
    batch.num_tasks = report.num_tasks
    batch.num_annotations = report.num_annotations
    batch.num_predictions = report.num_predictions
    batch.num_duplicates = report.num_duplicates
    project.num_tasks += report.num_tasks
    project.num_annotations += writer.num_annotations
    project.num_predictions += report.num_predictions
    project.num_labeled_tasks += writer.num_labeled
    session.flush()
    return report


def _drop_duplicates(
    session: Session,
    project_id: int,
    chunk: list[tuple[int, Task]],
    hashes: list[str],
    seen: set[bytes],
) -> tuple[list[tuple[int, Task]], list[str], int]:
    existing = set(
        session.scalars(
            sa.select(TaskRow.content_hash).where(
                TaskRow.project_id == project_id, TaskRow.content_hash.in_(set(hashes))
            )
        )
    )
    kept: list[tuple[int, Task]] = []
    kept_hashes: list[str] = []
    for item, digest in zip(chunk, hashes, strict=True):
        key = bytes.fromhex(digest[:32])
        if digest in existing or key in seen:
            continue
        seen.add(key)
        kept.append(item)
        kept_hashes.append(digest)
    return kept, kept_hashes, len(chunk) - len(kept)


class _BulkWriter:
    """Writes chunks of tasks with reserved ids, then their annotations and predictions."""

    def __init__(
        self, session: Session, project: ProjectRow, config: LabelConfig, batch_id: int, source: str
    ) -> None:
        self.session = session
        self.project = project
        self.config = config
        self.batch_id = batch_id
        self.source = source
        self.postgres = is_postgres(session)
        self.annotators: dict[str, int] = {}
        self.num_annotations = 0
        self.num_predictions = 0
        self.num_labeled = 0

    def write(self, chunk: list[tuple[int, Task]], hashes: list[str]) -> list[int]:
        if not chunk:
            return []
        now = datetime.now(UTC).replace(tzinfo=None)
        ids = self._reserve_ids(len(chunk))
        task_rows: list[dict[str, Any]] = []
        annotation_rows: list[dict[str, Any]] = []
        prediction_rows: list[dict[str, Any]] = []
        for task_id, (row, task), digest in zip(ids, chunk, hashes, strict=True):
            done = cancelled = 0
            for index, annotation in enumerate(task.annotations):
                self._check(annotation.result, task, row, f"annotations[{index}]")
                done += not annotation.was_cancelled
                cancelled += annotation.was_cancelled
                annotation_rows.append(
                    {
                        "task_id": task_id,
                        "project_id": self.project.id,
                        "completed_by_id": imported_annotator(
                            self.session,
                            email=annotation.completed_by_email,
                            external_id=annotation.completed_by,
                            cache=self.annotators,
                        ),
                        "result": annotation.result,
                        "was_cancelled": annotation.was_cancelled,
                        "ground_truth": annotation.ground_truth,
                        "lead_time": annotation.lead_time,
                        "import_batch_id": self.batch_id,
                        "created_at": annotation.created_at or now,
                        "updated_at": annotation.updated_at or annotation.created_at or now,
                    }
                )
            score = None
            for index, prediction in enumerate(task.predictions):
                self._check(prediction.result, task, row, f"predictions[{index}]")
                score = prediction.score if prediction.score is not None else score
                prediction_rows.append(
                    {
                        "task_id": task_id,
                        "project_id": self.project.id,
                        "model_version": prediction.model_version,
                        "score": prediction.score,
                        "result": prediction.result,
                        "created_at": now,
                    }
                )
            labeled = done >= self.project.maximum_annotations
            self.num_labeled += labeled
            self.num_annotations += done
            state = (
                "completed"
                if labeled
                else "in_progress"
                if done
                else "skipped"
                if cancelled
                else "new"
            )
            task_rows.append(
                {
                    "id": task_id,
                    "project_id": self.project.id,
                    "data": dict(task.data),
                    "meta": dict(task.meta),
                    "priority": 0.0,
                    "state": state,
                    "is_labeled": labeled,
                    "total_annotations": done,
                    "cancelled_annotations": cancelled,
                    "total_predictions": len(task.predictions),
                    "prediction_score": score,
                    "content_hash": digest,
                    "import_batch_id": self.batch_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        self.num_predictions += len(prediction_rows)
        if self.postgres:
            self._copy_tasks(task_rows)
        else:
            self.session.execute(sa.insert(TaskRow.__table__), task_rows)
        if annotation_rows:
            self.session.execute(sa.insert(AnnotationRow.__table__), annotation_rows)
        if prediction_rows:
            self.session.execute(sa.insert(PredictionRow.__table__), prediction_rows)
        return ids

    def _check(self, result: list[Any], task: Task, row: int, where: str) -> None:
        try:
            validate_result(self.config, result, task.data, require_required=False)
        except AnnotationError as exc:
            field = f"{where}.{exc.field}" if exc.field else where
            if exc.index is not None:
                field = f"{where}.result[{exc.index}]" + (f".{exc.field}" if exc.field else "")
            raise TaskImportError(exc.message, source=self.source, row=row, field=field) from exc

    def _reserve_ids(self, count: int) -> list[int]:
        if self.postgres:
            return list(
                self.session.scalars(
                    sa.text(
                        "SELECT nextval(pg_get_serial_sequence('tasks', 'id')) "
                        "FROM generate_series(1, :n)"
                    ),
                    {"n": count},
                )
            )
        start = self.session.scalar(sa.select(sa.func.coalesce(sa.func.max(TaskRow.id), 0))) or 0
        return list(range(start + 1, start + 1 + count))

    def _copy_tasks(self, rows: list[dict[str, Any]]) -> None:
        buffer = io.StringIO()
        out = csv.writer(buffer)
        for row in rows:
            out.writerow(
                [
                    json.dumps(row[name], ensure_ascii=False)
                    if name in ("data", "meta")
                    else ("t" if row[name] else "f")
                    if isinstance(row[name], bool)
                    else row[name]
                    for name in _TASK_COLUMNS
                ]
            )
        buffer.seek(0)
        cursor = self.session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.copy_expert(
                f"COPY tasks ({', '.join(_TASK_COLUMNS)}) FROM STDIN WITH (FORMAT csv)", buffer
            )
        finally:
            cursor.close()


def describe_import_error(exc: TaskImportError) -> dict[str, Any]:
    """Returns the JSON body an API or UI shows for a rejected import."""
    return {"detail": str(exc), **exc.to_dict()}
