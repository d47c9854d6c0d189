"""Active-learning scores and queue priorities; every score is "higher = more worth labeling".

Uncertainty scores follow Settles, *Active Learning* (eqs. 2.1-2.3), as in modAL: least
confidence ``1 - max p``, margin ``1 - (p(1) - p(2))`` (the raw margin is smallest for the most
uncertain row, so it is flipped), and entropy ``-sum p log p`` in nats. Randomness only comes from
the caller's rng.
"""

import random
from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelops.domain.agreement import finished_annotations, percent_agreement, result_signature
from labelops.domain.records import Task

Strategy = Literal["least_confidence", "margin", "entropy", "random", "sequential", "disagreement"]

STRATEGIES: tuple[Strategy, ...] = (
    "least_confidence",
    "margin",
    "entropy",
    "random",
    "sequential",
    "disagreement",
)

# A project's "Task order" (Label Studio's ``sampling``) -> the strategy its queue is ordered by.
# Uncertainty serves unpredicted tasks in id order, so before a model exists it is sequential.
SAMPLING_STRATEGIES: dict[str, Strategy] = {
    "Sequential sampling": "sequential",
    "Uniform sampling": "random",
    "Uncertainty sampling": "least_confidence",
}
DEFAULT_SAMPLING = "Uncertainty sampling"


def _probability_rows(probs: ArrayLike) -> NDArray[np.float64]:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] == 0:
        raise ValueError(f"probabilities must be an (n x k) array with k >= 1, got shape {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError("probabilities must be finite and non-negative")
    return p


def least_confidence(probs: ArrayLike) -> NDArray[np.float64]:
    """Returns ``1 - max_k p_k`` per row: higher when the model's best guess is less sure.

    Args:
        probs: An (n x k) array of class probabilities, one row per task.

    Returns:
        An array of n scores in [0, 1).

    Raises:
        ValueError: If ``probs`` is not a finite, non-negative 2-D array.
    """
    p = _probability_rows(probs)
    scores: NDArray[np.float64] = 1.0 - p.max(axis=1)
    return scores


def margin(probs: ArrayLike) -> NDArray[np.float64]:
    """Returns ``1 - (p(1) - p(2))`` per row: higher when the two best classes are closer.

    Args:
        probs: An (n x k) array of class probabilities; with k = 1 the runner-up counts as 0.

    Returns:
        An array of n scores in [0, 1].

    Raises:
        ValueError: If ``probs`` is not a finite, non-negative 2-D array.
    """
    p = _probability_rows(probs)
    if p.shape[1] == 1:
        return 1.0 - p[:, 0]
    top2 = np.sort(p, axis=1)[:, -2:]
    return 1.0 - (top2[:, 1] - top2[:, 0])


def entropy(probs: ArrayLike) -> NDArray[np.float64]:
    """Returns the Shannon entropy ``-sum_k p_k ln p_k`` per row (``0 ln 0 = 0``), in nats.

    Args:
        probs: An (n x k) array of class probabilities.

    Returns:
        An array of n scores in [0, ln k].

    Raises:
        ValueError: If ``probs`` is not a finite, non-negative 2-D array.
    """
    p = _probability_rows(probs)
    logs = np.log(p, out=np.zeros_like(p), where=p > 0)
    entropy: NDArray[np.float64] = -(p * logs).sum(axis=1) + 0.0
    return entropy


def disagreement_scores(tasks: Sequence[Task]) -> dict[int, float]:
    """Returns ``1 - percent agreement`` of each task's finished annotations, keyed by task id.

    Two annotations agree when their results hold the same (from_name, type, value) items, region
    ids aside. Tasks with fewer than two finished annotations score 0.

    Args:
        tasks: Tasks with their annotations.

    Returns:
        ``{task_id: score}`` with scores in [0, 1].

    Raises:
        ValueError: If a task has no id.
    """
    scores: dict[int, float] = {}
    for task in tasks:
        if task.id is None:
            raise ValueError("every task needs an id to be scored")
        finished = finished_annotations(task)
        if len(finished) < 2:
            scores[task.id] = 0.0
            continue
        scores[task.id] = 1.0 - percent_agreement([result_signature(a) for a in finished])
    return scores


def queue_priorities(
    strategy: Strategy,
    task_ids: Sequence[int],
    *,
    probabilities: ArrayLike | None = None,
    tasks: Sequence[Task] | None = None,
    rng: random.Random | None = None,
) -> dict[int, float]:
    """Returns the priority to store on each task; higher priorities are served first.

    - "least_confidence", "margin", "entropy": the score of the task's row of ``probabilities``.
    - "random": ``rng.random()`` per task, drawn in ``task_ids`` order (reproducible by seed).
    - "sequential": ``n - rank`` of the id in ascending order, so the lowest id gets ``n`` and is
      served first.
    - "disagreement": :func:`disagreement_scores` of ``tasks``; ids missing there score 0.

    Args:
        strategy: The sampling strategy.
        task_ids: The tasks to prioritize.
        probabilities: An (n x k) array aligned with ``task_ids``, for the uncertainty strategies.
        tasks: Tasks with annotations, for "disagreement".
        rng: The random source, for "random".

    Returns:
        ``{task_id: priority}`` for every id in ``task_ids``.

    Raises:
        ValueError: If the strategy is unknown or the input it needs is missing or misaligned.
    """
    if strategy in ("least_confidence", "margin", "entropy"):
        if probabilities is None:
            raise ValueError(f"strategy {strategy!r} needs probabilities, got none")
        p = _probability_rows(probabilities)
        if p.shape[0] != len(task_ids):
            raise ValueError(
                f"strategy {strategy!r}: {p.shape[0]} probability rows for {len(task_ids)} tasks"
            )
        score = {"least_confidence": least_confidence, "margin": margin, "entropy": entropy}
        values = score[strategy](p)
        return {tid: float(v) for tid, v in zip(task_ids, values, strict=True)}
    if strategy == "random":
        if rng is None:
            raise ValueError("strategy 'random' needs an rng (random.Random with a seed)")
        return {tid: rng.random() for tid in task_ids}
    if strategy == "sequential":
        n = len(task_ids)
        return {tid: float(n - rank) for rank, tid in enumerate(sorted(task_ids))}
    if strategy == "disagreement":
        if tasks is None:
            raise ValueError("strategy 'disagreement' needs tasks with annotations, got none")
        scores = disagreement_scores(tasks)
        return {tid: scores.get(tid, 0.0) for tid in task_ids}
    raise ValueError(f"unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
