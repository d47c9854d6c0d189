"""Sampling group: active-learning priorities that order the labeling queue."""

import random
from typing import Literal

import dagster as dg
from pydantic import Field

from labelops.assets.partitions import project_id_of, project_partitions
from labelops.assets.preannotation import task_predictions
from labelops.domain.sampling import Strategy
from labelops.resources.database import DatabaseResource
from labelops.services.projects import get_project
from labelops.services.queue import compute_queue_priorities, project_strategy, write_priorities

SAMPLING = "sampling"


class SamplingConfig(dg.Config):
    """Which active-learning strategy orders the queue, and the seed for "random"."""

    strategy: Literal["project", Strategy] = Field(
        default="project",
        description="project: the project's Task order (Sequential: sequential, Uniform: "
        "random, Uncertainty: least_confidence); any other value overrides it for this run.",
    )
    seed: int = 0


@dg.asset(
    group_name=SAMPLING,
    partitions_def=project_partitions,
    deps=[task_predictions],
    kinds={"python"},
)
def labeling_queue(
    context: dg.AssetExecutionContext, config: SamplingConfig, database: DatabaseResource
) -> dg.MaterializeResult[None]:
    """Priorities of the project's unlabeled tasks; the web app serves the highest first.

    The project's Task order picks the strategy unless the run's config names one.

    Uncertainty strategies (least confidence, margin, entropy) use the current model's class
    probabilities, "disagreement" sends tasks whose annotators disagree out for more labels,
    "random" is seeded and "sequential" follows task ids.
    """
    project_id = project_id_of(context)
    with database.session() as session:
        project = get_project(session, project_id)
        strategy = project_strategy(project) if config.strategy == "project" else config.strategy
        priorities, num_scored = compute_queue_priorities(
            session, project, strategy, random.Random(config.seed)
        )
        write_priorities(session, priorities)
    ranked = sorted(priorities, key=lambda t: (-priorities[t], t))
    return dg.MaterializeResult(
        metadata={
            "queue_size": len(priorities),
            "num_scored": num_scored,
            "strategy": strategy,
            "head_task_ids": dg.MetadataValue.json(ranked[:20]),
        }
    )
