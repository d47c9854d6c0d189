"""Active-learning scores on hand-computed probability rows, and seeded selection."""

import math
import random

import numpy as np
import pytest

from labelops.domain.records import Annotation, Task
from labelops.domain.sampling import (
    disagreement_scores,
    entropy,
    least_confidence,
    margin,
    queue_priorities,
)

ROWS = np.array(
    [
        [0.5, 0.5, 0.0],  # two-way tie
        [1.0, 0.0, 0.0],  # certain
        [0.7, 0.2, 0.1],  # fairly sure
        [0.4, 0.35, 0.25],  # unsure
    ]
)


def choice(label: str) -> Annotation:
    return Annotation(
        result=[
            {"from_name": "s", "to_name": "t", "type": "choices", "value": {"choices": [label]}}
        ]
    )


def test_least_confidence_is_one_minus_the_top_probability() -> None:
    np.testing.assert_allclose(least_confidence(ROWS), [0.5, 0.0, 0.3, 0.6])


def test_margin_is_one_minus_the_gap_between_the_two_best() -> None:
    # gaps 0, 1, 0.5, 0.05
    np.testing.assert_allclose(margin(ROWS), [1.0, 0.0, 0.5, 0.95])


def test_entropy_in_nats() -> None:
    expected = [
        math.log(2),  # -2 * 0.5 ln 0.5
        0.0,  # 0 ln 0 counts as 0
        -(0.7 * math.log(0.7) + 0.2 * math.log(0.2) + 0.1 * math.log(0.1)),  # 0.8018
        -(0.4 * math.log(0.4) + 0.35 * math.log(0.35) + 0.25 * math.log(0.25)),  # 1.0805
    ]
    np.testing.assert_allclose(entropy(ROWS), expected)
    assert entropy(ROWS)[2] == pytest.approx(0.8018, abs=1e-4)


def test_scores_rank_the_unsure_row_above_the_sure_one() -> None:
    for score in (least_confidence, margin, entropy):
        s = score(ROWS)
        assert s[3] > s[2] > s[1]


def test_scores_reject_a_one_dimensional_array() -> None:
    with pytest.raises(ValueError, match=r"\(n x k\) array"):
        entropy([0.5, 0.5])


def test_disagreement_scores_one_minus_percent_agreement() -> None:
    tasks = [
        Task(data={}, id=1, annotations=(choice("a"), choice("a"), choice("b"))),  # 1 - 1/3
        Task(data={}, id=2, annotations=(choice("a"), choice("a"))),  # full agreement
        Task(data={}, id=3, annotations=(choice("a"),)),  # one annotation: 0
        Task(
            data={},
            id=4,
            annotations=(
                choice("a"),
                Annotation(result=choice("b").result, was_cancelled=True),
                Annotation(result=choice("c").result, review_state="rejected"),
            ),
        ),  # only one finished annotation remains: 0
    ]
    scores = disagreement_scores(tasks)
    assert scores == {1: pytest.approx(2 / 3), 2: 0.0, 3: 0.0, 4: 0.0}


def test_queue_priorities_for_entropy_follow_the_rows() -> None:
    out = queue_priorities("entropy", [10, 11, 12, 13], probabilities=ROWS)
    assert max(out, key=out.__getitem__) == 13
    assert out[11] == 0.0


def test_queue_priorities_need_probabilities_for_uncertainty() -> None:
    with pytest.raises(ValueError, match="strategy 'margin' needs probabilities"):
        queue_priorities("margin", [1, 2])


def test_queue_priorities_reject_misaligned_probabilities() -> None:
    with pytest.raises(ValueError, match="4 probability rows for 2 tasks"):
        queue_priorities("entropy", [1, 2], probabilities=ROWS)


def test_random_priorities_are_reproducible_by_seed() -> None:
    first = queue_priorities("random", [3, 1, 2], rng=random.Random(7))
    again = queue_priorities("random", [3, 1, 2], rng=random.Random(7))
    other = queue_priorities("random", [3, 1, 2], rng=random.Random(8))
    assert first == again
    assert first != other


def test_random_priorities_need_an_rng() -> None:
    with pytest.raises(ValueError, match="strategy 'random' needs an rng"):
        queue_priorities("random", [1])


def test_sequential_priorities_serve_the_lowest_id_first() -> None:
    assert queue_priorities("sequential", [30, 10, 20]) == {10: 3.0, 20: 2.0, 30: 1.0}


def test_disagreement_priorities_need_tasks() -> None:
    with pytest.raises(ValueError, match="strategy 'disagreement' needs tasks"):
        queue_priorities("disagreement", [1])


def test_unknown_strategy_is_named() -> None:
    with pytest.raises(ValueError, match="unknown strategy 'bogus'"):
        queue_priorities("bogus", [1])  # type: ignore[arg-type]
