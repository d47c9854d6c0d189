"""Agreement coefficients against published worked examples and scikit-learn as an oracle."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from labelops.domain.agreement import (
    cohen_kappa,
    encode_values,
    fleiss_kappa,
    fleiss_table,
    krippendorff_alpha,
    pairwise_kappas,
    percent_agreement,
)
from labelops.domain.agreement_report import agreement_report
from labelops.domain.records import Annotation, Task

nan = math.nan

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", 4 coders x 12 units.
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
]

# The example of the Wikipedia article "Krippendorff's alpha", 3 coders x 15 units.
WIKIPEDIA = [
    [nan, nan, nan, nan, nan, 3, 4, 1, 2, 1, 1, 3, 3, nan, 3],
    [1, nan, 2, 1, 3, 3, 4, 3, nan, nan, nan, nan, nan, nan, nan],
    [nan, nan, 2, 1, 3, 4, 4, nan, 2, 1, 1, 3, 3, nan, 4],
]

# Fleiss (1971) as reproduced on Wikipedia: 10 subjects, 5 categories, 14 raters each.
FLEISS_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["a", "a", "a"], 1.0),  # all 3 pairs agree
        (["a", "a", "b"], 1 / 3),  # 1 of 3 pairs agrees
        (["a", "b", "c"], 0.0),  # no pair agrees
        (["a", "a", "b", "b"], 2 / 6),  # 2 of 6 pairs agree
    ],
)
def test_percent_agreement_counts_agreeing_pairs(labels: list[str], expected: float) -> None:
    assert percent_agreement(labels) == pytest.approx(expected)


def test_percent_agreement_is_nan_for_one_rater() -> None:
    assert math.isnan(percent_agreement(["a"]))


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("nominal", 0.743),  # Krippendorff 2011, p. 8
        ("ordinal", 0.815),  # Krippendorff 2011
        ("interval", 0.849),  # Krippendorff 2011; nltk gives 0.8491 too
        ("ratio", 0.797),  # Krippendorff 2011
    ],
)
def test_krippendorff_alpha_matches_the_2011_worked_example(level: str, expected: float) -> None:
    assert round(krippendorff_alpha(K2011, level), 3) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("level", "expected"), [("nominal", 0.691358), ("interval", 0.810845)])
def test_krippendorff_alpha_matches_the_wikipedia_example(level: str, expected: float) -> None:
    assert round(krippendorff_alpha(WIKIPEDIA, level), 6) == expected  # type: ignore[arg-type]


def test_krippendorff_alpha_on_strings_through_encode_values() -> None:
    names = {1: "very low", 2: "low", 3: "mid", 4: "high", 5: "very high"}
    rows = [[None if math.isnan(v) else names[int(v)] for v in row] for row in K2011]
    order = ["very low", "low", "mid", "high", "very high"]
    nominal, _ = encode_values(rows)
    ordinal, values = encode_values(rows, order=order)
    assert values == order
    assert round(krippendorff_alpha(nominal, "nominal"), 3) == 0.743
    assert round(krippendorff_alpha(ordinal, "ordinal"), 3) == 0.815


def test_krippendorff_alpha_is_nan_without_pairable_values_or_variation() -> None:
    assert math.isnan(krippendorff_alpha([[1, nan], [nan, 2]]))  # no unit has two values
    assert math.isnan(krippendorff_alpha([[1, 1], [1, 1]]))  # one value only: D_e is zero


def test_krippendorff_alpha_is_one_for_perfect_agreement() -> None:
    assert krippendorff_alpha([[1, 2, 3], [1, 2, 3]], "interval") == pytest.approx(1.0)


def test_krippendorff_alpha_rejects_unknown_level() -> None:
    with pytest.raises(ValueError, match="unknown level 'bogus'"):
        krippendorff_alpha(K2011, "bogus")  # type: ignore[arg-type]


def test_cohen_kappa_on_the_50_item_two_by_two_table() -> None:
    # yes/yes 20, yes/no 5, no/yes 10, no/no 15: p_o = 0.7, p_e = 0.5 -> 0.4.
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("weights", "expected"),
    [(None, 0.8448), ("linear", 0.8941), ("quadratic", 0.9396)],
)
def test_weighted_cohen_kappa_on_krippendorff_rows_one_and_two(
    weights: str | None, expected: float
) -> None:
    a, b = K2011[0][:9], K2011[1][:9]  # units 1-9, where both coders have values
    assert round(cohen_kappa(a, b, weights=weights), 4) == expected  # type: ignore[arg-type]


def test_cohen_kappa_is_nan_when_both_raters_use_one_category() -> None:
    # sklearn's default (replace_undefined_by=nan): p_e = 1 leaves kappa undefined.
    assert math.isnan(cohen_kappa(["x", "x"], ["x", "x"]))
    assert math.isnan(cohen_kappa([], []))


def test_cohen_kappa_rejects_unaligned_raters() -> None:
    with pytest.raises(ValueError, match="different numbers of items: 2 and 1"):
        cohen_kappa(["a", "b"], ["a"])


# The reference implementation warns when both raters used one label only (kappa is then
# undefined, which the test checks); that warning is about sklearn's matrix shape, not ours.
@pytest.mark.filterwarnings("ignore:A single label was found in 'y_true' and 'y_pred':UserWarning")
@pytest.mark.filterwarnings("ignore:.*`cohen_kappa_score` is undefined:UserWarning")
@settings(max_examples=200, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=40),
    weights=st.sampled_from([None, "linear", "quadratic"]),
)
def test_cohen_kappa_agrees_with_sklearn(pairs: list[tuple[int, int]], weights: str | None) -> None:
    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    ours = cohen_kappa(a, b, weights=weights)  # type: ignore[arg-type]
    theirs = cohen_kappa_score(a, b, weights=weights)
    if math.isnan(theirs):
        assert math.isnan(ours)
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


@pytest.mark.parametrize(
    ("a", "b", "labels"),
    [
        (["a", "b", "c", "a"], ["a", "c", "c", "b"], None),  # string labels
        ([1, 2, 3, 1], [1, 2, 2, 1], [1, 2, 3]),  # explicit label list
        ([1, 2, 3, 4], [1, 2, 4, 4], [1, 2, 3]),  # label 4 outside the list is left out
    ],
)
def test_cohen_kappa_matches_sklearn_on_label_lists(a: list, b: list, labels: list | None) -> None:
    assert cohen_kappa(a, b, labels=labels) == pytest.approx(cohen_kappa_score(a, b, labels=labels))


def test_fleiss_kappa_on_the_fleiss_1971_table() -> None:
    assert round(fleiss_kappa(FLEISS_TABLE), 4) == 0.2099


def test_fleiss_table_counts_labels_per_item() -> None:
    table, cats = fleiss_table([["a", "a", "b"], ["b", "b", "b"]])
    assert cats == ["a", "b"]
    np.testing.assert_array_equal(table, [[2, 1], [0, 3]])


def test_fleiss_kappa_rejects_unequal_rater_counts() -> None:
    with pytest.raises(ValueError, match="same number of raters"):
        fleiss_kappa([[1, 1], [3, 0]])


def test_fleiss_kappa_is_nan_when_every_rating_is_one_category() -> None:
    assert math.isnan(fleiss_kappa([[3, 0], [3, 0]]))


def test_pairwise_kappas_use_items_both_raters_labeled() -> None:
    labels = {
        "ann": {1: "a", 2: "b", 3: "a"},
        "bob": {1: "a", 2: "b", 4: "b"},
        "cat": {5: "a"},
    }
    out = pairwise_kappas(labels)
    assert out[("ann", "bob")] == (2, pytest.approx(1.0))
    n, kappa = out[("ann", "cat")]
    assert n == 0 and math.isnan(kappa)


def choice_ann(label: str, who: int, **kwargs: object) -> Annotation:
    item = {"from_name": "s", "to_name": "t", "type": "choices", "value": {"choices": [label]}}
    return Annotation(result=[item], completed_by=who, **kwargs)  # type: ignore[arg-type]


def box_ann(xs: list[float], who: int) -> Annotation:
    result = [
        {
            "from_name": "bbox",
            "to_name": "img",
            "type": "rectanglelabels",
            "value": {"x": x, "y": 0, "width": 2, "height": 2, "rectanglelabels": ["car"]},
        }
        for x in xs
    ]
    return Annotation(result=result, completed_by=who)


REPORT_TASKS = [
    Task(data={}, id=1, annotations=(choice_ann("a", 1), choice_ann("a", 2), choice_ann("b", 3))),
    Task(data={}, id=2, annotations=(choice_ann("b", 1), choice_ann("b", 2), choice_ann("b", 3))),
    Task(
        data={},
        id=3,
        annotations=(
            choice_ann("a", 1, ground_truth=True),
            choice_ann("b", 2, ground_truth=True),
            choice_ann("a", 3, was_cancelled=True),
        ),
    ),
    Task(data={}, id=4, annotations=(choice_ann("b", 4, review_state="rejected"),)),
]


def test_agreement_report_on_choices_by_hand() -> None:
    report = agreement_report(REPORT_TASKS, {"s": "choices"})
    s = report.controls["s"]
    assert s.annotators == (1, 2, 3)  # annotator 4 only has a rejected annotation
    pair = next(p for p in s.pairs if (p.annotator_a, p.annotator_b) == (1, 2))
    # 1: a b a, 2: a b b -> p_o 2/3, p_e 4/9 -> kappa (2/9) / (5/9) = 0.4
    assert pair.num_tasks == 3 and pair.kappa == pytest.approx(0.4)
    # Fleiss over the two tasks with 3 raters: rows [2, 1], [0, 3] -> (2/3 - 5/9) / (4/9)
    assert s.fleiss_num_raters == 3 and s.fleiss_num_tasks == 2
    assert s.fleiss_kappa == pytest.approx(0.25)
    assert s.task_agreement == {1: pytest.approx(1 / 3), 2: 1.0, 3: 0.0}
    assert report.contradictory_ground_truth == (3,)
    out = report.to_dict()
    assert out["controls"]["s"]["krippendorff_alpha_interval"] is None
    assert json.loads(json.dumps(out)) == out  # JSON-ready: no NaN, string keys


def test_agreement_report_on_boxes_matches_one_to_one() -> None:
    tasks = [Task(data={}, id=1, annotations=(box_ann([0, 0], 1), box_ann([0, 50], 2)))]
    report = agreement_report(tasks, {"bbox": "rectanglelabels"})
    [pair] = report.controls["bbox"].pairs
    assert (pair.tp, pair.fp, pair.fn) == (1, 1, 1)
    assert pair.f1 == pytest.approx(0.5)
    assert report.controls["bbox"].mean_iou == pytest.approx(1.0)
    assert report.controls["bbox"].per_label["car"]["f1"] == pytest.approx(0.5)


def test_agreement_report_interval_alpha_for_ratings() -> None:
    def stars(n: int, who: int) -> Annotation:
        item = {"from_name": "r", "to_name": "t", "type": "rating", "value": {"rating": n}}
        return Annotation(result=[item], completed_by=who)

    tasks = [
        Task(data={}, id=i, annotations=(stars(a, 1), stars(b, 2)))
        for i, (a, b) in enumerate([(1, 1), (2, 3), (5, 5)])
    ]
    r = agreement_report(tasks, {"r": "rating"}).controls["r"]
    expected = krippendorff_alpha([[1, 2, 5], [1, 3, 5]], "interval")
    assert r.alpha_interval == pytest.approx(expected)
    assert r.alpha_interval > r.alpha_nominal
