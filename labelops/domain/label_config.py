"""Parse Label Studio labeling configs (XML) into frozen records, once, at the boundary.

``parse_label_config`` is the only place that reads the XML. Result checking lives in
``label_config_validation`` and the browser description in ``label_interface``; both are
re-exported here so callers import everything from this module.
"""

import dataclasses
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NoReturn

from lxml import etree

from labelops.domain.chat import CHAT_RESULT_TYPE, CHAT_ROLES, chat_settings
from labelops.domain.errors import LabelConfigError
from labelops.domain.label_config_validation import check_result_shape, validate_result
from labelops.domain.label_interface import (
    CHOICES_CONTROL_TAGS,
    ITEM_TAG_PARENTS,
    LABELS_CONTROL_TAGS,
    OBJECT_TAG_ALIASES,
    SUPPORTED_CONTROL_TAGS,
    SUPPORTED_OBJECT_TAGS,
    UNTARGETED_CONTROL_TAGS,
    VISUAL_TAGS,
    ControlTag,
    LabelConfig,
    LabelItem,
    LayoutNode,
    ObjectTag,
    interface_description,
    sample_task_data,
)
from labelops.settings import Limits, current_limits, limit_variable

__all__ = [
    "COLOUR_ATTRIBUTES",
    "MAX_CONFIG_BYTES",
    "SUPPORTED_CONTROL_TAGS",
    "SUPPORTED_OBJECT_TAGS",
    "VISUAL_TAGS",
    "ControlTag",
    "LabelConfig",
    "LabelItem",
    "LayoutNode",
    "ObjectTag",
    "check_result_shape",
    "interface_description",
    "is_css_colour",
    "parse_label_config",
    "sample_task_data",
    "validate_result",
]

# The default limit; LABELOPS_MAX_CONFIG_BYTES sets another. Label Studio's configs are a few KiB
# (the largest template of its gallery is about 10 KiB, comments included), while parsing and
# checking a 1 MB config costs about a second of CPU, which any user could spend again and again.
MAX_CONFIG_BYTES = Limits.max_config_bytes
VISIBLE_WHEN_VALUES = frozenset(
    {"region-selected", "choice-selected", "no-region-selected", "choice-unselected"}
)
_CONTAINER_TAGS = frozenset({"View", "Collapse", "Panel"})
# Layout Label Studio allows among a control's labels or choices (a heading above them).
_LAYOUT_IN_CONTROLS = frozenset({"View", "Header"})
_CHILD_TAGS: Mapping[str, frozenset[str]] = {
    **{tag: frozenset({"Label"}) | _LAYOUT_IN_CONTROLS for tag in LABELS_CONTROL_TAGS},
    **{tag: frozenset({"Choice"}) | _LAYOUT_IN_CONTROLS for tag in CHOICES_CONTROL_TAGS},
    "Choice": frozenset({"Choice"}),
    "Relations": frozenset({"Relation"}),
    "TimeSeries": frozenset({"Channel"}),
    "TextArea": frozenset({"Shortcut"}),
    "Ranker": frozenset({"Bucket"}),
}
_KNOWN_TAGS = {
    tag.lower(): tag
    for tag in SUPPORTED_OBJECT_TAGS | SUPPORTED_CONTROL_TAGS | VISUAL_TAGS | set(ITEM_TAG_PARENTS)
}
_FIELD = re.compile(r"^\$([A-Za-z_][\w.\-]*)$")
_FIELD_IN_TEXT = re.compile(r"\$([A-Za-z_]\w*)")
_DTD = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_INT = re.compile(r"^\s*\d+\s*$")
_TRUE, _FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no", ""})
# Attributes whose value the browser puts into a style or a colour attribute (any tag).
COLOUR_ATTRIBUTES = frozenset({"background", "color", "fillcolor", "strokecolor", "selectedcolor"})
_HEX_COLOUR = re.compile(r"#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})", re.IGNORECASE)
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:%|deg)?"
_FUNCTION_COLOUR = re.compile(
    rf"(?:rgba?|hsla?)\(\s*{_NUMBER}(?:\s*[,/ ]\s*{_NUMBER}){{2,3}}\s*\)", re.IGNORECASE
)
CSS_COLOUR_NAMES = frozenset(
    """
    aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue
    blueviolet brown burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk
    crimson cyan darkblue darkcyan darkgoldenrod darkgray darkgreen darkgrey darkkhaki
    darkmagenta darkolivegreen darkorange darkorchid darkred darksalmon darkseagreen
    darkslateblue darkslategray darkslategrey darkturquoise darkviolet deeppink deepskyblue
    dimgray dimgrey dodgerblue firebrick floralwhite forestgreen fuchsia gainsboro ghostwhite
    gold goldenrod gray green greenyellow grey honeydew hotpink indianred indigo ivory khaki
    lavender lavenderblush lawngreen lemonchiffon lightblue lightcoral lightcyan
    lightgoldenrodyellow lightgray lightgreen lightgrey lightpink lightsalmon lightseagreen
    lightskyblue lightslategray lightslategrey lightsteelblue lightyellow lime limegreen linen
    magenta maroon mediumaquamarine mediumblue mediumorchid mediumpurple mediumseagreen
    mediumslateblue mediumspringgreen mediumturquoise mediumvioletred midnightblue mintcream
    mistyrose moccasin navajowhite navy oldlace olive olivedrab orange orangered orchid
    palegoldenrod palegreen paleturquoise palevioletred papayawhip peachpuff peru pink plum
    powderblue purple rebeccapurple red rosybrown royalblue saddlebrown salmon sandybrown
    seagreen seashell sienna silver skyblue slateblue slategray slategrey snow springgreen
    steelblue tan teal thistle tomato turquoise violet wheat white whitesmoke yellow
    yellowgreen transparent currentcolor
    """.split()
)


def is_css_colour(value: str) -> bool:
    """Returns whether ``value`` is plain CSS colour syntax and nothing else.

    Accepted: ``#rgb``, ``#rgba``, ``#rrggbb``, ``#rrggbbaa``, ``rgb()``/``rgba()``/``hsl()``/
    ``hsla()`` with numbers only, and the CSS colour names. Anything else (a ``;``, ``url()``,
    ``var()``, a second declaration) is refused, because the value lands in a style attribute.
    """
    text = value.strip()
    return bool(
        _HEX_COLOUR.fullmatch(text)
        or _FUNCTION_COLOUR.fullmatch(text)
        or text.lower() in CSS_COLOUR_NAMES
    )


@functools.lru_cache(maxsize=64)
def parse_label_config(text: str) -> LabelConfig:
    """Returns the parsed labeling config (memoized: the result is immutable).

    Every annotation, prediction, import and export checks against its project's config, so the
    same text is parsed once per process rather than once per request.

    The XML is parsed with entities, DTDs and network access disabled; a DOCTYPE or entity
    declaration is rejected outright. Tag names are matched case-insensitively, as Label Studio
    does, and stored in their canonical spelling.

    Args:
        text: The ``<View>...</View>`` XML of a Label Studio labeling config.

    Returns:
        The config's object tags, control tags, data fields and layout tree.

    Raises:
        LabelConfigError: The XML is malformed or unsafe, or a tag or attribute is used wrongly;
            the error names the tag, attribute, line and value.
    """
    root = _parse_xml(text)
    builder = _Builder()
    layout = builder.node(root, parent=None)
    builder.check_references()
    return LabelConfig(
        objects=MappingProxyType(builder.objects),
        controls=MappingProxyType(builder.controls),
        data_fields=tuple(dict.fromkeys(builder.data_fields)),
        layout=layout,
        text=text,
    )


def _parse_xml(text: str) -> etree._Element:
    if not isinstance(text, str):
        raise LabelConfigError(f"labeling config must be a string, not {type(text).__name__}")
    limit = current_limits().max_config_bytes
    size = len(text.encode("utf-8"))
    if size > limit:
        raise LabelConfigError(
            f"labeling config is {size} bytes; the limit is {limit} bytes "
            f"({limit_variable('max_config_bytes')})",
            value=str(size),
        )
    if not text.strip():
        raise LabelConfigError("labeling config is empty")
    dtd = _DTD.search(text)
    if dtd:
        raise LabelConfigError(
            f"<!{dtd.group(1).upper()}> declarations are not allowed in a labeling config",
            tag=f"!{dtd.group(1).upper()}",
            line=text.count("\n", 0, dtd.start()) + 1,
        )
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise LabelConfigError(f"malformed XML: {exc.msg}", line=exc.lineno) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise LabelConfigError("DOCTYPE declarations are not allowed", tag="!DOCTYPE", line=1)
    if _canonical_tag(root) != "View":
        raise LabelConfigError(
            f"the root tag must be <View>, not <{root.tag}>",
            tag=str(root.tag),
            line=root.sourceline,
        )
    return root


def _canonical_tag(el: etree._Element) -> str:
    raw = str(el.tag)
    tag = _KNOWN_TAGS.get(raw.lower())
    if tag is None:
        raise LabelConfigError(f"unsupported tag <{raw}>", tag=raw, line=el.sourceline)
    return tag


@dataclass
class _Builder:
    """Collects records while walking the tree; checks cross-references at the end."""

    objects: dict[str, ObjectTag] = field(default_factory=dict)
    controls: dict[str, ControlTag] = field(default_factory=dict)
    data_fields: list[str] = field(default_factory=list)
    names: dict[str, int] = field(default_factory=dict)
    when_refs: list[tuple[str, str, int]] = field(default_factory=list)

    def node(self, el: etree._Element, parent: str | None) -> LayoutNode:
        tag = _canonical_tag(el)
        line = el.sourceline or 0
        if parent is not None:
            _check_placement(tag, parent, line)
        attrs = _Attrs(tag, line, {str(k): str(v) for k, v in el.attrib.items()})
        attrs.check_colours()
        children = tuple(self.node(c, tag) for c in el if isinstance(c.tag, str))
        text = (el.text or "").strip() or None
        self._check_visibility(attrs)
        name = attrs.get("name")
        if name and tag not in ITEM_TAG_PARENTS:
            if name in self.names:
                raise LabelConfigError(
                    f"duplicate name {name!r} (first used on line {self.names[name]})",
                    tag=tag,
                    attribute="name",
                    line=line,
                    value=name,
                )
            self.names[name] = line
        if tag in SUPPORTED_OBJECT_TAGS:
            self._object(tag, attrs, el)
            if tag == "Chat":
                self._chat(attrs)
        elif tag in SUPPORTED_CONTROL_TAGS:
            self._control(tag, attrs, el)
        elif tag == "Channel":
            attrs.required("column")
        return LayoutNode(
            tag=tag, attrs=MappingProxyType(attrs.raw), children=children, text=text, line=line
        )

    def _check_visibility(self, attrs: "_Attrs") -> None:
        visible_when = attrs.get("visibleWhen")
        if visible_when is not None and visible_when not in VISIBLE_WHEN_VALUES:
            allowed = ", ".join(sorted(VISIBLE_WHEN_VALUES))
            attrs.fail("visibleWhen", visible_when, f"must be one of {allowed}")
        when_role = attrs.get("whenRole")
        if when_role is not None and not set(when_role.replace(" ", "").split(",")) <= set(
            CHAT_ROLES
        ):
            attrs.fail("whenRole", when_role, f"roles must be among {', '.join(CHAT_ROLES)}")
        when_tag = attrs.get("whenTagName")
        if when_tag is not None:
            self.when_refs.append((attrs.tag, when_tag, attrs.line))

    def _object(self, tag: str, attrs: "_Attrs", el: etree._Element) -> None:
        name = attrs.required("name")
        value = attrs.get("value") or attrs.get("valueList")
        if not value:
            value = attrs.required("value")
        match = _FIELD.match(value)
        if value.startswith("$") and not match:
            attrs.fail("value", value, "is not a valid $field reference")
        data_field = match.group(1) if match else None
        self.data_fields.extend([data_field] if data_field else _FIELD_IN_TEXT.findall(value))
        if tag == "TimeSeries":
            value_type = attrs.get("valueType", "json")
            if value_type not in ("json", "url"):
                attrs.fail("valueType", value_type, "must be json or url")
        self.objects[name] = ObjectTag(
            tag=OBJECT_TAG_ALIASES.get(tag, tag),
            name=name,
            value=value,
            data_field=data_field,
            attrs=MappingProxyType(attrs.raw),
            line=attrs.line,
        )

    def _chat(self, attrs: "_Attrs") -> None:
        """Registers a Chat as the control of its own messages (``chatmessage`` results)."""
        name = attrs.required("name")
        # A $field count (maxMessages="$max") is optional task data: a task without it has no limit.
        chat_settings(attrs.raw, attrs.line)
        to_name = attrs.get("toName")
        if to_name is not None and to_name.strip() != name:
            attrs.fail("toName", to_name, f"a Chat's toName can only name itself ({name!r})")
        self.controls[name] = ControlTag(
            tag="Chat",
            name=name,
            to_names=(name,),
            result_type=CHAT_RESULT_TYPE,
            labels=(),
            choice="single",
            required=False,
            per_region=False,
            max_usages=None,
            dynamic_options_field=None,
            visible_when=None,
            when_tag_name=None,
            when_choice_value=None,
            when_label_value=None,
            attrs=MappingProxyType(attrs.raw),
            line=attrs.line,
        )

    def _control(self, tag: str, attrs: "_Attrs", el: etree._Element) -> None:
        name = attrs.get("name")
        if tag == "Relations" and not name:
            name = "relations"
        name = name or attrs.required("name")
        to_name = attrs.get("toName")
        if to_name is None and tag != "Relations" and tag not in UNTARGETED_CONTROL_TAGS:
            attrs.required("toName")
        to_names = tuple(part.strip() for part in (to_name or "").split(",") if part.strip())
        dynamic = None
        value = attrs.get("value")
        if value and (tag in LABELS_CONTROL_TAGS or tag in CHOICES_CONTROL_TAGS):
            match = _FIELD.match(value)
            if not match:
                attrs.fail("value", value, "dynamic options need a $field reference")
            dynamic = match.group(1)
            self.data_fields.append(dynamic)
        labels = tuple(_label_item(c) for c in el if isinstance(c.tag, str) and _is_item(c))
        if (
            not labels
            and dynamic is None
            and (tag in LABELS_CONTROL_TAGS or tag in CHOICES_CONTROL_TAGS)
        ):
            child = "Label" if tag in LABELS_CONTROL_TAGS else "Choice"
            raise LabelConfigError(
                f'<{tag} name={name!r}> has no <{child}> children and no value="$field" options',
                tag=tag,
                line=attrs.line,
            )
        _check_numbers(tag, attrs)
        self.controls[name] = ControlTag(
            tag=tag,
            name=name,
            to_names=to_names,
            result_type="relation" if tag == "Relations" else tag.lower(),
            labels=labels,
            choice=_choice(tag, attrs),
            required=attrs.flag("required"),
            per_region=attrs.flag("perRegion"),
            max_usages=attrs.positive_int("maxUsages"),
            dynamic_options_field=dynamic,
            visible_when=attrs.get("visibleWhen"),
            when_tag_name=attrs.get("whenTagName"),
            when_choice_value=attrs.get("whenChoiceValue"),
            when_label_value=attrs.get("whenLabelValue"),
            attrs=MappingProxyType(attrs.raw),
            line=attrs.line,
        )

    def check_references(self) -> None:
        first_object = next(iter(self.objects), None)
        for name, control in self.controls.items():
            if control.to_names or control.tag not in UNTARGETED_CONTROL_TAGS:
                continue
            if first_object is None:
                raise LabelConfigError(
                    f"<{control.tag} name={name!r}> has no toName and the config has no object "
                    "tag to attach it to",
                    tag=control.tag,
                    attribute="toName",
                    line=control.line,
                )
            self.controls[name] = dataclasses.replace(control, to_names=(first_object,))
        for control in self.controls.values():
            for to_name in control.to_names:
                if to_name not in self.objects:
                    raise LabelConfigError(
                        f"toName {to_name!r} of <{control.tag} name={control.name!r}> names no "
                        "object tag",
                        tag=control.tag,
                        attribute="toName",
                        line=control.line,
                        value=to_name,
                    )
        for tag, when_tag, line in self.when_refs:
            if when_tag not in self.names:
                raise LabelConfigError(
                    f"whenTagName {when_tag!r} names no tag",
                    tag=tag,
                    attribute="whenTagName",
                    line=line,
                    value=when_tag,
                )


class _Attrs:
    """An element's attributes, looked up case-insensitively as Label Studio does."""

    def __init__(self, tag: str, line: int, raw: dict[str, str]) -> None:
        self.tag, self.line, self.raw = tag, line, raw
        self._lower = {k.lower(): v for k, v in raw.items()}

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._lower.get(name.lower(), default)

    def fail(self, name: str, value: str | None, problem: str) -> NoReturn:
        raise LabelConfigError(
            f"<{self.tag}> attribute {name}={value!r}: {problem}",
            tag=self.tag,
            attribute=name,
            line=self.line,
            value=value,
        )

    def required(self, name: str) -> str:
        value = self.get(name)
        if not value:
            raise LabelConfigError(
                f"<{self.tag}> needs a {name} attribute",
                tag=self.tag,
                attribute=name,
                line=self.line,
            )
        return value

    def check_colours(self) -> None:
        for name, value in self.raw.items():
            if name.lower() in COLOUR_ATTRIBUTES and not is_css_colour(value):
                self.fail(
                    name,
                    value,
                    "must be a CSS colour (#rgb, #rrggbb, #rrggbbaa, rgb()/rgba()/hsl() with "
                    "numbers, or a colour name)",
                )

    def flag(self, name: str) -> bool:
        value = self.get(name, "") or ""
        if value.strip().lower() in _TRUE:
            return True
        if value.strip().lower() not in _FALSE:
            self.fail(name, value, "must be true or false")
        return False

    def positive_int(self, name: str) -> int | None:
        value = self.get(name)
        if value is None:
            return None
        if not _INT.match(value) or int(value) < 1:
            self.fail(name, value, "must be a positive integer")
        return int(value)


def _is_item(el: etree._Element) -> bool:
    return str(el.tag).lower() in ("label", "choice", "relation")


def _check_placement(tag: str, parent: str, line: int) -> None:
    allowed_parents = ITEM_TAG_PARENTS.get(tag)
    if allowed_parents is not None:
        ok = parent in allowed_parents
    elif parent in _CONTAINER_TAGS:
        ok = True
    else:
        ok = tag in _CHILD_TAGS.get(parent, frozenset())
    if not ok:
        raise LabelConfigError(f"<{tag}> is not allowed inside <{parent}>", tag=tag, line=line)


def _label_item(el: etree._Element) -> LabelItem:
    tag = _canonical_tag(el)
    line = el.sourceline or 0
    attrs = _Attrs(tag, line, {str(k): str(v) for k, v in el.attrib.items()})
    value = attrs.get("value")
    if value is None:
        value = (el.text or "").strip() or None
    if not value:
        attrs.required("value")
    return LabelItem(
        value=str(value),
        alias=attrs.get("alias"),
        hotkey=attrs.get("hotkey"),
        background=attrs.get("background"),
        category=attrs.get("category"),
        selected=attrs.flag("selected"),
        hint=attrs.get("hint"),
        max_usages=attrs.positive_int("maxUsages"),
        children=tuple(_label_item(c) for c in el if isinstance(c.tag, str)),
        line=line,
        model_index=_model_index(attrs.get("model_index")),
        html=attrs.get("html"),
    )


def _model_index(value: str | None) -> int | None:
    # Label Studio skips a model_index that is not a whole number; so do we.
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _choice(tag: str, attrs: _Attrs) -> str:
    allowed: tuple[str, ...]
    if tag == "Choices":
        allowed, default = ("single", "single-radio", "multiple"), "single"
    elif tag in LABELS_CONTROL_TAGS:
        allowed, default = ("single", "multiple"), "single"
    elif tag == "Taxonomy":
        allowed, default = ("single", "multiple"), "multiple"
    else:
        return "single"
    value = attrs.get("choice", default) or default
    if value not in allowed:
        attrs.fail("choice", value, f"must be one of {', '.join(allowed)}")
    return value


def _check_numbers(tag: str, attrs: _Attrs) -> None:
    for name in ("maxRating", "rows", "maxSubmissions"):
        attrs.positive_int(name)
    if tag != "Number":
        return
    for name in ("min", "max", "step"):
        value = attrs.get(name)
        if value is None:
            continue
        try:
            float(value)
        except ValueError:
            attrs.fail(name, value, "must be a number")
