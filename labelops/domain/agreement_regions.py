"""Region and span agreement: IoU of Label Studio boxes and polygons, one-to-one matching, span F1.

Coordinates are Label Studio's percent of the image (0-100). A rectangle's ``rotation`` is in
degrees around its top-left corner (clockwise on screen, y pointing down). Rotation happens in
pixels, so when an item carries ``original_width``/``original_height`` the corners are computed
with that aspect ratio; without them the image is taken as square. IoU is unchanged by scaling both
shapes, so it is computed in percent space.
"""

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment
from shapely.geometry import Polygon
from shapely.validation import make_valid

from labelops.domain.records import ResultItem

SPAN_TYPES = frozenset({"labels", "hypertextlabels", "paragraphlabels", "timeserieslabels"})
REGION_TYPES = frozenset({"rectanglelabels", "rectangle", "polygonlabels", "polygon"})
_NOT_LOCATION = frozenset({"text", "score"})

SpanKey = tuple[tuple[tuple[str, Hashable], ...], str]


@dataclass(frozen=True, slots=True)
class Region:
    """One labeled shape of one annotation, in percent coordinates."""

    label: str
    geometry: Polygon
    item_id: str | None = None


@dataclass(frozen=True, slots=True)
class MatchCounts:
    """True/false positives and negatives of one comparison, plus the IoU sum of its matches."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    iou_sum: float = 0.0

    def __add__(self, other: "MatchCounts") -> "MatchCounts":
        return MatchCounts(
            self.tp + other.tp,
            self.fp + other.fp,
            self.fn + other.fn,
            self.iou_sum + other.iou_sum,
        )

    @property
    def precision(self) -> float:
        """Returns tp / (tp + fp), ``nan`` when there is nothing on the compared side."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else math.nan

    @property
    def recall(self) -> float:
        """Returns tp / (tp + fn), ``nan`` when there is nothing on the reference side."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else math.nan

    @property
    def f1(self) -> float:
        """Returns 2tp / (2tp + fp + fn), symmetric in both sides; ``nan`` when both are empty."""
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else math.nan

    @property
    def mean_iou(self) -> float:
        """Returns the mean IoU of the matched pairs, ``nan`` without matches."""
        return self.iou_sum / self.tp if self.tp else math.nan


def rectangle_polygon(
    value: Mapping[str, Any], image_size: tuple[float, float] | None = None
) -> Polygon:
    """Returns a Label Studio rectangle value as a polygon in percent coordinates.

    Args:
        value: ``{"x", "y", "width", "height", "rotation"?}`` in percent and degrees.
        image_size: ``(width, height)`` in pixels, for the aspect ratio of a rotation.

    Returns:
        The rectangle's four corners as a shapely polygon.
    """
    x, y = float(value["x"]), float(value["y"])
    w, h = float(value["width"]), float(value["height"])
    theta = math.radians(float(value.get("rotation") or 0.0))
    if theta % (2 * math.pi) == 0:
        return Polygon([(x, y), (x + w, y), (x + w, y + h), (x, y + h)])
    px, py = (image_size[0] / 100.0, image_size[1] / 100.0) if image_size else (1.0, 1.0)
    cos, sin = math.cos(theta), math.sin(theta)
    corners = []
    for u, v in ((0.0, 0.0), (w * px, 0.0), (w * px, h * py), (0.0, h * py)):
        corners.append((x + (u * cos - v * sin) / px, y + (u * sin + v * cos) / py))
    return Polygon(corners)


def _iou(a: Polygon, b: Polygon) -> float:
    if not a.is_valid:
        a = make_valid(a)
    if not b.is_valid:
        b = make_valid(b)
    union = a.union(b).area
    return float(a.intersection(b).area / union) if union > 0 else 0.0


def box_iou(
    a: Mapping[str, Any], b: Mapping[str, Any], *, image_size: tuple[float, float] | None = None
) -> float:
    """Returns the intersection over union of two Label Studio rectangle values.

    Axis-aligned boxes are computed directly; rotated ones through shapely polygons.

    Args:
        a: A rectangle value (``x, y, width, height, rotation?``), percent coordinates.
        b: Another rectangle value.
        image_size: ``(width, height)`` in pixels, used only for rotated boxes.

    Returns:
        IoU in [0, 1]; 0 when both boxes have no area.
    """
    if not (a.get("rotation") or 0) and not (b.get("rotation") or 0):
        ax1, ay1 = float(a["x"]), float(a["y"])
        ax2, ay2 = ax1 + float(a["width"]), ay1 + float(a["height"])
        bx1, by1 = float(b["x"]), float(b["y"])
        bx2, by2 = bx1 + float(b["width"]), by1 + float(b["height"])
        inter = max(0.0, min(ax2, bx2) - max(ax1, bx1)) * max(0.0, min(ay2, by2) - max(ay1, by1))
        union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
        return inter / union if union > 0 else 0.0
    return _iou(rectangle_polygon(a, image_size), rectangle_polygon(b, image_size))


def polygon_iou(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> float:
    """Returns the intersection over union of two polygons given as ``[[x, y], ...]`` points.

    Self-intersecting polygons are repaired with shapely's ``make_valid`` first.

    Args:
        a: The first polygon's points (percent coordinates).
        b: The second polygon's points.

    Returns:
        IoU in [0, 1]; 0 when a polygon has fewer than three points or both have no area.
    """
    if len(a) < 3 or len(b) < 3:
        return 0.0
    return _iou(Polygon([tuple(p) for p in a]), Polygon([tuple(p) for p in b]))


def _item_labels(item: ResultItem) -> list[str]:
    labels = item.get("value", {}).get(item.get("type", ""))
    if isinstance(labels, list) and item.get("type", "").endswith("labels"):
        return [str(label) for label in labels] or [""]
    return [""]


def regions_of(result: Iterable[ResultItem], control: str) -> list[Region]:
    """Returns the labeled shapes that one annotation's result holds for one control.

    A shape with several labels becomes one region per label; an unlabeled shape gets label "".

    Args:
        result: Label Studio result items.
        control: The control's name (``from_name``).

    Returns:
        Regions for rectangle and polygon values; other values are skipped.
    """
    regions: list[Region] = []
    for item in result:
        if item.get("from_name") != control:
            continue
        value = item.get("value", {})
        if "points" in value:
            points = value["points"]
            geometry = Polygon([tuple(p) for p in points]) if len(points) >= 3 else Polygon()
        elif {"x", "y", "width", "height"} <= value.keys():
            size = None
            if item.get("original_width") and item.get("original_height"):
                size = (float(item["original_width"]), float(item["original_height"]))
            geometry = rectangle_polygon(value, size)
        else:
            continue
        regions.extend(Region(label, geometry, item.get("id")) for label in _item_labels(item))
    return regions


def match_iou_matrix(iou: ArrayLike, iou_threshold: float) -> list[tuple[int, int, float]]:
    """Returns a one-to-one matching of rows to columns with IoU at or above the threshold.

    The Hungarian algorithm (``scipy.optimize.linear_sum_assignment``) maximizes first the number of
    matches and then their total IoU, so no shape is counted twice (unlike taking each shape's best
    IoU) and no greedy early choice costs a match.

    Args:
        iou: An (n x m) IoU matrix.
        iou_threshold: The smallest IoU that counts as a match.

    Returns:
        ``(row, column, iou)`` per match, by row.
    """
    m = np.asarray(iou, dtype=np.float64)
    if m.size == 0:
        return []
    valid = m >= iou_threshold
    weights = np.where(valid, m + min(m.shape) + 1, 0.0)
    rows, cols = linear_sum_assignment(weights, maximize=True)
    return [
        (int(r), int(c), float(m[r, c])) for r, c in zip(rows, cols, strict=True) if valid[r, c]
    ]


def match_regions(
    a: Sequence[Region], b: Sequence[Region], *, iou_threshold: float = 0.5
) -> list[tuple[int, int, float]]:
    """Returns one-to-one matches of two annotators' regions (same label, IoU >= threshold).

    Args:
        a: One annotator's regions.
        b: The other annotator's regions.
        iou_threshold: The smallest IoU that counts as a match.

    Returns:
        ``(index in a, index in b, iou)`` per match.
    """
    iou = np.zeros((len(a), len(b)))
    for i, ra in enumerate(a):
        for j, rb in enumerate(b):
            if ra.label == rb.label:
                iou[i, j] = _iou(ra.geometry, rb.geometry)
    return match_iou_matrix(iou, iou_threshold)


def region_counts(
    a: Sequence[Region], b: Sequence[Region], *, iou_threshold: float = 0.5
) -> dict[str, MatchCounts]:
    """Returns TP/FP/FN per label of ``b`` against ``a`` after one-to-one matching.

    Args:
        a: The reference annotator's regions (unmatched ones are false negatives).
        b: The compared annotator's regions (unmatched ones are false positives).
        iou_threshold: The smallest IoU that counts as a match.

    Returns:
        ``{label: MatchCounts}`` for every label either side used.
    """
    matches = match_regions(a, b, iou_threshold=iou_threshold)
    counts = {r.label: MatchCounts() for r in (*a, *b)}
    for i, _, iou in matches:
        counts[a[i].label] += MatchCounts(tp=1, iou_sum=iou)
    matched_a = {i for i, _, _ in matches}
    matched_b = {j for _, j, _ in matches}
    for i, r in enumerate(a):
        if i not in matched_a:
            counts[r.label] += MatchCounts(fn=1)
    for j, r in enumerate(b):
        if j not in matched_b:
            counts[r.label] += MatchCounts(fp=1)
    return counts


def spans_of(result: Iterable[ResultItem], control: str) -> set[SpanKey]:
    """Returns the exact spans one annotation's result holds for one control.

    A span is its location (every value field except the labels, ``text`` and ``score``: e.g.
    ``start``/``end``, plus ``startOffset``/``endOffset`` for hypertext) and one label.

    Args:
        result: Label Studio result items.
        control: The control's name (``from_name``).

    Returns:
        ``{(location, label)}``; a span with two labels gives two keys.
    """
    spans: set[SpanKey] = set()
    for item in result:
        if item.get("from_name") != control:
            continue
        value = item.get("value", {})
        kind = item.get("type", "")
        location = tuple(
            sorted(
                (k, v)
                for k, v in value.items()
                if k != kind and k not in _NOT_LOCATION and isinstance(v, str | int | float | bool)
            )
        )
        spans.update((location, label) for label in _item_labels(item))
    return spans


def span_counts(a: set[SpanKey], b: set[SpanKey]) -> dict[str, MatchCounts]:
    """Returns TP/FP/FN per label of spans ``b`` against ``a`` on exact (location, label) match.

    Args:
        a: The reference annotator's spans.
        b: The compared annotator's spans.

    Returns:
        ``{label: MatchCounts}`` for every label either side used.
    """
    counts = {label: MatchCounts() for _, label in a | b}
    for _, label in a & b:
        counts[label] += MatchCounts(tp=1)
    for _, label in a - b:
        counts[label] += MatchCounts(fn=1)
    for _, label in b - a:
        counts[label] += MatchCounts(fp=1)
    return counts


def total(counts: Mapping[str, MatchCounts]) -> MatchCounts:
    """Returns the sum of per-label counts (micro average).

    Args:
        counts: ``{label: MatchCounts}``.

    Returns:
        One MatchCounts over all labels.
    """
    out = MatchCounts()
    for c in counts.values():
        out += c
    return out
