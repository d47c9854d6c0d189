"""The JSON a labeling page embeds: the shared task payload plus the page's own fields.

Sanitizing and colours live in ``labelops.services.task_payload``, which the task and review
pages use too; this module only adds what the labeling page needs on top (the project's buttons
and the annotator's own annotation).
"""

from typing import Any

from labelops.db.models import AnnotationRow, PredictionRow, ProjectRow, TaskRow
from labelops.domain.label_config import LabelConfig
from labelops.services.task_payload import build_task_payload
from labelops.web.api.serializers import annotation_json, prediction_json


def page_payload(
    project: ProjectRow,
    config: LabelConfig,
    task: TaskRow | None,
    *,
    annotation: AnnotationRow | None,
    predictions: list[PredictionRow],
    interactive_backend: int | None = None,
) -> dict[str, Any]:
    """Returns everything the labeling page's script needs, JSON-ready.

    ``ml_backend`` is ``{"id", "interactive": true}`` when the project has an interactive ML
    backend (the page then offers Auto-annotate), else null.
    """
    own = annotation_json(annotation) if annotation is not None else None
    payload = build_task_payload(
        config,
        task,
        annotations=[own] if own is not None else [],
        predictions=[prediction_json(p) for p in predictions],
    )
    payload["project"] = {
        "id": project.id,
        "title": project.title,
        "show_skip_button": project.show_skip_button,
    }
    payload["annotation"] = own
    payload["ml_backend"] = (
        {"id": interactive_backend, "interactive": True} if interactive_backend else None
    )
    return payload
