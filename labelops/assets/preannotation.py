"""Preannotation group: predictions of the project's current model for its tasks."""

import dagster as dg

from labelops.assets.ingest import raw_tasks
from labelops.assets.partitions import project_id_of, project_partitions
from labelops.assets.training import trained_model
from labelops.clock import utcnow
from labelops.domain.label_config import parse_label_config
from labelops.resources.database import DatabaseResource
from labelops.resources.predictor import Predictor
from labelops.services.ml_backends import project_ml_backend
from labelops.services.predictions import create_predictions
from labelops.services.projects import get_project
from labelops.services.queue import set_model_version, tasks_without_prediction

PREANNOTATION = "preannotation"
NO_MODEL = (
    "no predictions: project {project_id} has no champion model yet (or its labeling config has "
    "no choices over a text), so nothing was predicted; train a model first (training_job)"
)


class PredictionConfig(dg.Config):
    """How many tasks go to the model at once."""

    batch_size: int = 500


@dg.asset(
    group_name=PREANNOTATION,
    partitions_def=project_partitions,
    deps=[raw_tasks, trained_model],
    kinds={"python"},
)
def task_predictions(
    context: dg.AssetExecutionContext,
    config: PredictionConfig,
    database: DatabaseResource,
    predictor: Predictor,
) -> dg.MaterializeResult[None]:
    """Predictions of the current model for tasks it has not seen yet.

    The model is the project's ML backend when one is connected (``/api/ml``), else the
    deployment's predictor (the registry's champion, or the default ML backend). A backend that
    fails fails the step with its URL and the reason.

    Downstream of ``trained_model``: in a run that trains, predictions come from the champion
    that training leaves.

    Stored as Label Studio predictions with model_version, score (top class probability) and the
    class probabilities that uncertainty sampling uses; the project's model version follows.
    Only a registry that says "not found" means "no model yet" (the ``outcome`` metadata says
    so); a registry that cannot be asked (MLflow down) fails the step, so the queue is not
    recomputed from stale predictions.
    """
    project_id = project_id_of(context)
    num_predictions, scores = 0, []
    with database.session() as session:
        project = get_project(session, project_id)
        label_config = parse_label_config(project.label_config)
        model = predictor.for_project(project_ml_backend(session, project_id))
        version = model.model_version(project_id, label_config)
        if version is None:
            outcome = NO_MODEL.format(project_id=project_id)
            context.log.warning(outcome)
            return dg.MaterializeResult(
                metadata={"num_predictions": 0, "model_version": "", "outcome": outcome}
            )
        set_model_version(session, project, version)
        for batch in tasks_without_prediction(session, project_id, version, config.batch_size):
            results = model.predict(project_id, label_config, batch)
            items = [{**p, "task": t.id} for t, p in zip(batch, results, strict=True) if p]
            create_predictions(session, project, items, now=utcnow())
            session.commit()
            num_predictions += len(items)
            scores += [p["score"] for p in items if p.get("score") is not None]
    return dg.MaterializeResult(
        metadata={
            "num_predictions": num_predictions,
            "model_version": version,
            "mean_score": sum(scores) / len(scores) if scores else float("nan"),
            "outcome": f"{num_predictions} new prediction(s) of {version}",
        }
    )
