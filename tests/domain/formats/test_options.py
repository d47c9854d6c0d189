from datetime import datetime

import pytest

from labelops.domain.errors import InvalidInputError
from labelops.domain.formats.options import ExportOptions, select_annotations
from tests.domain.formats.helpers import ann, at, choice, task

A_OLD = ann([choice("pos")], id=1, completed_by=7, created_at=at(1))
A_NEW = ann([choice("neg")], id=2, completed_by=8, created_at=at(3))
A_GT = ann([choice("pos")], id=3, completed_by=9, created_at=at(2), ground_truth=True)
A_CANCELLED = ann([], id=4, completed_by=7, created_at=at(4), was_cancelled=True)
T = task({"text": "x"}, A_OLD, A_NEW, A_GT, A_CANCELLED)


def ids(annotations: list) -> list[int]:
    return [a.id for a in annotations]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        # all: cancelled dropped, newest first
        (ExportOptions(), [2, 3, 1]),
        # latest: the newest non-cancelled one
        (ExportOptions(annotations="latest"), [2]),
        # ground truth only
        (ExportOptions(annotations="ground_truth"), [3]),
        # annotator filter
        (ExportOptions(annotators=frozenset({7, 9})), [3, 1]),
        # since inclusive, until exclusive
        (ExportOptions(since=at(2), until=at(3)), [3]),
        # latest applies after the filters
        (ExportOptions(annotations="latest", annotators=frozenset({7})), [1]),
    ],
)
def test_selects_annotations(options: ExportOptions, expected: list[int]) -> None:
    assert ids(select_annotations(T, options)) == expected


def test_keeps_cancelled_when_asked() -> None:
    assert ids(select_annotations(T, ExportOptions(), keep_cancelled=True)) == [4, 2, 3, 1]


def test_ground_truth_gives_none_when_task_has_none() -> None:
    assert select_annotations(task({}, A_OLD), ExportOptions(annotations="ground_truth")) == []


def test_undated_annotations_are_dropped_by_date_filters_and_sorted_last() -> None:
    undated = ann([], id=5)
    t = task({}, undated, A_OLD)
    assert ids(select_annotations(t, ExportOptions())) == [1, 5]
    assert ids(select_annotations(t, ExportOptions(since=datetime(2000, 1, 1)))) == [1]


def test_consensus_delegates_to_the_callable() -> None:
    options = ExportOptions(
        annotations="consensus", consensus=lambda t: [choice("pos")] if t.id == 1 else None
    )
    (only,) = select_annotations(T, options)
    assert only.result == [choice("pos")]
    assert only.id is None and only.completed_by is None
    assert select_annotations(task({}, id=2), options) == []


def test_consensus_without_callable_is_rejected() -> None:
    with pytest.raises(ValueError, match="consensus function"):
        ExportOptions(annotations="consensus")


def test_unknown_policy_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match="unknown annotation policy 'best'"):
        ExportOptions(annotations="best")  # type: ignore[arg-type]
