"""Ingest group: tasks imported from each project's storage connections."""

from collections.abc import Iterator
from functools import partial

import dagster as dg
from sqlalchemy.orm import Session

from labelops.assets.partitions import project_id_of, project_partitions
from labelops.db.models import StorageConnectionRow
from labelops.resources.database import DatabaseResource
from labelops.resources.object_store import ObjectInfo, ObjectStore, StorageLocation
from labelops.services.pipeline_storage import (
    import_object,
    is_imported,
    list_storages,
    matches_pattern,
    storage_credentials,
)
from labelops.services.projects import get_project

INGEST = "ingest"


def location_of(connection: StorageConnectionRow) -> StorageLocation:
    """Returns where a storage connection's objects live, with its credentials resolved."""
    key_id, secret = storage_credentials(connection)
    return StorageLocation(
        kind=connection.kind,
        bucket=connection.bucket,
        prefix=connection.prefix,
        region=connection.region,
        endpoint_url=connection.endpoint_url,
        access_key_id=key_id,
        secret_access_key=secret,
    )


def project_objects(
    session: Session, project_id: int, object_store: ObjectStore
) -> Iterator[tuple[ObjectStore, ObjectInfo]]:
    """Yields (store, object) for every object of the project's connections that fits a pattern."""
    for connection in list_storages(session, project_id):
        store = object_store.at(location_of(connection))
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
    data field points at the object. Each object version (key + ETag) is imported once.
    """
    project_id = project_id_of(context)
    files = []
    with database.session() as session:
        project = get_project(session, project_id)
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
