"""Ingest group: tasks imported from each project's storage connections."""

from collections.abc import Iterator
from functools import partial

import dagster as dg
from sqlalchemy.orm import Session

from labelops.assets.partitions import project_id_of, project_partitions
from labelops.db.models import StorageConnectionRow
from labelops.domain.errors import LabelopsError
from labelops.resources.database import DatabaseResource
from labelops.resources.object_store import ObjectInfo, ObjectStore, StorageLocation
from labelops.services.pipeline_storage import (
    ObjectImport,
    PendingObject,
    import_objects,
    imported_versions,
    matches_pattern,
)
from labelops.services.projects import get_project
from labelops.services.storages import (
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
    return StorageLocation.of(target)


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
        except (LabelopsError, ValueError):  # refused by a storage rule, or an unknown kind
            continue
        for info in store.list_objects():
            if matches_pattern(connection, info.key):
                yield store, info


NO_REJECTED_FILES = "raw_tasks_has_no_rejected_files"
OBJECTS_PER_COMMIT = 200
FILES_SHOWN = 50


@dg.asset(
    group_name=INGEST,
    partitions_def=project_partitions,
    kinds={"s3", "python"},
    tags={"domain": "labeling"},
    check_specs=[
        dg.AssetCheckSpec(
            NO_REJECTED_FILES,
            asset="raw_tasks",
            description="Every task file of the project's storage was imported (none rejected).",
        )
    ],
)
def raw_tasks(
    context: dg.AssetExecutionContext, database: DatabaseResource, object_store: ObjectStore
) -> dg.MaterializeResult:  # type: ignore[type-arg]  # Dagster refuses a subscript with checks
    """Tasks imported from the project's storage: one per row of a task file, one per media file.

    Files are read as every import reads them (one format catalog): task files (JSON, JSONL,
    CSV, TSV, text, Parquet) and Label Studio exports give their rows; images, audio, video and
    the other files an object of the config reads by URL become tasks whose data field points
    at the object. Results that do not fit the labeling config are kept and logged. Each object
    version (key + ETag) is imported once, whole or not at all: a file with a bad row is rejected
    (a WARN log names file, row and field, and the ``raw_tasks_has_no_rejected_files`` check
    fails with ERROR severity) and stays pending until a fixed version is imported. A changed
    file updates its rows' tasks in place (see ``import_object``). Objects are looked up and
    committed in batches of 200. When a connection breaks a storage rule (a variable or endpoint
    an administrator did not allow, a prefix outside the project's place), the run fails naming
    it and nothing is contacted.
    """
    project_id = project_id_of(context)
    files: list[ObjectImport] = []
    with database.session() as session:
        project = get_project(session, project_id)
        problems = sync_problems(session, project_id)
        if problems:
            raise dg.Failure(
                description="storage sync refused: " + "; ".join(str(p) for p in problems),
                metadata={"refused": dg.MetadataValue.json([str(p) for p in problems])},
            )
        listed = [
            PendingObject(store.uri(info.key), info.etag, partial(store.open, info.key))
            for store, info in project_objects(session, project_id, object_store)
        ]
        for start in range(0, len(listed), OBJECTS_PER_COMMIT):
            page = listed[start : start + OBJECTS_PER_COMMIT]
            done = imported_versions(session, project_id, [obj.key for obj in page])
            pending = [obj for obj in page if (obj.key, obj.etag) not in done]
            if pending:
                files.extend(import_objects(session, project, pending))
                session.commit()  # one transaction per batch of objects
    rejected = [f for f in files if f.rejected]
    for f in rejected:
        context.log.warning(
            f"rejected {f.key} (row {f.row}, field {f.field}): {f.error}; nothing of it was "
            "imported and it stays pending until fixed"
        )
    for f in files:
        for problem in f.problems:
            context.log.warning(
                f"{f.key} row {problem['row']}, {problem['field']}: kept although "
                f"{problem['message']}"
            )
        for kept in f.kept:
            context.log.warning(
                f"{f.key} row {kept['row']} changed but task {kept['task_id']} has annotations: "
                "left as it was"
            )
    context.log.info(
        f"{len(files)} object(s): {sum(f.num_tasks for f in files)} task(s) added, "
        f"{sum(f.num_updated for f in files)} updated, {len(rejected)} file(s) rejected"
    )
    rejected_table = [
        {"file": f.key, "row": f.row, "field": f.field, "error": f.error} for f in rejected
    ]
    return dg.MaterializeResult(
        metadata={
            "num_files": len(files),
            "num_tasks_added": sum(f.num_tasks for f in files),
            "num_tasks_updated": sum(f.num_updated for f in files),
            "num_tasks_kept": sum(len(f.kept) for f in files),
            "num_rejected_files": len(rejected),
            "num_results_not_fitting_config": sum(len(f.problems) for f in files),
            "files_by_kind": dg.MetadataValue.json(_count_by_kind(files)),
            "files": dg.MetadataValue.json(
                [
                    {"key": f.key, "kind": f.kind, "added": f.num_tasks, "updated": f.num_updated}
                    for f in files[:FILES_SHOWN]
                ]
            ),
            "files_not_shown": max(0, len(files) - FILES_SHOWN),
            "rejected": dg.MetadataValue.json(rejected_table[:FILES_SHOWN]),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=NO_REJECTED_FILES,
                passed=not rejected,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={
                    "num_rejected_files": len(rejected),
                    "rejected": dg.MetadataValue.json(rejected_table[:FILES_SHOWN]),
                },
            )
        ],
    )


def _count_by_kind(files: list[ObjectImport]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in files:
        kind = "rejected" if f.rejected else f.kind
        counts[kind] = counts.get(kind, 0) + 1
    return counts
