"""The objects a webhook event carries, in the keys of Label Studio's webhook serializers."""

from typing import Any

from labelops.clock import iso
from labelops.db.models import AnnotationRow, ProjectRow, TaskRow


def project_payload(project: ProjectRow) -> dict[str, Any]:
    """Returns the project with its counters, as Label Studio's webhooks send it."""
    return {
        "id": project.id,
        "title": project.title,
        "description": project.description,
        "label_config": project.label_config,
        "expert_instruction": project.expert_instruction,
        "show_instruction": project.show_instruction,
        "show_skip_button": project.show_skip_button,
        "color": project.color,
        "maximum_annotations": project.maximum_annotations,
        "model_version": project.model_version,
        "sampling": project.sampling,
        "organization": project.organization_id,
        "created_by": project.created_by_id,
        "created_at": iso(project.created_at),
        "updated_at": iso(project.updated_at),
        "task_number": project.num_tasks,
        "finished_task_number": project.num_labeled_tasks,
        "total_predictions_number": project.num_predictions,
        "total_annotations_number": project.num_annotations,
        "num_tasks_with_annotations": project.num_labeled_tasks,
        "useful_annotation_number": project.num_annotations,
    }


def task_payload(task: TaskRow, overlap: int) -> dict[str, Any]:
    """Returns the task as Label Studio's webhooks send it (``overlap``: the project's)."""
    return {
        "id": task.id,
        "data": task.data,
        "meta": task.meta or {},
        "created_at": iso(task.created_at),
        "updated_at": iso(task.updated_at),
        "is_labeled": task.is_labeled,
        "overlap": overlap,
        "inner_id": task.id,
        "total_annotations": task.total_annotations,
        "cancelled_annotations": task.cancelled_annotations,
        "total_predictions": task.total_predictions,
        "project": task.project_id,
        "file_upload": None,
    }


def annotation_payload(annotation: AnnotationRow) -> dict[str, Any]:
    """Returns the annotation as Label Studio's webhooks send it."""
    return {
        "id": annotation.id,
        "result": annotation.result,
        "was_cancelled": annotation.was_cancelled,
        "ground_truth": annotation.ground_truth,
        "created_at": iso(annotation.created_at),
        "updated_at": iso(annotation.updated_at),
        "lead_time": annotation.lead_time,
        "prediction": {},
        "result_count": len(annotation.result or []),
        "task": annotation.task_id,
        "project": annotation.project_id,
        "completed_by": annotation.completed_by_id,
    }


def review_payload(annotation: AnnotationRow) -> dict[str, Any]:
    """Returns a reviewer's decision on the annotation.

    A review is the annotation's review state here, so it carries the annotation's id.
    """
    return {
        "id": annotation.id,
        "annotation": annotation.id,
        "created_by": annotation.reviewed_by_id,
        "accepted": annotation.review_state == "accepted",
        "rejected": annotation.review_state == "rejected",
        "comment": annotation.review_comment,
        "updated_at": iso(annotation.updated_at),
    }
