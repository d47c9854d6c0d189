"""Image region geometry: Label Studio's percent coordinates to pixels, rotation, areas.

Label Studio stores a rectangle as ``x, y, width, height`` in percent of the image's width (for
``x``, ``width``) and height (for ``y``, ``height``) plus ``rotation`` in degrees, clockwise on
screen, around the rectangle's top-left corner. Rotation is a rigid motion in pixel space, so the
corners are computed there: convert to pixels first, then rotate. (Label Studio's converter rotates
the percent values as if both axes had the same scale, which skews boxes on non-square images.)
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Point = tuple[float, float]


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels."""

    x_min: float
    y_min: float
    x_max: float
    y_max: float

    @property
    def width(self) -> float:
        """Returns the box width."""
        return self.x_max - self.x_min

    @property
    def height(self) -> float:
        """Returns the box height."""
        return self.y_max - self.y_min

    def contains(self, point: Point) -> bool:
        """Returns whether the point lies inside the box or on its edge."""
        return self.x_min <= point[0] <= self.x_max and self.y_min <= point[1] <= self.y_max


def rect_corners(value: dict[str, Any], width: float, height: float) -> list[Point]:
    """Returns the 4 pixel corners of a (possibly rotated) rectangle, clockwise from top-left.

    Args:
        value: The result value with ``x, y, width, height`` in percent and ``rotation`` degrees.
        width: Image width in pixels.
        height: Image height in pixels.
    """
    x = float(value["x"]) * width / 100
    y = float(value["y"]) * height / 100
    w = float(value["width"]) * width / 100
    h = float(value["height"]) * height / 100
    angle = math.radians(float(value.get("rotation") or 0))
    cos, sin = math.cos(angle), math.sin(angle)
    local = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)]
    return [(x + px * cos - py * sin, y + px * sin + py * cos) for px, py in local]


def polygon_points(value: dict[str, Any], width: float, height: float) -> list[Point]:
    """Returns a polygon's points in pixels."""
    return [(float(p[0]) * width / 100, float(p[1]) * height / 100) for p in value["points"]]


def bounding_box(points: Sequence[Point]) -> Box:
    """Returns the axis-aligned box around the points."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return Box(min(xs), min(ys), max(xs), max(ys))


def clip(box: Box, width: float, height: float) -> Box:
    """Returns the box cut to the image."""
    return Box(
        min(max(box.x_min, 0.0), width),
        min(max(box.y_min, 0.0), height),
        min(max(box.x_max, 0.0), width),
        min(max(box.y_max, 0.0), height),
    )


def shoelace_area(points: Sequence[Point]) -> float:
    """Returns the area of a simple polygon (shoelace formula)."""
    total = 0.0
    for (x1, y1), (x2, y2) in zip(points, [*points[1:], points[0]], strict=True):
        total += x1 * y2 - x2 * y1
    return abs(total) / 2
