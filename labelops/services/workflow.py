"""Task workflows: every state change of a task goes through its project's state machine.

``transition`` is the one function that moves a task's state; the annotations, review and queue
services call it with the built-in events, and ``fire_event`` lets a reviewer or manager fire a
project's custom events (``request_second_review``). ``set_workflow`` stores a project's
definition, refusing one that would strand tasks in a state it no longer has.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.engine import is_postgres
from labelops.db.models import AnnotationRow, ProjectRow, TaskRow, UserRow
from labelops.domain.errors import InvalidInputError
from labelops.domain.task_state import TaskState
from labelops.domain.workflow import DEFAULT_WORKFLOW, Workflow
from labelops.services.errors import ConflictError, NotFoundError, PermissionDeniedError
from labelops.services.locking import lock_task, serialize_writers
from labelops.services.policies import Action, authorize
from labelops.services.projects import audit


def project_workflow(project: ProjectRow) -> Workflow:
    """Returns the project's workflow: its stored definition, or the built-in one."""
    if project.workflow is None:
        return DEFAULT_WORKFLOW
    return Workflow.from_dict(project.workflow)


def workflow_for(session: Session, project_id: int) -> Workflow:
    """Returns the workflow of the project with this id.

    Raises:
        NotFoundError: There is no such project.
    """
    project = session.get(ProjectRow, project_id)
    if project is None:
        raise NotFoundError(f"project {project_id} not found")
    return project_workflow(project)


def transition(session: Session, task: TaskRow, event: str) -> str:
    """Returns the task's new state after ``event``, moved along its project's workflow.

    Raises:
        StateTransitionError: The project's workflow does not allow the event in the task's
            state; the task is left as it was.
    """
    workflow = workflow_for(session, task.project_id)
    task.state = workflow.next_state(task.state, str(event))
    return task.state


def fire_event(
    session: Session, task: TaskRow, event: str, *, user: UserRow, now: datetime
) -> TaskRow:
    """Returns the task after a reviewer or manager fired one of its project's custom events.

    Built-in events (lock, accept, ...) are fired by the use cases they belong to (taking a
    task, reviewing an annotation) and are refused here.

    Raises:
        NotFoundError: The user is not a member of the task's project (nor an administrator).
        PermissionDeniedError: The user's role is not manager or reviewer, or the event would
            mark as reviewed a task that holds the user's own annotation (nobody reviews their
            own work; administrators excepted).
        InvalidInputError: The event is not one of the project's custom events.
        StateTransitionError: The event is not allowed in the task's state (names both).
    """
    authorize(session, user, Action.REVIEW, task)
    _share_project(session, task.project_id)
    project = session.get_one(ProjectRow, task.project_id, populate_existing=True)
    workflow = project_workflow(project)
    if event not in workflow.custom_events:
        choices = ", ".join(map(repr, workflow.custom_events)) or "none"
        raise InvalidInputError(
            f"event {event!r} cannot be fired by hand in project {task.project_id}; its custom "
            f"events are: {choices} (built-in events come from labeling and reviewing)"
        )
    lock_task(session, task)
    before = task.state
    after = workflow.next_state(before, event)
    if after == TaskState.REVIEWED.value:
        _check_not_own_work(session, task, user, event)
    task.state = after
    task.updated_at = now
    audit(
        session,
        user,
        "task_transition",
        task.project_id,
        "task",
        task.id,
        {"from": before, "event": event, "to": after},
    )
    session.flush()
    return task


def set_workflow(
    session: Session, project: ProjectRow, definition: Mapping[str, Any] | None, *, user: UserRow
) -> Workflow:
    """Returns the project's new workflow after checking and storing its definition.

    ``None`` (or the built-in definition) returns the project to the built-in workflow.

    Raises:
        NotFoundError: The user is not a member of the project (nor an administrator).
        PermissionDeniedError: The user is not a manager of the project.
        WorkflowError: The definition is invalid (the message names the state, event or
            transition).
        ConflictError: Tasks are in a state the new workflow lacks (names the state and count).
    """
    authorize(session, user, Action.MANAGE, project)
    workflow = DEFAULT_WORKFLOW if definition is None else Workflow.from_dict(definition)
    _lock_project(session, project.id)
    stranded = session.execute(
        sa.select(TaskRow.state, sa.func.count())
        .where(TaskRow.project_id == project.id, TaskRow.state.not_in(workflow.states))
        .group_by(TaskRow.state)
        .order_by(TaskRow.state)
    ).all()
    if stranded:
        state, count = stranded[0]
        raise ConflictError(
            f"{count} task(s) of project {project.id} are in state {state!r}, which the new "
            "workflow does not have; move them to another state first"
        )
    project.workflow = None if workflow == DEFAULT_WORKFLOW else workflow.to_dict()
    audit(session, user, "workflow_updated", project.id, "project", project.id, workflow.states)
    session.flush()
    return workflow


def _check_not_own_work(session: Session, task: TaskRow, user: UserRow, event: str) -> None:
    """Refuses a custom event that would accept a task the user annotated (the review rule)."""
    own = session.scalar(
        sa.select(AnnotationRow)
        .where(
            AnnotationRow.task_id == task.id,
            AnnotationRow.completed_by_id == user.id,
            AnnotationRow.was_cancelled.is_(False),
        )
        .limit(1)
    )
    if own is None:
        return
    try:
        authorize(session, user, Action.REVIEW, own)
    except PermissionDeniedError as exc:
        raise PermissionDeniedError(
            f"event {event!r} would mark task {task.id} as reviewed: {exc}"
        ) from exc


def _lock_project(session: Session, project_id: int) -> None:
    """Locks the project row so no task enters a custom state while the workflow changes."""
    if is_postgres(session):
        session.execute(
            sa.select(ProjectRow.id).where(ProjectRow.id == project_id).with_for_update()
        )
    else:
        serialize_writers(session, project_id)


def _share_project(session: Session, project_id: int) -> None:
    """Holds the project row against a concurrent workflow change until the transaction ends."""
    if is_postgres(session):
        session.execute(
            sa.select(ProjectRow.id).where(ProjectRow.id == project_id).with_for_update(read=True)
        )
    else:
        serialize_writers(session, project_id)
