"""Consensus rows: one row per task whose annotations agree on a result (the dataset's rows)."""

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from labelops.db.models import ProjectRow
from labelops.domain.agreement import CLASSIFICATION_TYPES, control_value
from labelops.domain.consensus import consensus_result
from labelops.domain.label_config import parse_label_config
from labelops.services.agreement import controls_of
from labelops.services.tasks import iter_task_records


def iter_consensus_rows(session: Session, project: ProjectRow) -> Iterator[dict[str, Any]]:
    """Yields one dataset row per task whose annotations give a consensus, in task id order.

    Tasks are read lazily (the session stays open while the rows are consumed). Columns:
    ``task_id``, ``data`` (canonical JSON), ``label`` (the first classification control's value as
    text, or None: also None when that control's tie is left unlabeled), ``result`` (JSON),
    ``method``, ``num_annotators``, ``agreement``, ``tie``, ``tie_break`` and ``incomplete`` (see
    :mod:`labelops.domain.consensus`; the overlap is the project's ``maximum_annotations``).
    """
    controls = controls_of(parse_label_config(project.label_config))
    first = next((n for n, t in controls.items() if t in CLASSIFICATION_TYPES), None)
    overlap = project.maximum_annotations
    for task in iter_task_records(session, project.id, only_annotated=True):
        label = consensus_result(task, controls, overlap=overlap)
        if label is None:
            continue
        value = control_value(label.result, first) if first else None
        yield {
            "task_id": task.id,
            "data": canonical_json(dict(task.data)),
            "label": _label_text(value),
            "result": canonical_json(label.result),
            "method": label.method,
            "num_annotators": label.num_annotators,
            "agreement": label.agreement,
            "tie": label.tie,
            "tie_break": label.tie_break,
            "incomplete": label.incomplete,
        }


def _label_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        return "|".join(str(v) for v in value)
    return str(value)


def canonical_json(obj: Any) -> str:
    """Returns the object as JSON with sorted keys and no spaces: equal data, equal text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
