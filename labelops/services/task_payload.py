"""The JSON every page that renders a task hands the browser: one builder, sanitized once.

The labeling, task and review pages all render a task through the same browser renderer, and task
data comes from whoever imported it, so what reaches the page is decided here, for all of them:

- HyperText HTML (the object's value resolved against the task data, as the renderer resolves
  it) is cleaned with nh3: no script, style, form, frame or event handler, and no URL other than
  http(s), mailto or a relative one (``data:`` only for an image source). Every string under the
  data field a HyperText reads is cleaned the same way, so no raw copy reaches the page either.
- HyperText with ``valueType="url"`` is never fetched by the server: an absolute http(s) address
  is shown in an ``<iframe sandbox="">`` (no scripts, no forms, no navigation of the page); any
  other value (``javascript:``, ``data:``, a path on this site, markup) is refused with a notice.
  This site's own pages refuse to be framed (``frame-ancestors 'none'``), so paths are refused.
- Label colours are checked against the CSS colour rule again (the config parser refuses bad ones;
  this covers configs stored before the rule): a colour that fails is replaced by the palette.
- Text, Paragraphs, headers, tables, label values, aliases and hints are rendered as text by the
  browser (``textContent`` / ``title``), never as HTML, so they pass unchanged. A Choice's
  ``html`` (shown instead of its value) is cleaned like HyperText.
- Bucket object URIs (``s3://``, ``gs://``, ``azure-blob://``) read by an Image, Audio or Video
  point at the task's media route instead (``labelops.services.bucket_media``), which streams
  the object to members of the project only.

Annotations and predictions are the ones the caller may show (the caller decides who sees what)
and are passed through as given.
"""

import re
from collections.abc import Mapping, Sequence
from typing import Any

import nh3

from labelops.db.models import TaskRow
from labelops.domain.label_config import (
    COLOUR_ATTRIBUTES,
    LabelConfig,
    LabelItem,
    interface_description,
)
from labelops.domain.label_config import is_css_colour as _is_css_colour
from labelops.domain.label_interface import DEFAULT_BACKGROUNDS, MEDIA_OBJECT_TAGS
from labelops.services.bucket_media import rewrite_media_urls

# Tags the browser renders; anything else the config holds is shown as a clear notice.
RENDERED_TAGS = frozenset(
    {
        "View",
        "Header",
        "Style",
        "Collapse",
        "Panel",
        "Text",
        "HyperText",
        "Paragraphs",
        "Chat",
        "Image",
        "Audio",
        "Video",
        "TimeSeries",
        "Channel",
        "Table",
        "Labels",
        "Label",
        "HyperTextLabels",
        "ParagraphLabels",
        "RectangleLabels",
        "Rectangle",
        "PolygonLabels",
        "Polygon",
        "KeyPointLabels",
        "KeyPoint",
        "EllipseLabels",
        "Ellipse",
        "BrushLabels",
        "Brush",
        "TimeSeriesLabels",
        "TimelineLabels",
        "VideoRectangle",
        "Choices",
        "Choice",
        "Taxonomy",
        "TextArea",
        "Rating",
        "Number",
        "DateTime",
        "Relations",
        "Relation",
        "Shortcut",
        "Pairwise",
        "List",
        "Ranker",
        "Bucket",
    }
)
REFUSED_URL = "only an absolute http(s) address can be shown"

_URL_SCHEMES = {"http", "https", "mailto", "data"}
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp|bmp);", re.IGNORECASE)
_CONTROL_AND_SPACE = re.compile(r"[\x00-\x20\x7f]+")
_FRAMEABLE_URL = re.compile(r"https?://[^\x00-\x20\x7f/?#\\]+(?:[/?#][^\x00-\x20\x7f]*)?", re.I)
_PURE_REFERENCE = re.compile(r"^\$([A-Za-z_][\w.\-]*)$")
_REFERENCE_IN_TEXT = re.compile(r"\$([A-Za-z_]\w*)")


def _keep_data_images_only(tag: str, attribute: str, value: str) -> str | None:
    """Returns the attribute value, or None to drop a ``data:`` URL anywhere but an image."""
    plain = _CONTROL_AND_SPACE.sub("", value)
    if plain.lower().startswith("data:") and not (
        tag == "img" and attribute == "src" and _DATA_IMAGE.match(plain)
    ):
        return None
    return value


_CLEANER = nh3.Cleaner(url_schemes=_URL_SCHEMES, attribute_filter=_keep_data_images_only)


def sanitize_html(html: str) -> str:
    """Returns ``html`` without scripts, styles, event handlers, frames or unsafe URLs."""
    return _CLEANER.clean(html)


def is_css_colour(value: Any) -> bool:
    """Returns whether ``value`` is a string holding only CSS colour syntax."""
    return isinstance(value, str) and _is_css_colour(value)


def frameable_url(value: Any) -> str | None:
    """Returns ``value`` if a sandboxed frame may show it (an absolute http(s) URL), else None."""
    if isinstance(value, str) and _FRAMEABLE_URL.fullmatch(value):
        return value
    return None


def build_task_payload(
    config: LabelConfig,
    task: TaskRow | None,
    *,
    annotations: Sequence[Mapping[str, Any]] = (),
    predictions: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Returns the JSON a page embeds to render ``task``: interface, safe data and results.

    Args:
        config: The project's parsed labeling config.
        task: The task to render, or None when there is none (the description still renders).
        annotations: The annotations (Label Studio JSON) the viewer may see.
        predictions: The predictions (Label Studio JSON) the viewer may see.

    Returns:
        ``{"description", "unsupported", "task": {"id", "data"} | None, "annotations",
        "predictions"}``. A HyperText whose value splices fields into markup carries the cleaned
        ``html`` in the description; a ``valueType="url"`` one the ``url`` to frame (or the
        ``refused`` reason).
    """
    description = _safe_description(config)
    payload_task = None
    if task is not None:
        data = dict(task.data or {})
        safe_data = _safe_data(config, data)
        media_keys = [
            key
            for obj in config.objects.values()
            if obj.tag in MEDIA_OBJECT_TAGS
            for key in _referenced_keys(obj.value, data)
        ]
        safe_data = rewrite_media_urls(safe_data, media_keys, task.project_id, task.id)
        _render_hypertext(config, description, data)
        payload_task = {"id": task.id, "data": safe_data}
    return {
        "description": description,
        "unsupported": unsupported_tags(config),
        "task": payload_task,
        "annotations": [dict(a) for a in annotations],
        "predictions": [dict(p) for p in predictions],
    }


def unsupported_tags(config: LabelConfig) -> list[str]:
    """Returns the config's tags that the labeling view cannot render, in config order."""
    found = [node.tag for node in config.layout.walk() if node.tag not in RENDERED_TAGS]
    return list(dict.fromkeys(found))


def _safe_description(config: LabelConfig) -> dict[str, Any]:
    """Returns the interface description with checked colours running on across controls.

    Palette colours continue from one control to the next, so the first labels of two tools on
    one image differ. Labels keep a configured background only if it is a CSS colour.
    """
    description = interface_description(config)
    position = 0
    for name, control in config.controls.items():

        def paint(items: tuple[LabelItem, ...], out: list[dict[str, Any]]) -> None:
            nonlocal position
            for item, json_item in zip(items, out, strict=True):
                if not is_css_colour(item.background):
                    json_item["background"] = DEFAULT_BACKGROUNDS[
                        position % len(DEFAULT_BACKGROUNDS)
                    ]
                    position += 1
                if item.html is not None:
                    json_item["html"] = sanitize_html(item.html)
                paint(item.children, json_item["children"])

        paint(control.labels, description["controls"][name]["labels"])
    _drop_bad_colours(description["layout"])
    for part in ("objects", "controls"):
        for entry in description[part].values():
            entry["attrs"] = _colour_checked(entry["attrs"])
    return description


def _drop_bad_colours(node: dict[str, Any]) -> None:
    node["attrs"] = _colour_checked(node["attrs"])
    for child in node["children"]:
        _drop_bad_colours(child)


def _colour_checked(attrs: Mapping[str, str]) -> dict[str, str]:
    return {
        k: v for k, v in attrs.items() if k.lower() not in COLOUR_ATTRIBUTES or is_css_colour(v)
    }


def _safe_data(config: LabelConfig, data: dict[str, Any]) -> dict[str, Any]:
    """Returns the task data with every field a HyperText reads cleaned (or URL-checked).

    Options that a Choices or Labels control reads from the task (``value="$field"``) may show
    markup (their ``html``), which is cleaned the same way.
    """
    out = dict(data)
    for control in config.controls.values():
        field = control.dynamic_options_field
        if field is not None and isinstance(out.get(field), list):
            out[field] = [_clean_option(option) for option in out[field]]
    for obj in config.objects.values():
        if obj.tag != "HyperText":
            continue
        is_url = obj.attrs.get("valueType") == "url"
        for key in _referenced_keys(obj.value, data):
            out[key] = _clean_tree(out[key], urls=is_url)
    return out


def _clean_option(option: Any) -> Any:
    if not isinstance(option, dict):
        return option
    cleaned = dict(option)
    if isinstance(cleaned.get("html"), str):
        cleaned["html"] = sanitize_html(cleaned["html"])
    if isinstance(cleaned.get("children"), list):
        cleaned["children"] = [_clean_option(child) for child in cleaned["children"]]
    return cleaned


def _clean_tree(value: Any, *, urls: bool) -> Any:
    if isinstance(value, str):
        if urls:
            return frameable_url(value) or ""
        return sanitize_html(value)
    if isinstance(value, list):
        return [_clean_tree(v, urls=urls) for v in value]
    if isinstance(value, dict):
        return {k: _clean_tree(v, urls=urls) for k, v in value.items()}
    return value


def _render_hypertext(
    config: LabelConfig, description: dict[str, Any], data: Mapping[str, Any]
) -> None:
    """Adds what each HyperText shows to the description, where the cleaned data is not enough.

    A ``value="$field"`` HyperText reads its field from the cleaned data, so the HTML is not sent
    twice; a value that splices fields into markup is resolved here and cleaned as a whole
    (``html``). A ``valueType="url"`` HyperText gets the ``url`` to frame or why it was refused.
    """
    for name, obj in config.objects.items():
        if obj.tag != "HyperText":
            continue
        entry = description["objects"][name]
        resolved = _resolve(obj.value, data)
        if obj.attrs.get("valueType") == "url":
            url = frameable_url(resolved)
            entry["url"] = url
            if url is None:
                entry["refused"] = REFUSED_URL
        elif not _PURE_REFERENCE.match(obj.value):
            entry["html"] = sanitize_html(_js_string(resolved))


def _referenced_keys(value: str, data: Mapping[str, Any]) -> list[str]:
    """Returns the top-level data keys a ``value`` attribute reads, as the renderer looks up."""
    match = _PURE_REFERENCE.match(value)
    names = [match.group(1)] if match else _REFERENCE_IN_TEXT.findall(value)
    keys = []
    for path in names:
        key = path if path in data else path.split(".", 1)[0]
        if key in data:
            keys.append(key)
    return keys


def _resolve(value: str, data: Mapping[str, Any]) -> Any:
    """Returns ``value`` resolved against the data exactly as the browser's resolveValue does."""
    match = _PURE_REFERENCE.match(value)
    if match:
        return _lookup(data, match.group(1))

    def substitute(found: re.Match[str]) -> str:
        resolved = _lookup(data, found.group(1))
        return found.group(0) if resolved is _MISSING else _js_string(resolved)

    return _REFERENCE_IN_TEXT.sub(substitute, value)


_MISSING = object()


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    if path in data:
        return data[path]
    current: Any = data
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return _MISSING
        current = current[part]
    return current


def _js_string(value: Any) -> str:
    """Returns ``value`` as JavaScript's ``String(value ?? "")`` writes it."""
    if value is None or value is _MISSING:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, list):
        return ",".join(_js_string(v) for v in value)
    return str(value)
