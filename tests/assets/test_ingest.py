import io
import json
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from labelops.assets.ingest import raw_tasks
from labelops.db.models import ImportedObjectRow, TaskRow
from labelops.resources.database import DatabaseResource
from labelops.resources.object_store import (
    S3ObjectStore,
)
from labelops.sensors import new_object_sensor
from tests.assets.conftest import IMAGE_CONFIG, make_pipeline_project, materialize, metadata
from tests.resources.conftest import Bucket


def _parquet(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer)
    return buffer.getvalue()


def _tick(
    instance: dg.DagsterInstance,
    database: DatabaseResource,
    store: S3ObjectStore,
    cursor: str | None,
) -> dg.SensorResult:
    resources = {"database": database, "object_store": store}
    with dg.build_sensor_context(cursor=cursor, instance=instance, resources=resources) as context:
        result = new_object_sensor(context)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def test_sensor_adds_the_project_partition_and_requests_runs_only_for_new_objects(
    instance: dg.DagsterInstance, database: DatabaseResource, s3_store: S3ObjectStore
) -> None:
    project = make_pipeline_project(database, prefix="incoming")
    s3_store.put_json("incoming/a.json", [{"text": "one"}])
    s3_store.put_json("elsewhere/b.json", [{"text": "not this project's"}])

    first = _tick(instance, database, s3_store, None)
    again = _tick(instance, database, s3_store, first.cursor)
    s3_store.put_json("incoming/c.json", [{"text": "two"}])
    later = _tick(instance, database, s3_store, again.cursor)
    restarted = _tick(instance, database, s3_store, later.cursor)

    assert [r.partition_key for r in first.run_requests] == [str(project.id)]
    assert instance.get_dynamic_partitions("projects") == [str(project.id)]
    assert again.run_requests == []
    assert len(later.run_requests) == 1
    assert later.run_requests[0].run_key != first.run_requests[0].run_key
    assert later.dynamic_partitions_requests == []
    assert restarted.run_requests == []


def test_raw_tasks_imports_every_file_kind_once_and_reports_rejected_rows(
    instance: dg.DagsterInstance,
    database: DatabaseResource,
    s3_store: S3ObjectStore,
    resources: dict[str, Any],
) -> None:
    project = make_pipeline_project(database, prefix="incoming", file_pattern="*.*")
    s3_store.put_json("incoming/list.json", [{"text": "a"}, {"text": "b"}])
    s3_store.put_bytes("incoming/lines.jsonl", b'{"text": "c"}\n{"other": "no text"}\n')
    s3_store.put_bytes("incoming/table.csv", b"text\nd\ne\n")
    s3_store.put_bytes("incoming/table.tsv", b"text\tscore\nf\t1\n")
    s3_store.put_bytes("incoming/table.parquet", _parquet([{"text": "g"}, {"text": "h"}]))
    s3_store.put_bytes("incoming/broken.json", b"[{")

    first = materialize([raw_tasks], resources, instance, project)
    second = materialize([raw_tasks], resources, instance, project)

    meta = metadata(first, "raw_tasks")
    assert meta["num_files"] == 6
    assert meta["num_tasks_added"] == 8
    assert meta["num_rejected_rows"] == 1
    assert meta["num_failed_files"] == 1
    rejected = {r["file"].rsplit("/", 1)[-1]: r for r in meta["rejected"]}
    assert rejected["lines.jsonl"]["row"] == 2
    assert "text" in rejected["lines.jsonl"]["error"]
    assert "invalid JSON" in rejected["broken.json"]["error"]
    assert metadata(second, "raw_tasks")["num_tasks_added"] == 0
    with database.session() as session:
        texts = session.scalars(sa.select(TaskRow.data).where(TaskRow.project_id == project.id))
        assert sorted(d["text"] for d in texts) == list("abcdefgh")
        assert session.scalar(sa.select(sa.func.count(ImportedObjectRow.id))) == 6


def test_a_changed_object_is_imported_again(
    instance: dg.DagsterInstance,
    database: DatabaseResource,
    s3_store: S3ObjectStore,
    resources: dict[str, Any],
) -> None:
    project = make_pipeline_project(database, prefix="incoming")
    s3_store.put_json("incoming/list.json", [{"text": "a"}])
    materialize([raw_tasks], resources, instance, project)
    s3_store.put_json("incoming/list.json", [{"text": "a"}, {"text": "b"}])

    result = materialize([raw_tasks], resources, instance, project)

    assert metadata(result, "raw_tasks")["num_tasks_added"] == 2


def test_media_files_become_tasks_pointing_at_them_in_the_config_field(
    instance: dg.DagsterInstance,
    database: DatabaseResource,
    s3_store: S3ObjectStore,
    resources: dict[str, Any],
) -> None:
    project = make_pipeline_project(
        database, prefix="photos", label_config=IMAGE_CONFIG, file_pattern="*.jpg"
    )
    s3_store.put_bytes("photos/cat.jpg", b"\xff\xd8fake")
    s3_store.put_bytes("photos/notes.txt", b"ignored by the pattern")

    result = materialize([raw_tasks], resources, instance, project)

    assert metadata(result, "raw_tasks")["num_tasks_added"] == 1
    with database.session() as session:
        data = session.scalar(sa.select(TaskRow.data).where(TaskRow.project_id == project.id))
    assert data == {"photo": f"s3://{s3_store.bucket}/photos/cat.jpg"}
    assert json.dumps(data)


def test_every_bucket_kind_imports_each_file_once_from_its_own_bucket(
    instance: dg.DagsterInstance,
    database: DatabaseResource,
    resources: dict[str, Any],
    bucket: Bucket,
) -> None:
    project = make_pipeline_project(
        database, kind=bucket.kind, prefix="incoming", file_pattern="*.*", **bucket.fields
    )
    bucket.store.put_json("incoming/list.json", [{"text": "a"}, {"text": "b"}])
    bucket.store.put_bytes("incoming/lines.jsonl", b'{"text": "c"}\n')
    bucket.store.put_bytes("incoming/table.csv", b"text\nd\n")
    bucket.store.put_bytes("other/elsewhere.json", b'[{"text": "not this prefix"}]')

    first = materialize([raw_tasks], resources, instance, project)
    second = materialize([raw_tasks], resources, instance, project)

    meta = metadata(first, "raw_tasks")
    assert meta["num_files"] == 3
    assert meta["num_tasks_added"] == 4
    assert meta["num_failed_files"] == 0
    scheme = {"s3": "s3", "gcs": "gs", "azure": "azure-blob"}[bucket.kind]
    assert {f["key"] for f in meta["files"]} == {
        f"{scheme}://{bucket.fields['bucket']}/incoming/{name}"
        for name in ("list.json", "lines.jsonl", "table.csv")
    }
    assert metadata(second, "raw_tasks")["num_tasks_added"] == 0
    with database.session() as session:
        texts = session.scalars(sa.select(TaskRow.data).where(TaskRow.project_id == project.id))
        assert sorted(d["text"] for d in texts) == list("abcd")


def test_every_bucket_kind_turns_media_into_tasks_with_the_objects_uri(
    instance: dg.DagsterInstance,
    database: DatabaseResource,
    resources: dict[str, Any],
    bucket: Bucket,
) -> None:
    project = make_pipeline_project(
        database,
        kind=bucket.kind,
        prefix="photos",
        label_config=IMAGE_CONFIG,
        file_pattern="*.jpg",
        **bucket.fields,
    )
    bucket.store.put_bytes("photos/cat.jpg", b"\xff\xd8fake")

    result = materialize([raw_tasks], resources, instance, project)

    assert metadata(result, "raw_tasks")["num_tasks_added"] == 1
    scheme = {"s3": "s3", "gcs": "gs", "azure": "azure-blob"}[bucket.kind]
    with database.session() as session:
        data = session.scalar(sa.select(TaskRow.data).where(TaskRow.project_id == project.id))
    assert data == {"photo": f"{scheme}://{bucket.fields['bucket']}/photos/cat.jpg"}


def test_an_export_connection_is_never_imported_from(
    instance: dg.DagsterInstance,
    database: DatabaseResource,
    resources: dict[str, Any],
    bucket: Bucket,
) -> None:
    project = make_pipeline_project(
        database, kind=bucket.kind, prefix="target", direction="export", **bucket.fields
    )
    bucket.store.put_json("target/export.json", [{"text": "written by an export"}])

    result = materialize([raw_tasks], resources, instance, project)

    assert metadata(result, "raw_tasks")["num_files"] == 0
