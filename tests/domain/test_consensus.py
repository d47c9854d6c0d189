"""Consensus rules: ground truth wins, rejected ignored, accepted first, majority, ties."""

from collections import Counter

from labelops.domain.consensus import consensus_result
from labelops.domain.records import Annotation, Task

CONTROLS = {"sentiment": "choices", "ner": "labels", "bbox": "rectanglelabels", "stars": "rating"}


def choice(label: str, **kwargs: object) -> Annotation:
    item = {
        "id": f"r-{label}",
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [label]},
    }
    return Annotation(result=[item], **kwargs)  # type: ignore[arg-type]


def labels_of(annotation_result: list[dict], control: str) -> list:
    return [i["value"] for i in annotation_result if i["from_name"] == control]


def span(start: int, end: int, label: str) -> dict:
    return {
        "from_name": "ner",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": end, "labels": [label]},
    }


def rect(x: float, label: str = "car") -> dict:
    return {
        "id": f"b{x}",
        "from_name": "bbox",
        "to_name": "image",
        "type": "rectanglelabels",
        "value": {"x": x, "y": 0, "width": 10, "height": 10, "rectanglelabels": [label]},
    }


def test_majority_vote_on_choices() -> None:
    task = Task(
        data={}, annotations=(choice("pos", id=1), choice("neg", id=2), choice("pos", id=3))
    )
    out = consensus_result(task, CONTROLS)
    assert out is not None
    assert out.method == "majority"
    assert labels_of(out.result, "sentiment") == [{"choices": ["pos"]}]
    assert out.agreement == 2 / 3
    assert out.num_annotators == 3
    assert not out.tie


def test_ground_truth_wins_over_a_majority() -> None:
    task = Task(
        data={},
        annotations=(choice("pos"), choice("pos"), choice("neg", id=9, ground_truth=True)),
    )
    out = consensus_result(task, CONTROLS)
    assert out is not None
    assert out.method == "ground_truth"
    assert out.annotation_ids == (9,)
    assert labels_of(out.result, "sentiment") == [{"choices": ["neg"]}]


def test_contradictory_ground_truths_are_flagged() -> None:
    task = Task(
        data={}, annotations=(choice("pos", ground_truth=True), choice("neg", ground_truth=True))
    )
    out = consensus_result(task, CONTROLS)
    assert out is not None and out.method == "ground_truth" and out.tie


def test_rejected_and_cancelled_annotations_are_ignored() -> None:
    task = Task(
        data={},
        annotations=(
            choice("neg", review_state="rejected"),
            choice("neg", was_cancelled=True),
            choice("pos", id=5),
        ),
    )
    out = consensus_result(task, CONTROLS)
    assert out is not None
    assert out.method == "single"
    assert out.annotation_ids == (5,)
    assert labels_of(out.result, "sentiment") == [{"choices": ["pos"]}]


def test_accepted_annotations_outrank_unreviewed_ones() -> None:
    task = Task(
        data={},
        annotations=(choice("neg"), choice("neg"), choice("pos", id=7, review_state="accepted")),
    )
    out = consensus_result(task, CONTROLS)
    assert out is not None
    assert out.method == "reviewed"
    assert out.annotation_ids == (7,)
    assert labels_of(out.result, "sentiment") == [{"choices": ["pos"]}]


def test_no_usable_annotation_gives_none() -> None:
    task = Task(data={}, annotations=(choice("neg", was_cancelled=True),))
    assert consensus_result(task, CONTROLS) is None


def test_a_tie_is_left_unlabeled_and_flagged_whatever_the_label_order() -> None:
    for first, second in (("pos", "neg"), ("neg", "pos")):
        out = consensus_result(Task(data={}, annotations=(choice(first), choice(second))), CONTROLS)
        assert out is not None
        assert labels_of(out.result, "sentiment") == []
        assert out.tie and out.tied_controls == ("sentiment",)
        assert out.tie_break == "unlabeled"
        assert out.agreement == 1 / 2


def test_rating_tie_is_left_unlabeled_not_the_smaller_number() -> None:
    def stars(n: int) -> Annotation:
        item = {"from_name": "stars", "to_name": "t", "type": "rating", "value": {"rating": n}}
        return Annotation(result=[item])

    out = consensus_result(Task(data={}, annotations=(stars(10), stars(9))), CONTROLS)
    assert out is not None
    assert labels_of(out.result, "stars") == [] and out.tied_controls == ("stars",)


def test_a_tie_between_accepted_annotations_is_left_unlabeled() -> None:
    task = Task(
        data={},
        annotations=(
            choice("pos", review_state="accepted"),
            choice("neg", review_state="accepted"),
            choice("pos"),
        ),
    )
    out = consensus_result(task, CONTROLS)
    assert out is not None and out.method == "reviewed"
    assert labels_of(out.result, "sentiment") == [] and out.tie


def test_contradictory_ground_truths_are_left_unlabeled_and_flagged() -> None:
    task = Task(
        data={}, annotations=(choice("pos", ground_truth=True), choice("neg", ground_truth=True))
    )
    out = consensus_result(task, CONTROLS)
    assert out is not None and out.method == "ground_truth"
    assert out.tie and out.tie_break == "unlabeled" and out.result == []


def test_contradictory_ground_truths_take_the_reviewer_accepted_one() -> None:
    task = Task(
        data={},
        annotations=(
            choice("pos", id=1, ground_truth=True, review_state="accepted"),
            choice("neg", id=2, ground_truth=True),
        ),
    )
    out = consensus_result(task, CONTROLS)
    assert out is not None and not out.tie and out.tie_break == "reviewed"
    assert out.annotation_ids == (1,)
    assert labels_of(out.result, "sentiment") == [{"choices": ["pos"]}]


def test_a_single_annotation_below_the_overlap_is_incomplete_without_agreement() -> None:
    out = consensus_result(Task(data={}, annotations=(choice("pos"),)), CONTROLS, overlap=3)
    assert out is not None and out.method == "single"
    assert out.incomplete and out.agreement is None


def test_a_majority_below_the_overlap_is_incomplete() -> None:
    task = Task(data={}, annotations=(choice("pos"), choice("pos")))
    assert consensus_result(task, CONTROLS, overlap=3).incomplete  # type: ignore[union-attr]
    assert not consensus_result(task, CONTROLS, overlap=2).incomplete  # type: ignore[union-attr]


def test_reviewed_and_ground_truth_labels_are_complete_below_the_overlap() -> None:
    reviewed = Task(data={}, annotations=(choice("pos", review_state="accepted"),))
    truth = Task(data={}, annotations=(choice("pos", ground_truth=True),))
    for task in (reviewed, truth):
        out = consensus_result(task, CONTROLS, overlap=3)
        assert out is not None and not out.incomplete


def test_ties_have_no_label_order_bias_on_a_balanced_gold_set() -> None:
    """30 tasks, gold 10/10/10; 12 are two-way ties. Label order used to give 12/8/10."""
    labels = ["pos", "neg", "neu"]
    kept: Counter[str] = Counter()
    ties = 0
    for i in range(30):
        gold = labels[i % 3]
        other = labels[(i + 1) % 3]
        if i < 12:  # a tie between gold and the next label
            votes = (choice(gold), choice(other))
        else:
            votes = (choice(gold), choice(gold), choice(other))
        out = consensus_result(Task(data={}, annotations=votes), CONTROLS)
        assert out is not None
        got = labels_of(out.result, "sentiment")
        if out.tie:
            ties += 1
            assert got == [] and out.tie_break == "unlabeled"
        else:
            kept[got[0]["choices"][0]] += 1
    assert ties == 12
    assert kept == {"pos": 6, "neg": 6, "neu": 6}  # gold minus its ties: no label favoured


def test_spans_kept_when_a_majority_marked_them() -> None:
    task = Task(
        data={},
        annotations=(
            Annotation(result=[span(0, 4, "PER"), span(10, 14, "ORG")]),
            Annotation(result=[span(0, 4, "PER")]),
            Annotation(result=[span(0, 4, "PER"), span(10, 14, "LOC")]),
        ),
    )
    out = consensus_result(task, CONTROLS)
    assert out is not None
    assert labels_of(out.result, "ner") == [{"start": 0, "end": 4, "labels": ["PER"]}]
    assert out.agreement == 3 / 5  # 3 of 5 marked spans belong to the kept one


def test_boxes_kept_when_a_majority_overlap_them() -> None:
    task = Task(
        data={},
        annotations=(
            Annotation(result=[rect(0), rect(50)]),
            Annotation(result=[rect(1)]),  # IoU with rect(0) is 90/110 = 0.82
            Annotation(result=[rect(2, "bus")]),  # other label: no vote
        ),
    )
    out = consensus_result(task, CONTROLS)
    assert out is not None
    assert [i["id"] for i in out.result] == ["b0"]


def test_single_annotation_is_taken_whole() -> None:
    annotation = Annotation(result=[span(0, 4, "PER"), rect(0)], id=3)
    out = consensus_result(Task(data={}, annotations=(annotation,)), CONTROLS)
    assert out is not None
    assert out.method == "single" and out.result == annotation.result
    assert out.to_dict()["method"] == "single"
