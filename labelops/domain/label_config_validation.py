"""Check Label Studio result JSON against a parsed labeling config and the task's data."""

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NoReturn

from labelops.domain.brush_rle import BrushRleError, check_rle
from labelops.domain.chat import CHAT_RESULT_TYPE, check_chat_counts, check_chat_message
from labelops.domain.errors import AnnotationError
from labelops.domain.label_interface import (
    LABEL_VALUE_KEYS,
    LABELS_CONTROL_TAGS,
    ControlTag,
    LabelConfig,
    LabelItem,
    LayoutNode,
    ObjectTag,
)

TOLERANCE = 1e-6
DEFAULT_MAX_RATING = 5
_REQUIRED_KEYS = ("from_name", "to_name", "type", "value")
_PERCENT_KEYS = ("x", "y", "width", "height", "radiusX", "radiusY")
_SHAPES = ("rectangle", "polygon", "ellipse", "keypoint", "brush")
_SHAPE_LABEL_TYPES = frozenset(f"{shape}labels" for shape in _SHAPES)
_RELATION_DIRECTIONS = frozenset({"left", "right", "bi"})
# (visibleWhen, whenTagName, whenChoiceValue) of a control or of a View around it.
_Condition = tuple[str, str | None, str | None]


def validate_result(
    config: LabelConfig,
    result: Sequence[Mapping[str, Any]],
    data: Mapping[str, Any] | None = None,
    *,
    require_required: bool = True,
) -> None:
    """Returns None when every result item fits the config (and the task data, when given).

    Args:
        config: The parsed labeling config.
        result: Label Studio result items (an annotation's or a prediction's ``result``).
        data: The task's ``data``; when given, text spans are checked against it.
        require_required: Whether ``required`` controls that are visible must have a result.

    Raises:
        AnnotationError: On the first problem, with the item ``index`` and the ``field``
            (e.g. ``value.labels``); for a missing required control, ``field`` is its name.
    """
    if isinstance(result, str | bytes) or not isinstance(result, Sequence):
        raise AnnotationError(f"result must be a list of items, not {type(result).__name__}")
    region_ids = {
        item["id"]
        for item in result
        if isinstance(item, Mapping) and item.get("type") != "relation" and "id" in item
    }
    usages: dict[tuple[str, str], set[object]] = {}
    for index, item in enumerate(result):
        _check_item_shape(item, index)
        if item.get("type") == "relation":
            _check_relation(config, item, index, region_ids)
        else:
            _check_item(config, item, index, data, usages)
    if require_required:
        _check_required(config, result)
    chats = {n: obj.attrs for n, obj in config.objects.items() if obj.tag == "Chat"}
    if chats:
        check_chat_counts(chats, result, data, submitting=require_required)


def check_result_shape(result: Any) -> None:
    """Returns None when ``result`` is a list of result objects, whatever their config.

    Each item is an object; every item but a relation has ``from_name``, ``to_name``, ``type``
    and an object ``value``. An import keeps results that contradict the config (Label Studio
    writes such), but not what is no result at all.

    Raises:
        AnnotationError: The first item that is not a result object (``index`` and ``field``).
    """
    if isinstance(result, str | bytes) or not isinstance(result, Sequence):
        raise AnnotationError(f"result must be a list of items, not {type(result).__name__}")
    for index, item in enumerate(result):
        _check_item_shape(item, index)


def _check_item_shape(item: Any, index: int) -> None:
    if not isinstance(item, Mapping):
        _fail(index, None, f"result item must be an object, not {type(item).__name__}")
    if item.get("type") == "relation":
        return
    for key in _REQUIRED_KEYS:
        if key not in item:
            _fail(index, key, f"result item has no {key!r}")
    if not isinstance(item["value"], Mapping):
        _fail(index, "value", f"value must be an object, not {type(item['value']).__name__}")


def _fail(index: int | None, field: str | None, message: str) -> NoReturn:
    raise AnnotationError(message, index=index, field=field)


def _check_item(
    config: LabelConfig,
    item: Mapping[str, Any],
    index: int,
    data: Mapping[str, Any] | None,
    usages: dict[tuple[str, str], set[object]],
) -> None:
    value, item_type = item["value"], item["type"]
    control = config.controls.get(item["from_name"])
    if control is None:
        _fail(index, "from_name", f"from_name {item['from_name']!r} is not a control tag")
    if item["to_name"] not in control.to_names:
        _fail(
            index,
            "to_name",
            f"to_name {item['to_name']!r} is not a toName of control {control.name!r} "
            f"({', '.join(control.to_names)})",
        )
    if item_type not in _accepted_types(control):
        _fail(index, "type", f"type {item_type!r} does not fit control <{control.tag}>")
    obj = config.objects[item["to_name"]]
    if "item_index" in item:
        _check_item_index(obj, item["item_index"], index, data)
    _check_labels(config, control, item, index, usages)
    if item_type in ("labels", "hypertextlabels", "paragraphlabels"):
        _check_span(obj, value, index, data)
    elif item_type in _VALUE_CHECKS:
        _VALUE_CHECKS[item_type](control, value, index)
    if item_type in ("brush", "brushlabels"):
        _check_brush(item, index)


def _check_item_index(
    obj: ObjectTag, item_index: Any, index: int, data: Mapping[str, Any] | None
) -> None:
    """An ``item_index`` names one image of an ``<Image valueList>``, counted from 0."""
    if "valueList" not in obj.attrs:
        _fail(index, "item_index", f"item_index needs a valueList on <{obj.tag}> {obj.name!r}")
    if isinstance(item_index, bool) or not isinstance(item_index, int) or item_index < 0:
        _fail(index, "item_index", f"item_index must be an integer from 0, got {item_index!r}")
    items = data.get(obj.data_field) if data is not None and obj.data_field else None
    if isinstance(items, list) and item_index >= len(items):
        _fail(index, "item_index", f"item_index {item_index} is past the task's {len(items)} items")


def _accepted_types(control: ControlTag) -> frozenset[str]:
    own = control.result_type
    if control.tag == "Labels":
        return frozenset({"labels", *_SHAPE_LABEL_TYPES})
    if own in _SHAPE_LABEL_TYPES:
        return frozenset({own, own.removesuffix("labels")})
    if own in _SHAPES:
        return frozenset({own, f"{own}labels"})
    return frozenset({own})


def _check_labels(
    config: LabelConfig,
    control: ControlTag,
    item: Mapping[str, Any],
    index: int,
    usages: dict[tuple[str, str], set[object]],
) -> None:
    key = LABEL_VALUE_KEYS.get(item["type"])
    value = item["value"]
    if key is None or (key not in value and key in ("labels", "taxonomy")):
        if key == "taxonomy":
            _fail(index, "value.taxonomy", "taxonomy result has no 'taxonomy' list")
        return
    field = f"value.{key}"
    if key not in value:
        _fail(index, field, f"{item['type']} result has no {key!r} list")
    if key == "taxonomy":
        _check_taxonomy(control, value["taxonomy"], index)
        return
    given = value[key]
    if not isinstance(given, list) or not all(_is_label(v) for v in given):
        _fail(index, field, f"{key} must be a list of strings, got {given!r}")
    labels = [label_text(v) for v in given]
    sources = _label_sources(config, control, item["to_name"])
    allowed = _allowed_values(sources)
    for label in labels:
        if allowed is not None and label not in allowed:
            _fail(index, field, f"unknown label {label!r} for control {control.name!r}")
    if key == "choices":
        if control.choice in ("single", "single-radio") and len(labels) != 1:
            _fail(index, field, f"control {control.name!r} takes exactly one choice, got {labels}")
        if not labels:
            _fail(index, field, "choices must not be empty")
    elif len(labels) > 1 and all(s.choice != "multiple" for s in sources):
        _fail(index, field, f"control {control.name!r} allows one label per region, got {labels}")
    region = item.get("id", f"#{index}")
    for label in labels:
        limit = _usage_limit(sources, label)
        used = usages.setdefault((control.name, label), set())
        used.add(region)
        if limit is not None and len(used) > limit:
            _fail(index, field, f"label {label!r} is used more than maxUsages={limit} times")


def _is_label(value: object) -> bool:
    return isinstance(value, str) or (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    )


def label_text(value: str | float) -> str:
    """Returns a label as the config spells it: Label Studio accepts ``[1]`` for ``value="1"``."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _label_sources(config: LabelConfig, control: ControlTag, to_name: str) -> list[ControlTag]:
    if control.labels or control.dynamic_options_field or control.tag in LABELS_CONTROL_TAGS:
        return [control]
    return [c for c in config.controls_for(to_name) if c.tag in LABELS_CONTROL_TAGS]


def _allowed_values(sources: list[ControlTag]) -> frozenset[str] | None:
    if any(s.dynamic_options_field for s in sources):
        return None
    return frozenset(v for s in sources for item in s.label_items() for v in _names(item))


def _names(item: LabelItem) -> Iterator[str]:
    yield item.value
    if item.alias:
        yield item.alias


def _usage_limit(sources: list[ControlTag], label: str) -> int | None:
    for source in sources:
        for item in source.label_items():
            if label in _names(item):
                return item.max_usages or source.max_usages
    return None


def _check_taxonomy(control: ControlTag, paths: Any, index: int) -> None:
    field = "value.taxonomy"
    if not isinstance(paths, list) or not all(
        isinstance(p, list) and p and all(isinstance(s, str) for s in p) for p in paths
    ):
        _fail(index, field, f"taxonomy must be a list of non-empty lists of strings, got {paths!r}")
    if control.max_usages is not None and len(paths) > control.max_usages:
        _fail(index, field, f"at most {control.max_usages} taxonomy paths allowed")
    if control.dynamic_options_field or "apiUrl" in control.attrs:
        return
    for path in paths:
        level = control.labels
        for step in path:
            match = next((c for c in level if step in _names(c)), None)
            if match is None:
                _fail(index, field, f"unknown taxonomy path {path!r} for control {control.name!r}")
            level = match.children


def _check_relation(
    config: LabelConfig, item: Mapping[str, Any], index: int, region_ids: set[Any]
) -> None:
    for key in ("from_id", "to_id"):
        if key not in item:
            _fail(index, key, f"relation has no {key!r}")
        if item[key] not in region_ids:
            _fail(index, key, f"relation {key} {item[key]!r} is not a region id of this result")
    direction = item.get("direction", "right")
    if direction not in _RELATION_DIRECTIONS:
        _fail(index, "direction", f"direction {direction!r} must be left, right or bi")
    labels = item.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(v, str) for v in labels):
        _fail(index, "labels", f"relation labels must be a list of strings, got {labels!r}")
    allowed = {
        v for c in config.controls.values() if c.tag == "Relations" for v in c.label_values()
    }
    for label in labels:
        if label not in allowed:
            _fail(index, "labels", f"unknown relation label {label!r}")


def _number(value: Mapping[str, Any], key: str, index: int, prefix: str = "value") -> float:
    number = value.get(key)
    if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
        _fail(index, f"{prefix}.{key}", f"{key} must be a number, got {number!r}")
    return float(number)


def _integer(value: Mapping[str, Any], key: str, index: int) -> int:
    number = value.get(key)
    if isinstance(number, bool) or not isinstance(number, int):
        _fail(index, f"value.{key}", f"{key} must be an integer, got {number!r}")
    return number


def _check_percent(value: Mapping[str, Any], index: int, prefix: str = "value") -> None:
    for key in _PERCENT_KEYS:
        if key in value:
            number = _number(value, key, index, prefix)
            if not -TOLERANCE <= number <= 100 + TOLERANCE:
                _fail(index, f"{prefix}.{key}", f"{key}={number} is outside 0..100 percent")
    if not value.get("rotation") and all(k in value for k in ("x", "y", "width", "height")):
        for start, size in (("x", "width"), ("y", "height")):
            if start in value and size in value and value[start] + value[size] > 100 + TOLERANCE:
                _fail(index, f"{prefix}.{size}", f"{start}+{size} exceeds 100 percent")
    if "points" in value:
        points = value["points"]
        if not isinstance(points, list) or not all(
            isinstance(p, list | tuple) and len(p) == 2 for p in points
        ):
            _fail(index, f"{prefix}.points", "points must be a list of [x, y] pairs")
        for point in points:
            for coordinate in point:
                if isinstance(coordinate, bool) or not isinstance(coordinate, int | float):
                    _fail(index, f"{prefix}.points", f"point {point!r} is not numeric")
                if not -TOLERANCE <= coordinate <= 100 + TOLERANCE:
                    _fail(index, f"{prefix}.points", f"point {point!r} is outside 0..100 percent")


def _check_shape(control: ControlTag, value: Mapping[str, Any], index: int) -> None:
    _check_percent(value, index)
    if "rle" in value and (
        not isinstance(value["rle"], list) or not all(isinstance(v, int) for v in value["rle"])
    ):
        _fail(index, "value.rle", "rle must be a list of integers")


def _check_brush(item: Mapping[str, Any], index: int) -> None:
    """A brush region holds Label Studio's RLE of an image whose size the item states."""
    value = item["value"]
    if value.get("format", "rle") != "rle":
        _fail(index, "value.format", f"format {value.get('format')!r} is not 'rle'")
    if "rle" not in value:
        _fail(index, "value.rle", "a brush region needs its mask in 'rle'")
    if not isinstance(value["rle"], list):
        _fail(index, "value.rle", "rle must be a list of integers")
    sizes = []
    for key in ("original_width", "original_height"):
        size = item.get(key)
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            _fail(index, key, f"a brush region needs {key} as a positive integer, got {size!r}")
        sizes.append(size)
    try:
        check_rle(value["rle"], sizes[0], sizes[1])
    except BrushRleError as error:
        _fail(index, error.field, error.message)


def _check_span(
    obj: ObjectTag, value: Mapping[str, Any], index: int, data: Mapping[str, Any] | None
) -> None:
    if obj.tag == "Text":
        start, end = _integer(value, "start", index), _integer(value, "end", index)
        if not 0 <= start < end:
            _fail(index, "value.end", f"span [{start}, {end}) is empty or negative")
        text = data.get(obj.data_field) if data is not None and obj.data_field else None
        if not isinstance(text, str) or obj.attrs.get("valueType") == "url":
            return
        if end > len(text):
            _fail(index, "value.end", f"end={end} is past the text's {len(text)} characters")
        if "text" in value and value["text"] != text[start:end]:
            _fail(
                index,
                "value.text",
                f"text {value['text']!r} differs from the task's {text[start:end]!r}",
            )
    elif obj.tag in ("Audio", "Video", "TimeSeries"):
        begin, finish = _number(value, "start", index), _number(value, "end", index)
        if not 0 <= begin < finish:
            _fail(index, "value.end", f"segment [{begin}, {finish}] must have 0 <= start < end")
    elif obj.tag in ("HyperText", "Paragraphs"):
        for key in ("start", "end"):
            if key not in value:
                _fail(index, f"value.{key}", f"span has no {key!r}")
        for key in ("startOffset", "endOffset"):
            if key in value and _integer(value, key, index) < 0:
                _fail(index, f"value.{key}", f"{key} must not be negative")
    else:
        _check_percent(value, index)


def _check_ocr(control: ControlTag, value: Mapping[str, Any], index: int) -> None:
    """An OCR region: a box in percent of the image or page, with its transcription."""
    _check_percent(value, index)
    text = value.get("text", "")
    if not isinstance(text, str) and not (
        isinstance(text, list) and all(isinstance(t, str) for t in text)
    ):
        _fail(index, "value.text", f"text must be a string or a list of strings, got {text!r}")
    if "pageIndex" in value and _integer(value, "pageIndex", index) < 0:
        _fail(index, "value.pageIndex", "pageIndex must not be negative")


def _check_textarea(control: ControlTag, value: Mapping[str, Any], index: int) -> None:
    text = value.get("text")
    if not isinstance(text, list) or not all(isinstance(t, str) for t in text):
        _fail(index, "value.text", f"text must be a list of strings, got {text!r}")


def _check_rating(control: ControlTag, value: Mapping[str, Any], index: int) -> None:
    rating = _integer(value, "rating", index)
    top = int(control.attrs.get("maxRating", DEFAULT_MAX_RATING))
    if not 0 <= rating <= top:
        _fail(index, "value.rating", f"rating {rating} is outside 0..{top}")


def _check_number(control: ControlTag, value: Mapping[str, Any], index: int) -> None:
    number = _number(value, "number", index)
    low, high = control.attrs.get("min"), control.attrs.get("max")
    if (low is not None and number < float(low)) or (high is not None and number > float(high)):
        _fail(index, "value.number", f"number {number} is outside {low}..{high}")


def _check_datetime(control: ControlTag, value: Mapping[str, Any], index: int) -> None:
    if not isinstance(value.get("datetime"), str):
        _fail(index, "value.datetime", "datetime must be a string")


def _check_pairwise(control: ControlTag, value: Mapping[str, Any], index: int) -> None:
    if value.get("selected") not in ("left", "right"):
        _fail(
            index,
            "value.selected",
            f"selected must be left or right, got {value.get('selected')!r}",
        )


def _check_ranker(control: ControlTag, value: Mapping[str, Any], index: int) -> None:
    ranker = value.get("ranker")
    if not isinstance(ranker, Mapping) or not all(isinstance(v, list) for v in ranker.values()):
        _fail(index, "value.ranker", "ranker must map bucket names to lists of item ids")


def _check_timeseries(control: ControlTag, value: Mapping[str, Any], index: int) -> None:
    for key in ("start", "end"):
        if key not in value:
            _fail(index, f"value.{key}", f"time series region has no {key!r}")
    start, end = value["start"], value["end"]
    if type(start) is type(end) and isinstance(start, int | float | str) and start > end:
        _fail(index, "value.end", f"end {end!r} is before start {start!r}")


def _check_timeline(control: ControlTag, value: Mapping[str, Any], index: int) -> None:
    ranges = value.get("ranges")
    if not isinstance(ranges, list) or not ranges:
        _fail(index, "value.ranges", "ranges must be a non-empty list of {start, end}")
    for span in ranges:
        if not isinstance(span, Mapping):
            _fail(index, "value.ranges", f"range {span!r} must be an object")
        if _number(span, "start", index, "value.ranges") > _number(
            span, "end", index, "value.ranges"
        ):
            _fail(index, "value.ranges", f"range {dict(span)} ends before it starts")


def _check_video(control: ControlTag, value: Mapping[str, Any], index: int) -> None:
    sequence = value.get("sequence")
    if not isinstance(sequence, list) or not all(isinstance(f, Mapping) for f in sequence):
        _fail(index, "value.sequence", "sequence must be a list of keyframe objects")
    for frame in sequence:
        _check_percent(frame, index, "value.sequence")


def _check_chat_message(control: ControlTag, value: Mapping[str, Any], index: int) -> None:
    check_chat_message(value, index)


_VALUE_CHECKS = {
    **{shape: _check_shape for shape in _SHAPES},
    **{f"{shape}labels": _check_shape for shape in _SHAPES},
    "textarea": _check_textarea,
    "rating": _check_rating,
    "number": _check_number,
    "datetime": _check_datetime,
    "pairwise": _check_pairwise,
    "ranker": _check_ranker,
    "timeserieslabels": _check_timeseries,
    "timelinelabels": _check_timeline,
    "videorectangle": _check_video,
    CHAT_RESULT_TYPE: _check_chat_message,
    "ocrlabels": _check_ocr,
}


def _check_required(config: LabelConfig, result: Sequence[Mapping[str, Any]]) -> None:
    present = {item.get("from_name") for item in result}
    conditions = _conditions_by_control(config)
    for control in config.controls.values():
        if not control.required or control.per_region or control.name in present:
            continue
        visible = [_evaluate(c, result) for c in conditions.get(control.name, [])]
        if all(v is True for v in visible):
            _fail(None, control.name, f"required control {control.name!r} has no result")


def _conditions_by_control(config: LabelConfig) -> dict[str, list[_Condition]]:
    found: dict[str, list[_Condition]] = {}

    def visit(node: LayoutNode, inherited: list[_Condition]) -> None:
        attrs = {k.lower(): v for k, v in node.attrs.items()}
        own = list(inherited)
        if "visiblewhen" in attrs:
            own.append(
                (attrs["visiblewhen"], attrs.get("whentagname"), attrs.get("whenchoicevalue"))
            )
        control = config.controls.get(attrs.get("name", ""))
        if control is not None and control.tag == node.tag:
            found[control.name] = own
        for child in node.children:
            visit(child, own)

    visit(config.layout, [])
    return found


def _evaluate(condition: _Condition, result: Sequence[Mapping[str, Any]]) -> bool | None:
    """Returns whether a visibility condition holds at submission, or None if unknowable."""
    when, tag_name, choice_value = condition
    if when == "no-region-selected":
        return True
    if when not in ("choice-selected", "choice-unselected") or tag_name is None:
        return None
    chosen: set[str] = set()
    for item in result:
        if item.get("from_name") == tag_name and isinstance(item.get("value"), Mapping):
            chosen.update(_flat_choices(item["value"]))
    wanted = {v.strip() for v in choice_value.split(",")} if choice_value else None
    selected = bool(chosen & wanted) if wanted is not None else bool(chosen)
    return selected if when == "choice-selected" else not selected


def _flat_choices(value: Mapping[str, Any]) -> Iterator[str]:
    for key in ("choices", "taxonomy", "labels"):
        for entry in value.get(key, []) or []:
            if _is_label(entry):
                yield label_text(entry)
            elif isinstance(entry, list):
                yield from (e for e in entry if isinstance(e, str))


def result_fit_problems(config: LabelConfig, item: Mapping[str, Any]) -> list[str]:
    """Returns why a stored result item no longer fits the config (empty: it fits).

    Only what a config change can break is looked at, as Label Studio checks a new config
    against the results already made: the control (``from_name``), its object (``to_name``), the
    result type, and the labels or choices used. Relations and malformed items are skipped.
    """
    from_name, to_name, item_type = (item.get(k) for k in ("from_name", "to_name", "type"))
    if not (isinstance(from_name, str) and isinstance(to_name, str) and isinstance(item_type, str)):
        return []
    if item_type == "relation":
        return []
    where = f"from_name={from_name}, to_name={to_name}, type={item_type}"
    control = config.controls.get(from_name)
    if control is None or to_name not in control.to_names:
        return [where]
    if item_type not in _accepted_types(control):
        return [where]
    key = LABEL_VALUE_KEYS.get(item_type)
    value = item.get("value")
    if key is None or key == "taxonomy" or not isinstance(value, Mapping):
        return []
    given = value.get(key)
    if not isinstance(given, list):
        return []
    allowed = _allowed_values(_label_sources(config, control, to_name))
    if allowed is None:
        return []
    return [
        f"{where}, {key}={label_text(label)!r}"
        for label in given
        if _is_label(label) and label_text(label) not in allowed
    ]
