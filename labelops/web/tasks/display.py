"""How task data and result items read on a page (template filters; presentation only)."""

from typing import Any

from flask.sansio.app import App

from labelops.domain.label_config import LabelConfig
from labelops.domain.label_interface import LABEL_KEYS
from labelops.services.data_manager import TaskDetail
from labelops.services.task_payload import build_task_payload
from labelops.web.api.serializers import annotation_json, prediction_json

_URL_PREFIXES = ("http://", "https://", "/")


def short_value(value: Any, width: int = 80) -> str:
    """Returns a one-line, truncated rendering of a task data value."""
    if isinstance(value, str):
        text = value.rsplit("/", 1)[-1] if value.startswith(_URL_PREFIXES) else value
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def result_summary(item: dict[str, Any]) -> str:
    """Returns a result item's value in words: its choices, labels, text, rating or geometry."""
    value = item.get("value") or {}
    parts: list[str] = []
    for key in LABEL_KEYS:
        if key in value:
            labels = value[key]
            flat = [" / ".join(x) if isinstance(x, list) else str(x) for x in labels]
            parts.append(", ".join(flat))
    if "text" in value and item.get("type") != "labels":
        text = value["text"]
        parts.append(" | ".join(text) if isinstance(text, list) else str(text))
    if "rating" in value:
        parts.append(f"{value['rating']} ★")
    if "number" in value:
        parts.append(str(value["number"]))
    if "datetime" in value:
        parts.append(str(value["datetime"]))
    if "start" in value and "end" in value:
        quote = f" “{short_value(value['text'], 40)}”" if isinstance(value.get("text"), str) else ""
        parts.append(f"{value['start']}-{value['end']}{quote}")
    if "x" in value and "y" in value:
        geometry = f"x {value['x']:.1f}%, y {value['y']:.1f}%"
        if "width" in value:
            geometry += f", {value['width']:.1f} x {value.get('height', 0):.1f}%"
        parts.append(geometry)
    if "points" in value:
        parts.append(f"{len(value['points'])} points")
    if "rle" in value:
        parts.append("brush mask")
    if item.get("type") == "relation":
        parts.append(f"{item.get('from_id')} → {item.get('to_id')}")
    return " · ".join(p for p in parts if p) or "(empty)"


def detail_payload(config: LabelConfig, detail: TaskDetail | None) -> dict[str, Any] | None:
    """Returns the task payload (shared builder) for a page showing ``detail``, or None."""
    if detail is None:
        return None
    return build_task_payload(
        config,
        detail.task,
        annotations=[annotation_json(a) for a in detail.annotations],
        predictions=[prediction_json(p) for p in detail.predictions],
    )


def register_filters(app: App) -> None:
    """Adds the display filters to the app's templates."""
    app.add_template_filter(short_value, "short_value")
    app.add_template_filter(result_summary, "result_summary")
