"""What of a project a member may see: blind labeling hides other annotators' work.

Every entry point (pages, API) filters through these functions, so a rule written here holds
everywhere. Whether the user may open the project at all is :func:`policies.authorize`'s to say.
"""

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from labelops.db.models import AnnotationRevisionRow, AnnotationRow, ProjectRow, TaskRow, UserRow
from labelops.domain.permissions import Role
from labelops.domain.records import Task
from labelops.services import annotations as annotation_service
from labelops.services.dashboard import Dashboard, project_dashboard
from labelops.services.data_manager import TaskDetail, task_detail
from labelops.services.errors import PermissionDeniedError
from labelops.services.projects import role_of
from labelops.services.tasks import TaskFilter

_SEE_ALL_ROLES = (Role.MANAGER, Role.REVIEWER)

__all__ = [
    "annotation_scope",
    "can_see_annotation",
    "check_agreement_visible",
    "check_task_filter",
    "visible_annotations",
    "visible_annotators",
    "visible_dashboard",
    "visible_history",
    "visible_records",
    "visible_task_detail",
]


def annotation_scope(session: Session, user: UserRow, project: ProjectRow) -> int | None:
    """Returns None when the user sees every annotation of the project, else the only author id.

    Blind labeling: annotators see their own annotations (and every prediction) but not other
    annotators' work, unless the project sets ``show_annotations_to_annotators``. Reviewers,
    managers and administrators see everything.
    """
    if user.is_admin or project.show_annotations_to_annotators:
        return None
    if role_of(session, user, project.id) in _SEE_ALL_ROLES:
        return None
    return user.id


def visible_annotations(
    session: Session, user: UserRow, project: ProjectRow, task: TaskRow
) -> list[AnnotationRow]:
    """Returns the task's annotations the user may see, oldest first."""
    rows = annotation_service.task_annotations(session, task.id)
    author = annotation_scope(session, user, project)
    return rows if author is None else [a for a in rows if a.completed_by_id == author]


def visible_history(
    session: Session, user: UserRow, project: ProjectRow, task: TaskRow
) -> list[AnnotationRevisionRow]:
    """Returns the changes to the task's annotations the user may see, oldest first.

    A blind annotator sees the history of their own annotations (including a reviewer's changes
    to them) and their own actions, never the steps of other annotators' annotations.
    """
    revisions = annotation_service.history(session, task.id)
    author = annotation_scope(session, user, project)
    if author is None:
        return revisions
    own = {
        a.id
        for a in annotation_service.task_annotations(session, task.id)
        if a.completed_by_id == author
    }
    return [r for r in revisions if r.annotation_id in own or r.changed_by_id == author]


def visible_task_detail(
    session: Session, user: UserRow, project: ProjectRow, task: TaskRow
) -> TaskDetail:
    """Returns the task page's detail (annotations, predictions, history) the user may see."""
    detail = task_detail(session, task)
    author = annotation_scope(session, user, project)
    if author is None:
        return detail
    annotations = [a for a in detail.annotations if a.completed_by_id == author]
    own = {a.id for a in annotations}
    revisions = [r for r in detail.revisions if r.annotation_id in own or r.changed_by_id == author]
    names = {a.completed_by_id for a in annotations} | {a.reviewed_by_id for a in annotations}
    names |= {r.changed_by_id for r in revisions}
    emails = {k: v for k, v in detail.emails.items() if k in names}
    return dataclasses.replace(detail, annotations=annotations, revisions=revisions, emails=emails)


def visible_records(
    session: Session, user: UserRow, project: ProjectRow, records: Sequence[Task]
) -> list[Task]:
    """Returns task records with only the annotations the user may see (predictions stay)."""
    author = annotation_scope(session, user, project)
    if author is None:
        return list(records)
    return [
        dataclasses.replace(
            r, annotations=tuple(a for a in r.annotations if a.completed_by == author)
        )
        for r in records
    ]


def can_see_annotation(
    session: Session, user: UserRow, project: ProjectRow, annotation: AnnotationRow
) -> bool:
    """Returns True when the user may see this annotation (its author, or a see-all viewer)."""
    author = annotation_scope(session, user, project)
    return author is None or annotation.completed_by_id == author


def check_task_filter(
    session: Session, user: UserRow, project: ProjectRow, flt: TaskFilter
) -> None:
    """Refuses a blind annotator's task filter that names another annotator.

    Raises:
        PermissionDeniedError: The user sees only their own work and filters by someone else's.
    """
    author = annotation_scope(session, user, project)
    if author is not None and flt.annotator_id not in (None, author):
        raise PermissionDeniedError(
            f"annotators of project {project.id} may filter tasks only by their own "
            "annotations (blind labeling)"
        )


def visible_annotators(
    session: Session, user: UserRow, project: ProjectRow, annotators: dict[int, list[str]]
) -> dict[int, list[str]]:
    """Returns task id -> annotator emails, keeping only the user's own for a blind annotator."""
    if annotation_scope(session, user, project) is None:
        return annotators
    return {
        task_id: [e for e in emails if e == user.email] for task_id, emails in annotators.items()
    }


def visible_dashboard(
    session: Session, user: UserRow, project: ProjectRow, *, now: datetime
) -> Dashboard:
    """Returns the dashboard figures the user may see.

    A blind annotator's dashboard counts only their own annotations (progress, throughput,
    labels) and has no agreement report: throughput names the other annotators, label counts
    and per-task agreement tell what they chose.
    """
    author = annotation_scope(session, user, project)
    return project_dashboard(session, project.id, now=now, author_id=author)


def check_agreement_visible(session: Session, user: UserRow, project: ProjectRow) -> None:
    """Refuses the agreement report to a blind annotator (it compares annotators' work).

    Raises:
        PermissionDeniedError: The user sees only their own work in this project.
    """
    if annotation_scope(session, user, project) is not None:
        raise PermissionDeniedError(
            f"annotators of project {project.id} may not see its agreement report, which "
            "compares annotators' work (blind labeling); reviewers and managers may"
        )
