"""IoU of Label Studio boxes and polygons, one-to-one matching, and exact span F1."""

import math

import pytest

from labelops.domain.agreement_regions import (
    MatchCounts,
    box_iou,
    match_iou_matrix,
    polygon_iou,
    region_counts,
    regions_of,
    span_counts,
    spans_of,
    total,
)


def box(x: float, y: float, w: float, h: float, rotation: float = 0.0) -> dict[str, float]:
    return {"x": x, "y": y, "width": w, "height": h, "rotation": rotation}


def rect_item(label: str, x: float, y: float, w: float, h: float) -> dict:
    return {
        "id": f"{label}{x}{y}",
        "from_name": "bbox",
        "to_name": "image",
        "type": "rectanglelabels",
        "value": {**box(x, y, w, h), "rectanglelabels": [label]},
    }


def span_item(start: int, end: int, label: str) -> dict:
    return {
        "from_name": "ner",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": end, "text": "...", "labels": [label]},
    }


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (box(0, 0, 2, 2), box(1, 1, 2, 2), 1 / 7),  # [0,0,2,2] vs [1,1,3,3]: 1 / (4 + 4 - 1)
        (box(0, 0, 2, 2), box(0, 0, 2, 2), 1.0),  # identical
        (box(0, 0, 1, 1), box(5, 5, 1, 1), 0.0),  # disjoint
        (box(0, 0, 2, 2), box(0, 0, 2, 1), 0.5),  # half of the first
    ],
)
def test_axis_aligned_box_iou(a: dict, b: dict, expected: float) -> None:
    assert box_iou(a, b) == pytest.approx(expected)


def test_rotated_box_iou_turns_around_the_top_left_corner() -> None:
    # 2x2 at the origin turned 90 degrees clockwise (y down) covers x in [-2, 0], y in [0, 2].
    # Against [-1, 1] x [0, 2]: intersection 2, union 4 + 4 - 2 = 6.
    assert box_iou(box(0, 0, 2, 2, 90), box(-1, 0, 2, 2)) == pytest.approx(1 / 3)


def test_rotated_box_iou_at_45_degrees() -> None:
    # A sqrt(2) square turned 45 degrees is the diamond (0,0) (1,1) (0,2) (-1,1), area 2.
    # Box [0, 1] x [0, 2] (area 2) holds its right half, area 1: IoU 1 / 3.
    side = math.sqrt(2)
    assert box_iou(box(0, 0, side, side, 45), box(0, 0, 1, 2)) == pytest.approx(1 / 3)


def test_rotated_box_uses_the_image_aspect_ratio() -> None:
    # On a 200x100 px image, 10% x 20% is 20x20 px; turned 90 degrees it covers x in [-10, 0] %.
    rotated = box(10, 0, 10, 20, 90)
    assert box_iou(rotated, box(0, 0, 10, 20), image_size=(200, 100)) == pytest.approx(1.0)


def test_polygon_iou_of_two_overlapping_squares() -> None:
    a = [[0, 0], [2, 0], [2, 2], [0, 2]]
    b = [[1, 1], [3, 1], [3, 3], [1, 3]]
    assert polygon_iou(a, b) == pytest.approx(1 / 7)
    assert polygon_iou(a, [[0, 0], [1, 1]]) == 0.0  # not a polygon


def test_hungarian_matching_finds_more_matches_than_greedy() -> None:
    # Greedy by highest IoU takes a0-b0 (0.9) and leaves a1 without a partner: 1 match.
    # One-to-one optimum: a0-b1 and a1-b0: 2 matches.
    iou = [[0.9, 0.6], [0.6, 0.0]]
    assert match_iou_matrix(iou, 0.5) == [(0, 1, 0.6), (1, 0, 0.6)]


def test_matching_does_not_count_one_box_twice() -> None:
    # Two duplicate boxes of annotator A against one box of B: a best-IoU-per-shape count
    # (evalme's total_iou) would call both true positives.
    a = regions_of([rect_item("car", 0, 0, 2, 2), rect_item("car", 0, 0, 2, 2)], "bbox")
    b = regions_of([rect_item("car", 0, 0, 2, 2)], "bbox")
    counts = region_counts(a, b, iou_threshold=0.5)
    assert counts["car"] == MatchCounts(tp=1, fp=0, fn=1, iou_sum=1.0)
    assert counts["car"].f1 == pytest.approx(2 / 3)


def test_regions_match_only_within_a_label_and_above_the_threshold() -> None:
    a = regions_of([rect_item("car", 0, 0, 2, 2), rect_item("dog", 10, 10, 2, 2)], "bbox")
    b = regions_of([rect_item("cat", 0, 0, 2, 2), rect_item("dog", 11, 11, 2, 2)], "bbox")
    counts = region_counts(a, b, iou_threshold=0.5)  # dog IoU is 1/7: below the threshold
    assert counts == {
        "car": MatchCounts(fn=1),
        "dog": MatchCounts(fp=1, fn=1),
        "cat": MatchCounts(fp=1),
    }
    assert total(counts).f1 == 0.0


def test_span_f1_on_the_seqeval_readme_example() -> None:
    # y_true [[O,O,O,B-MISC,I-MISC,I-MISC,O],[B-PER,I-PER,O]] -> MISC tokens 3-6, PER 7-9
    # y_pred [[O,O,B-MISC,I-MISC,I-MISC,I-MISC,O],[B-PER,I-PER,O]] -> MISC 2-6, PER 7-9
    true = spans_of([span_item(3, 6, "MISC"), span_item(7, 9, "PER")], "ner")
    pred = spans_of([span_item(2, 6, "MISC"), span_item(7, 9, "PER")], "ner")
    counts = span_counts(true, pred)
    assert total(counts).f1 == pytest.approx(0.5)
    assert total(counts).precision == total(counts).recall == pytest.approx(0.5)
    assert counts["PER"].f1 == 1.0
    assert counts["MISC"].f1 == 0.0


def test_span_keys_ignore_text_and_split_multiple_labels() -> None:
    item = span_item(0, 4, "A")
    item["value"]["labels"] = ["A", "B"]
    assert spans_of([item], "ner") == {
        ((("end", 4), ("start", 0)), "A"),
        ((("end", 4), ("start", 0)), "B"),
    }


def test_f1_is_nan_when_both_sides_are_empty() -> None:
    assert math.isnan(MatchCounts().f1)
