"""Sensors: new objects start imports; new annotations and new champions refresh the loop."""

import hashlib
import json
from datetime import datetime
from typing import Any

import dagster as dg

from labelops.assets.ingest import project_objects
from labelops.assets.partitions import project_partitions
from labelops.domain.pipeline_jobs import CHAMPION_TAG, PROJECT_PARTITIONS
from labelops.jobs import ingest_job, model_refresh_job, preannotation_job
from labelops.resources.database import DatabaseResource
from labelops.resources.object_store import ObjectStore
from labelops.schedules import automation_status
from labelops.services.agreement import annotation_fingerprints
from labelops.services.projects import project_ids
from labelops.services.storages import sync_problems

ANNOTATIONS_PER_REFRESH = 10


def _new_objects(
    seen: dict[str, Any], objects: list[tuple[str, datetime]]
) -> tuple[list[str], dict[str, Any]]:
    """Returns (keys newer than the cursor, the project's next cursor).

    The cursor is a high-water mark: the latest last-modified time and the keys seen at it, so a
    key is new when it changed later, or at that same instant but was not seen yet. The mark
    never moves back (deleting the newest object does not make older ones new). The sensor
    passes object versions (URI and ETag) as keys, so a rewrite at the mark's instant is new.
    """
    mark = datetime.fromisoformat(seen["t"]) if seen.get("t") else None
    at_mark = set(seen.get("keys", []))
    new = [
        key
        for key, modified in objects
        if mark is None or modified > mark or (modified == mark and key not in at_mark)
    ]
    latest = max((modified for _, modified in objects), default=None)
    if latest is None or (mark is not None and latest < mark):
        return new, seen
    keys = {key for key, modified in objects if modified == latest}
    if latest == mark:
        keys |= at_mark
    return new, {"t": latest.isoformat(), "keys": sorted(keys)}


def _run_key(project_key: str, versions: list[str]) -> str:
    """Returns the run key of an import: the project and every new object version it covers."""
    digest = hashlib.sha256("\n".join(sorted(versions)).encode()).hexdigest()[:16]
    return f"ingest-{project_key}-{digest}"


@dg.sensor(job=ingest_job, minimum_interval_seconds=60, default_status=automation_status())
def new_object_sensor(
    context: dg.SensorEvaluationContext, database: DatabaseResource, object_store: ObjectStore
) -> dg.SensorResult:
    """Requests an import run for each project whose storage has new or changed objects.

    The cursor keeps, per project, the latest last-modified time and the object versions (URI
    and ETag) seen at it, and each run key names the object versions it covers (URI, ETag and
    last-modified time), so a restarted sensor never imports twice while a file rewritten under
    the same key gets a run of its own. A project whose storage cannot be listed (a secret
    unset, a bucket gone) is logged as an error and keeps its cursor; the other projects still
    get their runs.
    """
    cursor = json.loads(context.cursor) if context.cursor else {}
    requests, new_keys = [], []
    known = set(context.instance.get_dynamic_partitions(PROJECT_PARTITIONS))
    with database.session() as session:
        for project_id in project_ids(session):
            key = str(project_id)
            problems = sync_problems(session, project_id)
            if problems:
                context.log.error(
                    f"project {key}: storage not synced: " + "; ".join(map(str, problems))
                )
                continue
            try:
                listed = [
                    (store.uri(info.key), info.etag, info.last_modified)
                    for store, info in project_objects(session, project_id, object_store)
                ]
            except Exception as exc:
                session.rollback()
                context.log.error(f"project {key}: cannot list its storage: {exc}")
                continue
            # An object's identity is its version (URI and ETag): a file rewritten in the same
            # second as the mark (S3 keeps whole seconds) is still new.
            new, cursor[key] = _new_objects(
                cursor.get(key, {}), [(f"{uri} {etag}", modified) for uri, etag, modified in listed]
            )
            if not new:
                continue
            if key not in known:
                new_keys.append(key)
            fresh = set(new)
            versions = [
                f"{uri} {etag} {modified.isoformat()}"
                for uri, etag, modified in listed
                if f"{uri} {etag}" in fresh
            ]
            requests.append(dg.RunRequest(partition_key=key, run_key=_run_key(key, versions)))
            context.log.info(f"project {key}: {len(new)} new or changed object(s)")
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=(
            [project_partitions.build_add_request(new_keys)] if new_keys else []
        ),
        cursor=json.dumps(cursor, sort_keys=True),
    )


@dg.sensor(job=model_refresh_job, minimum_interval_seconds=120, default_status=automation_status())
def annotation_progress_sensor(
    context: dg.SensorEvaluationContext, database: DatabaseResource
) -> dg.SensorResult:
    """Refreshes agreement, dataset and model of a project after every 10 new annotations.

    The cursor keeps the annotation count of each project at its last refresh.
    """
    cursor = json.loads(context.cursor) if context.cursor else {}
    known = set(context.instance.get_dynamic_partitions(PROJECT_PARTITIONS))
    requests = []
    with database.session() as session:
        prints = annotation_fingerprints(session)
    for project_id, (count, _) in prints.items():
        key = str(project_id)
        if key in known and count - int(cursor.get(key, 0)) >= ANNOTATIONS_PER_REFRESH:
            requests.append(
                dg.RunRequest(
                    partition_key=key,
                    run_key=f"refresh-{key}-{count}",
                    tags={CHAMPION_TAG: key},  # one champion-moving run per project at a time
                )
            )
            cursor[key] = count
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))


@dg.asset_sensor(
    asset_key=dg.AssetKey("trained_model"),
    job=preannotation_job,
    default_status=automation_status(),
)
def new_champion_sensor(
    context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry
) -> dg.RunRequest | dg.SkipReason:
    """Re-predicts a project's tasks and reorders its queue when its model got a new champion."""
    materialization = asset_event.asset_materialization
    promoted = materialization.metadata.get("promoted") if materialization else None
    if materialization is None or promoted is None or not promoted.value:
        return dg.SkipReason("the newest model did not become the champion")
    key = materialization.partition or ""
    version = materialization.metadata["model_version"].value
    return dg.RunRequest(partition_key=key, run_key=f"champion-{key}-{version}")


@dg.sensor(minimum_interval_seconds=300, default_status=automation_status())
def deleted_projects_sensor(
    context: dg.SensorEvaluationContext, database: DatabaseResource
) -> dg.SensorResult:
    """Deletes the partition of every project that no longer exists (however it was deleted).

    Sensors and schedules then stop requesting runs for it; its past runs stay in the history.
    """
    with database.session() as session:
        existing = {str(project_id) for project_id in project_ids(session)}
    known = context.instance.get_dynamic_partitions(PROJECT_PARTITIONS)
    gone = sorted((key for key in known if key not in existing), key=lambda k: (len(k), k))
    if gone:
        context.log.info(f"deleting the partitions of deleted projects: {', '.join(gone)}")
    return dg.SensorResult(
        dynamic_partitions_requests=(
            [project_partitions.build_delete_request(gone)] if gone else []
        ),
    )
