"""The import of storage objects as tasks; each object is imported once per key and ETag.

Connections themselves (validation, confinement, secrets) live in ``labelops.services.storages``;
their functions are re-exported here for the callers that import them from this module.
"""

import fnmatch
import posixpath
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import ImportedObjectRow, ProjectRow, StorageConnectionRow
from labelops.domain.errors import TaskImportError, UnknownFormatError
from labelops.domain.formats.readers import detect_format, normalize_task, read_rows
from labelops.domain.label_config import parse_label_config
from labelops.domain.records import Task
from labelops.services.imports import import_rows, import_tasks
from labelops.services.storages import (
    SECRET_KEY_ENV,
    STORAGE_KINDS,
    create_storage,
    delete_storage,
    get_storage,
    list_storages,
    storage_credentials,
)

__all__ = [
    "SECRET_KEY_ENV",
    "STORAGE_KINDS",
    "ObjectImport",
    "create_storage",
    "delete_storage",
    "get_storage",
    "import_object",
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


@dataclass
class ObjectImport:
    """What importing one storage object did."""

    key: str
    kind: str
    num_tasks: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""


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
    """Returns the outcome of importing one storage object, which is then marked as imported.

    A task file (JSON, JSONL, CSV, TSV, Parquet) adds one task per good row; rows that do not
    make a task are listed under ``rejected`` with their error. A media file adds one task whose
    data field points at ``uri`` (a media file is never downloaded). ``opener`` returns the
    object's bytes as a stream; it is closed here. When the file as a whole fails (unreadable,
    or an annotation that does not fit the config), nothing of it is written and ``error`` says
    why. Other files are skipped. Either way the object version is marked, so it is never tried
    twice.
    """
    outcome = ObjectImport(key=key, kind="task_file")
    batch_id: int | None = None
    data_field = media_field(project, key)
    try:
        with session.begin_nested():
            if data_field is not None:
                outcome.kind = "media"
                report = import_rows(
                    session, project, [(1, {data_field: uri})], source=key, fmt="media",
                    created_by_id=None,
                )  # fmt: skip
            else:
                fmt = detect_format(key)
                config = parse_label_config(project.label_config)
                with opener() as stream:
                    rows = read_rows(stream, fmt, key)
                    report = import_tasks(
                        session,
                        project,
                        _good_rows(rows, key, config.data_fields, outcome.rejected),
                        source=key,
                        fmt=fmt,
                        created_by_id=None,
                        config=config,
                    )
            outcome.num_tasks = report.num_tasks
            batch_id = report.batch_id
    except UnknownFormatError:
        outcome.kind = "skipped"
    except TaskImportError as exc:
        outcome.error = str(exc)
    session.add(
        ImportedObjectRow(project_id=project.id, key=key, etag=etag, import_batch_id=batch_id)
    )
    session.flush()
    return outcome


def _good_rows(
    rows: Iterator[tuple[int, Any]], source: str, required: tuple[str, ...], rejected: list[Any]
) -> Iterator[tuple[int, Task]]:
    for row, item in rows:
        try:
            yield row, normalize_task(item, source=source, row=row, required_fields=required)
        except TaskImportError as exc:
            rejected.append({"row": row, "field": exc.field, "error": str(exc)})
