from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.storage.dagster_run import DagsterRun
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
    TagConcurrencyLimitsCounter,
)

from labelops import definitions
from labelops.domain.pipeline_jobs import CHAMPION_JOBS, CHAMPION_TAG, IN_PROCESS_JOBS, run_tags
from labelops.resources.database import DatabaseResource
from labelops.schedules import (
    annotations_observation_schedule,
    automation_status,
    nightly_dataset_schedule,
)
from labelops.sensors import (
    annotation_progress_sensor,
    deleted_projects_sensor,
    new_champion_sensor,
    new_object_sensor,
)
from tests.factories import make_project

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def persistent_instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    (tmp_path / "dagster").mkdir()
    instance = dg.DagsterInstance.from_config(str(tmp_path / "dagster"))  # schedules need one
    yield instance
    instance.dispose()


def _two_projects(database: DatabaseResource) -> tuple[str, str]:
    with database.session() as session:
        first, second = make_project(session), make_project(session)
        return str(first.id), str(second.id)


def test_nightly_schedule_exports_every_project_once_a_day(
    persistent_instance: dg.DagsterInstance, database: DatabaseResource
) -> None:
    first, second = _two_projects(database)
    persistent_instance.add_dynamic_partitions("projects", [first, second])
    with dg.build_schedule_context(
        instance=persistent_instance,
        scheduled_execution_time=datetime(2026, 3, 4, 2, 0, tzinfo=UTC),
        resources={"database": database},
    ) as context:
        requests = nightly_dataset_schedule(context)

    assert [(r.partition_key, r.run_key) for r in requests] == [
        (first, f"nightly-{first}-2026-03-04"),
        (second, f"nightly-{second}-2026-03-04"),
    ]
    assert nightly_dataset_schedule.job_name == "dataset_job"


def test_the_schedules_skip_a_deleted_project(
    persistent_instance: dg.DagsterInstance, database: DatabaseResource
) -> None:
    first, _ = _two_projects(database)
    persistent_instance.add_dynamic_partitions("projects", [first, "999"])  # 999: deleted
    with dg.build_schedule_context(
        instance=persistent_instance,
        scheduled_execution_time=datetime(2026, 3, 4, 2, 15, tzinfo=UTC),
        resources={"database": database},
    ) as context:
        nightly = nightly_dataset_schedule(context)
        observed = annotations_observation_schedule(context)

    assert [r.partition_key for r in nightly] == [first]
    assert [(r.partition_key, r.run_key) for r in observed] == [
        (first, f"observe-{first}-2026-03-04T02:15")
    ]
    assert annotations_observation_schedule.job_name == "annotations_observation_job"


def test_a_deleted_project_loses_its_partition(
    persistent_instance: dg.DagsterInstance, database: DatabaseResource
) -> None:
    first, _ = _two_projects(database)
    persistent_instance.add_dynamic_partitions("projects", [first, "998", "999"])
    with dg.build_sensor_context(
        instance=persistent_instance, resources={"database": database}
    ) as context:
        result = deleted_projects_sensor(context)

    (request,) = result.dynamic_partitions_requests
    assert isinstance(request, dg.DeleteDynamicPartitionsRequest)
    assert list(request.partition_keys) == ["998", "999"]


def test_sensors_and_schedules_start_running_unless_automation_is_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running = [
        new_object_sensor,
        annotation_progress_sensor,
        new_champion_sensor,
        deleted_projects_sensor,
        nightly_dataset_schedule,
        annotations_observation_schedule,
    ]
    monkeypatch.delenv("LABELOPS_AUTOMATION", raising=False)
    assert automation_status() == dg.DefaultSensorStatus.RUNNING
    assert {d.default_status.value for d in running} == {"RUNNING"}
    monkeypatch.setenv("LABELOPS_AUTOMATION", "stopped")
    assert automation_status() == dg.DefaultSensorStatus.STOPPED


def test_champion_jobs_are_one_per_project_retried_and_small_jobs_run_in_process() -> None:
    repo = definitions.defs.get_repository_def()
    training = repo.get_job("training_job")
    loop = repo.get_job("labeling_loop_job")
    agreement = repo.get_job("agreement_job")

    assert training.executor_def.name == "in_process"
    assert loop.executor_def.name == "multi_or_in_process_executor"
    assert not {j for j in IN_PROCESS_JOBS if repo.get_job(j).executor_def.name != "in_process"}
    assert training.op_retry_policy is not None and training.op_retry_policy.max_retries == 2
    assert repo.get_job("ingest_job").op_retry_policy is not None
    assert repo.get_job("preannotation_job").op_retry_policy is not None
    assert agreement.op_retry_policy is None
    assert run_tags("training_job", "7")[CHAMPION_TAG] == "7"
    assert CHAMPION_TAG not in run_tags("ingest_job", "7")
    assert CHAMPION_JOBS <= {job.name for job in repo.get_all_jobs()}


def test_the_deployment_queue_allows_one_champion_run_per_project(tmp_path: Path) -> None:
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    del config["storage"]  # the same queue on a throwaway SQLite instance
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        queue = instance.get_concurrency_config().run_queue_config
    finally:
        instance.dispose()

    def run(job: str, project: str) -> DagsterRun:
        return DagsterRun(job_name=job, tags=dict(run_tags(job, project)))

    # The daemon's own counter, fed with the limits Dagster read from the repository's file.
    counter = TagConcurrencyLimitsCounter(queue.tag_concurrency_limits, [run("training_job", "1")])
    assert counter.is_blocked(run("model_refresh_job", "1"))
    assert counter.is_blocked(run("labeling_loop_job", "1"))
    assert not counter.is_blocked(run("training_job", "2"))
    assert not counter.is_blocked(run("ingest_job", "1"))
