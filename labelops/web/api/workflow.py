"""REST endpoints of task workflows: a project's state machine and firing its custom events."""

from typing import Any

from flask import Blueprint, g, jsonify

from labelops.clock import utcnow
from labelops.domain.errors import InvalidInputError
from labelops.services import tasks as task_service
from labelops.services import workflow as workflow_service
from labelops.services.policies import Action, authorize, authorize_project
from labelops.web.api.auth import api_login_required
from labelops.web.api.params import json_body
from labelops.web.api.serializers import task_json
from labelops.web.api.validation import accepts
from labelops.web.extensions import db

# The definition is checked by the domain's Workflow.from_dict, whose errors name the state,
# event or transition; the document describes its shape.
WORKFLOW_DOC = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {
                "states": {"type": "array", "items": {"type": "string"}},
                "events": {"type": "array", "items": {"type": "string"}},
                "transitions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "from": {"type": "string"},
                            "event": {"type": "string"},
                            "to": {"type": "string"},
                        },
                    },
                },
            },
        }
    }
}
TRANSITION_DOC = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {"event": {"type": "string"}},
            "required": ["event"],
            "additionalProperties": False,
        }
    }
}

bp = Blueprint("api_workflow", __name__, url_prefix="/api")


def _workflow_json(project_id: int, workflow: Any, *, is_default: bool) -> dict[str, Any]:
    return {"project": project_id, "is_default": is_default, **workflow.to_dict()}


@bp.get("/projects/<int:project_id>/workflow")
@api_login_required
def get_workflow(project_id: int) -> Any:
    """Returns the project's task workflow: states, events and transitions (managers)."""
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    workflow = workflow_service.project_workflow(project)
    return jsonify(_workflow_json(project.id, workflow, is_default=project.workflow is None))


@bp.put("/projects/<int:project_id>/workflow")
@api_login_required
@accepts(body_doc=WORKFLOW_DOC)
def put_workflow(project_id: int) -> Any:
    """Replaces the project's task workflow with ``{"states", "events", "transitions"}``.

    400 names the state, event or transition that is wrong; 409 names a state that tasks are
    still in and that the new workflow lacks.
    """
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    body = json_body(dict)
    definition = {k: v for k, v in body.items() if k not in ("project", "is_default")}
    workflow = workflow_service.set_workflow(db.session, project, definition, user=g.user)
    db.session.commit()
    return jsonify(_workflow_json(project.id, workflow, is_default=project.workflow is None))


@bp.delete("/projects/<int:project_id>/workflow")
@api_login_required
def reset_workflow(project_id: int) -> Any:
    """Returns the project to the built-in workflow (409 if tasks are in a custom state)."""
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    workflow = workflow_service.set_workflow(db.session, project, None, user=g.user)
    db.session.commit()
    return jsonify(_workflow_json(project.id, workflow, is_default=True))


@bp.get("/tasks/<int:task_id>/transitions")
@api_login_required
def task_transitions(task_id: int) -> Any:
    """Returns the task's state and the custom events that can be fired on it now."""
    task = task_service.get_task(db.session, task_id)
    project = authorize_project(db.session, g.user, Action.VIEW, task.project_id).project
    workflow = workflow_service.project_workflow(project)
    custom = set(workflow.custom_events)
    events = [e for e in workflow.allowed_events(task.state) if e in custom]
    return jsonify({"task": task.id, "state": task.state, "events": events})


@bp.post("/tasks/<int:task_id>/transitions")
@api_login_required
@accepts(body_doc=TRANSITION_DOC)
def fire_transition(task_id: int) -> Any:
    """Fires a custom workflow event on a task ``{"event": "request_second_review"}``.

    Managers and reviewers may; 409 names the state and the event when the workflow does not
    allow the event in the task's state.
    """
    task = task_service.get_task(db.session, task_id)
    authorize(db.session, g.user, Action.REVIEW, task)
    body = json_body(dict)
    unknown = sorted(set(body) - {"event"})
    if unknown:
        raise InvalidInputError(f'unknown field(s): {", ".join(unknown)}; send {{"event": <name>}}')
    event = body.get("event")
    if not isinstance(event, str) or not event:
        raise InvalidInputError(f"'event' must be the name of a workflow event, got {event!r}")
    workflow_service.fire_event(db.session, task, event, user=g.user, now=utcnow())
    db.session.commit()
    return jsonify(task_json(task))
