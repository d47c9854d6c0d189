"""Inter-annotator agreement over numpy: percent agreement, Cohen, Fleiss and Krippendorff.

Undefined values: every chance-corrected coefficient here returns ``nan`` when it is undefined:
when there is nothing to compare (no items, fewer than two pairable values) or when the expected
disagreement is zero (every rater used one and the same category, so chance explains everything).
This follows scikit-learn's ``cohen_kappa_score`` default (``replace_undefined_by=np.nan``); callers
that need a number report percent agreement beside it, which is 1.0 in that case.

The project-level report over Label Studio tasks is :func:`agreement_report`; IoU and span
matching for region controls live in :mod:`labelops.domain.agreement_regions`.
"""

import json
import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelops.domain.agreement_regions import (
    REGION_TYPES,
    SPAN_TYPES,
    MatchCounts,
    region_counts,
    regions_of,
    span_counts,
    spans_of,
    total,
)
from labelops.domain.records import Annotation, ResultItem, Task

Level = Literal["nominal", "ordinal", "interval", "ratio"]
Weights = Literal["linear", "quadratic"] | None

LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")

CLASSIFICATION_TYPES = frozenset(
    {"choices", "rating", "number", "textarea", "taxonomy", "datetime", "pairwise"}
)
INTERVAL_TYPES = frozenset({"rating", "number"})
_VALUE_KEY = {"textarea": "text", "pairwise": "selected"}
_UNORDERED_TYPES = frozenset({"choices", "taxonomy"})


def finished_annotations(task: Task) -> list[Annotation]:
    """Returns the task's annotations that count: not cancelled and not rejected in review.

    Args:
        task: The task.

    Returns:
        Its annotations without ``was_cancelled`` ones and ``review_state == "rejected"`` ones.
    """
    return [a for a in task.annotations if not a.was_cancelled and a.review_state != "rejected"]


def result_signature(annotation: Annotation) -> str:
    """Returns a canonical text of an annotation's result without region ids, to compare results.

    Args:
        annotation: The annotation.

    Returns:
        Its (from_name, type, value) items as sorted JSON lines.
    """
    items = (
        {"from_name": i.get("from_name"), "type": i.get("type"), "value": i.get("value")}
        for i in annotation.result
    )
    return "\n".join(sorted(json.dumps(i, sort_keys=True, default=str) for i in items))


def _hashable(value: object) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _hashable(v)) for k, v in value.items()))
    return value  # type: ignore[return-value]


def control_value(result: Sequence[ResultItem], control: str) -> Hashable | None:
    """Returns the category one annotation gave a classification control, or None if it gave none.

    Choices and taxonomy paths become a sorted tuple (a multiple choice is one category); textarea
    text a tuple; rating, number, datetime and pairwise their scalar. Several items for the control
    (e.g. per-region choices) become a tuple of their categories.

    Args:
        result: One annotation's Label Studio result items.
        control: The control's name (``from_name``).

    Returns:
        A hashable category, or None.
    """
    found: list[Hashable] = []
    for item in result:
        if item.get("from_name") != control:
            continue
        kind = str(item.get("type", ""))
        raw = item.get("value", {}).get(_VALUE_KEY.get(kind, kind))
        if raw is None:
            continue
        value = _hashable(raw)
        if kind in _UNORDERED_TYPES and isinstance(value, tuple):
            value = tuple(sorted(value, key=repr))
        found.append(value)
    if not found:
        return None
    return found[0] if len(found) == 1 else tuple(sorted(found, key=repr))


def percent_agreement(labels: Sequence[Hashable]) -> float:
    """Returns the fraction of rater pairs that gave one unit the same label.

    Args:
        labels: The labels the raters gave one unit (one entry per rater).

    Returns:
        Agreeing pairs divided by all pairs, in [0, 1]; ``nan`` with fewer than two labels.
    """
    n = len(labels)
    if n < 2:
        return math.nan
    agreeing = sum(c * (c - 1) // 2 for c in Counter(labels).values())
    return agreeing / (n * (n - 1) // 2)


def _ordered_categories(values: Sequence[Hashable]) -> list[Hashable]:
    unique = list(dict.fromkeys(values))
    try:
        return sorted(unique)  # type: ignore[type-var]
    except TypeError:
        return sorted(unique, key=repr)


def cohen_kappa(
    a: Sequence[Hashable],
    b: Sequence[Hashable],
    *,
    labels: Sequence[Hashable] | None = None,
    weights: Weights = None,
) -> float:
    """Returns Cohen's kappa between two raters who labeled the same items.

    Same definition as ``sklearn.metrics.cohen_kappa_score``: the confusion matrix over ``labels``
    (default: the sorted union of both raters' labels; items with a label outside ``labels``
    are left out), expected counts from the product of the marginals, and disagreement
    weights ``1 - I``,
    ``|i - j|`` or ``(i - j) ** 2`` over the label positions.

    Args:
        a: The first rater's label per item.
        b: The second rater's label per item, aligned with ``a``.
        labels: The categories and, for weighted kappa, their order.
        weights: None for unweighted kappa, "linear" or "quadratic" for weighted kappa.

    Returns:
        Kappa in [-1, 1]; ``nan`` when undefined (no items, or the expected disagreement is zero).

    Raises:
        ValueError: If the sequences differ in length or ``weights`` is not a known scheme.
    """
    if len(a) != len(b):
        raise ValueError(f"raters labeled different numbers of items: {len(a)} and {len(b)}")
    if weights not in (None, "linear", "quadratic"):
        raise ValueError(f"unknown weights {weights!r}; use None, 'linear' or 'quadratic'")
    cats = list(labels) if labels is not None else _ordered_categories([*a, *b])
    index = {c: i for i, c in enumerate(cats)}
    k = len(cats)
    confusion = np.zeros((k, k), dtype=np.float64)
    for x, y in zip(a, b, strict=True):
        if x in index and y in index:
            confusion[index[x], index[y]] += 1
    n = confusion.sum()
    if n == 0:
        return math.nan
    expected = np.outer(confusion.sum(axis=1), confusion.sum(axis=0)) / n
    positions = np.arange(k)
    if weights is None:
        w = 1.0 - np.eye(k)
    elif weights == "linear":
        w = np.abs(positions[:, None] - positions[None, :]).astype(np.float64)
    else:
        w = ((positions[:, None] - positions[None, :]) ** 2).astype(np.float64)
    expected_disagreement = float((w * expected).sum())
    if expected_disagreement == 0:
        return math.nan
    return 1.0 - float((w * confusion).sum()) / expected_disagreement


def fleiss_table(
    item_labels: Sequence[Sequence[Hashable]], categories: Sequence[Hashable] | None = None
) -> tuple[NDArray[np.float64], list[Hashable]]:
    """Returns the subjects x categories count table for Fleiss' kappa, and its column categories.

    Args:
        item_labels: Per item, the labels its raters gave (one entry per rater).
        categories: Column order; default the sorted set of all labels.

    Returns:
        ``(table, categories)``; ``table[i, j]`` counts raters who gave item ``i`` category ``j``.

    Raises:
        ValueError: If a label is not among ``categories``.
    """
    cats = (
        list(categories)
        if categories is not None
        else _ordered_categories([x for labels in item_labels for x in labels])
    )
    index = {c: j for j, c in enumerate(cats)}
    table = np.zeros((len(item_labels), len(cats)), dtype=np.float64)
    for i, labels in enumerate(item_labels):
        for label in labels:
            if label not in index:
                raise ValueError(f"label {label!r} of item {i} is not among the categories")
            table[i, index[label]] += 1
    return table, cats


def fleiss_kappa(table: ArrayLike) -> float:
    """Returns Fleiss' kappa for a subjects x categories table of rater counts.

    Args:
        table: ``table[i, j]`` is how many raters put subject ``i`` in category ``j``; every row
            must have the same total (the number of raters per subject), at least 2.

    Returns:
        Kappa (Fleiss 1971); ``nan`` when undefined (no subjects, or every rating in one category).

    Raises:
        ValueError: If the table is not 2-D, rows have different totals, or fewer than 2 raters.
    """
    t = np.asarray(table, dtype=np.float64)
    if t.ndim != 2:
        raise ValueError(f"table must be subjects x categories (2-D), got shape {t.shape}")
    if t.shape[0] == 0:
        return math.nan
    raters = t.sum(axis=1)
    if not np.all(raters == raters[0]):
        raise ValueError("every subject must have the same number of raters for Fleiss' kappa")
    n = float(raters[0])
    if n < 2:
        raise ValueError(f"Fleiss' kappa needs at least 2 raters per subject, got {n:g}")
    p_j = t.sum(axis=0) / t.sum()
    p_i = ((t * t).sum(axis=1) - n) / (n * (n - 1))
    p_bar = float(p_i.mean())
    p_e = float((p_j * p_j).sum())
    if p_e >= 1.0:
        return math.nan
    return (p_bar - p_e) / (1.0 - p_e)


def encode_values(
    rows: Sequence[Sequence[Hashable | None]], order: Sequence[Hashable] | None = None
) -> tuple[NDArray[np.float64], list[Hashable]]:
    """Returns coded reliability data (coders x units, ``nan`` missing) and the code->value list.

    Lets :func:`krippendorff_alpha` run on non-numeric values: value ``v`` becomes its index in
    ``order``. Nominal alpha does not depend on the order; ordinal alpha needs the true order.

    Args:
        rows: Per coder, the value per unit, ``None`` where the coder did not code the unit.
        order: The values in order; default the sorted set of values present.

    Returns:
        ``(data, values)`` with ``data[c, u] = values.index(rows[c][u])``.

    Raises:
        ValueError: If rows differ in length or a value is not in ``order``.
    """
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        raise ValueError(f"every coder row must cover the same units, got lengths {sorted(widths)}")
    present = [v for r in rows for v in r if v is not None]
    values = list(order) if order is not None else _ordered_categories(present)
    code = {v: float(i) for i, v in enumerate(values)}
    data = np.full((len(rows), widths.pop() if widths else 0), np.nan)
    for c, row in enumerate(rows):
        for u, v in enumerate(row):
            if v is None:
                continue
            if v not in code:
                raise ValueError(f"value {v!r} of coder {c}, unit {u} is not in the given order")
            data[c, u] = code[v]
    return data, values


def krippendorff_alpha(reliability_data: ArrayLike, level: Level = "nominal") -> float:
    """Returns Krippendorff's alpha for coders x units data with ``nan`` for missing values.

    Computed by the coincidence-matrix method of Krippendorff (2011), "Computing Krippendorff's
    Alpha-Reliability": units with fewer than two values are not pairable and are dropped; alpha is
    ``1 - D_o / D_e`` from the observed and the expected coincidences under the level's squared
    distance. Written over numpy here because the ``krippendorff`` package is GPL-licensed.

    Args:
        reliability_data: ``data[c, u]`` is coder ``c``'s numeric value for unit ``u`` (see
            :func:`encode_values` for other values).
        level: "nominal", "ordinal", "interval" or "ratio".

    Returns:
        Alpha, at most 1; ``nan`` when undefined (fewer than two pairable values, or no variation).

    Raises:
        ValueError: If the data is not 2-D or the level is unknown.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")
    data = np.asarray(reliability_data, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError(f"reliability data must be coders x units (2-D), got shape {data.shape}")
    present = ~np.isnan(data)
    values = np.unique(data[present])
    if values.size == 0:
        return math.nan
    # counts[u, v]: how many coders gave unit u the value values[v].
    counts = (data.T[:, :, None] == values[None, None, :]).sum(axis=1).astype(np.float64)
    m_u = counts.sum(axis=1)
    counts = counts[m_u >= 2]
    m_u = m_u[m_u >= 2]
    if counts.shape[0] == 0:
        return math.nan
    pairs = counts[:, :, None] * counts[:, None, :]
    diagonal = np.einsum("uv,vw->uvw", counts, np.eye(values.size))
    observed = ((pairs - diagonal) / (m_u - 1)[:, None, None]).sum(axis=0)
    n_v = observed.sum(axis=0)
    n = n_v.sum()
    expected = (np.outer(n_v, n_v) - np.diag(n_v)) / (n - 1)
    delta = _distance_matrix(values, n_v, level)
    expected_disagreement = float((expected * delta).sum())
    if expected_disagreement == 0:
        return math.nan
    return 1.0 - float((observed * delta).sum()) / expected_disagreement


def _distance_matrix(
    values: NDArray[np.float64], n_v: NDArray[np.float64], level: Level
) -> NDArray[np.float64]:
    a, b = values[:, None], values[None, :]
    if level == "nominal":
        return (a != b).astype(np.float64)
    if level == "interval":
        return (a - b) ** 2
    if level == "ratio":
        total = a + b
        ratio = np.divide(a - b, total, out=np.zeros_like(total), where=total != 0)
        return ratio**2
    # Ordinal: squared sum of the marginals from rank c to rank k, minus half of both ends.
    cumulative = np.concatenate(([0.0], np.cumsum(n_v)))
    lo = np.minimum(np.arange(values.size)[:, None], np.arange(values.size)[None, :])
    hi = np.maximum(np.arange(values.size)[:, None], np.arange(values.size)[None, :])
    between = cumulative[hi + 1] - cumulative[lo]
    return (between - (n_v[lo] + n_v[hi]) / 2.0) ** 2


def pairwise_kappas(
    labels_by_rater: dict[Hashable, dict[Hashable, Hashable]],
) -> dict[tuple[Hashable, Hashable], tuple[int, float]]:
    """Returns Cohen's kappa per rater pair over the items both raters labeled.

    Args:
        labels_by_rater: Per rater, their label per item.

    Returns:
        ``{(rater_a, rater_b): (num_items_both_labeled, kappa)}`` for every pair, raters in the
        order given; kappa is ``nan`` when undefined.
    """
    out: dict[tuple[Hashable, Hashable], tuple[int, float]] = {}
    for ra, rb in combinations(labels_by_rater, 2):
        la, lb = labels_by_rater[ra], labels_by_rater[rb]
        shared = [item for item in la if item in lb]
        kappa = cohen_kappa([la[i] for i in shared], [lb[i] for i in shared])
        out[(ra, rb)] = (len(shared), kappa)
    return out


Annotator = int | str


def _num(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _mean(values: Iterable[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return sum(kept) / len(kept) if kept else math.nan


@dataclass(frozen=True, slots=True)
class PairAgreement:
    """Agreement of two annotators on one control, over the tasks both annotated."""

    annotator_a: Annotator
    annotator_b: Annotator
    num_tasks: int
    kappa: float = math.nan
    percent_agreement: float = math.nan
    precision: float = math.nan
    recall: float = math.nan
    f1: float = math.nan
    mean_iou: float = math.nan
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Returns the pair as a JSON-ready dict (NaN becomes None)."""
        out: dict[str, Any] = {"annotator_a": self.annotator_a, "annotator_b": self.annotator_b}
        out["num_tasks"] = self.num_tasks
        for key in ("kappa", "percent_agreement", "precision", "recall", "f1", "mean_iou"):
            out[key] = _num(getattr(self, key))
        out.update(tp=self.tp, fp=self.fp, fn=self.fn)
        return out


@dataclass(frozen=True, slots=True)
class ControlAgreement:
    """Agreement on one control of a project; NaN marks a value that is undefined for the data.

    ``kind`` is "classification" (kappa, alpha, percent agreement), "span" (exact-span F1),
    "region" (IoU-matched F1) or "unsupported" (counts only). ``task_agreement`` is percent
    agreement per task for classification and mean pairwise F1 per task otherwise. ``per_label``
    holds, per label, one-vs-rest nominal alpha for classification, pooled F1 (and mean IoU) over
    all pairs otherwise. ``per_annotator`` is the mean of an annotator's pairwise kappas (F1 for
    spans and regions).
    """

    name: str
    type: str
    kind: str
    num_tasks: int
    annotators: tuple[Annotator, ...]
    pairs: tuple[PairAgreement, ...] = ()
    fleiss_kappa: float = math.nan
    fleiss_num_raters: int = 0
    fleiss_num_tasks: int = 0
    alpha_nominal: float = math.nan
    alpha_interval: float = math.nan
    mean_iou: float = math.nan
    task_agreement: Mapping[int, float] = field(default_factory=dict)
    per_label: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    per_annotator: Mapping[Annotator, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Returns the control's agreement as a JSON-ready dict (NaN becomes None)."""
        return {
            "name": self.name,
            "type": self.type,
            "kind": self.kind,
            "num_tasks": self.num_tasks,
            "annotators": list(self.annotators),
            "pairs": [p.to_dict() for p in self.pairs],
            "fleiss_kappa": _num(self.fleiss_kappa),
            "fleiss_num_raters": self.fleiss_num_raters,
            "fleiss_num_tasks": self.fleiss_num_tasks,
            "krippendorff_alpha_nominal": _num(self.alpha_nominal),
            "krippendorff_alpha_interval": _num(self.alpha_interval),
            "mean_iou": _num(self.mean_iou),
            "task_agreement": {str(t): _num(v) for t, v in self.task_agreement.items()},
            "per_label": {
                label: {k: _num(v) for k, v in stats.items()}
                for label, stats in self.per_label.items()
            },
            "per_annotator": {str(a): _num(v) for a, v in self.per_annotator.items()},
        }


@dataclass(frozen=True, slots=True)
class AgreementReport:
    """Inter-annotator agreement of a project, per control, plus contradictory ground truths."""

    num_tasks: int
    controls: Mapping[str, ControlAgreement]
    contradictory_ground_truth: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Returns the report as a JSON-ready dict."""
        return {
            "num_tasks": self.num_tasks,
            "controls": {name: c.to_dict() for name, c in self.controls.items()},
            "contradictory_ground_truth": list(self.contradictory_ground_truth),
        }


def _by_annotator(tasks: Sequence[Task]) -> list[tuple[int, dict[Annotator, Annotation]]]:
    out = []
    for position, task in enumerate(tasks):
        latest: dict[Annotator, Annotation] = {}
        for k, annotation in enumerate(finished_annotations(task)):
            who = annotation.completed_by
            key: Annotator = who if who is not None else f"annotation-{annotation.id or k}"
            latest[key] = annotation  # an annotator's last annotation of a task counts
        out.append((task.id if task.id is not None else position, latest))
    return out


def _classification(
    name: str, kind: str, per_task: list[tuple[int, dict[Annotator, Annotation]]]
) -> ControlAgreement:
    labels: dict[Annotator, dict[Hashable, Hashable]] = {}
    for task_id, annotations in per_task:
        for who, annotation in annotations.items():
            value = control_value(annotation.result, name)
            if value is not None:
                labels.setdefault(who, {})[task_id] = value
    annotators = tuple(labels)
    task_ids = list(dict.fromkeys(t for per in labels.values() for t in per))
    per_item = {t: [labels[a][t] for a in annotators if t in labels[a]] for t in task_ids}
    pairs = []
    for (a, b), (n, kappa) in pairwise_kappas(labels).items():  # type: ignore[arg-type]
        shared = [t for t in labels[a] if t in labels[b]]
        same = sum(labels[a][t] == labels[b][t] for t in shared)
        pairs.append(
            PairAgreement(a, b, n, kappa=kappa, percent_agreement=same / n if n else math.nan)
        )  # type: ignore[arg-type]
    # Fleiss' kappa needs a fixed number of raters: take the tasks with the most common number of
    # raters (two or more; on a tie, the larger number).
    rater_counts = Counter(len(v) for v in per_item.values() if len(v) >= 2)
    fleiss, fleiss_n, fleiss_tasks = math.nan, 0, 0
    if rater_counts:
        fleiss_n = max(rater_counts, key=lambda n: (rater_counts[n], n))
        rows = [v for v in per_item.values() if len(v) == fleiss_n]
        table, _ = fleiss_table(
            rows, _ordered_categories([x for v in per_item.values() for x in v])
        )
        fleiss, fleiss_tasks = fleiss_kappa(table), len(rows)
    rows_by_coder = [[labels[a].get(t) for t in task_ids] for a in annotators]
    alpha_nominal = krippendorff_alpha(encode_values(rows_by_coder)[0]) if task_ids else math.nan
    alpha_interval = math.nan
    numeric = all(isinstance(v, int | float) for per in labels.values() for v in per.values())
    if kind in INTERVAL_TYPES and numeric and task_ids:
        data = [[math.nan if v is None else float(v) for v in row] for row in rows_by_coder]  # type: ignore[arg-type]
        alpha_interval = krippendorff_alpha(data, "interval")
    per_label: dict[str, dict[str, float]] = {}
    singles = {
        x for v in per_item.values() for c in v for x in (c if isinstance(c, tuple) else (c,))
    }
    for label in _ordered_categories(list(singles)):
        binary = [
            [
                None if c is None else (label in c if isinstance(c, tuple) else c == label)
                for c in row
            ]
            for row in rows_by_coder
        ]
        count = sum(1 for row in binary for x in row if x)
        per_label[str(label)] = {
            "alpha_nominal": krippendorff_alpha(encode_values(binary)[0]),
            "count": float(count),
        }
    return ControlAgreement(
        name=name,
        type=kind,
        kind="classification",
        num_tasks=len(task_ids),
        annotators=annotators,
        pairs=tuple(pairs),
        fleiss_kappa=fleiss,
        fleiss_num_raters=fleiss_n,
        fleiss_num_tasks=fleiss_tasks,
        alpha_nominal=alpha_nominal,
        alpha_interval=alpha_interval,
        task_agreement={t: percent_agreement(v) for t, v in per_item.items()},
        per_label=per_label,
        per_annotator={
            a: _mean(p.kappa for p in pairs if a in (p.annotator_a, p.annotator_b))
            for a in annotators
        },
    )


def _matched(
    name: str,
    kind: str,
    per_task: list[tuple[int, dict[Annotator, Annotation]]],
    iou_threshold: float,
) -> ControlAgreement:
    is_span = kind in SPAN_TYPES
    pair_totals: dict[tuple[Annotator, Annotator], dict[str, MatchCounts]] = {}
    pair_tasks: Counter[tuple[Annotator, Annotator]] = Counter()
    task_agreement: dict[int, float] = {}
    annotators: dict[Annotator, None] = {}
    num_tasks = 0
    for task_id, annotations in per_task:
        if not annotations:
            continue
        num_tasks += 1
        annotators.update(dict.fromkeys(annotations))
        f1s = []
        for a, b in combinations(annotations, 2):
            ra, rb = annotations[a].result, annotations[b].result
            if is_span:
                counts = span_counts(spans_of(ra, name), spans_of(rb, name))
            else:
                counts = region_counts(
                    regions_of(ra, name), regions_of(rb, name), iou_threshold=iou_threshold
                )
            f1s.append(total(counts).f1)
            pooled = pair_totals.setdefault((a, b), {})
            for label, c in counts.items():
                pooled[label] = pooled.get(label, MatchCounts()) + c
            pair_tasks[(a, b)] += 1
        task_agreement[task_id] = _mean(f1s)
    pairs = []
    per_label_counts: dict[str, MatchCounts] = {}
    for (a, b), counts in pair_totals.items():
        c = total(counts)
        pairs.append(
            PairAgreement(
                a,
                b,
                pair_tasks[(a, b)],
                precision=c.precision,
                recall=c.recall,
                f1=c.f1,
                mean_iou=math.nan if is_span else c.mean_iou,
                tp=c.tp,
                fp=c.fp,
                fn=c.fn,
            )
        )
        for label, lc in counts.items():
            per_label_counts[label] = per_label_counts.get(label, MatchCounts()) + lc
    per_label: dict[str, dict[str, float]] = {}
    for label in sorted(per_label_counts):
        lc = per_label_counts[label]
        per_label[label] = {"f1": lc.f1, "precision": lc.precision, "recall": lc.recall}
        if not is_span:
            per_label[label]["mean_iou"] = lc.mean_iou
    everything = total(per_label_counts)
    return ControlAgreement(
        name=name,
        type=kind,
        kind="span" if is_span else "region",
        num_tasks=num_tasks,
        annotators=tuple(annotators),
        pairs=tuple(pairs),
        mean_iou=math.nan if is_span else everything.mean_iou,
        task_agreement=task_agreement,
        per_label=per_label,
        per_annotator={
            a: _mean(p.f1 for p in pairs if a in (p.annotator_a, p.annotator_b)) for a in annotators
        },
    )


def agreement_report(
    tasks: Iterable[Task], controls: Mapping[str, str], *, iou_threshold: float = 0.5
) -> AgreementReport:
    """Returns the inter-annotator agreement of a project, per control.

    Cancelled and rejected annotations are left out; annotators are told apart by ``completed_by``
    (an annotation without one counts as its own annotator) and an annotator's last annotation of a
    task is the one that counts. Classification controls get Cohen's kappa and percent agreement
    per pair (on tasks both labeled), Fleiss' kappa over the tasks with the most common number of
    raters, Krippendorff's alpha (nominal, and interval for rating and number), percent agreement
    per task, one-vs-rest alpha per label and each annotator's mean kappa with the others. Span
    controls get exact-span F1 per pair and label; box and polygon controls get F1 after
    one-to-one IoU matching at ``iou_threshold`` and the mean IoU of the matches. Tasks with two
    ground-truth annotations whose results differ are listed by id.

    Args:
        tasks: Tasks with their annotations.
        controls: Control name -> result type, e.g. ``{"bbox": "rectanglelabels"}``.
        iou_threshold: The smallest IoU at which two regions match.

    Returns:
        The report.
    """
    task_list = list(tasks)
    per_task = _by_annotator(task_list)
    out: dict[str, ControlAgreement] = {}
    for name, kind in controls.items():
        if kind in CLASSIFICATION_TYPES:
            out[name] = _classification(name, kind, per_task)
        elif kind in SPAN_TYPES or kind in REGION_TYPES:
            out[name] = _matched(name, kind, per_task, iou_threshold)
        else:
            labeled = [
                (t, a)
                for t, a in per_task
                if any(i.get("from_name") == name for x in a.values() for i in x.result)
            ]
            who = tuple(dict.fromkeys(k for _, a in labeled for k in a))
            out[name] = ControlAgreement(name, kind, "unsupported", len(labeled), who)
    contradictory = []
    for position, task in enumerate(task_list):
        truths = {result_signature(a) for a in finished_annotations(task) if a.ground_truth}
        if len(truths) > 1:
            contradictory.append(task.id if task.id is not None else position)
    return AgreementReport(len(task_list), out, tuple(contradictory))
