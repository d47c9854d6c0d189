"""Schedules: the nightly dataset export of every project."""

import dagster as dg

from labelops.assets.partitions import project_partitions
from labelops.jobs import dataset_job


@dg.schedule(cron_schedule="0 2 * * *", job=dataset_job, execution_timezone="UTC")
def nightly_dataset_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    """Exports every project's labeled dataset at 02:00 UTC (new version only if labels changed)."""
    day = context.scheduled_execution_time.date().isoformat()
    return [
        dg.RunRequest(partition_key=key, run_key=f"nightly-{key}-{day}")
        for key in context.instance.get_dynamic_partitions(project_partitions.name)
    ]
