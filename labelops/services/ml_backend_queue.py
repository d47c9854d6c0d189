"""Queues annotation events for a project's ML backends (the background worker sends them).

A leaf module: the annotation, task and webhook services import it, so it imports none of them.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AnnotationRow, MLBackendRow
from labelops.services import jobs

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
