"""The repository's dagster.yaml builds a PostgreSQL-backed instance that the loop runs through."""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from labelops.assets.ingest import raw_tasks
from labelops.resources.object_store import S3ObjectStore
from tests.assets.conftest import make_pipeline_project, metadata
from tests.conftest import fresh_pg_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dagster_pg_database() -> Iterator[sa.engine.URL]:
    """A fresh, empty PostgreSQL database for the Dagster instance, dropped afterwards."""
    with fresh_pg_database("dagster_test") as url:
        yield sa.engine.make_url(url)


def test_repository_dagster_yaml_runs_the_pipeline_on_postgres(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    dagster_pg_database: sa.engine.URL,
    resources: dict[str, Any],
    s3_store: S3ObjectStore,
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    url = dagster_pg_database
    monkeypatch.setenv("DAGSTER_PG_HOST", url.host or "127.0.0.1")
    monkeypatch.setenv("DAGSTER_PG_PORT", str(url.port or 5432))
    monkeypatch.setenv("DAGSTER_PG_USERNAME", url.username or "postgres")
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", url.password or "")
    monkeypatch.setenv("DAGSTER_PG_DB", url.database or "")
    project = make_pipeline_project(resources["database"], prefix="incoming")
    s3_store.put_json("incoming/tasks.json", [{"text": "one"}, {"text": "two"}])

    instance = dg.DagsterInstance.from_config(str(home))  # not `with`: see run_launcher._instance
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        instance.add_dynamic_partitions("projects", [str(project.id)])
        result = dg.materialize(
            [raw_tasks], resources=resources, instance=instance, partition_key=str(project.id)
        )
        assert result.success
        assert metadata(result, "raw_tasks")["num_tasks_added"] == 2
        record = instance.get_latest_materialization_event(dg.AssetKey("raw_tasks"))
        assert record is not None and record.run_id == result.run_id
    finally:
        instance.dispose()

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT run_id FROM runs")).scalars().all()
        partitions = (
            conn.execute(
                sa.text(
                    "SELECT partition FROM dynamic_partitions "
                    "WHERE partitions_def_name = 'projects'"
                )
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert stored == [result.run_id]
    assert partitions == [str(project.id)]
