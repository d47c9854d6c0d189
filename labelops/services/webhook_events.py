"""Webhook events: written to the outbox by the services, in the transaction of the change.

Every service that changes something a webhook can be told about (annotations, reviews, tasks,
projects) calls one of the ``*_event`` functions below inside its own transaction: the event is
a ``webhook_deliveries`` row per interested webhook, committed or rolled back with the change.
Nothing is sent here; the background worker delivers the rows (``webhook_delivery``).
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.clock import utcnow
from labelops.db.models import AnnotationRow, ProjectRow, TaskRow, WebhookDeliveryRow, WebhookRow
from labelops.domain.webhooks import wants
from labelops.services.ml_backend_queue import queue_annotation_event
from labelops.services.webhook_payloads import (
    annotation_payload,
    project_payload,
    review_payload,
    task_payload,
)

TASKS_PER_EVENT = 1_000
"""Tasks listed in one TASKS_CREATED / TASKS_DELETED event; a larger change sends several."""


def _interested(
    session: Session, organization_id: int, project_id: int | None, action: str
) -> list[WebhookRow]:
    query = sa.select(WebhookRow).where(
        WebhookRow.organization_id == organization_id, WebhookRow.is_active.is_(True)
    )
    scope: sa.ColumnElement[bool] = WebhookRow.project_id.is_(None)
    if project_id is not None:
        scope = sa.or_(scope, WebhookRow.project_id == project_id)
    return [
        w
        for w in session.scalars(query.where(scope).order_by(WebhookRow.id))
        if wants(
            send_for_all_actions=w.send_for_all_actions,
            actions=w.actions or [],
            project_scoped=w.project_id is not None,
            action=action,
        )
    ]


def emit(
    session: Session,
    organization_id: int,
    project: ProjectRow | None,
    action: str,
    payloads: Callable[[], Iterable[dict[str, Any]]],
) -> int:
    """Writes one outbox row per event and interested webhook; returns how many.

    Args:
        session: The session of the change (the rows commit or roll back with it).
        organization_id: The organization the change happened in.
        project: The project it happened in (its JSON is added to each payload), if any.
        action: The event (``labelops.domain.webhooks.ACTIONS``).
        payloads: Builds each event's payload; called only when a webhook wants the event.
    """
    webhooks = _interested(
        session, organization_id, project.id if project is not None else None, action
    )
    if not webhooks:
        return 0
    now = utcnow()
    written = 0
    for payload in payloads():
        if project is not None:
            payload = {**payload, "project": project_payload(project)}
        for webhook in webhooks:
            body = {"action": action, **payload} if webhook.send_payload else {"action": action}
            session.add(
                WebhookDeliveryRow(
                    webhook_id=webhook.id,
                    action=action,
                    payload=body,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            written += 1
    session.flush()
    return written


def project_event(session: Session, project: ProjectRow, action: str) -> None:
    """Writes PROJECT_CREATED / PROJECT_UPDATED / PROJECT_DELETED for the project."""
    if action == "PROJECT_DELETED":
        payload: dict[str, Any] = {"project": {"id": project.id}}
        emit(session, project.organization_id, None, action, lambda: [payload])
    elif action == "PROJECT_CREATED":
        emit(
            session,
            project.organization_id,
            None,
            action,
            lambda: [{"project": project_payload(project)}],
        )
    else:
        emit(session, project.organization_id, project, action, lambda: [{}])


def annotation_event(session: Session, annotation: AnnotationRow, action: str) -> None:
    """Writes ANNOTATION_CREATED / ANNOTATION_UPDATED with the annotation and its task."""
    project = session.get_one(ProjectRow, annotation.project_id)

    def payloads() -> list[dict[str, Any]]:
        task = session.get_one(TaskRow, annotation.task_id)
        return [
            {
                "annotation": annotation_payload(annotation),
                "task": task_payload(task, project.maximum_annotations),
            }
        ]

    emit(session, project.organization_id, project, action, payloads)
    queue_annotation_event(session, annotation, action, now=utcnow())


def annotations_deleted_event(session: Session, project: ProjectRow, ids: Sequence[int]) -> None:
    """Writes ANNOTATIONS_DELETED listing the deleted annotations' ids."""
    emit(
        session,
        project.organization_id,
        project,
        "ANNOTATIONS_DELETED",
        lambda: [{"annotations": [{"id": i} for i in ids]}],
    )


def review_event(session: Session, annotation: AnnotationRow, *, first: bool) -> None:
    """Writes REVIEW_CREATED (a first decision) or REVIEW_UPDATED (a changed one)."""
    project = session.get_one(ProjectRow, annotation.project_id)

    def payloads() -> list[dict[str, Any]]:
        task = session.get_one(TaskRow, annotation.task_id)
        return [
            {
                "review": review_payload(annotation),
                "annotation": annotation_payload(annotation),
                "task": task_payload(task, project.maximum_annotations),
            }
        ]

    action = "REVIEW_CREATED" if first else "REVIEW_UPDATED"
    emit(session, project.organization_id, project, action, payloads)


def tasks_created_event(session: Session, project: ProjectRow, import_batch_id: int) -> None:
    """Writes TASKS_CREATED for the tasks of an import batch, TASKS_PER_EVENT tasks an event."""

    def payloads() -> Iterable[dict[str, Any]]:
        query = (
            sa.select(TaskRow)
            .where(TaskRow.project_id == project.id, TaskRow.import_batch_id == import_batch_id)
            .order_by(TaskRow.id)
        )
        rows = session.scalars(query.execution_options(yield_per=TASKS_PER_EVENT))
        for chunk in rows.partitions(TASKS_PER_EVENT):
            yield {"tasks": [task_payload(t, project.maximum_annotations) for t in chunk]}

    emit(session, project.organization_id, project, "TASKS_CREATED", payloads)


def tasks_deleted_event(session: Session, project: ProjectRow, doomed: sa.Select[Any]) -> None:
    """Writes TASKS_DELETED for the tasks ``doomed`` selects (ids), before they are deleted."""

    def payloads() -> Iterable[dict[str, Any]]:
        ids = list(session.scalars(doomed))
        for start in range(0, len(ids), TASKS_PER_EVENT):
            yield {"tasks": [{"id": i} for i in ids[start : start + TASKS_PER_EVENT]]}

    emit(session, project.organization_id, project, "TASKS_DELETED", payloads)
