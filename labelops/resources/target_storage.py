"""Target storage: exports and labeled datasets written back to a project's export buckets.

A storage connection whose ``direction`` is "export" (an S3, GCS or Azure bucket of its own; see
``labelops.services.storages``) is the project's target storage, as in Label Studio. Every rule
of the storages service holds again each time one is written (allowed endpoints and variables,
the outbound-URL rule, the connection's own credentials only).

- :func:`write_export` writes one export (any format the project's config offers) to a target
  connection, named as a download is (``project-<id>-<FORMAT>-<UTC stamp><extension>``, see
  ``labelops.services.exports.export_file_name``) under its prefix (the API action).
- :func:`copy_to_targets` copies files of the deployment's store (a dataset version's Parquet file
  and exports) to every target connection of the project, under the same keys (the dataset asset).
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from labelops.clock import utcnow
from labelops.db.models import ProjectRow, StorageConnectionRow
from labelops.domain.formats.options import ExportOptions
from labelops.domain.storage_paths import StoragePrefixError
from labelops.resources.object_store import ObjectStore, StorageLocation, bucket_store
from labelops.services.exports import export_file_name, export_project
from labelops.services.storages import (
    StorageError,
    StoragePolicy,
    list_storages,
    resolve_connection,
)


class TargetWriteError(RuntimeError):
    """The target bucket did not take the object (network, credentials refused by the bucket)."""


def _put(store: ObjectStore, key: str, data: bytes, content_type: str = "") -> str:
    try:
        return store.put_bytes(key, data, content_type)
    except Exception as exc:  # the client libraries' own errors: the bucket did not take it
        raise TargetWriteError(
            f"{store.uri(key)} could not be written: {type(exc).__name__}: {exc}"
        ) from exc


def export_targets(session: Session, project_id: int) -> list[StorageConnectionRow]:
    """Returns the project's export (target) connections, oldest first."""
    return [row for row in list_storages(session, project_id) if row.direction == "export"]


def target_store(
    session: Session, row: StorageConnectionRow, policy: StoragePolicy | None = None
) -> ObjectStore:
    """Returns a store of the target connection's bucket, after checking every rule again.

    Raises:
        StorageError: The connection is not an export connection, or breaks a storage rule now.
    """
    if row.direction != "export":
        raise StorageError(
            "direction",
            "this connection imports tasks; exports go to a connection whose direction is export",
            storage_id=row.id,
        )
    policy = policy or StoragePolicy.from_settings()
    target = resolve_connection(session, row, policy)
    location = StorageLocation.of(target)
    try:
        return bucket_store(location, policy.deployment_bucket)
    except (StoragePrefixError, ValueError) as exc:  # a malformed prefix, or an unknown kind
        raise StorageError("kind", str(exc), storage_id=row.id) from exc


def write_export(
    session: Session,
    project: ProjectRow,
    row: StorageConnectionRow,
    format_name: str,
    *,
    download_all_tasks: bool = False,
    options: ExportOptions | None = None,
    policy: StoragePolicy | None = None,
    now: datetime | None = None,
) -> str:
    """Returns the URI of the export written to the project's target connection ``row``.

    The connection is checked before anything is exported; the object is written whole (no
    reader sees half of it).

    Raises:
        StorageError: The connection is not a target, or breaks a storage rule now.
        TargetWriteError: The bucket did not take the object.
        UnknownFormatError: No such format.
        ValueError: The format does not fit the project's labeling config.
    """
    store = target_store(session, row, policy)
    # The export reads on a plain session of the same database (its reader may use a worker
    # thread, which a request-scoped session does not follow).
    with Session(bind=session.get_bind()) as reader:
        fmt, stream = export_project(
            reader,
            reader.get_one(ProjectRow, project.id),
            format_name,
            download_all_tasks=download_all_tasks,
            options=options,
        )
        data = b"".join(stream)
    key = export_file_name(project.id, fmt, now or utcnow())
    return _put(store, key, data, fmt.media_type)


def copy_to_targets(
    session: Session,
    project_id: int,
    source: ObjectStore,
    keys: Sequence[str],
    policy: StoragePolicy | None = None,
) -> list[str]:
    """Returns the URIs written: each of ``keys`` of ``source`` copied to every target connection.

    Raises:
        StorageError: A target connection breaks a storage rule now (checked for every target
            before anything is written).
        TargetWriteError: A target bucket did not take an object.
    """
    policy = policy or StoragePolicy.from_settings()
    stores = [target_store(session, row, policy) for row in export_targets(session, project_id)]
    written = []
    for store in stores:
        for key in keys:
            written.append(_put(store, key, source.read_bytes(key)))
    return written
