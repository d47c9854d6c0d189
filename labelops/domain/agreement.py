"""Inter-annotator agreement over numpy: percent agreement, Cohen, Fleiss and Krippendorff.

Undefined values: every chance-corrected coefficient here returns ``nan`` when it is undefined:
when there is nothing to compare (no items, fewer than two pairable values) or when the expected
disagreement is zero (every rater used one and the same category, so chance explains everything).
This follows scikit-learn's ``cohen_kappa_score`` default (``replace_undefined_by=np.nan``); callers
that need a number report percent agreement beside it, which is 1.0 in that case.

The project-level report over Label Studio tasks is in :mod:`labelops.domain.agreement_report`;
IoU and span matching for region controls live in :mod:`labelops.domain.agreement_regions`.
"""

import json
import math
from collections import Counter
from collections.abc import Hashable, Sequence
from itertools import combinations
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

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
    return value


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


def ordered_categories(values: Sequence[Hashable]) -> list[Hashable]:
    """Returns the distinct values sorted (by their repr when they are not comparable)."""
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
    cats = list(labels) if labels is not None else ordered_categories([*a, *b])
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
        else ordered_categories([x for labels in item_labels for x in labels])
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
    values = list(order) if order is not None else ordered_categories(present)
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
        return np.not_equal(a, b).astype(np.float64)
    if level == "interval":
        return np.square(a - b)
    if level == "ratio":
        total = a + b
        ratio: NDArray[np.float64] = np.divide(
            a - b, total, out=np.zeros_like(total), where=total != 0
        )
        return ratio**2
    # Ordinal: squared sum of the marginals from rank c to rank k, minus half of both ends.
    cumulative = np.concatenate(([0.0], np.cumsum(n_v)))
    lo = np.minimum(np.arange(values.size)[:, None], np.arange(values.size)[None, :])
    hi = np.maximum(np.arange(values.size)[:, None], np.arange(values.size)[None, :])
    between = cumulative[hi + 1] - cumulative[lo]
    ordinal: NDArray[np.float64] = (between - (n_v[lo] + n_v[hi]) / 2.0) ** 2
    return ordinal


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
