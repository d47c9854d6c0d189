"""Every config of Label Studio 1.23.2's template gallery is accepted and described.

The configs are read from Label Studio's wheel (``make ls-templates``), never committed here.
"""

import json
from typing import Any

import numpy as np
import pytest

from labelops.domain.brush_rle import encode_mask
from labelops.domain.errors import AnnotationError
from labelops.domain.label_config import (
    ControlTag,
    LabelConfig,
    ObjectTag,
    interface_description,
    parse_label_config,
    sample_task_data,
    validate_result,
)
from labelops.domain.label_interface import LABEL_KEYS, LABEL_VALUE_KEYS, LABELS_CONTROL_TAGS
from tests.ls_gallery import EXPECTED_COUNT, checked_templates, gallery_templates


def test_the_wheel_holds_the_whole_gallery() -> None:
    keys = [t.key for t in gallery_templates()]
    assert len(keys) == EXPECTED_COUNT
    assert sum(key.startswith("chat/") for key in keys) == 5  # the <Chat> ones are checked too


def test_every_gallery_config_is_accepted_described_and_previewed() -> None:
    refused = {}
    for template in checked_templates():
        try:
            config = parse_label_config(template.config)
            description = interface_description(config)
            data = sample_task_data(config)
            json.dumps([description, data])
        except Exception as exc:  # collect every refusal, then report them all
            refused[template.key] = f"{type(exc).__name__}: {exc}"
        else:
            assert set(config.data_fields) <= set(data), template.key
            assert description["objects"], f"{template.key} has no object tag"
    assert refused == {}


@pytest.mark.parametrize(
    "key", ["generative-ai/chatbot-assessment", "structured-data-parsing/pdf-classification"]
)
def test_gallery_controls_all_point_at_an_object(key: str) -> None:
    template = next(t for t in gallery_templates() if t.key == key)
    config = parse_label_config(template.config)
    for control in config.controls.values():
        assert control.to_names, control.name
        assert all(name in config.objects for name in control.to_names)


def _span(obj: ObjectTag, data: dict[str, Any]) -> dict[str, Any]:
    """Returns the place a region takes on an object, in Label Studio's keys."""
    if obj.tag == "Text":
        text = data.get(obj.data_field or "", "") if obj.data_field else obj.value
        text = text if isinstance(text, str) and len(text) >= 3 else "abc"
        return {"start": 0, "end": 3, "text": text[:3]}
    if obj.tag in ("HyperText", "Paragraphs"):
        return {"start": "0", "end": "0", "startOffset": 0, "endOffset": 3, "text": "abc"}
    if obj.tag in ("Audio", "Video"):
        return {"start": 0.5, "end": 1.5}
    if obj.tag == "TimeSeries":
        return {"start": 1, "end": 2, "instant": False}
    return {"x": 10.0, "y": 10.0, "width": 20.0, "height": 20.0, "rotation": 0}


BRUSH_SIZE = 4  # pixels of the image a sample brush mask covers


def _value(control: ControlTag, obj: ObjectTag, data: dict[str, Any]) -> dict[str, Any]:
    """Returns a result value for ``control`` as Label Studio writes it."""
    first = control.label_values()[0] if control.labels else "Option A"
    simple: dict[str, dict[str, Any]] = {
        "Choices": {"choices": [first]},
        "Taxonomy": {"taxonomy": [[first]]},
        "TextArea": {"text": ["sample"]},
        "Rating": {"rating": 1},
        "Number": {"number": float(control.attrs.get("min", 1))},
        "DateTime": {"datetime": "2024-01-01T10:00"},
        "Pairwise": {"selected": "left"},
        "Ranker": {"ranker": {control.name: []}},
    }
    if control.tag in simple:
        return simple[control.tag]
    if control.tag == "TimelineLabels":
        return {"ranges": [{"start": 1, "end": 3}], "timelinelabels": [first]}
    if control.tag == "VideoRectangle":
        frame = {"frame": 1, "enabled": True, "x": 1.0, "y": 1.0, "width": 5.0, "height": 5.0}
        return {"sequence": [frame], "labels": []}
    if control.tag == "BrushLabels":
        mask = np.zeros((BRUSH_SIZE, BRUSH_SIZE), dtype=np.uint8)
        mask[1:3, 1:3] = 255
        return {"format": "rle", "rle": encode_mask(mask), "brushlabels": [first]}
    if control.result_type == "chatmessage":  # a message the annotator adds to the <Chat>
        message = {"role": "user", "content": "Hello", "createdAt": 1732867200000}
        return {"chatmessage": message}
    if control.tag in ("Polygon", "PolygonLabels"):
        value: dict[str, Any] = {"points": [[10.0, 10.0], [20.0, 10.0], [20.0, 20.0]]}
    else:
        value = _span(obj, data)
    if control.tag in LABELS_CONTROL_TAGS:
        value[LABEL_VALUE_KEYS[control.result_type]] = [first]
    return value


def _sample_result(config: LabelConfig, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Returns one Label Studio result item per control (per-region ones on a region)."""
    result: list[dict[str, Any]] = []
    regions: dict[str, dict[str, Any]] = {}
    controls = sorted(config.controls.values(), key=lambda c: c.per_region)
    for control in controls:
        if control.tag == "Relations":
            continue
        obj = config.objects[control.to_names[0]]
        item = {
            "id": f"r{len(result)}",
            "from_name": control.name,
            "to_name": obj.name,
            "type": control.result_type,
            "value": _value(control, obj, data),
        }
        if control.tag == "BrushLabels":
            item.update(original_width=BRUSH_SIZE, original_height=BRUSH_SIZE)
        region = regions.get(obj.name)
        if control.per_region and region is not None:
            geometry = {k: v for k, v in region["value"].items() if k not in LABEL_KEYS}
            item.update(id=region["id"], value={**geometry, **item["value"]})
        elif control.per_region:
            continue
        elif control.tag in LABELS_CONTROL_TAGS:
            regions.setdefault(obj.name, item)
        elif control.result_type == "chatmessage":  # as many messages as minMessages asks
            have = len(data.get(obj.data_field or "", None) or [])
            wanted = str(obj.attrs.get("minMessages", "0"))
            more = max(0, int(wanted) - have - 1) if wanted.isdigit() else 0
            result += [{**item, "id": f"m{n}"} for n in range(more)]
        result.append(item)
    return result


def test_every_gallery_config_takes_label_studio_results() -> None:
    refused = {}
    for template in checked_templates():
        config = parse_label_config(template.config)
        data = sample_task_data(config)
        result = _sample_result(config, data)
        try:
            validate_result(config, result, data)
        except AnnotationError as exc:
            refused[template.key] = f"{exc} in {result[exc.index] if exc.index is not None else ''}"
    listed = "\n".join(f"{key}: {problem}" for key, problem in refused.items())
    assert not refused, f"results refused:\n{listed}"
