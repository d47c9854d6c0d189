"""Jobs: one per group of the loop, one refresh after new annotations, and the whole loop."""

from typing import Any

import dagster as dg

from labelops.assets.agreement import annotations, annotator_agreement
from labelops.assets.dataset import labeled_dataset
from labelops.assets.ingest import raw_tasks
from labelops.assets.preannotation import task_predictions
from labelops.assets.sampling import labeling_queue
from labelops.assets.training import trained_model


def _job(name: str, description: str, *assets: dg.AssetsDefinition) -> Any:
    return dg.define_asset_job(
        name,
        selection=dg.AssetSelection.assets(*assets),
        description=description,
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
    description="Observe the annotations of every project (new data versions where they changed).",
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
