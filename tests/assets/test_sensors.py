import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from labelops.assets.ingest import raw_tasks
from labelops.db.models import TaskRow
from labelops.resources.database import DatabaseResource
from labelops.resources.object_store import LocalObjectStore, ObjectStore, S3ObjectStore
from labelops.sensors import _new_objects, new_object_sensor
from tests.assets.conftest import make_pipeline_project, materialize, metadata

T1 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
T2 = datetime(2026, 1, 1, 12, 0, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cursor", "objects", "new"),
    [
        # first tick: everything is new
        ({}, [("a", T1), ("b", T2)], ["a", "b"]),
        # nothing changed since the cursor
        ({"t": T2.isoformat(), "keys": ["b"]}, [("a", T1), ("b", T2)], []),
        # a key uploaded in the same second as the mark, after the tick (S3 has 1 s resolution)
        ({"t": T2.isoformat(), "keys": ["b"]}, [("a", T1), ("b", T2), ("c", T2)], ["c"]),
        # an object rewritten later is new again
        ({"t": T1.isoformat(), "keys": ["a"]}, [("a", T2)], ["a"]),
        # the newest object was deleted: older ones stay old
        ({"t": T2.isoformat(), "keys": ["b"]}, [("a", T1)], []),
    ],
)
def test_new_objects_follow_the_high_water_mark(
    cursor: dict[str, object], objects: list[tuple[str, datetime]], new: list[str]
) -> None:
    found, following = _new_objects(cursor, objects)

    assert found == new
    again, _ = _new_objects(following, objects)
    assert again == []


def _tick(
    instance: dg.DagsterInstance,
    database: DatabaseResource,
    store: ObjectStore,
    cursor: str | None,
) -> dg.SensorResult:
    resources = {"database": database, "object_store": store}
    with dg.build_sensor_context(cursor=cursor, instance=instance, resources=resources) as context:
        result = new_object_sensor(context)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def test_a_file_rewritten_under_the_same_key_gets_a_run_of_its_own(
    instance: dg.DagsterInstance, database: DatabaseResource, s3_store: S3ObjectStore
) -> None:
    make_pipeline_project(database, prefix="incoming")
    s3_store.put_json("incoming/a.json", [{"text": "one"}])
    first = _tick(instance, database, s3_store, None)
    s3_store.put_json("incoming/a.json", [{"text": "one"}, {"text": "two"}])

    rewritten = _tick(instance, database, s3_store, first.cursor)
    again = _tick(instance, database, s3_store, rewritten.cursor)

    assert len(first.run_requests) == 1 and len(rewritten.run_requests) == 1
    assert rewritten.run_requests[0].run_key != first.run_requests[0].run_key
    assert again.run_requests == []


@pytest.fixture
def s3_connections_allowed(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """What an administrator allows so projects may connect to the test S3 endpoint."""
    monkeypatch.setenv("LABELOPS_STORAGE_ENDPOINT_ALLOWLIST", s3_endpoint)
    monkeypatch.setenv("LABELOPS_OUTBOUND_HOST_ALLOWLIST", s3_endpoint.split("//")[1])
    monkeypatch.setenv("LABELOPS_STORAGE_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("LABELOPS_STORAGE_SECRET_ENV_ALLOWLIST", "TEAM_KEY,TEAM_SECRET")
    monkeypatch.delenv("TEAM_KEY", raising=False)
    monkeypatch.delenv("TEAM_SECRET", raising=False)
    return s3_endpoint


def test_one_projects_broken_storage_does_not_stop_the_other_projects_runs(
    instance: dg.DagsterInstance,
    database: DatabaseResource,
    s3_store: S3ObjectStore,
    s3_connections_allowed: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    gone = make_pipeline_project(
        database,
        kind="s3",
        bucket=f"gone-{uuid.uuid4().hex[:12]}",
        prefix="in",
        endpoint_url=s3_connections_allowed,
        access_key_id="testing",
        secret="testing",
    )
    unset = make_pipeline_project(
        database,
        kind="s3",
        bucket=s3_store.bucket + "-team",
        endpoint_url=s3_connections_allowed,
        access_key_id_env="TEAM_KEY",
        secret_env="TEAM_SECRET",
    )
    healthy = make_pipeline_project(database, prefix="healthy")
    s3_store.put_json("healthy/a.json", [{"text": "one"}])

    tick = _tick(instance, database, s3_store, None)

    assert [r.partition_key for r in tick.run_requests] == [str(healthy.id)]
    errors = [line for line in capfd.readouterr().err.splitlines() if " - ERROR - " in line]
    assert any(f"project {gone.id}: cannot list" in e and "NoSuchBucket" in e for e in errors)
    assert any(f"project {unset.id}: storage not synced" in e and "not set" in e for e in errors)
    assert set(json.loads(tick.cursor)) == {str(healthy.id)}


def test_an_s3_connection_lists_its_bucket_when_the_deployment_store_is_a_local_folder(
    instance: dg.DagsterInstance,
    database: DatabaseResource,
    s3_store: S3ObjectStore,
    s3_connections_allowed: str,
    tmp_path: Path,
    resources: dict[str, Any],
) -> None:
    local = LocalObjectStore(root=str(tmp_path / "objects"))
    local.put_json("in/local.json", [{"text": "a local file, not the bucket's"}])
    s3_store.put_json("in/remote.json", [{"text": "from the bucket"}])
    project = make_pipeline_project(
        database,
        kind="s3",
        bucket=s3_store.bucket,
        prefix="in",
        endpoint_url=s3_connections_allowed,
        access_key_id="testing",
        secret="testing",
    )

    tick = _tick(instance, database, local, None)
    result = materialize([raw_tasks], {**resources, "object_store": local}, instance, project)

    assert len(tick.run_requests) == 1
    assert metadata(result, "raw_tasks")["num_tasks_added"] == 1
    with database.session() as session:
        data = session.scalar(sa.select(TaskRow.data).where(TaskRow.project_id == project.id))
    assert data == {"text": "from the bucket"}
