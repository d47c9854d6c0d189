import io
import json
import logging
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from labelops.assets.ingest import NO_REJECTED_FILES, raw_tasks
from labelops.db.models import ImportedObjectRow, ProjectRow, TaskRow
from labelops.resources.database import DatabaseResource
from labelops.resources.object_store import (
    S3ObjectStore,
)
from labelops.sensors import new_object_sensor
from labelops.services.annotations import create_annotation
from tests.assets.conftest import IMAGE_CONFIG, make_pipeline_project, materialize, metadata
from tests.factories import choice_result, make_user
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


def _check(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == NO_REJECTED_FILES
    ]
    return evaluation


def _warnings(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> list[str]:
    return [
        entry.user_message
        for entry in instance.all_logs(result.run_id)
        if entry.level == logging.WARNING and entry.user_message
    ]


def _texts(database: DatabaseResource, project_id: int) -> list[tuple[int, str]]:
    with database.session() as session:
        rows = session.execute(
            sa.select(TaskRow.id, TaskRow.data)
            .where(TaskRow.project_id == project_id)
            .order_by(TaskRow.id)
        )
        return [(task_id, data["text"]) for task_id, data in rows]


def test_raw_tasks_imports_every_file_kind_once_and_rejects_bad_files_whole(
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
    assert meta["num_tasks_added"] == 7  # lines.jsonl is rejected whole, like the API does
    assert meta["num_rejected_files"] == 2
    rejected = {r["file"].rsplit("/", 1)[-1]: r for r in meta["rejected"]}
    assert (rejected["lines.jsonl"]["row"], rejected["lines.jsonl"]["field"]) == (2, "text")
    assert "invalid JSON" in rejected["broken.json"]["error"]
    check = _check(first)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["num_rejected_files"].value == 2
    warnings = _warnings(instance, first)
    assert any("lines.jsonl (row 2, field text)" in w for w in warnings)
    # the rejected files stay pending: tried again (and rejected again), the others not
    assert metadata(second, "raw_tasks")["num_tasks_added"] == 0
    assert metadata(second, "raw_tasks")["num_rejected_files"] == 2
    assert sorted(t for _, t in _texts(database, project.id)) == list("abdefgh")
    with database.session() as session:
        marked = session.scalars(sa.select(ImportedObjectRow.key)).all()
    assert sorted(k.rsplit("/", 1)[-1] for k in marked) == [
        "list.json",
        "table.csv",
        "table.parquet",
        "table.tsv",
    ]


def test_a_file_with_a_bad_row_stays_pending_until_fixed_then_imports_whole(
    instance: dg.DagsterInstance,
    database: DatabaseResource,
    s3_store: S3ObjectStore,
    resources: dict[str, Any],
) -> None:
    project = make_pipeline_project(database, prefix="incoming")
    s3_store.put_json("incoming/batch.json", [{"text": "a"}, {"txt": "typo"}, {"text": "c"}])

    bad = materialize([raw_tasks], resources, instance, project)
    s3_store.put_json("incoming/batch.json", [{"text": "a"}, {"text": "b"}, {"text": "c"}])
    fixed = materialize([raw_tasks], resources, instance, project)
    again = materialize([raw_tasks], resources, instance, project)

    assert bad.success and not _check(bad).passed
    assert metadata(bad, "raw_tasks")["rejected"][0]["row"] == 2
    assert _check(fixed).passed and metadata(fixed, "raw_tasks")["num_tasks_added"] == 3
    assert metadata(again, "raw_tasks")["num_files"] == 0
    assert [t for _, t in _texts(database, project.id)] == ["a", "b", "c"]


def test_a_changed_file_updates_its_unannotated_tasks_in_place_and_adds_new_rows(
    instance: dg.DagsterInstance,
    database: DatabaseResource,
    s3_store: S3ObjectStore,
    resources: dict[str, Any],
) -> None:
    project = make_pipeline_project(database, prefix="incoming")
    s3_store.put_json("incoming/list.json", [{"text": "a"}, {"text": "b"}, {"text": "c"}])
    materialize([raw_tasks], resources, instance, project)
    (a_id, _), (b_id, _), (c_id, _) = _texts(database, project.id)
    with database.session() as session:
        user = make_user(session)
        create_annotation(
            session,
            session.get_one(TaskRow, b_id),
            user_id=user.id,
            result=choice_result("Positive"),
            now=datetime.now(UTC),
        )
    s3_store.put_json(
        "incoming/list.json",
        [{"text": "a fixed"}, {"text": "b fixed"}, {"text": "c"}, {"text": "d"}],
    )

    changed = materialize([raw_tasks], resources, instance, project)
    again = materialize([raw_tasks], resources, instance, project)

    meta = metadata(changed, "raw_tasks")
    assert (meta["num_tasks_added"], meta["num_tasks_updated"], meta["num_tasks_kept"]) == (
        1,
        1,
        1,
    )
    tasks = _texts(database, project.id)
    assert tasks[:3] == [(a_id, "a fixed"), (b_id, "b"), (c_id, "c")]
    assert [t for _, t in tasks[3:]] == ["d"]
    assert any(
        f"row 2 changed but task {b_id} has annotations" in w for w in _warnings(instance, changed)
    )
    assert metadata(again, "raw_tasks")["num_files"] == 0
    with database.session() as session:
        project_row = session.get_one(ProjectRow, project.id)
        assert project_row.num_tasks == 4


def test_a_replaced_image_under_the_same_key_does_not_make_a_second_task(
    instance: dg.DagsterInstance,
    database: DatabaseResource,
    s3_store: S3ObjectStore,
    resources: dict[str, Any],
) -> None:
    project = make_pipeline_project(
        database, prefix="photos", label_config=IMAGE_CONFIG, file_pattern="*.jpg"
    )
    s3_store.put_bytes("photos/cat.jpg", b"\xff\xd8first")
    materialize([raw_tasks], resources, instance, project)
    s3_store.put_bytes("photos/cat.jpg", b"\xff\xd8second")

    result = materialize([raw_tasks], resources, instance, project)

    assert metadata(result, "raw_tasks")["num_files"] == 1
    assert metadata(result, "raw_tasks")["num_tasks_added"] == 0
    with database.session() as session:
        count = session.scalar(
            sa.select(sa.func.count(TaskRow.id)).where(TaskRow.project_id == project.id)
        )
    assert count == 1


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


def test_many_media_files_import_in_batched_lookups_and_commits_with_capped_metadata(
    instance: dg.DagsterInstance,
    database: DatabaseResource,
    s3_store: S3ObjectStore,
    resources: dict[str, Any],
) -> None:
    project = make_pipeline_project(
        database, prefix="photos", label_config=IMAGE_CONFIG, file_pattern="*.jpg"
    )
    for i in range(250):
        s3_store.put_bytes(f"photos/{i:04}.jpg", b"\xff\xd8fake")
    counts = {"statements": 0, "commits": 0}
    labeling_db = sa.engine.make_url(database.url).database

    def statement(conn: sa.Connection, *_: Any) -> None:
        counts["statements"] += conn.engine.url.database == labeling_db

    def commit(conn: sa.Connection) -> None:
        counts["commits"] += conn.engine.url.database == labeling_db

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", statement)
    sa.event.listen(sa.engine.Engine, "commit", commit)
    try:
        result = materialize([raw_tasks], resources, instance, project)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", statement)
        sa.event.remove(sa.engine.Engine, "commit", commit)

    meta = metadata(result, "raw_tasks")
    assert meta["num_tasks_added"] == 250
    assert counts["commits"] <= 3  # one per batch of 200 objects, one as the session ends
    assert counts["statements"] < 100  # not a lookup, an insert and a commit per object
    assert len(meta["files"]) == 50 and meta["files_not_shown"] == 200
    assert meta["files_by_kind"] == {"media": 250}
    assert len(json.dumps(meta["files"])) < 10_000


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
    assert meta["num_rejected_files"] == 0
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
