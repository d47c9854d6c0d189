"""Rows to Label Studio's JSON shapes (what its SDK and scripts read)."""

from collections.abc import Mapping
from typing import Any

from labelops.clock import iso
from labelops.db.models import (
    AnnotationRow,
    PredictionRow,
    ProjectRow,
    TaskRow,
    UserRow,
)
from labelops.domain.label_config import LabelConfig
from labelops.services.project_settings import settings_of


def user_json(user: UserRow) -> dict[str, Any]:
    """Returns a user as Label Studio's user JSON (never the password hash)."""
    return {
        "id": user.id,
        "email": user.email,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_superuser": user.is_admin,
        "is_active": user.is_active,
        "is_imported": user.is_imported,
        "can_create_projects": user.can_create_projects or user.is_admin,
        "date_joined": iso(user.created_at),
    }


def user_simple_json(user: UserRow | None) -> dict[str, Any] | None:
    """Returns a user as Label Studio's short user JSON (a project's ``created_by``)."""
    if user is None:
        return None
    return {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "avatar": None,
    }


def initials(user: UserRow) -> str:
    """Returns the user's initials as Label Studio shows them (names, else the email's start)."""
    if user.first_name or user.last_name:
        return (user.first_name[:1] + user.last_name[:1]).lower()
    return (user.username or user.email)[:2].lower()


def project_json(
    project: ProjectRow,
    config: LabelConfig | None = None,
    *,
    creator: UserRow | None = None,
    counts: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Returns a project as Label Studio's project JSON, with its counters.

    Args:
        project: The project.
        config: Its parsed config, to add ``parsed_label_config`` and the config flags.
        creator: Its creator, shown as Label Studio's short user JSON (else only the id).
        counts: The counters of ``project_settings.label_studio_counts`` for the caller.
    """
    out: dict[str, Any] = {
        "id": project.id,
        "title": project.title,
        "description": project.description,
        "label_config": project.label_config,
        "expert_instruction": project.expert_instruction,
        "show_instruction": project.show_instruction,
        "show_skip_button": project.show_skip_button,
        "show_annotations_to_annotators": project.show_annotations_to_annotators,
        "maximum_annotations": project.maximum_annotations,
        "sampling": project.sampling,
        "model_version": project.model_version,
        "color": project.color,
        "organization": project.organization_id,
        "created_by": user_simple_json(creator)
        if creator is not None
        else ({"id": project.created_by_id} if project.created_by_id else None),
        "created_at": iso(project.created_at),
        "updated_at": iso(project.updated_at),
        "task_number": project.num_tasks,
        "num_tasks_with_annotations": project.num_labeled_tasks,
        "total_annotations_number": project.num_annotations,
        "total_predictions_number": project.num_predictions,
        "finished_task_number": project.num_labeled_tasks,
        **settings_of(project),
        **(counts or {}),
    }
    if config is not None:
        out["config_has_control_tags"] = bool(config.controls)
        out["parsed_label_config"] = {
            name: {
                "type": control.tag,
                "to_name": list(control.to_names),
                "inputs": [
                    {"type": config.objects[o].tag, "value": config.objects[o].data_field}
                    for o in control.to_names
                    if o in config.objects
                ],
                "labels": list(control.label_values()),
            }
            for name, control in config.controls.items()
        }
    return out


def annotation_json(annotation: AnnotationRow) -> dict[str, Any]:
    """Returns an annotation as Label Studio's annotation JSON."""
    return {
        "id": annotation.id,
        "task": annotation.task_id,
        "project": annotation.project_id,
        "completed_by": annotation.completed_by_id,
        "result": annotation.result,
        "was_cancelled": annotation.was_cancelled,
        "ground_truth": annotation.ground_truth,
        "lead_time": annotation.lead_time,
        "review_state": annotation.review_state,
        "review_comment": annotation.review_comment,
        "reviewed_by": annotation.reviewed_by_id,
        "created_at": iso(annotation.created_at),
        "updated_at": iso(annotation.updated_at),
    }


def prediction_json(prediction: PredictionRow) -> dict[str, Any]:
    """Returns a prediction as Label Studio's prediction JSON."""
    return {
        "id": prediction.id,
        "task": prediction.task_id,
        "project": prediction.project_id,
        "model_version": prediction.model_version,
        "score": prediction.score,
        "result": prediction.result,
        "created_at": iso(prediction.created_at),
    }


def task_json(
    task: TaskRow,
    annotations: list[AnnotationRow] | None = None,
    predictions: list[PredictionRow] | None = None,
) -> dict[str, Any]:
    """Returns a task as Label Studio's task JSON (annotations/predictions when given)."""
    out: dict[str, Any] = {
        "id": task.id,
        "project": task.project_id,
        "data": task.data,
        "meta": task.meta or {},
        "state": task.state,
        "is_labeled": task.is_labeled,
        "priority": task.priority,
        "total_annotations": task.total_annotations,
        "cancelled_annotations": task.cancelled_annotations,
        "total_predictions": task.total_predictions,
        "prediction_score": task.prediction_score,
        "inner_id": task.id,
        # Comments are counted per annotation (/api/comments), not yet on tasks; labelops keeps no
        # file-upload records: Label Studio's empty values.
        "comment_count": 0,
        "unresolved_comment_count": 0,
        "last_comment_updated_at": None,
        "comment_authors": [],
        "file_upload": None,
        "created_at": iso(task.created_at),
        "updated_at": iso(task.updated_at),
    }
    if annotations is not None:
        out["annotations"] = [annotation_json(a) for a in annotations]
    if predictions is not None:
        out["predictions"] = [prediction_json(p) for p in predictions]
    return out
