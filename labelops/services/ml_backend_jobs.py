"""Annotation events for a project's ML backends, sent by the background worker.

``labelops.services.ml_backend_queue`` queues them; this module is the worker's handler.

The annotation service writes the event with the change (one job row, same transaction); the
worker posts it to each backend's ``/webhook`` afterwards, never inside the request, so a slow or
absent backend never slows a submission. A backend that refuses it marks the job failed with
the backend's answer (``GET /api/projects/<id>/imports``-style jobs list it).
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from labelops.db.models import AnnotationRow, BackgroundJobRow, ProjectRow, TaskRow
from labelops.domain.errors import InvalidInputError
from labelops.services.jobs import JobEnv
from labelops.services.ml_backend_events import notify_ml_backends
from labelops.services.webhook_payloads import annotation_payload, task_payload


def send_annotation_event(
    session_factory: Callable[[], Session],
    job: BackgroundJobRow,
    env: JobEnv,
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
            session, project.id, job.params["event"], payload, allowed_hosts=env.allowed_hosts
        )
        session.commit()
    if problems:
        raise InvalidInputError("; ".join(problems))
    return {"sent": 1}, ""
