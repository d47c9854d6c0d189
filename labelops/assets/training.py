"""Training group: the baseline model trained on the newest labeled dataset, tracked in MLflow."""

import io
import json
from typing import Literal

import dagster as dg
import pandas as pd

from labelops.assets.dataset import dataset_key, labeled_dataset
from labelops.assets.partitions import project_id_of, project_partitions
from labelops.domain.label_config import parse_label_config
from labelops.resources.baseline import BASELINE_PARAMS, train_baseline
from labelops.resources.database import DatabaseResource
from labelops.resources.model_registry import ModelRegistry, TrainingRecord, model_name
from labelops.resources.object_store import ObjectStore
from labelops.resources.predictor import text_classification_target
from labelops.services.pipeline import latest_dataset_version
from labelops.services.projects import get_project

TRAINING = "training"


class TrainingConfig(dg.Config):
    """Which held-out metric decides whether a new model replaces the champion."""

    metric: Literal["accuracy", "f1_macro"] = "accuracy"


@dg.asset(
    group_name=TRAINING,
    partitions_def=project_partitions,
    deps=[labeled_dataset],
    kinds={"mlflow", "scikitlearn"},
)
def trained_model(
    context: dg.AssetExecutionContext,
    config: TrainingConfig,
    database: DatabaseResource,
    object_store: ObjectStore,
    model_registry: ModelRegistry,
) -> dg.MaterializeResult:
    """The project's text classifier (TF-IDF + logistic regression) trained on its labeled dataset.

    An MLflow run logs the dataset as an input (digest = dataset version), the parameters and
    the held-out metrics, and registers a model version; the ``champion`` alias, which
    pre-annotation serves, moves only when the new version beats the current champion.
    """
    project_id = project_id_of(context)
    with database.session() as session:
        project = get_project(session, project_id)
        target = text_classification_target(parse_label_config(project.label_config))
        dataset = latest_dataset_version(session, project_id)
    if target is None or dataset is None:
        reason = "no choices control over text" if target is None else "no labeled dataset yet"
        return dg.MaterializeResult(metadata={"trained": False, "reason": reason})
    raw = object_store.read_bytes(dataset_key(project_id, dataset.version))
    frame = pd.read_parquet(io.BytesIO(raw)).dropna(subset=["label"])
    frame["text"] = [str(json.loads(d).get(target.data_field, "")) for d in frame["data"]]
    try:
        trained = train_baseline(list(frame["text"]), list(frame["label"]))
    except ValueError as exc:
        return dg.MaterializeResult(metadata={"trained": False, "reason": str(exc)})
    record = TrainingRecord(
        model=trained.model,
        params={**BASELINE_PARAMS, "num_train": trained.num_train, "num_test": trained.num_test},
        metrics=trained.metrics,
        dataset=frame[["task_id", "text", "label"]],
        dataset_name=f"project-{project_id}-labeled",
        dataset_digest=dataset.version,
        dataset_uri=dataset.uri,
    )
    version = model_registry.log_training(model_name(project_id), record)
    promoted = model_registry.promote_if_better(version, config.metric)
    return dg.MaterializeResult(
        metadata={
            "trained": True,
            "model_name": version.name,
            "model_version": version.version,
            "promoted": promoted,
            "dataset_version": dataset.version,
            "num_train": trained.num_train,
            "num_test": trained.num_test,
            **trained.metrics,
        }
    )
