"""Label Studio's project settings that labelops keeps and returns but does not act on.

Label Studio's clients set these when they create or update a project (its SDK sends several by
default) and read them back. labelops stores each in ``ProjectRow.ls_settings`` and answers its
value (or Label Studio's default) in the project JSON; none of them changes what labelops does.
``start_training_on_annotation_update`` is Label Studio's alias of
``min_annotations_to_start_training`` (true is 1, false is 0), as in its serializer.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AnnotationRow, ProjectRow, TaskRow
from labelops.domain.errors import InvalidInputError

SKIP_QUEUE_MODES = ("REQUEUE_FOR_ME", "REQUEUE_FOR_OTHERS", "IGNORE_SKIPPED")

# name -> (Label Studio's default, the Python type a value must have)
KEPT: dict[str, tuple[Any, type | tuple[type, ...]]] = {
    "is_published": (False, bool),
    "is_draft": (False, bool),
    "enable_empty_annotation": (True, bool),
    "show_annotation_history": (False, bool),
    "show_collab_predictions": (True, bool),
    "show_ground_truth_first": (False, bool),
    "show_overlap_first": (False, bool),
    "annotator_evaluation_enabled": (False, bool),
    "evaluate_predictions_automatically": (False, bool),
    "reveal_preannotations_interactively": (False, bool),
    "min_annotations_to_start_training": (0, int),
    "overlap_cohort_percentage": (100, int),
    "control_weights": ({}, dict),
    "skip_queue": ("REQUEUE_FOR_OTHERS", str),
    "pinned_at": (None, (str, type(None))),
}
ALIASES = {"start_training_on_annotation_update": "min_annotations_to_start_training"}
NAMES = frozenset(KEPT) | frozenset(ALIASES)


def settings_of(project: ProjectRow) -> dict[str, Any]:
    """Returns every kept setting of the project: its stored value, else Label Studio's default."""
    stored = project.ls_settings or {}
    out = {name: stored.get(name, default) for name, (default, _) in KEPT.items()}
    out["start_training_on_annotation_update"] = bool(out["min_annotations_to_start_training"])
    return out


def apply_settings(project: ProjectRow, fields: Mapping[str, Any]) -> None:
    """Stores the kept settings among ``fields`` on the project (other names are left alone).

    Raises:
        ValueError: A setting has a value of the wrong type or out of range (named).
    """
    given = {ALIASES.get(k, k): _alias_value(k, v) for k, v in fields.items() if k in NAMES}
    if not given:
        return
    for name, value in given.items():
        _check(name, value)
    project.ls_settings = {**(project.ls_settings or {}), **given}


def _alias_value(name: str, value: Any) -> Any:
    if name in ALIASES and isinstance(value, bool):
        return int(value)
    return value


def _check(name: str, value: Any) -> None:
    _, kind = KEPT[name]
    is_bool = isinstance(value, bool)
    if not isinstance(value, kind) or (kind is int and is_bool):
        expected = (
            {bool: "true or false", int: "an integer", dict: "an object", str: "a string"}[kind]
            if isinstance(kind, type)
            else "an ISO 8601 date-time or null"
        )
        raise InvalidInputError(f"{name} must be {expected}, got {value!r}")
    if name == "overlap_cohort_percentage" and isinstance(value, int) and not 0 <= value <= 100:
        raise InvalidInputError(f"overlap_cohort_percentage must be from 0 to 100, got {value}")
    if (
        name == "min_annotations_to_start_training"
        and isinstance(value, int)
        and not 0 <= value <= 1_000_000_000
    ):
        raise InvalidInputError(f"min_annotations_to_start_training must be 0 or more, got {value}")
    if name == "skip_queue" and value not in SKIP_QUEUE_MODES:
        raise InvalidInputError(
            f"skip_queue must be one of {', '.join(SKIP_QUEUE_MODES)}, got {value!r}"
        )
    if name == "pinned_at" and value is not None:
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(
                f"pinned_at must be an ISO 8601 date-time, got {value!r}"
            ) from None


def label_studio_counts(
    session: Session, projects: Sequence[ProjectRow], user_id: int
) -> dict[int, dict[str, int]]:
    """Returns, per project, the counters Label Studio's project JSON has beyond labelops' own.

    ``ground_truth_number`` and ``skipped_annotations_number`` count the project's ground-truth
    and cancelled annotations, ``useful_annotation_number`` the finished ones that are not
    ground truth; ``queue_total`` and
    ``queue_done`` are the user's queue as Label Studio counts it: the unfinished tasks plus the
    finished ones the user annotated, and the tasks the user annotated (skips count as done
    unless ``skip_queue`` requeues them for the user). Two grouped queries for all projects.
    """
    ids = [p.id for p in projects]
    if not ids:
        return {}
    a = AnnotationRow
    rows = session.execute(
        sa.select(
            a.project_id,
            sa.func.sum(sa.case((a.ground_truth, 1), else_=0)),
            sa.func.sum(sa.case((a.was_cancelled, 1), else_=0)),
        )
        .where(a.project_id.in_(ids))
        .group_by(a.project_id)
    ).all()
    per_project = {pid: (int(gt or 0), int(skipped or 0)) for pid, gt, skipped in rows}
    distinct_tasks = sa.func.count(sa.distinct(a.task_id))
    mine = session.execute(
        sa.select(
            a.project_id,
            distinct_tasks,
            sa.func.count(sa.distinct(sa.case((a.was_cancelled.is_(False), a.task_id)))),
            sa.func.count(sa.distinct(sa.case((TaskRow.is_labeled, a.task_id)))),
        )
        .join(TaskRow, TaskRow.id == a.task_id)
        .where(a.project_id.in_(ids), a.completed_by_id == user_id)
        .group_by(a.project_id)
    ).all()
    own = {pid: (int(n), int(finished), int(labeled)) for pid, n, finished, labeled in mine}
    out: dict[int, dict[str, int]] = {}
    for project in projects:
        ground_truth, skipped = per_project.get(project.id, (0, 0))
        touched, finished, labeled_mine = own.get(project.id, (0, 0, 0))
        requeue_mine = settings_of(project)["skip_queue"] == "REQUEUE_FOR_ME"
        out[project.id] = {
            "ground_truth_number": ground_truth,
            "skipped_annotations_number": skipped,
            "useful_annotation_number": max(project.num_annotations - ground_truth, 0),
            "queue_total": project.num_tasks - project.num_labeled_tasks + labeled_mine,
            "queue_done": finished if requeue_mine else touched,
        }
    return out
