"""Flat records (Label Studio's JSON_MIN shape): task data plus one prettified value per control.

These records feed JSON_MIN, CSV, TSV and the per-control columns of PARQUET and HF_DATASET.

Where we differ from Label Studio's converter:
    * Several choices (one result with several values, or several results of one Choices
      control) become a flat list of strings; Label Studio writes ``{"choices": [...]}`` for
      that case, so a column holds a string for one choice and an object for several.
    * A task whose annotations were all cancelled or filtered out still gives its one data-only
      record when it is exported at all; Label Studio silently loses such tasks.
    * ``annotator`` is the user id, or the email for an annotator imported from elsewhere.
    * Relations are kept. A relation result carries no ``from_name``, so Label Studio's converter
      drops it (an empty ``relations`` column in CSV, nothing in JSON_MIN); here each relation
      goes under the ``<Relations>`` control's name (``relations`` when the config has none) as
      ``{"from_id", "to_id", "direction", "labels", "from_labels", "to_labels"}``: the two region
      ids, the relation's labels, and the labels of the regions it links.
"""

import copy
from collections.abc import Iterator
from typing import Any

from labelops.domain.formats.base import LabelConfig
from labelops.domain.formats.options import ExportOptions, select_annotations
from labelops.domain.records import Annotation, ResultItem, Task

META_COLUMNS = ("annotator", "annotation_id", "created_at", "updated_at", "lead_time")
RELATIONS = "relations"


def control_types(config: LabelConfig) -> dict[str, str]:
    """Returns ``{control name: tag as written in the config}`` (``{"sentiment": "Choices"}``)."""
    return {name: str(ctl.tag) for name, ctl in config.controls.items()}


def outputs(result: list[ResultItem], types: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Returns the result's values grouped by control, each a copy with ``type`` and image sizes.

    Items whose ``from_name`` is not a control of the config are skipped, as Label Studio does;
    relations (which have no ``from_name``) go under the ``<Relations>`` control, see
    :func:`relation_value`.
    """
    grouped: dict[str, list[dict[str, Any]]] = {}
    relations = next((n for n, tag in types.items() if tag == "Relations"), RELATIONS)
    for item in result:
        if item.get("type") == "relation":
            grouped.setdefault(relations, []).append(relation_value(item, result))
            continue
        name = item.get("from_name")
        if name not in types:
            continue
        value = copy.deepcopy(item.get("value") or {})
        value["type"] = types[name]
        for key in ("original_width", "original_height"):
            if key in item:
                value[key] = item[key]
        grouped.setdefault(name, []).append(value)
    return grouped


def relation_value(item: ResultItem, result: list[ResultItem]) -> dict[str, Any]:
    """Returns a relation's flat value: region ids, direction, its labels, the regions' labels."""
    region_labels: dict[Any, list[str]] = {}
    for other in result:
        value = other.get("value")
        if "id" in other and isinstance(value, dict):
            for key, labels in value.items():
                if key.endswith("labels") and isinstance(labels, list):
                    region_labels.setdefault(other["id"], []).extend(map(str, labels))
    return {
        "from_id": item.get("from_id"),
        "to_id": item.get("to_id"),
        "direction": item.get("direction", "right"),
        "labels": list(item.get("labels") or []),
        "from_labels": region_labels.get(item.get("from_id"), []),
        "to_labels": region_labels.get(item.get("to_id"), []),
        "type": "Relations",
    }


def prettify(values: list[dict[str, Any]]) -> Any:
    """Returns the JSON_MIN value of one control's result values.

    One choice or one text becomes a string; several choices become a list of strings; anything
    else (spans, shapes, ratings...) becomes a list of the value dicts without their ``type``.
    """
    tag = str(values[0].get("type", "")).lower() if values else ""
    stripped = [{k: v for k, v in value.items() if k != "type"} for value in values]
    if tag == "choices":
        choices = [c for value in stripped for c in value.get("choices", [])]
        return choices[0] if len(choices) == 1 else choices
    if tag == "textarea" and len(stripped) == 1 and len(stripped[0].get("text", [])) == 1:
        return stripped[0]["text"][0]
    return stripped


def annotator_of(annotation: Annotation) -> int | str | None:
    """Returns the annotator column value: the user id, else the imported annotator's email."""
    if annotation.completed_by is not None:
        return annotation.completed_by
    return annotation.completed_by_email


def min_record(
    task: Task,
    annotation: Annotation | None,
    types: dict[str, str],
    rename: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Returns one JSON_MIN record: data, ``id``, prettified controls and annotation metadata.

    Args:
        task: The task.
        annotation: The annotation, or None for a task's data-only record.
        types: ``{control name: tag}`` from :func:`control_types`.
        rename: Column names for data keys (CSV renames keys that collide with a control).
    """
    rename = rename or {}
    record: dict[str, Any] = {rename.get(k, k): v for k, v in task.data.items()}
    record["id"] = task.id
    if annotation is None:
        record.update(dict.fromkeys(META_COLUMNS))
        return record
    for name, values in outputs(annotation.result, types).items():
        record[name] = prettify(values)
    record["annotator"] = annotator_of(annotation)
    record["annotation_id"] = annotation.id
    record["created_at"] = _iso(annotation.created_at)
    record["updated_at"] = _iso(annotation.updated_at)
    record["lead_time"] = annotation.lead_time
    return record


def iter_min_records(
    task: Task,
    config: LabelConfig,
    options: ExportOptions,
    types: dict[str, str] | None = None,
    rename: dict[str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yields a task's JSON_MIN records: one per selected annotation, or one data-only record.

    Nothing is yielded for a task with no selected annotation unless
    ``options.download_all_tasks`` is set.
    """
    types = types if types is not None else control_types(config)
    selected = select_annotations(task, options)
    if not selected:
        if options.download_all_tasks:
            yield min_record(task, None, types, rename)
        return
    for annotation in selected:
        yield min_record(task, annotation, types, rename)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
