"""Schedules: the nightly dataset export and the annotations observation of every project.

Sensors and schedules start RUNNING when the code location is loaded (``dagster dev``, the
daemon of a deployment), so the loop runs without a click in the Dagster UI; set
``LABELOPS_AUTOMATION=stopped`` to load them STOPPED instead (e.g. to run jobs only by hand).
A state changed in the Dagster UI wins over this default.
"""

import os

import dagster as dg

from labelops.domain.pipeline_jobs import PROJECT_PARTITIONS
from labelops.jobs import annotations_observation_job, dataset_job
from labelops.resources.database import DatabaseResource
from labelops.services.projects import project_ids

AUTOMATION_VARIABLE = "LABELOPS_AUTOMATION"


def automation_status() -> dg.DefaultSensorStatus:
    """Returns the status sensors start with: RUNNING unless LABELOPS_AUTOMATION=stopped."""
    value = os.environ.get(AUTOMATION_VARIABLE, "running").strip().lower()
    if value in ("stopped", "off", "0", "false", "no"):
        return dg.DefaultSensorStatus.STOPPED
    return dg.DefaultSensorStatus.RUNNING


def schedule_status() -> dg.DefaultScheduleStatus:
    """Returns the status schedules start with (the same rule as sensors)."""
    return dg.DefaultScheduleStatus(automation_status().value)


def live_partitions(context: dg.ScheduleEvaluationContext, database: DatabaseResource) -> list[str]:
    """Returns the project partitions whose project still exists (a deleted one is skipped)."""
    with database.session() as session:
        existing = {str(project_id) for project_id in project_ids(session)}
    keys = context.instance.get_dynamic_partitions(PROJECT_PARTITIONS)
    return [key for key in keys if key in existing]


@dg.schedule(
    cron_schedule="0 2 * * *",
    job=dataset_job,
    execution_timezone="UTC",
    default_status=schedule_status(),
)
def nightly_dataset_schedule(
    context: dg.ScheduleEvaluationContext, database: DatabaseResource
) -> list[dg.RunRequest]:
    """Exports every project's labeled dataset at 02:00 UTC (new version only if labels changed).

    Projects deleted since their partition was added are skipped.
    """
    day = context.scheduled_execution_time.date().isoformat()
    return [
        dg.RunRequest(partition_key=key, run_key=f"nightly-{key}-{day}")
        for key in live_partitions(context, database)
    ]


@dg.schedule(
    cron_schedule="*/15 * * * *",
    job=annotations_observation_job,
    execution_timezone="UTC",
    default_status=schedule_status(),
)
def annotations_observation_schedule(
    context: dg.ScheduleEvaluationContext, database: DatabaseResource
) -> list[dg.RunRequest]:
    """Observes every project's annotations each 15 minutes (a new data version when changed)."""
    stamp = context.scheduled_execution_time.strftime("%Y-%m-%dT%H:%M")
    return [
        dg.RunRequest(partition_key=key, run_key=f"observe-{key}-{stamp}")
        for key in live_partitions(context, database)
    ]
