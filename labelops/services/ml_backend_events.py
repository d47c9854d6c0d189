"""What a project sends its ML backends: training, annotation events, interactive requests.

The connections and their rules are in ``labelops.services.ml_backends``; every call here goes
through the same client (the outbound-URL rule on every request).
"""

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AnnotationRow, MLBackendRow, ProjectRow, TaskRow, UserRow
from labelops.domain.permissions import can_annotate
from labelops.services.ml_backends import MLBackendError, client_of, get_ml_backend
from labelops.services.ml_client import MLBackendCallError, project_ref
from labelops.services.webhook_payloads import annotation_payload, project_payload

TRAIN_EVENTS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED")
MAX_TRAIN_TASKS = 100_000


def _annotated_tasks(session: Session, project_id: int) -> list[dict[str, Any]]:
    """Returns the project's annotated tasks as Label Studio exports them (what /train takes).

    Each annotation has the shape a webhook carries, so a backend reads one shape everywhere.
    """
    rows = session.execute(
        sa.select(TaskRow.id, TaskRow.data, AnnotationRow)
        .join(AnnotationRow, AnnotationRow.task_id == TaskRow.id)
        .where(TaskRow.project_id == project_id, AnnotationRow.was_cancelled.is_(False))
        .order_by(TaskRow.id, AnnotationRow.id)
        .limit(MAX_TRAIN_TASKS)
    ).all()
    tasks: dict[int, dict[str, Any]] = {}
    for task_id, data, annotation in rows:
        task = tasks.setdefault(task_id, {"id": task_id, "data": data, "annotations": []})
        task["annotations"].append(annotation_payload(annotation))
    return list(tasks.values())


def train_ml_backend(
    session: Session,
    user: UserRow,
    backend_id: int,
    *,
    allowed_hosts: Collection[str],
) -> Any:
    """Asks the backend to train on the project's annotations (Label Studio's "Start training").

    Raises:
        MLBackendCallError: The backend refused or could not be reached (the state says ERROR).
    """
    row = get_ml_backend(session, user, backend_id)
    project = session.get_one(ProjectRow, row.project_id)
    try:
        answer = client_of(row, allowed_hosts).train(
            project_payload(project), lambda: _annotated_tasks(session, project.id)
        )
    except MLBackendCallError as exc:
        row.state, row.error_message = "ERROR", str(exc)
        session.flush()
        raise
    return answer


def notify_ml_backends(
    session: Session,
    project_id: int,
    event: str,
    payload: dict[str, Any],
    *,
    allowed_hosts: Collection[str],
) -> list[str]:
    """Sends an annotation event to each backend of the project, as Label Studio's webhook does.

    ``POST <url>/webhook`` with ``{"action": event, "project": {...}, **payload}`` (e.g.
    ``{"annotation": {...}, "task": {...}}``); backends of label-studio-ml fit on
    ``ANNOTATION_CREATED`` / ``ANNOTATION_UPDATED``. Meant to run outside the request that
    caused the event (from the webhook outbox); returns one problem message per backend that
    failed (an empty list when all took it), so the caller can retry.
    """
    if event not in TRAIN_EVENTS:
        raise ValueError(f"{event!r} is not an ML backend event ({', '.join(TRAIN_EVENTS)})")
    project = session.get(ProjectRow, project_id)
    if project is None:
        return []
    rows = session.scalars(
        sa.select(MLBackendRow).where(MLBackendRow.project_id == project_id)
    ).all()
    problems = []
    for row in rows:
        try:
            body = {"project": project_payload(project), **payload}
            client_of(row, allowed_hosts).webhook(event, body)
        except (MLBackendCallError, MLBackendError) as exc:
            problems.append(str(exc))
    return problems


def interactive_prediction(
    session: Session,
    user: UserRow,
    backend_id: int,
    task_id: int,
    context: dict[str, Any],
    *,
    allowed_hosts: Collection[str],
) -> dict[str, Any] | None:
    """Returns the backend's suggestion for one task given the annotator's context (a click, a box).

    Open to the project's annotators (the labeling page asks it), not only its managers.

    Raises:
        MLBackendError: The backend is not interactive, or the task is not in its project.
        MLBackendCallError: The backend failed.
    """
    row = get_ml_backend(session, user, backend_id, can_annotate)
    if not row.is_interactive:
        raise MLBackendError("is_interactive", f"ML backend {row.id} is not interactive")
    task = session.get(TaskRow, task_id) if 0 < task_id < 2**63 else None
    if task is None or task.project_id != row.project_id:
        raise MLBackendError("task", f"task {task_id} is not in project {row.project_id}")
    project = session.get_one(ProjectRow, row.project_id)
    client = client_of(row, allowed_hosts)
    (result,) = client.predict(
        project_ref(project.id),
        project.label_config,
        [{"id": task.id, "data": task.data}],
        row.model_version or None,
        context=context,
    )
    return result
