"""Training group: the baseline model trained on the dataset version its upstream produced.

The dataset version comes from the ``labeled_dataset`` materialization of the same partition
(the one of this run when the run made one), never from the newest dataset row in the database.
"""

import io
import json
from typing import Any, Literal

import dagster as dg

from labelops.assets.dataset import dataset_key, labeled_dataset
from labelops.assets.partitions import project_id_of, project_partitions
from labelops.domain.label_config import parse_label_config
from labelops.domain.preannotation import text_classification_target
from labelops.resources.database import DatabaseResource
from labelops.resources.model_registry import (
    ModelRegistry,
    ModelVersion,
    TrainingRecord,
    model_name,
)
from labelops.resources.object_store import ObjectStore
from labelops.services.projects import get_project
from labelops.services.training import BASELINE_PARAMS, evaluate, train_baseline

TRAINING = "training"
# How many recent materializations of the partition are searched for one made by this run.
UPSTREAM_LOOKBACK = 20


class TrainingConfig(dg.Config):
    """Which held-out metric decides whether a new model replaces the champion."""

    metric: Literal["accuracy", "f1_macro"] = "accuracy"


def upstream_dataset_version(context: dg.AssetExecutionContext) -> tuple[str, str] | None:
    """Returns (version, uri) of the dataset the upstream materialization produced, or None.

    The materialization of ``labeled_dataset`` made by this run wins; otherwise the partition's
    latest one.
    """
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=labeled_dataset.key, asset_partitions=[context.partition_key]
        ),
        limit=UPSTREAM_LOOKBACK,
    ).records
    if not records:
        return None
    chosen = next((r for r in records if r.run_id == context.run.run_id), records[0])
    materialization = chosen.asset_materialization
    if materialization is None or "version" not in materialization.metadata:
        return None
    meta = materialization.metadata
    uri = meta["uri"].value if "uri" in meta else ""
    return str(meta["version"].value), str(uri)


def _label(version: ModelVersion | None) -> str:
    return version.label if version else ""


def _skip(reason: str, **extra: Any) -> dg.MaterializeResult[None]:
    return dg.MaterializeResult(
        metadata={"trained": False, "promoted": False, "reason": reason, **extra}
    )


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
) -> dg.MaterializeResult[None]:
    """The project's text classifier (TF-IDF + logistic regression) trained on its labeled dataset.

    The dataset is the version the upstream ``labeled_dataset`` materialization names. A dataset
    version that already has a registered model is not trained again (skipped, with the reason).
    Otherwise an MLflow run logs the training dataset and the held-out evaluation set as inputs,
    the parameters, the held-out metrics of the candidate and of the current champion on that same
    set, and registers a version; the ``champion`` alias, which pre-annotation serves, moves only
    when the candidate scores strictly higher on the chosen metric.
    """
    project_id = project_id_of(context)
    name = model_name(project_id)
    with database.session() as session:
        project = get_project(session, project_id)
        target = text_classification_target(parse_label_config(project.label_config))
    if target is None:
        return _skip("no choices control over text")
    upstream = upstream_dataset_version(context)
    if upstream is None:
        return _skip("no labeled_dataset materialization for this project yet")
    version, uri = upstream
    existing = model_registry.version_for_dataset(name, version)
    if existing is not None:
        return _skip(
            f"dataset {version} is already trained as {existing.label}; nothing new to learn",
            dataset_version=version,
            model_name=name,
            model_version=existing.version,
        )
    import pandas as pd

    raw = object_store.read_bytes(dataset_key(project_id, version))
    frame = pd.read_parquet(io.BytesIO(raw)).dropna(subset=["label"]).reset_index(drop=True)
    frame["text"] = [str(json.loads(d).get(target.data_field, "")) for d in frame["data"]]
    texts, labels = list(frame["text"]), [str(label) for label in frame["label"]]
    try:
        trained = train_baseline(texts, labels)
    except ValueError as exc:
        return _skip(str(exc), dataset_version=version)
    held_out = frame.iloc[list(trained.test_rows)][["task_id", "text", "label"]]
    champion = model_registry.champion(name)
    champion_metrics: dict[str, float] = {}
    if champion is not None:
        champion_model = model_registry.load_model(champion)
        champion_metrics = evaluate(champion_model, list(held_out["text"]), list(held_out["label"]))
    better = champion is None or trained.metrics[config.metric] > champion_metrics[config.metric]
    # Agreement is null where a task has one annotation: the mean is over the tasks that have it.
    scored = frame["agreement"].dropna() if "agreement" in frame else frame.iloc[0:0]
    agreement = float(scored.mean()) if len(scored) else None
    record = TrainingRecord(
        model=trained.model,
        params={
            **BASELINE_PARAMS,
            "num_train": trained.num_train,
            "num_test": trained.num_test,
            "selection_metric": config.metric,
        },
        metrics={
            **trained.metrics,
            **{f"champion_{k}": v for k, v in champion_metrics.items()},
        },
        dataset=frame[["task_id", "text", "label"]],
        dataset_name=f"project-{project_id}-labeled",
        dataset_digest=version,
        dataset_uri=uri,
        evaluation=held_out,
        input_example=pd.DataFrame({"text": texts[:3]}),
        run_name=f"project-{project_id}-dataset-{version[:12]}",
        run_tags={
            "dagster.run_id": context.run.run_id,
            "dagster.partition": context.partition_key,
            "dagster.job": context.job_name,
            "labelops.project_id": str(project_id),
        },
        version_tags={
            "agreement": "n/a" if agreement is None else f"{agreement:.4f}",
            "dagster_run_id": context.run.run_id,
            "champion_compared": _label(champion),
        },
    )
    candidate = model_registry.log_training(name, record)
    if better:
        model_registry.set_champion(candidate)
    return dg.MaterializeResult(
        metadata={
            "trained": True,
            "model_name": candidate.name,
            "model_version": candidate.version,
            "promoted": better,
            "champion_before": _label(champion),
            "dataset_version": version,
            "mlflow_run_id": candidate.run_id,
            "num_train": trained.num_train,
            "num_test": trained.num_test,
            **({} if agreement is None else {"agreement": agreement}),
            **trained.metrics,
            **{f"champion_{k}": v for k, v in champion_metrics.items()},
        }
    )
