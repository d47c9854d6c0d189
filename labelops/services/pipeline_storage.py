"""The import of storage objects as tasks; each object version (key + ETag) is imported once.

Connections themselves (validation, confinement, secrets) live in ``labelops.services.storages``;
their functions are re-exported here for the callers that import them from this module.
"""

import fnmatch
import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import (
    AnnotationRow,
    ImportedObjectRow,
    ImportedRowRow,
    ProjectRow,
    StorageConnectionRow,
    TaskRow,
    utcnow,
)
from labelops.domain.errors import AnnotationError, TaskImportError, UnknownFormatError
from labelops.domain.formats.readers import detect_format, normalize_task, read_rows
from labelops.domain.label_config import LabelConfig, parse_label_config, validate_result
from labelops.domain.records import Task
from labelops.services.imports import content_hash, import_tasks, to_json
from labelops.services.storages import (
    SECRET_KEY_ENV,
    STORAGE_KINDS,
    create_storage,
    delete_storage,
    get_storage,
    list_storages,
    storage_credentials,
)
from labelops.settings import current_limits, limit_variable

__all__ = [
    "SECRET_KEY_ENV",
    "STORAGE_KINDS",
    "ObjectImport",
    "PendingObject",
    "create_storage",
    "delete_storage",
    "get_storage",
    "import_object",
    "import_objects",
    "imported_versions",
    "is_imported",
    "list_storages",
    "matches_pattern",
    "media_field",
    "storage_credentials",
]
MEDIA_EXTENSIONS: Mapping[str, str] = {
    **dict.fromkeys((".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"), "Image"),
    **dict.fromkeys((".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac"), "Audio"),
    **dict.fromkeys((".mp4", ".webm", ".mov", ".avi", ".mkv"), "Video"),
}
_DEFAULT_FIELDS = {"Image": "image", "Audio": "audio", "Video": "video"}
LOOKUP_CHUNK = 500


def matches_pattern(row: StorageConnectionRow, key: str) -> bool:
    """Returns True when the object's file name matches the connection's file pattern.

    An export (target) connection matches nothing: what the project writes there is never
    imported back.
    """
    if (row.direction or "import") == "export":
        return False
    return not row.file_pattern or fnmatch.fnmatch(posixpath.basename(key), row.file_pattern)


def is_imported(session: Session, project_id: int, key: str, etag: str) -> bool:
    """Returns True when this version (key + ETag) of the object was imported before."""
    return (
        session.scalar(
            sa.select(ImportedObjectRow.id).where(
                ImportedObjectRow.project_id == project_id,
                ImportedObjectRow.key == key,
                ImportedObjectRow.etag == etag,
            )
        )
        is not None
    )


def imported_versions(
    session: Session, project_id: int, keys: Iterable[str]
) -> set[tuple[str, str]]:
    """Returns the (key, ETag) pairs among ``keys`` already imported, one query per 500 keys."""
    keys = list(dict.fromkeys(keys))
    found: set[tuple[str, str]] = set()
    for start in range(0, len(keys), LOOKUP_CHUNK):
        rows = session.execute(
            sa.select(ImportedObjectRow.key, ImportedObjectRow.etag).where(
                ImportedObjectRow.project_id == project_id,
                ImportedObjectRow.key.in_(keys[start : start + LOOKUP_CHUNK]),
            )
        )
        found.update((key, etag) for key, etag in rows)
    return found


@dataclass
class ObjectImport:
    """What importing one storage object did.

    ``num_tasks`` counts new tasks, ``num_updated`` tasks whose data changed in place,
    ``kept`` the rows whose task carries annotations and so was left as it was (row, task id),
    ``num_deleted`` rows whose task was deleted (not imported again). ``error`` says why the
    file was rejected (nothing of it written; it stays pending).
    """

    key: str
    kind: str
    num_tasks: int = 0
    num_updated: int = 0
    num_deleted: int = 0
    kept: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    row: int | None = None
    field: str | None = None

    @property
    def rejected(self) -> bool:
        """Returns True when the file was rejected (and so is not marked as imported)."""
        return bool(self.error)


def media_field(project: ProjectRow, key: str) -> str | None:
    """Returns the data field a media object fills (the config's object tag of its kind)."""
    kind = MEDIA_EXTENSIONS.get(posixpath.splitext(key.lower())[1])
    if kind is None:
        return None
    config = parse_label_config(project.label_config)
    for obj in config.objects.values():
        if obj.tag == kind and obj.data_field:
            return obj.data_field
    return _DEFAULT_FIELDS[kind]


def import_object(
    session: Session,
    project: ProjectRow,
    *,
    key: str,
    etag: str,
    uri: str,
    opener: Callable[[], IO[bytes]],
) -> ObjectImport:
    """Returns the outcome of importing one storage object (all of it, or none of it).

    A task file (JSON, JSONL, CSV, TSV, Parquet) goes through the same all-or-nothing import as
    the API and the CLI: one bad row rejects the whole file. A media file is one task whose data
    field points at ``uri`` (it is never downloaded). ``opener`` returns the object's bytes as a
    stream; it is closed here.

    Each row of a file is a task identified by (project, object key, row number). When a changed
    version of a file comes in, a row seen before updates its task's data and meta in place if
    the task has no annotations; a task with annotations is left untouched and listed under
    ``kept``; a row whose task was deleted is not imported again; new rows add tasks; rows gone
    from the file leave their tasks. Annotations and predictions in a file are imported with new
    rows only (rows seen before are still checked against the config).

    A rejected file (unreadable, or a row that does not make a task) writes nothing and is not
    marked as imported, so it is tried again until a fixed version is imported; ``error``,
    ``row`` and ``field`` say why. Other files (unknown formats) are skipped. Imported and
    skipped versions are marked, so they are never tried twice.
    """
    outcome = ObjectImport(key=key, kind="task_file")
    batch_id: int | None = None
    data_field = media_field(project, key)
    try:
        with session.begin_nested():
            config = parse_label_config(project.label_config)
            if data_field is not None:
                outcome.kind = "media"
                tasks = [(1, Task(data={data_field: uri}))]
                fmt = "media"
            else:
                fmt = detect_format(key)
                required = config.data_fields
                with opener() as stream:
                    tasks = [
                        (row, normalize_task(item, source=key, row=row, required_fields=required))
                        for row, item in read_rows(stream, fmt, key)
                    ]
            batch_id = _sync_rows(session, project, config, key, fmt, tasks, outcome)
    except UnknownFormatError:
        outcome.kind = "skipped"
    except TaskImportError as exc:
        outcome.error, outcome.row, outcome.field = str(exc), exc.row, exc.field
        return outcome
    session.add(
        ImportedObjectRow(project_id=project.id, key=key, etag=etag, import_batch_id=batch_id)
    )
    session.flush()
    return outcome


@dataclass(frozen=True)
class PendingObject:
    """A storage object version to import: its key (URI), ETag and how to open it."""

    key: str
    etag: str
    opener: Callable[[], IO[bytes]]


def import_objects(
    session: Session, project: ProjectRow, objects: Sequence[PendingObject]
) -> list[ObjectImport]:
    """Returns the outcome of importing each object, media files new to the project together.

    Media files whose key was never imported become tasks in one import batch (one write for
    the lot); every other object goes through :func:`import_object`. The caller commits.
    """
    media: list[tuple[PendingObject, str]] = []
    others: list[PendingObject] = []
    seen_keys = _keys_with_rows(session, project.id, [o.key for o in objects])
    for obj in objects:
        data_field = media_field(project, obj.key)
        if data_field is not None and obj.key not in seen_keys:
            media.append((obj, data_field))
        else:
            others.append(obj)
    outcomes: dict[str, ObjectImport] = {}
    if media:
        outcomes.update(_import_new_media(session, project, media))
    for obj in others:
        outcomes[obj.key] = import_object(
            session, project, key=obj.key, etag=obj.etag, uri=obj.key, opener=obj.opener
        )
    return [outcomes[obj.key] for obj in objects]


def _keys_with_rows(session: Session, project_id: int, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), LOOKUP_CHUNK):
        found.update(
            session.scalars(
                sa.select(ImportedRowRow.key)
                .where(
                    ImportedRowRow.project_id == project_id,
                    ImportedRowRow.key.in_(keys[start : start + LOOKUP_CHUNK]),
                )
                .distinct()
            )
        )
    return found


def _import_new_media(
    session: Session, project: ProjectRow, media: list[tuple[PendingObject, str]]
) -> dict[str, ObjectImport]:
    config = parse_label_config(project.label_config)
    rows = [(1, Task(data={data_field: obj.key})) for obj, data_field in media]
    source = f"{len(media)} media file(s) from {posixpath.dirname(media[0][0].key)}/"
    with session.begin_nested():
        report = import_tasks(
            session,
            project,
            list(enumerate((task for _, task in rows), start=1)),
            source=source,
            fmt="media",
            created_by_id=None,
            config=config,
            return_task_ids=True,
        )
        session.execute(
            sa.insert(ImportedRowRow),
            [
                {"project_id": project.id, "key": obj.key, "row": 1, "task_id": task_id}
                for (obj, _), task_id in zip(media, report.task_ids, strict=True)
            ],
        )
        session.execute(
            sa.insert(ImportedObjectRow),
            [
                {
                    "project_id": project.id,
                    "key": obj.key,
                    "etag": obj.etag,
                    "import_batch_id": report.batch_id,
                }
                for obj, _ in media
            ],
        )
    return {obj.key: ObjectImport(key=obj.key, kind="media", num_tasks=1) for obj, _ in media}


def _sync_rows(
    session: Session,
    project: ProjectRow,
    config: LabelConfig,
    key: str,
    fmt: str,
    tasks: list[tuple[int, Task]],
    outcome: ObjectImport,
) -> int | None:
    """Returns the new import batch's id (None: no new row), after updating the rows seen before."""
    has_annotations = sa.exists().where(AnnotationRow.task_id == TaskRow.id)
    known = {
        seen.row: seen
        for seen in session.execute(
            sa.select(
                ImportedRowRow.row,
                TaskRow.id,
                TaskRow.content_hash,
                sa.or_(
                    TaskRow.total_annotations > 0,
                    TaskRow.cancelled_annotations > 0,
                    has_annotations,
                ).label("annotated"),
            )
            .outerjoin(TaskRow, TaskRow.id == ImportedRowRow.task_id)
            .where(ImportedRowRow.project_id == project.id, ImportedRowRow.key == key)
        )
    }
    new_rows: list[tuple[int, Task]] = []
    updates: list[dict[str, Any]] = []
    for row, task in tasks:
        if row not in known:
            new_rows.append((row, task))
            continue
        _check_task(config, task, row, key)
        current = known[row]
        if current.id is None:
            outcome.num_deleted += 1
            continue
        digest = content_hash(task.data)
        if digest == current.content_hash:
            continue
        if current.annotated:
            outcome.kept.append({"row": row, "task_id": current.id})
            continue
        updates.append(
            {
                "id": current.id,
                "data": dict(task.data),
                "meta": dict(task.meta),
                "content_hash": digest,
                "updated_at": utcnow(),
            }
        )
    if updates:
        session.execute(sa.update(TaskRow), updates)
        outcome.num_updated = len(updates)
    if not new_rows:
        return None
    report = import_tasks(
        session,
        project,
        new_rows,
        source=key,
        fmt=fmt,
        created_by_id=None,
        config=config,
        return_task_ids=True,
    )
    session.execute(
        sa.insert(ImportedRowRow),
        [
            {"project_id": project.id, "key": key, "row": row, "task_id": task_id}
            for (row, _), task_id in zip(new_rows, report.task_ids, strict=True)
        ],
    )
    outcome.num_tasks = report.num_tasks
    return report.batch_id


def _check_task(config: LabelConfig, task: Task, row: int, source: str) -> None:
    """Checks a row seen before as the import checks a new one (size, annotations, predictions).

    Raises:
        TaskImportError: The row would be refused as a new row.
    """
    limit = current_limits().max_task_bytes
    size = len(to_json(task.data)) + len(to_json(task.meta))
    if size > limit:
        raise TaskImportError(
            f"task is {size} bytes of JSON; the limit is {limit} bytes per task "
            f"({limit_variable('max_task_bytes')})",
            source=source,
            row=row,
            field="data",
        )
    results = [(f"annotations[{i}]", a.result) for i, a in enumerate(task.annotations)]
    results += [(f"predictions[{i}]", p.result) for i, p in enumerate(task.predictions)]
    for where, result in results:
        try:
            validate_result(config, result, task.data, require_required=False)
        except AnnotationError as exc:
            raise TaskImportError(exc.message, source=source, row=row, field=where) from exc
