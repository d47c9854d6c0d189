"""The import of storage objects as tasks; each object version (key + ETag) is imported once.

Connections themselves (validation, confinement, secrets) live in ``labelops.services.storages``;
their functions are re-exported here for the callers that import them from this module.
"""

import fnmatch
import posixpath
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import (
    ImportedObjectRow,
    ImportedRowRow,
    ProjectRow,
    StorageConnectionRow,
)
from labelops.domain.errors import TaskImportError, UnknownFormatError
from labelops.domain.formats.registry import plan_import
from labelops.domain.label_config import LabelConfig, parse_label_config
from labelops.domain.records import Task
from labelops.services.import_options import ImportOptions, ImportReport
from labelops.services.import_writer import write_tasks
from labelops.services.imports import ImportSource, import_source
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
    "storage_credentials",
]
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
    ``num_deleted`` rows whose task was deleted (not imported again), ``problems`` results
    kept although they contradict the labeling config. ``error`` says why the file was rejected
    (nothing of it written; it stays pending).
    """

    key: str
    kind: str
    num_tasks: int = 0
    num_updated: int = 0
    num_deleted: int = 0
    kept: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    row: int | None = None
    field: str | None = None

    @property
    def rejected(self) -> bool:
        """Returns True when the file was rejected (and so is not marked as imported)."""
        return bool(self.error)


BUCKET_IMPORT = ImportOptions(track_rows=True)


def import_object(
    session: Session,
    project: ProjectRow,
    *,
    key: str,
    etag: str,
    uri: str,
    opener: Callable[[], IO[bytes]],
    config: LabelConfig | None = None,
) -> ObjectImport:
    """Returns the outcome of importing one storage object (all of it, or none of it).

    The object goes through :func:`labelops.services.imports.import_source`, as an upload to
    the API or the import page does: a task file gives one task per row and one bad row rejects
    the whole file; a data file (image, audio, video, time series CSV...) is one task whose data
    field points at ``uri`` (it is never downloaded); a data file that the config cannot show
    (an ``.mp3`` in a text project) is rejected with the API's message. ``opener`` returns the
    object's bytes as a stream; it is closed here.

    Rows are tracked under the key (see ``ImportOptions.track_rows``): a changed version of a
    file updates the unannotated tasks of rows seen before, keeps annotated ones (``kept``),
    does not bring deleted ones back, and adds new rows.

    A rejected file writes nothing and is not marked as imported, so it is tried again until a
    fixed version is imported; ``error``, ``row`` and ``field`` say why. Other files (types the
    import does not take) are skipped. Imported and skipped versions are marked, so they are
    never tried twice.
    """
    outcome = ObjectImport(key=key, kind="task_file")
    batch_id: int | None = None
    try:
        with session.begin_nested():
            report = import_source(
                session,
                project,
                ImportSource(name=key, opener=opener, uri=uri),
                BUCKET_IMPORT,
                config=config,
            )
    except UnknownFormatError:
        outcome.kind = "skipped"
    except TaskImportError as exc:
        outcome.error, outcome.row, outcome.field = str(exc), exc.row, exc.field
        return outcome
    else:
        batch_id = report.batch_id
        outcome.kind = "media" if report.reads == "data" else "task_file"
        outcome.num_tasks, outcome.num_updated = report.num_tasks, report.num_updated
        outcome.num_deleted, outcome.kept = report.num_deleted, report.kept
        outcome.problems = report.problems
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
    """Returns the outcome of importing each object, data files new to the project together.

    Data files (by the format catalog, as for every import) whose key was never imported become
    tasks in one import batch (one write for the lot, through the same checks and writer);
    every other object goes through :func:`import_object`. The caller commits.
    """
    config = parse_label_config(project.label_config)
    media: list[tuple[PendingObject, str]] = []
    others: list[PendingObject] = []
    seen_keys = _keys_with_rows(session, project.id, [o.key for o in objects])
    for obj in objects:
        field = _new_data_file_field(obj.key, config) if obj.key not in seen_keys else None
        if field is not None:
            media.append((obj, field))
        else:
            others.append(obj)
    outcomes: dict[str, ObjectImport] = {}
    if media:
        outcomes.update(_import_new_media(session, project, config, media))
    for obj in others:
        outcomes[obj.key] = import_object(
            session,
            project,
            key=obj.key,
            etag=obj.etag,
            uri=obj.key,
            opener=obj.opener,
            config=config,
        )
    return [outcomes[obj.key] for obj in objects]


def _new_data_file_field(key: str, config: LabelConfig) -> str | None:
    """Returns the data field a data file fills; None for anything else (or a refused file)."""
    try:  # a CSV or text file is left to import_object, which reads its header
        plan = plan_import(key, config, as_tasks_list=True)
    except (UnknownFormatError, TaskImportError):
        return None  # import_object reports it as every object is reported
    return plan.data_field if plan.reads == "data" else None


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
    session: Session,
    project: ProjectRow,
    config: LabelConfig,
    media: list[tuple[PendingObject, str]],
) -> dict[str, ObjectImport]:
    source = f"{len(media)} media file(s) from {posixpath.dirname(media[0][0].key)}/"
    tasks = [(1, Task(data={field: obj.key})) for obj, field in media]
    with session.begin_nested():
        report = write_tasks(
            session,
            project,
            tasks,
            config=config,
            report=ImportReport(source=source, format="media", reads="data"),
            options=ImportOptions(return_task_ids=True),
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
