"""Image regions of one annotation, in pixels, with their category ids, for COCO, VOC and YOLO.

Categories are the labels of the config's box/polygon controls (RectangleLabels, PolygonLabels,
and Labels on an Image) in labeling-config order, numbered from 0, or the ``category=`` attribute
of a ``<Label>`` when it is set. COCO and YOLO share the numbering, so a model trained on one reads
the other. Keypoint labels are not categories: they are the ``keypoints`` of the box categories,
ordered by their ``model_index`` where the ``<Label>`` sets one (as Label Studio orders the pose
columns), else in config order after those.

A file name per image comes from the URL's last path segment; a second, different image with the
same name gets its parent folder's name prepended (then a counter), so nothing is overwritten.
"""

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

from labelops.domain.formats.base import LabelConfig, object_tags
from labelops.domain.formats.geometry import (
    Box,
    Point,
    bounding_box,
    polygon_points,
    rect_corners,
)
from labelops.domain.records import ResultItem

BOX_CONTROLS = {"rectanglelabels", "rectangle", "polygonlabels", "polygon", "labels"}


@dataclass(frozen=True)
class Categories:
    """The export's categories: ``{label: id}`` in config order, and the keypoint names."""

    ids: dict[str, int]
    keypoints: tuple[str, ...]

    def names(self) -> dict[int, str]:
        """Returns ``{id: label}`` in id order."""
        return {i: name for name, i in sorted(self.ids.items(), key=lambda kv: kv[1])}


def categories(config: LabelConfig) -> Categories:
    """Returns the categories of a labeling config (see the module docstring)."""
    objects = object_tags(config)
    ids: dict[str, int] = {}
    keypoints: dict[str, int | None] = {}
    for ctl in config.controls.values():
        tag = str(ctl.tag).lower()
        on_image = any(objects.get(t) == "image" for t in ctl.to_names)
        if not on_image:
            continue
        if tag == "keypointlabels":
            for item in ctl.labels:
                keypoints.setdefault(item.value, getattr(item, "model_index", None))
            continue
        if tag not in BOX_CONTROLS:
            continue
        for item in ctl.labels:
            if item.value in ids:
                continue
            category = getattr(item, "category", None)
            ids[item.value] = int(category) if category not in (None, "") else len(ids)
    order = sorted(
        enumerate(keypoints.items()),
        key=lambda e: (e[1][1] is None, e[1][1] if e[1][1] is not None else 0, e[0]),
    )
    return Categories(ids, tuple(name for _, (name, _) in order))


@dataclass
class Region:
    """A labeled image region in pixels.

    Attributes:
        kind: ``"rectangle"`` or ``"polygon"``.
        labels: The region's labels (a box may carry several).
        points: Corners (rotated rectangle) or polygon points in pixels.
        rotation: The rectangle's rotation in degrees (0 for polygons).
        region_id: Label Studio's region id (keypoints name their box by it in ``parentID``).
        keypoints: ``{keypoint label: (x, y)}`` in pixels, linked to this box.
    """

    kind: str
    labels: list[str]
    points: list[Point]
    rotation: float = 0.0
    region_id: str | None = None
    keypoints: dict[str, Point] = field(default_factory=dict)

    @property
    def box(self) -> Box:
        """Returns the axis-aligned bounding box in pixels."""
        return bounding_box(self.points)


def image_size(result: list[ResultItem]) -> tuple[int, int] | None:
    """Returns (width, height) of the image from the first result item that states it."""
    for item in result:
        if item.get("original_width") and item.get("original_height"):
            return int(item["original_width"]), int(item["original_height"])
    return None


def regions(result: list[ResultItem], size: tuple[int, int]) -> list[Region]:
    """Returns the rectangles and polygons of a result, with keypoints linked to their box.

    A keypoint belongs to the box named by its ``parentID``; without one, to the smallest box
    that contains it. Keypoints outside every box are left out.
    """
    width, height = size
    found: list[Region] = []
    points: list[tuple[str | None, str, Point]] = []
    for item in result:
        value = item.get("value") or {}
        kind = str(item.get("type", "")).lower()
        labels = _labels(value)
        if {"x", "y", "width", "height"} <= value.keys() and kind != "keypointlabels":
            corners = rect_corners(value, width, height)
            rotation = float(value.get("rotation") or 0)
            found.append(Region("rectangle", labels, corners, rotation, item.get("id")))
        elif "points" in value:
            found.append(Region("polygon", labels, polygon_points(value, width, height)))
        elif kind in ("keypointlabels", "keypoint") and "x" in value:
            point = (float(value["x"]) * width / 100, float(value["y"]) * height / 100)
            for label in labels:
                points.append((item.get("parentID"), label, point))
    for parent, label, point in points:
        box = _owner(found, parent, point)
        if box is not None:
            box.keypoints.setdefault(label, point)
    return found


def _labels(value: dict[str, Any]) -> list[str]:
    for key in ("rectanglelabels", "polygonlabels", "keypointlabels", "labels"):
        if value.get(key):
            return [str(v) for v in value[key]]
    return []


def _owner(found: list[Region], parent: str | None, point: Point) -> Region | None:
    boxes = [r for r in found if r.kind == "rectangle"]
    if parent is not None:
        for box in boxes:
            if box.region_id == parent:
                return box
    inside = [b for b in boxes if b.box.contains(point)]
    return min(inside, key=lambda b: b.box.width * b.box.height, default=None)


class FileNames:
    """Unique file names for image URLs within one export (state lives in the instance)."""

    def __init__(self) -> None:
        self._by_url: dict[str, str] = {}
        self._taken: set[str] = set()

    def __call__(self, url: str) -> str:
        """Returns the file name for an image URL, the same each time for the same URL."""
        known = self._by_url.get(url)
        if known is not None:
            return known
        path = unquote(urlparse(url).path or url)
        base = posixpath.basename(path).replace("\\", "_")
        base = base if base not in ("", ".", "..") else "image"  # a zip member, never a way out
        name = base
        if name in self._taken:
            parent = posixpath.basename(posixpath.dirname(path))
            name = f"{parent}_{base}" if parent else base
            stem, ext = posixpath.splitext(name)
            counter = 2
            while name in self._taken:
                name = f"{stem}_{counter}{ext}"
                counter += 1
        self._taken.add(name)
        self._by_url[url] = name
        return name


def iter_labeled(regions_: list[Region], ids: dict[str, int]) -> Iterator[tuple[int, str, Region]]:
    """Yields ``(category id, label, region)`` for each label of each region.

    A multi-label box gives one entry per label; labels that are not categories are skipped.
    """
    for region in regions_:
        for label in region.labels:
            if label in ids:
                yield ids[label], label, region
