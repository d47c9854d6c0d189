"""Annotation events for a project's ML backends, sent by the background worker.

The annotation service writes the event with the change (one job row, same transaction); the
worker posts it to each backend's ``/webhook`` afterwards, never inside the request, so a slow or
absent backend never slows a submission. A backend that refuses it marks the job failed with
the backend's answer (``GET /api/projects/<id>/imports``-style jobs list it).
"""

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AnnotationRow, BackgroundJobRow, MLBackendRow, ProjectRow, TaskRow
from labelops.domain.errors import InvalidInputError
from labelops.services import jobs
from labelops.services.ml_backend_events import notify_ml_backends
from labelops.services.webhook_payloads import annotation_payload, task_payload
from labelops.services.webhooks import allowed_hosts

KIND = "ml_backend_event"
EVENTS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED")


def queue_annotation_event(
    session: Session, annotation: AnnotationRow, event: str, *, now: datetime
) -> None:
    """Queues the event for the project's ML backends; nothing when the project has none."""
    if event not in EVENTS:
        return
    has_backend = session.scalar(
        sa.select(MLBackendRow.id).where(MLBackendRow.project_id == annotation.project_id).limit(1)
    )
    if has_backend is None:
        return
    jobs.enqueue(
        session,
        KIND,
        project_id=annotation.project_id,
        created_by_id=annotation.completed_by_id,
        params={"event": event, "annotation": annotation.id},
        title=f"{event} {annotation.id} to the ML backends",
        now=now,
    )


def send_annotation_event(
    session_factory: Callable[[], Session],
    job: BackgroundJobRow,
    _root: Path,
    _clock: Callable[[], datetime],
) -> tuple[dict[str, Any], str]:
    """Posts the queued event to the project's backends (the worker's handler for KIND).

    Raises:
        InvalidInputError: A backend did not take it (the message is the backend's answer).
    """
    with session_factory() as session:
        annotation = session.get(AnnotationRow, job.params["annotation"])
        if annotation is None:  # deleted since: nothing left to learn from
            return {"sent": 0}, ""
        project = session.get_one(ProjectRow, annotation.project_id)
        task = session.get_one(TaskRow, annotation.task_id)
        payload = {
            "annotation": annotation_payload(annotation),
            "task": task_payload(task, project.maximum_annotations),
        }
        problems = notify_ml_backends(
            session, project.id, job.params["event"], payload, allowed_hosts=allowed_hosts()
        )
        session.commit()
    if problems:
        raise InvalidInputError("; ".join(problems))
    return {"sent": 1}, ""
