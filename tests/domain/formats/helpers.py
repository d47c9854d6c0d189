"""Fixtures for the format tests: labeling configs, tasks and annotations built by small helpers."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from labelops.domain.brush_rle import encode_mask
from labelops.domain.records import Annotation, Task

try:  # the real engine once it exists; a minimal stand-in of the same shape until then
    from labelops.domain.label_config import parse_label_config as _parse
except ImportError:  # pragma: no cover - depends on the tree state
    _parse = None


@dataclass(frozen=True)
class _Label:
    value: str
    category: str | None = None


@dataclass(frozen=True)
class _Object:
    tag: str
    name: str
    value: str
    data_field: str


@dataclass(frozen=True)
class _Control:
    tag: str
    name: str
    to_names: tuple[str, ...]
    labels: tuple[_Label, ...] = ()

    def label_values(self) -> tuple[str, ...]:
        return tuple(label.value for label in self.labels)


@dataclass(frozen=True)
class _Config:
    objects: Mapping[str, _Object]
    controls: Mapping[str, _Control]
    data_fields: tuple[str, ...] = field(default=())


def _fallback_parse(text: str) -> _Config:
    root = etree.fromstring(text.encode())
    objects: dict[str, _Object] = {}
    controls: dict[str, _Control] = {}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        value = el.get("value", "")
        if el.get("toName"):
            labels = tuple(
                _Label(child.get("value"), child.get("category"))
                for child in el
                if child.tag in ("Label", "Choice")
            )
            controls[el.get("name")] = _Control(
                el.tag, el.get("name"), tuple(el.get("toName").split(",")), labels
            )
        elif el.get("name") and value.startswith("$"):
            objects[el.get("name")] = _Object(el.tag, el.get("name"), value, value[1:])
    fields = tuple(dict.fromkeys(o.data_field for o in objects.values()))
    return _Config(objects, controls, fields)


def config(text: str) -> Any:
    """Returns the parsed labeling config (real engine when present)."""
    return _parse(text) if _parse is not None else _fallback_parse(text)


TEXT_NER = config(
    """<View>
  <Text name="text" value="$text"/>
  <Labels name="label" toName="text">
    <Label value="PER"/><Label value="LOC"/><Label value="ORG"/>
  </Labels>
  <Choices name="sentiment" toName="text" choice="multiple">
    <Choice value="pos"/><Choice value="neg"/>
  </Choices>
</View>"""
)

IMAGE_BOXES = config(
    """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Car"/><Label value="Person"/><Label value="Bike"/>
  </RectangleLabels>
  <PolygonLabels name="poly" toName="image">
    <Label value="Road"/><Label value="Car"/>
  </PolygonLabels>
</View>"""
)

IMAGE_POSE = config(
    """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="person"/></RectangleLabels>
  <KeyPointLabels name="kp" toName="image">
    <Label value="nose"/><Label value="left_eye"/><Label value="right_eye"/>
  </KeyPointLabels>
</View>"""
)


def at(day: int, hour: int = 0) -> datetime:
    """Returns a fixed naive UTC datetime in January 2024."""
    return datetime(2024, 1, day, hour)


def ann(result: list[dict[str, Any]], **kw: Any) -> Annotation:
    """Returns an annotation with defaults for the fields a test does not care about."""
    return Annotation(result=result, **kw)


def span(start: int, end: int, text: str, *labels: str, name: str = "label") -> dict[str, Any]:
    """Returns a text span result item."""
    return {
        "id": f"s{start}",
        "from_name": name,
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": end, "text": text, "labels": list(labels)},
    }


def choice(*values: str) -> dict[str, Any]:
    """Returns a choices result item."""
    return {
        "id": "c",
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": list(values)},
    }


def rect(
    x: float,
    y: float,
    w: float,
    h: float,
    *labels: str,
    rotation: float = 0,
    size: tuple[int, int] = (200, 100),
    rid: str = "r",
    name: str = "label",
) -> dict[str, Any]:
    """Returns a rectangle result item on an image of ``size`` (width, height) pixels."""
    return {
        "id": rid,
        "from_name": name,
        "to_name": "image",
        "type": "rectanglelabels",
        "original_width": size[0],
        "original_height": size[1],
        "image_rotation": 0,
        "value": {
            "x": x,
            "y": y,
            "width": w,
            "height": h,
            "rotation": rotation,
            "rectanglelabels": list(labels),
        },
    }


def task(data: dict[str, Any], *annotations: Annotation, id: int = 1, **kw: Any) -> Task:
    """Returns a task."""
    return Task(data=data, id=id, annotations=annotations, **kw)


def brush(mask: Any, *labels: str, rid: str = "b", name: str = "tag") -> dict[str, Any]:
    """Returns a brushlabels result item holding a 2-D mask as Label Studio's RLE."""
    height, width = mask.shape
    return {
        "id": rid,
        "from_name": name,
        "to_name": "image",
        "type": "brushlabels",
        "original_width": width,
        "original_height": height,
        "image_rotation": 0,
        "value": {"format": "rle", "rle": encode_mask(mask), "brushlabels": list(labels)},
    }
