"""Names and run tags of the pipeline's jobs, shared by the web app, sensors and Dagster config.

Kept free of Dagster so the web app can import it without loading the code location.
"""

from collections.abc import Mapping

PARTITION_TAG = "dagster/partition"
# The dynamic partitions of the pipeline's assets: one per labeling project, key = project id.
PROJECT_PARTITIONS = "projects"
# What the web app's pipeline buttons (and the API's launch endpoint) run.
ACTION_JOBS: Mapping[str, str] = {
    "sync-storage": "ingest_job",
    "preannotate": "preannotation_job",
    "agreement": "agreement_job",
    "export-dataset": "dataset_job",
    "train": "training_job",
}
# One run at a time per project for jobs that can move the project's champion model: these runs
# carry this tag with the project's partition key, and the instance's run queue
# (``dagster.yaml``: ``run_queue.tag_concurrency_limits``) allows one run per distinct value.
CHAMPION_TAG = "labelops/champion_project"
CHAMPION_JOBS = frozenset({"training_job", "model_refresh_job", "labeling_loop_job"})
# Jobs of one step run in the run worker's own process (a step subprocess would only add the
# cost of importing the code location again); jobs of several steps use the multiprocess executor.
IN_PROCESS_JOBS = frozenset(
    {
        "annotations_observation_job",
        "ingest_job",
        "sampling_job",
        "agreement_job",
        "dataset_job",
        "training_job",
    }
)
SOURCE_TAG = "labelops/source"


def run_tags(job_name: str, partition_key: str, **extra: str) -> Mapping[str, str]:
    """Returns the tags a run of the job for the project's partition carries."""
    tags = {PARTITION_TAG: partition_key, **extra}
    if job_name in CHAMPION_JOBS:
        tags[CHAMPION_TAG] = partition_key
    return tags


def run_source(tags: Mapping[str, str]) -> str:
    """Returns what started a run, read from its tags (sensor, schedule, web app, ...)."""
    if name := tags.get("dagster/sensor_name"):
        return f"sensor {name}"
    if name := tags.get("dagster/schedule_name"):
        return f"schedule {name}"
    if tags.get("dagster/backfill"):
        return "backfill"
    if tags.get(SOURCE_TAG):
        return tags[SOURCE_TAG]
    return "CLI or Dagster UI"
