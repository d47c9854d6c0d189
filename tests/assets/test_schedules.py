from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from labelops.schedules import nightly_dataset_schedule


def test_nightly_schedule_exports_every_project_once_a_day(tmp_path: Path) -> None:
    instance = dg.DagsterInstance.from_config(str(tmp_path))  # schedules need a persistent one
    try:
        instance.add_dynamic_partitions("projects", ["1", "2"])
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
        )
        requests = nightly_dataset_schedule(context)
    finally:
        instance.dispose()

    assert [(r.partition_key, r.run_key) for r in requests] == [
        ("1", "nightly-1-2026-03-04"),
        ("2", "nightly-2-2026-03-04"),
    ]
    assert nightly_dataset_schedule.job_name == "dataset_job"
