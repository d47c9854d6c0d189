"""The bulk writer of imported tasks: reserved ids, PostgreSQL ``COPY``, SQLite executemany.

Tasks are written a chunk at a time with ids reserved up front, never one ORM object per row;
their annotations and predictions follow as multi-row inserts. What goes into the rows (checks,
counters, attribution) is the import service's business; this module only writes them.
"""

import hashlib
import io
import threading
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.engine import is_postgres
from labelops.db.models import AnnotationRow, PredictionRow

TASK_COLUMNS: tuple[str, ...] = (
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
    f"INSERT INTO tasks ({', '.join(TASK_COLUMNS)}) VALUES ({', '.join('?' * len(TASK_COLUMNS))})"
)
ANALYZE_AFTER = 50_000  # tasks written by one writer


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


class TaskBulkWriter:
    """Writes chunks of task rows with reserved ids, then their annotations and predictions.

    On PostgreSQL a chunk of plain tasks is sent with ``COPY`` from a background thread while the
    caller prepares the next chunk, so parsing (Python) and ingest (the server) overlap on two
    cores. Only one statement runs on the connection at a time: every other use waits for the
    copy (:meth:`wait`).
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = is_postgres(session)
        self.num_written = 0
        self._copy: threading.Thread | None = None
        self._copy_error: BaseException | None = None

    def write(
        self,
        tasks: list[tuple[Any, ...]],
        annotations: list[tuple[int, dict[str, Any]]],
        predictions: list[tuple[int, dict[str, Any]]],
    ) -> list[int]:
        """Returns the ids given to the tasks (their rows may still be in flight).

        Args:
            tasks: One tuple per task: the values of :data:`TASK_COLUMNS` after ``id``.
            annotations: ``(index of the task in tasks, annotation row without task_id)``.
            predictions: ``(index of the task in tasks, prediction row without task_id)``.
        """
        if not tasks:
            return []
        self.wait()
        ids = self._reserve_ids(len(tasks))
        rows = [(task_id, *row) for task_id, row in zip(ids, tasks, strict=True)]
        if not self.postgres:
            self.session.connection().exec_driver_sql(_SQLITE_INSERT, rows)
        else:
            raw = self.session.connection().connection.dbapi_connection
            if annotations or predictions:
                _copy_tasks(raw, rows)
            else:
                self._copy = threading.Thread(target=self._copy_in_background, args=(raw, rows))
                self._copy.start()
        if annotations:
            self.session.execute(
                sa.insert(AnnotationRow), [{**row, "task_id": ids[i]} for i, row in annotations]
            )
        if predictions:
            self.session.execute(
                sa.insert(PredictionRow), [{**row, "task_id": ids[i]} for i, row in predictions]
            )
        self.num_written += len(ids)
        return ids

    def finish(self) -> None:
        """Waits for the last copy; refreshes planner statistics after a large load."""
        self.wait()
        if self.postgres and self.num_written >= ANALYZE_AFTER:
            # Without fresh statistics PostgreSQL may sort the whole table for every page of a
            # keyset scan right after a large load.
            self.session.execute(sa.text("ANALYZE tasks"))

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
        cursor.copy_expert(f"COPY tasks ({', '.join(TASK_COLUMNS)}) FROM STDIN", buffer)
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
