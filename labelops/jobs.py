"""Jobs: one per group of the loop, one refresh after new annotations, and the whole loop.

Executors: a job of one step runs in the run worker's own process (``in_process_executor``: a
step subprocess would only import the code location a second time); a job of several steps uses
the multiprocess executor, so its independent steps run side by side.

Retries: jobs that talk to the network (object stores, MLflow, an ML backend) retry a failed step
``LABELOPS_STEP_RETRIES`` times (default 2) after 10 s, then 20 s. Runs that can move a
project's champion carry the ``labelops/champion_project`` tag (see
:mod:`labelops.domain.pipeline_jobs`), which the instance's run queue limits to one per project.
"""

import os
from typing import Any

import dagster as dg

from labelops.assets.agreement import annotations, annotator_agreement
from labelops.assets.dataset import labeled_dataset
from labelops.assets.ingest import raw_tasks
from labelops.assets.preannotation import task_predictions
from labelops.assets.sampling import labeling_queue
from labelops.assets.training import trained_model
from labelops.domain.pipeline_jobs import IN_PROCESS_JOBS

NETWORK_JOBS = frozenset(
    {"ingest_job", "preannotation_job", "training_job", "model_refresh_job", "labeling_loop_job"}
)


def step_retry_policy() -> dg.RetryPolicy:
    """Returns the retry policy of network-bound steps (``LABELOPS_STEP_RETRIES``, default 2)."""
    return dg.RetryPolicy(
        max_retries=int(os.environ.get("LABELOPS_STEP_RETRIES", "2")),
        delay=10,
        backoff=dg.Backoff.EXPONENTIAL,
    )


def _job(name: str, description: str, *assets: dg.AssetsDefinition) -> Any:
    return dg.define_asset_job(
        name,
        selection=dg.AssetSelection.assets(*assets),
        description=description,
        executor_def=dg.in_process_executor if name in IN_PROCESS_JOBS else None,
        op_retry_policy=step_retry_policy() if name in NETWORK_JOBS else None,
    )


ingest_job = _job("ingest_job", "Import a project's new storage objects as tasks.", raw_tasks)
preannotation_job = _job(
    "preannotation_job",
    "Predict the project's tasks with the champion model, then reorder its queue.",
    task_predictions,
    labeling_queue,
)
sampling_job = _job("sampling_job", "Recompute the project's queue priorities.", labeling_queue)
agreement_job = _job(
    "agreement_job", "Compute the project's inter-annotator agreement.", annotator_agreement
)
dataset_job = _job("dataset_job", "Export the project's labeled dataset.", labeled_dataset)
training_job = _job("training_job", "Train the project's model on its dataset.", trained_model)
model_refresh_job = _job(
    "model_refresh_job",
    "After new annotations: agreement, a new dataset version and a new model.",
    annotator_agreement,
    labeled_dataset,
    trained_model,
)
labeling_loop_job = _job(
    "labeling_loop_job",
    "The whole loop for a project: import, predictions, queue, agreement, dataset and model.",
    raw_tasks,
    task_predictions,
    labeling_queue,
    annotator_agreement,
    labeled_dataset,
    trained_model,
)

annotations_observation_job = dg.define_asset_job(
    "annotations_observation_job",
    selection=dg.AssetSelection.assets(annotations.key),
    description="Observe a project's annotations (a new data version when they changed); "
    "annotations_observation_schedule runs it every 15 minutes.",
    executor_def=dg.in_process_executor,
)

JOBS = (
    annotations_observation_job,
    ingest_job,
    preannotation_job,
    sampling_job,
    agreement_job,
    dataset_job,
    training_job,
    model_refresh_job,
    labeling_loop_job,
)
