"""Bulk import of tasks (with their annotations and predictions) into a project.

The import is one transaction: rows are parsed, checked against the labeling config and written in
chunks, and the first bad row raises :class:`TaskImportError` naming its file, row and field, which
rolls back everything the batch wrote. Tasks are written through the database's bulk interface
(PostgreSQL ``COPY``; an executemany on SQLite) with ids reserved up front, never one ORM object per
row.
"""

import hashlib
import io
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.engine import is_postgres
from labelops.db.models import (
    AnnotationRow,
    ImportBatchRow,
    PredictionRow,
    ProjectRow,
    TaskRow,
    UserRow,
    utcnow,
)
from labelops.domain.errors import AnnotationError, TaskImportError
from labelops.domain.formats.base import ImportTarget
from labelops.domain.formats.readers import READERS, detect_format, normalize_task, read_rows
from labelops.domain.formats.registry import get_import_format
from labelops.domain.label_config import LabelConfig, parse_label_config, validate_result
from labelops.domain.permissions import can_manage
from labelops.domain.records import Annotation, Task
from labelops.services.errors import PermissionDeniedError
from labelops.services.locking import bump_project
from labelops.services.projects import role_of
from labelops.services.tasks import check_task_record
from labelops.services.users import imported_annotator
from labelops.services.webhook_events import tasks_created_event
from labelops.settings import current_limits, limit_variable

CHUNK_SIZE = 5_000
ANALYZE_AFTER = 50_000  # tasks in one import
_TASK_COLUMNS: tuple[str, ...] = (
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

_SQLITE_INSERT = (
    f"INSERT INTO tasks ({', '.join(_TASK_COLUMNS)}) VALUES ({', '.join('?' * len(_TASK_COLUMNS))})"
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


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)  # Decimal, date, UUID ... from Parquet or CSV readers


def to_json(value: Any, *, sort_keys: bool = False) -> bytes:
    """Returns compact UTF-8 JSON for a task's data (values JSON lacks are written as strings)."""
    option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_SORT_KEYS if sort_keys else 0)
    return orjson.dumps(value, default=_json_default, option=option)


def content_hash(data: Any) -> str:
    """Returns the SHA-256 hex digest of the task data's canonical (key-sorted) JSON."""
    return hashlib.sha256(to_json(data, sort_keys=True)).hexdigest()


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
    map_annotators_by_email: bool = False,
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
        map_annotators_by_email: See :func:`import_tasks`.

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
        map_annotators_by_email=map_annotators_by_email,
    )


PLAIN_FORMATS = frozenset(READERS)
_BY_EXTENSION = {".xml": "VOC", ".conll": "CONLL2003", ".zip": "ZIP"}


def import_file(
    session: Session,
    project: ProjectRow,
    source: BinaryIO,
    *,
    source_name: str,
    format_name: str | None = None,
    as_: ImportTarget = "annotations",
    image_sizes: Mapping[str, tuple[int, int]] | None = None,
    created_by_id: int | None,
    dedupe: bool = False,
    return_task_ids: bool = False,
    progress: Callable[[int], None] | None = None,
    map_annotators_by_email: bool = False,
) -> ImportReport:
    """Returns the report of importing one file in any supported format.

    Plain task files (JSON, JSONL, CSV, TSV, Parquet; the format from the extension unless named)
    take the streaming path; Label Studio's annotated formats (JSON export, JSON_MIN, COCO, VOC,
    YOLO, CONLL2003, ZIP of any of these) go through their importer, whose results become
    annotations or, with ``as_="predictions"``, predictions.

    Annotators named in the file become import users unless ``map_annotators_by_email`` (a
    project manager's choice; see :func:`import_tasks`).

    Raises:
        UnknownFormatError: The format is not known (or cannot be told from the file name).
        TaskImportError: A row is bad; nothing of the file is written.
        PermissionDeniedError: ``map_annotators_by_email`` from someone who does not manage
            the project.
    """
    name = (format_name or "").strip()
    if not name:
        suffix = Path(source_name).suffix.lower()
        name = _BY_EXTENSION.get(suffix) or detect_format(source_name)
    if name.lower() in PLAIN_FORMATS and as_ == "annotations":
        fmt = name.lower()
        return import_rows(
            session,
            project,
            read_rows(source, fmt, source_name),
            source=source_name,
            fmt=fmt,
            created_by_id=created_by_id,
            dedupe=dedupe,
            return_task_ids=return_task_ids,
            progress=progress,
            map_annotators_by_email=map_annotators_by_email,
        )
    importer = get_import_format("JSON" if name.lower() == "json" else name)
    config = parse_label_config(project.label_config)
    tasks = importer.read(source, config, source_name=source_name, as_=as_, image_sizes=image_sizes)
    return import_tasks(
        session,
        project,
        enumerate(tasks, start=1),
        source=source_name,
        fmt=importer.name,
        created_by_id=created_by_id,
        dedupe=dedupe,
        return_task_ids=return_task_ids,
        progress=progress,
        config=config,
        check_fields=True,
        map_annotators_by_email=map_annotators_by_email,
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
    check_fields: bool = False,
    map_annotators_by_email: bool = False,
) -> ImportReport:
    """Returns the report of importing Task records (numbered by source row) into the project.

    Args:
        session: The database session; the caller commits (or rolls back on error).
        project: The project the tasks go into.
        tasks: ``(row_number, Task)`` pairs.
        source: The file name shown in errors and kept on the import batch.
        fmt: The format name kept on the import batch.
        created_by_id: Who imports.
        dedupe: Skip tasks whose data equals an existing task's or an earlier row's.
        return_task_ids: Keep the new task ids on the report.
        progress: Called with the number of rows handled after each chunk.
        config: The project's parsed config, when the caller has it.
        check_fields: Check each task for the data fields the config needs (readers that went
            through ``normalize_task`` have done so already).
        map_annotators_by_email: Attribute an imported annotation whose email belongs to a
            member of the project to that member's account. Off by default: the file's
            annotators become import users, so a file cannot forge anyone's authorship. Only a
            manager of the project (or an administrator, or the CLI, ``created_by_id=None``)
            may turn it on.

    Raises:
        TaskImportError: A task lacks a data field, or its annotation or prediction does not fit
            the labeling config.
        PermissionDeniedError: ``map_annotators_by_email`` from someone who does not manage
            the project.
    """
    if map_annotators_by_email:
        _check_may_map_annotators(session, project, created_by_id)
    config = config or parse_label_config(project.label_config)
    if check_fields:
        tasks = _with_fields_checked(tasks, config.data_fields, source)
    tasks = _with_records_checked(tasks, source)
    batch = ImportBatchRow(
        project_id=project.id, source=source[:1024], format=fmt, created_by_id=created_by_id
    )
    session.add(batch)
    session.flush()  # takes SQLite's write lock before ids are reserved
    report = ImportReport(batch_id=batch.id)
    writer = _BulkWriter(session, project, config, batch.id, source)
    writer.map_to_members_of = project.id if map_annotators_by_email else None
    seen: set[bytes] = set()
    try:
        _write_all(
            session, project.id, tasks, writer, report, seen, dedupe, return_task_ids, progress
        )
    except BaseException:
        writer.abandon()
        raise
    writer.wait()
    if writer.postgres and report.num_tasks >= ANALYZE_AFTER:
        # Fresh planner statistics: without them PostgreSQL may sort the whole table for
        # every page of a keyset scan right after a large load.
        session.execute(sa.text("ANALYZE tasks"))
    report.num_annotations = writer.num_annotations
    report.num_predictions = writer.num_predictions
    batch.num_tasks = report.num_tasks
    batch.num_annotations = report.num_annotations
    batch.num_predictions = report.num_predictions
    batch.num_duplicates = report.num_duplicates
    bump_project(
        session,
        project,
        num_tasks=report.num_tasks,
        num_annotations=writer.num_annotations,
        num_predictions=report.num_predictions,
        num_labeled_tasks=writer.num_labeled,
    )
    if report.num_tasks:
        tasks_created_event(session, project, batch.id)
    session.flush()
    return report


def _check_may_map_annotators(session: Session, project: ProjectRow, user_id: int | None) -> None:
    """Refuses mapping imported annotators to accounts unless a manager (or the CLI) asks."""
    if user_id is None:
        return
    user = session.get(UserRow, user_id)
    role = role_of(session, user, project.id) if user is not None else None
    if user is None or not can_manage(role, is_admin=user.is_admin):
        raise PermissionDeniedError(
            f"only managers of project {project.id} may map imported annotators to accounts "
            "by email (map_annotators_by_email)"
        )


def _with_fields_checked(
    tasks: Iterable[tuple[int, Task]], required: Sequence[str], source: str
) -> Iterator[tuple[int, Task]]:
    for row, task in tasks:
        for name in required:
            if name not in task.data:
                raise TaskImportError(
                    f"data field {name!r} required by the labeling config is missing",
                    source=source,
                    row=row,
                    field=name,
                )
        yield row, task


def _with_records_checked(
    tasks: Iterable[tuple[int, Task]], source: str
) -> Iterator[tuple[int, Task]]:
    for row, task in tasks:
        check_task_record(task, source=source, row=row)
        yield row, task


def _write_all(
    session: Session,
    project_id: int,
    tasks: Iterable[tuple[int, Task]],
    writer: "_BulkWriter",
    report: ImportReport,
    seen: set[bytes],
    dedupe: bool,
    return_task_ids: bool,
    progress: Callable[[int], None] | None,
) -> None:
    handled = 0
    iterator = iter(tasks)
    while chunk := list(islice(iterator, CHUNK_SIZE)):
        handled += len(chunk)
        hashes = [content_hash(task.data) for _, task in chunk]
        if dedupe:
            writer.wait()
            chunk, hashes, dropped = _drop_duplicates(session, project_id, chunk, hashes, seen)
            report.num_duplicates += dropped
        ids = writer.write(chunk, hashes)
        report.num_tasks += len(ids)
        if return_task_ids:
            report.task_ids.extend(ids)
        if progress:
            progress(handled)


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


@dataclass
class _Prepared:
    """A chunk turned into rows, waiting for its reserved task ids."""

    tasks: list[tuple[Any, ...]]  # task columns after "id"
    annotations: list[tuple[int, dict[str, Any]]]  # (index of the task in the chunk, row)
    predictions: list[tuple[int, dict[str, Any]]]


class _BulkWriter:
    """Writes chunks of tasks with reserved ids, then their annotations and predictions.

    On PostgreSQL a chunk of plain tasks is sent with ``COPY`` from a background thread while the
    caller parses the next chunk, so parsing (Python) and ingest (the server) overlap on two cores.
    Only one statement runs on the connection at a time: every other use waits for the copy.
    """

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
        self.map_to_members_of: int | None = None
        self.num_annotations = 0
        self.num_predictions = 0
        self.num_labeled = 0
        self._copy: threading.Thread | None = None
        self._copy_error: BaseException | None = None
        self.max_task_bytes = current_limits().max_task_bytes

    def write(self, chunk: list[tuple[int, Task]], hashes: list[str]) -> list[int]:
        """Returns the ids given to the chunk's tasks (their rows may still be in flight)."""
        if not chunk:
            return []
        prepared = self._prepare(chunk, hashes)
        self.wait()
        ids = self._reserve_ids(len(chunk))
        rows = [(task_id, *row) for task_id, row in zip(ids, prepared.tasks, strict=True)]
        if not self.postgres:
            self.session.connection().exec_driver_sql(_SQLITE_INSERT, rows)
        else:
            raw = self.session.connection().connection.dbapi_connection
            if prepared.annotations or prepared.predictions:
                _copy_tasks(raw, rows)
            else:
                self._copy = threading.Thread(target=self._copy_in_background, args=(raw, rows))
                self._copy.start()
        if prepared.annotations:
            self.session.execute(
                sa.insert(AnnotationRow),
                [{**row, "task_id": ids[i]} for i, row in prepared.annotations],
            )
        if prepared.predictions:
            self.session.execute(
                sa.insert(PredictionRow),
                [{**row, "task_id": ids[i]} for i, row in prepared.predictions],
            )
        return ids

    def wait(self) -> None:
        """Waits for a copy in flight; re-raises its error here."""
        if self._copy is not None:
            self._copy.join()
            self._copy = None
        if self._copy_error is not None:
            error, self._copy_error = self._copy_error, None
            raise error

    def abandon(self) -> None:
        """Waits for a copy in flight and drops its error (the caller is already failing)."""
        if self._copy is not None:
            self._copy.join()
            self._copy = None
        self._copy_error = None

    def _copy_in_background(self, raw: Any, rows: list[tuple[Any, ...]]) -> None:
        try:
            _copy_tasks(raw, rows)
        except BaseException as exc:  # handed to the caller's thread by wait()
            self._copy_error = exc

    def _prepare(self, chunk: list[tuple[int, Task]], hashes: list[str]) -> _Prepared:
        now = utcnow()
        stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
        prepared = _Prepared([], [], [])
        for position, ((row, task), digest) in enumerate(zip(chunk, hashes, strict=True)):
            data = to_json(task.data)
            meta = to_json(task.meta) if task.meta else b"{}"
            self._check_size(task, row, len(data) + len(meta))
            done = cancelled = 0
            for index, annotation in enumerate(task.annotations):
                self._check(annotation.result, task, row, f"annotations[{index}]")
                done += not annotation.was_cancelled
                cancelled += annotation.was_cancelled
                prepared.annotations.append((position, self._annotation_row(annotation, now)))
            score = None
            for index, prediction in enumerate(task.predictions):
                self._check(prediction.result, task, row, f"predictions[{index}]")
                score = prediction.score if prediction.score is not None else score
                prepared.predictions.append(
                    (
                        position,
                        {
                            "project_id": self.project.id,
                            "model_version": prediction.model_version,
                            "score": prediction.score,
                            "result": prediction.result,
                            "created_at": now,
                        },
                    )
                )
            labeled = done >= self.project.maximum_annotations
            self.num_labeled += labeled
            self.num_annotations += done
            self.num_predictions += len(task.predictions)
            state = (
                "completed"
                if labeled
                else "in_progress"
                if done
                else "skipped"
                if cancelled
                else "new"
            )
            prepared.tasks.append(
                (
                    self.project.id,
                    data.decode(),
                    meta.decode(),
                    0.0,
                    state,
                    labeled,
                    done,
                    cancelled,
                    len(task.predictions),
                    score,
                    digest,
                    self.batch_id,
                    stamp,
                    stamp,
                )
            )
        return prepared

    def _check_size(self, task: Task, row: int, size: int) -> None:
        """Refuses a task whose JSON (data, meta, results) is past the per-task limit.

        One huge task would be loaded whole by every page, API answer and export that shows it.
        """
        limit = self.max_task_bytes
        if size <= limit:
            results = [a.result for a in task.annotations] + [p.result for p in task.predictions]
            if results:
                size += len(to_json(results))
        if size > limit:
            raise TaskImportError(
                f"task is {size} bytes of JSON (data, meta and results); the limit is {limit} "
                f"bytes per task ({limit_variable('max_task_bytes')})",
                source=self.source,
                row=row,
                field="data",
            )

    def _annotation_row(self, annotation: Annotation, now: datetime) -> dict[str, Any]:
        return {
            "project_id": self.project.id,
            "completed_by_id": imported_annotator(
                self.session,
                email=annotation.completed_by_email,
                external_id=annotation.completed_by,
                cache=self.annotators,
                map_to_members_of=self.map_to_members_of,
            ),
            "result": annotation.result,
            "was_cancelled": annotation.was_cancelled,
            "ground_truth": annotation.ground_truth,
            "lead_time": annotation.lead_time,
            "import_batch_id": self.batch_id,
            "created_at": annotation.created_at or now,
            "updated_at": annotation.updated_at or annotation.created_at or now,
        }

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
        # SQLite: advance the AUTOINCREMENT counter by ``count`` and take the ids below it. The
        # UPDATE takes the write lock first, so no other writer can be handed the same ids, and a
        # deleted task's id is never given out again (``MAX(id) + 1`` would reuse it).
        connection = self.session.connection()
        bumped = connection.exec_driver_sql(
            "UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT COALESCE(MAX(id), 0) FROM tasks))"
            " + ? WHERE name = 'tasks'",
            (count,),
        )
        if not bumped.rowcount:
            connection.exec_driver_sql(
                "INSERT INTO sqlite_sequence (name, seq) "
                "SELECT 'tasks', COALESCE(MAX(id), 0) + ? FROM tasks",
                (count,),
            )
        end = int(
            connection.exec_driver_sql(
                "SELECT seq FROM sqlite_sequence WHERE name = 'tasks'"
            ).scalar_one()
        )
        return list(range(end - count + 1, end + 1))


def _copy_tasks(raw_connection: Any, rows: list[tuple[Any, ...]]) -> None:
    """Sends task rows to PostgreSQL with COPY on the given DB-API connection."""
    buffer = io.StringIO()
    buffer.writelines("\t".join(map(_copy_field, row)) + "\n" for row in rows)
    buffer.seek(0)
    cursor = raw_connection.cursor()
    try:
        cursor.copy_expert(f"COPY tasks ({', '.join(_TASK_COLUMNS)}) FROM STDIN", buffer)
    finally:
        cursor.close()


def _copy_field(value: Any) -> str:
    """Returns one value in PostgreSQL COPY text format (NULL as backslash-N, escapes doubled)."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return (
                value.replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
            )
        return value
    return str(value)
