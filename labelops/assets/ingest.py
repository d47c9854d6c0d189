"""Ingest group: tasks imported from each project's storage connections."""

from collections.abc import Iterator
from functools import partial

import dagster as dg
from sqlalchemy.orm import Session

from labelops.assets.partitions import project_id_of, project_partitions
from labelops.db.models import StorageConnectionRow
from labelops.resources.database import DatabaseResource
from labelops.resources.object_store import ObjectInfo, ObjectStore, StorageLocation
from labelops.services.pipeline_storage import import_object, is_imported, matches_pattern
from labelops.services.projects import get_project
from labelops.services.storages import (
    StorageError,
    StoragePolicy,
    list_storages,
    resolve_connection,
    sync_problems,
)

INGEST = "ingest"


def location_of(
    session: Session, connection: StorageConnectionRow, policy: StoragePolicy | None = None
) -> StorageLocation:
    """Returns where a storage connection's objects live, checked now, credentials resolved.

    Raises:
        StorageError: The connection breaks a storage rule; nothing was contacted.
    """
    target = resolve_connection(session, connection, policy)
    return StorageLocation(
        kind=target.kind,
        bucket=target.bucket,
        prefix=target.prefix,
        region=target.region,
        endpoint_url=target.endpoint_url,
        access_key_id=target.access_key_id,
        secret_access_key=target.secret_access_key,
    )


def project_objects(
    session: Session, project_id: int, object_store: ObjectStore
) -> Iterator[tuple[ObjectStore, ObjectInfo]]:
    """Yields (store, object) for every object of the project's connections that fits a pattern.

    A connection that breaks a storage rule now is skipped without being contacted (the ingest
    asset reports it).
    """
    policy = StoragePolicy.from_settings()
    for connection in list_storages(session, project_id):
        try:
            store = object_store.at(location_of(session, connection, policy))
        except (StorageError, ValueError):
            continue
        for info in store.list_objects():
            if matches_pattern(connection, info.key):
                yield store, info


@dg.asset(
    group_name=INGEST,
    partitions_def=project_partitions,
    kinds={"s3", "python"},
    tags={"domain": "labeling"},
)
def raw_tasks(
    context: dg.AssetExecutionContext, database: DatabaseResource, object_store: ObjectStore
) -> dg.MaterializeResult:
    """Tasks imported from the project's storage: one per row of a task file, one per media file.

    Task files are JSON, JSONL, CSV, TSV or Parquet; images, audio and video become tasks whose
    data field points at the object. Each object version (key + ETag) is imported once. When a
    connection breaks a storage rule (a variable or endpoint an administrator did not allow, a
    prefix outside the project's place), the run fails naming it and nothing is contacted.
    """
    project_id = project_id_of(context)
    files = []
    with database.session() as session:
        project = get_project(session, project_id)
        problems = sync_problems(session, project_id)
        if problems:
            raise dg.Failure(
                description="storage sync refused: " + "; ".join(str(p) for p in problems),
                metadata={"refused": dg.MetadataValue.json([str(p) for p in problems])},
            )
        for store, info in project_objects(session, project_id, object_store):
            uri = store.uri(info.key)
            if is_imported(session, project_id, uri, info.etag):
                continue
            opener = partial(store.open, info.key)
            outcome = import_object(
                session, project, key=uri, etag=info.etag, uri=uri, opener=opener
            )
            session.commit()  # each file is its own step forward
            context.log.info(f"{uri}: {outcome.kind}, {outcome.num_tasks} tasks {outcome.error}")
            files.append(outcome)
    rejected = [{"file": f.key, **r} for f in files for r in f.rejected]
    failed = [{"file": f.key, "error": f.error} for f in files if f.error]
    return dg.MaterializeResult(
        metadata={
            "num_files": len(files),
            "num_tasks_added": sum(f.num_tasks for f in files),
            "num_rejected_rows": len(rejected),
            "num_failed_files": len(failed),
            "files": dg.MetadataValue.json(
                [{"key": f.key, "kind": f.kind, "num_tasks": f.num_tasks} for f in files]
            ),
            "rejected": dg.MetadataValue.json((rejected + failed)[:50]),
        }
    )
