"""The JSON a labeling page embeds: the interface description, the task and its results.

HyperText fields are sanitized here with nh3 before they reach the browser, so scripts, event
handlers and ``javascript:`` links in task data never run in an annotator's session.
"""

from typing import Any

import nh3

from labelops.db.models import AnnotationRow, PredictionRow, ProjectRow, TaskRow
from labelops.domain.label_config import LabelConfig, LabelItem, interface_description
from labelops.domain.label_interface import DEFAULT_BACKGROUNDS
from labelops.web.api.serializers import annotation_json, prediction_json

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


def sanitize_html(html: str) -> str:
    """Returns ``html`` with scripts, event handlers and unsafe URLs removed."""
    return nh3.clean(html, url_schemes={"http", "https", "mailto", "data"})


def safe_task_data(config: LabelConfig, data: dict[str, Any]) -> dict[str, Any]:
    """Returns the task data with every HyperText field sanitized."""
    out = dict(data)
    for obj in config.objects.values():
        field = obj.data_field
        if obj.tag == "HyperText" and field and isinstance(out.get(field), str):
            if obj.attrs.get("valueType") != "url":
                out[field] = sanitize_html(out[field])
    return out


def distinct_colors(config: LabelConfig, description: dict[str, Any]) -> dict[str, Any]:
    """Returns the description with palette colors running on across controls.

    The description numbers palette colors per control, so the first label of every control gets
    the same color; on one image or text that makes different tools indistinguishable. Labels
    with a ``background`` in the config keep it.
    """
    position = 0
    for name, control in config.controls.items():
        described = description["controls"][name]["labels"]

        def paint(items: tuple[LabelItem, ...], out: list[dict[str, Any]]) -> None:
            nonlocal position
            for item, json_item in zip(items, out, strict=True):
                if not item.background:
                    json_item["background"] = DEFAULT_BACKGROUNDS[
                        position % len(DEFAULT_BACKGROUNDS)
                    ]
                    position += 1
                paint(item.children, json_item["children"])

        paint(control.labels, described)
    return description


def unsupported_tags(config: LabelConfig) -> list[str]:
    """Returns the config's tags that the labeling view cannot render, in config order."""
    found = [node.tag for node in config.layout.walk() if node.tag not in RENDERED_TAGS]
    return list(dict.fromkeys(found))


def page_payload(
    project: ProjectRow,
    config: LabelConfig,
    task: TaskRow | None,
    *,
    annotation: AnnotationRow | None,
    predictions: list[PredictionRow],
) -> dict[str, Any]:
    """Returns everything the labeling page's script needs, JSON-ready."""
    return {
        "project": {
            "id": project.id,
            "title": project.title,
            "show_skip_button": project.show_skip_button,
        },
        "description": distinct_colors(config, interface_description(config)),
        "unsupported": unsupported_tags(config),
        "task": None
        if task is None
        else {"id": task.id, "data": safe_task_data(config, dict(task.data or {}))},
        "annotation": annotation_json(annotation) if annotation is not None else None,
        "predictions": [prediction_json(p) for p in predictions],
    }
