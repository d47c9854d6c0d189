"""The parsed labeling interface: tag records, and the JSON the browser renders from them.

The parser lives in ``labelops.domain.label_config``; this module holds what it produces, so that
validation and the browser description can depend on the records without depending on lxml.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from labelops.domain.chat import SAMPLE_CONVERSATION, chat_sample_data

OBJECT_TAG_ALIASES: Mapping[str, str] = {"AudioPlus": "Audio"}
SUPPORTED_OBJECT_TAGS: frozenset[str] = frozenset(
    {
        "Text",
        "HyperText",
        "Paragraphs",
        "Image",
        "Audio",
        "AudioPlus",
        "Video",
        "TimeSeries",
        "Table",
        "List",
        "Chat",
        "Pdf",
    }
)
# Objects whose data is a media URL (served, imported from buckets), and those holding text.
MEDIA_OBJECT_TAGS: frozenset[str] = frozenset({"Image", "Audio", "AudioPlus", "Video", "Pdf"})
TEXT_OBJECT_TAGS: frozenset[str] = frozenset({"Text", "HyperText", "Paragraphs"})
LABELS_CONTROL_TAGS: frozenset[str] = frozenset(
    {
        "Labels",
        "RectangleLabels",
        "PolygonLabels",
        "KeyPointLabels",
        "EllipseLabels",
        "BrushLabels",
        "TimeSeriesLabels",
        "TimelineLabels",
        "HyperTextLabels",
        "ParagraphLabels",
        "OcrLabels",
    }
)
CHOICES_CONTROL_TAGS: frozenset[str] = frozenset({"Choices", "Taxonomy"})
# Controls that Label Studio accepts without a toName: their results go to the config's first
# object tag, as Label Studio's own TextArea does.
UNTARGETED_CONTROL_TAGS: frozenset[str] = frozenset(
    {"Choices", "Taxonomy", "TextArea", "Rating", "Number", "DateTime"}
)
SUPPORTED_CONTROL_TAGS: frozenset[str] = (
    LABELS_CONTROL_TAGS
    | CHOICES_CONTROL_TAGS
    | frozenset(
        {
            "Rectangle",
            "Polygon",
            "KeyPoint",
            "Ellipse",
            "Brush",
            "TextArea",
            "Rating",
            "Number",
            "DateTime",
            "Relations",
            "VideoRectangle",
            "Ranker",
            "Pairwise",
        }
    )
)
# Result type -> the key of the item's ``value`` that holds its chosen labels, as Label Studio
# writes them (a video rectangle keeps its labels under "labels").
LABEL_VALUE_KEYS: Mapping[str, str] = {
    **{tag.lower(): tag.lower() for tag in sorted(LABELS_CONTROL_TAGS | CHOICES_CONTROL_TAGS)},
    "videorectangle": "labels",
}
# Every key of a result's ``value`` that holds labels, for code that reads results of any type.
LABEL_KEYS: tuple[str, ...] = tuple(sorted(set(LABEL_VALUE_KEYS.values())))
VISUAL_TAGS: frozenset[str] = frozenset({"View", "Header", "Style", "Collapse", "Panel", "Filter"})
# Tags that only appear inside one kind of parent: child tag -> parents allowed to hold it.
ITEM_TAG_PARENTS: Mapping[str, frozenset[str]] = {
    "Label": LABELS_CONTROL_TAGS,
    "Choice": CHOICES_CONTROL_TAGS | frozenset({"Choice"}),
    "Relation": frozenset({"Relations"}),
    "Channel": frozenset({"TimeSeries"}),
    "Shortcut": frozenset({"TextArea"}),
    "Bucket": frozenset({"Ranker"}),
}

# Label Studio's order for generated hotkeys (r, u and h are left for its own shortcuts).
GENERATED_HOTKEYS = "1234567890qwetasdfgzxcvbyiopjklnm"
DEFAULT_BACKGROUNDS = (
    "#FFA39E",
    "#D4380D",
    "#FFC069",
    "#AD8B00",
    "#D3F261",
    "#389E0D",
    "#5CDBD3",
    "#096DD9",
    "#ADC6FF",
    "#9254DE",
    "#F759AB",
    "#A0D911",
)


@dataclass(frozen=True)
class LabelItem:
    """One ``<Label>`` or ``<Choice>`` of a control; nested choices sit in ``children``."""

    value: str
    alias: str | None
    hotkey: str | None
    background: str | None
    category: str | None
    selected: bool
    hint: str | None
    max_usages: int | None
    children: tuple["LabelItem", ...]
    line: int
    model_index: int | None = None  # a keypoint's column in pose exports (Label Studio's)
    # Markup shown instead of the value (a Choice's ``html``); the page cleans it before use.
    html: str | None = None

    def walk(self) -> Iterator["LabelItem"]:
        """Yields this item, then its nested items depth first, in config order."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class ObjectTag:
    """A tag that shows task data (``<Text>``, ``<Image>``...)."""

    tag: str
    name: str
    value: str
    data_field: str | None
    attrs: Mapping[str, str]
    line: int


@dataclass(frozen=True)
class ControlTag:
    """A tag that produces result items (``<Choices>``, ``<RectangleLabels>``...)."""

    tag: str
    name: str
    to_names: tuple[str, ...]
    result_type: str
    labels: tuple[LabelItem, ...]
    choice: str
    required: bool
    per_region: bool
    max_usages: int | None
    dynamic_options_field: str | None
    visible_when: str | None
    when_tag_name: str | None
    when_choice_value: str | None
    when_label_value: str | None
    attrs: Mapping[str, str]
    line: int

    def label_values(self) -> tuple[str, ...]:
        """Returns every label or choice value, nested choices included, in config order."""
        return tuple(item.value for top in self.labels for item in top.walk())

    def label_items(self) -> tuple[LabelItem, ...]:
        """Returns every label or choice item, nested ones included, in config order."""
        return tuple(item for top in self.labels for item in top.walk())


@dataclass(frozen=True)
class LayoutNode:
    """One element of the config tree, visual tags included, for rendering."""

    tag: str
    attrs: Mapping[str, str]
    children: tuple["LayoutNode", ...]
    text: str | None
    line: int

    def walk(self) -> Iterator["LayoutNode"]:
        """Yields this node, then its descendants depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class LabelConfig:
    """A parsed labeling config: its object tags, control tags and layout."""

    objects: Mapping[str, ObjectTag]
    controls: Mapping[str, ControlTag]
    data_fields: tuple[str, ...]
    layout: LayoutNode
    text: str

    def control(self, name: str) -> ControlTag:
        """Returns the control tag called ``name``.

        Raises:
            KeyError: No control tag has that name.
        """
        try:
            return self.controls[name]
        except KeyError:
            known = ", ".join(repr(n) for n in self.controls) or "none"
            raise KeyError(f"no control tag named {name!r} (controls: {known})") from None

    def controls_for(self, object_name: str) -> tuple[ControlTag, ...]:
        """Returns the control tags whose ``toName`` includes ``object_name``, in config order."""
        return tuple(c for c in self.controls.values() if object_name in c.to_names)


def interface_description(config: LabelConfig) -> dict[str, Any]:
    """Returns a JSON-ready description of the interface, for the browser to render.

    Labels and choices without a hotkey get one from Label Studio's sequence (1..9, 0, q, w, e...),
    skipping keys that the config already uses; labels without a background get a palette color.
    """
    hotkeys = _generated_hotkeys(config)
    return {
        "layout": _node_json(config.layout),
        "objects": {
            name: {
                "tag": obj.tag,
                "name": obj.name,
                "value": obj.value,
                "data_field": obj.data_field,
                "attrs": dict(obj.attrs),
            }
            for name, obj in config.objects.items()
        },
        "controls": {
            name: _control_json(control, hotkeys) for name, control in config.controls.items()
        },
        "data_fields": list(config.data_fields),
        "label_value_keys": dict(LABEL_VALUE_KEYS),
    }


def _node_json(node: LayoutNode) -> dict[str, Any]:
    return {
        "tag": node.tag,
        "name": node.attrs.get("name"),
        "attrs": dict(node.attrs),
        "children": [_node_json(child) for child in node.children],
        "text": node.text,
    }


def _control_json(control: ControlTag, hotkeys: Mapping[tuple[str, int], str]) -> dict[str, Any]:
    labels = [
        _label_json(item, hotkeys.get((control.name, i)), DEFAULT_BACKGROUNDS, i)
        for i, item in enumerate(control.labels)
    ]
    return {
        "tag": control.tag,
        "name": control.name,
        "result_type": control.result_type,
        "to_names": list(control.to_names),
        "choice": control.choice,
        "required": control.required,
        "per_region": control.per_region,
        "max_usages": control.max_usages,
        "dynamic_options_field": control.dynamic_options_field,
        "visible_when": control.visible_when,
        "when_tag_name": control.when_tag_name,
        "when_choice_value": control.when_choice_value,
        "when_label_value": control.when_label_value,
        "attrs": dict(control.attrs),
        "labels": labels,
    }


def _label_json(
    item: LabelItem, hotkey: str | None, palette: tuple[str, ...], position: int
) -> dict[str, Any]:
    return {
        "value": item.value,
        "alias": item.alias,
        "hotkey": item.hotkey or hotkey,
        "background": item.background or palette[position % len(palette)],
        "category": item.category,
        "selected": item.selected,
        "hint": item.hint,
        "max_usages": item.max_usages,
        "html": item.html,
        "children": [
            _label_json(child, None, palette, position + j + 1)
            for j, child in enumerate(item.children)
        ],
    }


def _generated_hotkeys(config: LabelConfig) -> dict[tuple[str, int], str]:
    """Returns (control name, top-level label index) -> generated hotkey for labels without one."""
    items = (item for c in config.controls.values() for item in c.label_items())
    used = {item.hotkey.lower() for item in items if item.hotkey}
    used |= {c.attrs["hotkey"].lower() for c in config.controls.values() if "hotkey" in c.attrs}
    free = (key for key in GENERATED_HOTKEYS if key not in used)
    generated: dict[tuple[str, int], str] = {}
    for control in config.controls.values():
        if control.tag not in LABELS_CONTROL_TAGS and control.tag != "Choices":
            continue
        for i, item in enumerate(control.labels):
            if item.hotkey:
                continue
            key = next(free, None)
            if key is None:
                return generated
            generated[(control.name, i)] = key
    return generated


def sample_task_data(config: LabelConfig) -> dict[str, Any]:
    """Returns plausible example task data with every field the config reads, for previews."""
    data: dict[str, Any] = {}
    for obj in config.objects.values():
        if obj.data_field is None or obj.data_field in data:
            continue
        if "valueList" in obj.attrs and "value" not in obj.attrs:
            data[obj.data_field] = [_SAMPLE_URLS["Image"].format(n=n) for n in (1, 2)]
        else:
            data[obj.data_field] = _sample_value(obj, _channel_columns(config.layout, obj.name))
        if obj.tag == "Chat":
            data.update({k: v for k, v in chat_sample_data(obj.attrs).items() if k not in data})
    for control in config.controls.values():
        field = control.dynamic_options_field
        if field is not None and field not in data:
            data[field] = [{"value": f"Option {letter}"} for letter in "ABC"]
    return data


# Small files shipped in the web app's static folder (``static/samples``), so the preview of a
# new project never reaches another site. The time series CSV has a ``time`` column and the
# channels ``value``, ``temperature``, ``pressure`` and ``humidity``.
SAMPLE_MEDIA_PREFIX = "/static/samples/"
_SAMPLE_URLS = {
    "Image": SAMPLE_MEDIA_PREFIX + "sample-{n}.png",
    "Audio": SAMPLE_MEDIA_PREFIX + "sample-{n}.wav",
    "Video": SAMPLE_MEDIA_PREFIX + "sample-{n}.webm",
    "TimeSeries": SAMPLE_MEDIA_PREFIX + "sample-{n}.csv",
    # No sample document is shipped: a PDF of this site cannot be framed (see pdf.js).
    "Pdf": "https://example.com/samples/sample-{n}.pdf",
}


def _channel_columns(layout: LayoutNode, object_name: str) -> list[str]:
    for node in layout.walk():
        if node.tag == "TimeSeries" and node.attrs.get("name") == object_name:
            return [c.attrs["column"] for c in node.children if "column" in c.attrs]
    return []


def _sample_value(obj: ObjectTag, channels: list[str]) -> Any:
    if obj.tag in ("Image", "Audio", "Video", "Pdf"):
        return _SAMPLE_URLS[obj.tag].format(n=1)
    if obj.tag == "Text":
        return "The quick brown fox jumps over the lazy dog near the river bank in Berlin."
    if obj.tag == "HyperText":
        return "<p>The <b>quick</b> brown fox jumps over the lazy dog.</p>"
    if obj.tag == "Paragraphs":
        author, text = obj.attrs.get("nameKey", "author"), obj.attrs.get("textKey", "text")
        return [
            {author: "Alice", text: "Hi, how can I help you today?"},
            {author: "Bob", text: "I would like to change my delivery address."},
        ]
    if obj.tag == "Chat":
        return [dict(message) for message in SAMPLE_CONVERSATION]
    if obj.tag == "Table":
        return {"name": "Sample", "price": "9.99", "in_stock": "yes"}
    if obj.tag == "List":
        return [{"id": f"item{n}", "title": f"Item {n}", "body": f"Text {n}"} for n in (1, 2, 3)]
    if obj.tag == "TimeSeries":
        if obj.attrs.get("valueType", "json") == "url":
            return _SAMPLE_URLS["TimeSeries"].format(n=1)
        columns = [obj.attrs.get("timeColumn", "time"), *channels]
        return {column: [0, 1, 2, 3] for column in columns}
    return "sample"
