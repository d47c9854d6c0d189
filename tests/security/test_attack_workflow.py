"""Attack: a reviewer accepts their own work through a custom workflow event.

The review service refuses a reviewer's decision on their own annotation, but a project's
workflow may add a custom event into ``reviewed`` (``completed --fast_track--> reviewed``), and
``POST /api/tasks/<id>/transitions`` let the reviewer who annotated the task fire it: the task
was marked reviewed with nobody else looking. The rule now also lives in the workflow service.
"""

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from labelops.db.models import TaskRow
from labelops.domain.workflow import DEFAULT_WORKFLOW
from labelops.services.users import issue_token
from labelops.web.extensions import db
from tests.factories import add_member, choice_result, make_project, make_tasks, make_user


def _token(user: Any) -> dict[str, str]:
    return {"Authorization": f"Token {issue_token(db.session, user)}"}


def _fast_track_project(app: Flask) -> dict[str, Any]:
    """A project whose workflow lets reviewers fire ``fast_track`` (completed -> reviewed)."""
    with app.app_context():
        session = db.session
        manager = make_user(session, "mgr@example.com")
        reviewer = make_user(session, "rev@example.com")
        second = make_user(session, "rev2@example.com")
        admin = make_user(session, "admin@example.com", admin=True)
        project = make_project(session, manager)
        add_member(session, project, reviewer, "reviewer")
        add_member(session, project, second, "reviewer")
        task_ids = [t.id for t in make_tasks(session, project, 2)]
        project_id = project.id
        headers = {
            "mgr": _token(manager),
            "rev": _token(reviewer),
            "rev2": _token(second),
            "admin": _token(admin),
        }
        session.commit()
    definition = DEFAULT_WORKFLOW.to_dict()
    definition["events"].append("fast_track")
    definition["transitions"].append({"from": "completed", "event": "fast_track", "to": "reviewed"})
    client = app.test_client()
    saved = client.put(
        f"/api/projects/{project_id}/workflow", json=definition, headers=headers["mgr"]
    )
    assert saved.status_code == 200, saved.get_data(as_text=True)
    return {"project": project_id, "tasks": task_ids, "headers": headers}


def _annotate(client: FlaskClient, task_id: int, headers: dict[str, str]) -> int:
    response = client.post(
        f"/api/tasks/{task_id}/annotations",
        json={"result": choice_result("Positive")},
        headers=headers,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return int(response.get_json()["id"])


def _state(app: Flask, task_id: int) -> str:
    with app.app_context():
        return db.session.get_one(TaskRow, task_id).state


def test_reviewer_cannot_fast_track_a_task_holding_their_own_annotation(app: Flask) -> None:
    setup = _fast_track_project(app)
    client = app.test_client()
    task_id = setup["tasks"][0]
    annotation_id = _annotate(client, task_id, setup["headers"]["rev"])
    assert _state(app, task_id) == "completed"

    refused = client.post(
        f"/api/tasks/{task_id}/transitions",
        json={"event": "fast_track"},
        headers=setup["headers"]["rev"],
    )

    assert refused.status_code == 403
    body = refused.get_json()
    assert body["status_code"] == 403
    assert "fast_track" in body["detail"] and str(annotation_id) in body["detail"]
    assert _state(app, task_id) == "completed"


def test_another_reviewer_or_an_administrator_may_fire_the_event(app: Flask) -> None:
    setup = _fast_track_project(app)
    client = app.test_client()
    first, second = setup["tasks"]
    _annotate(client, first, setup["headers"]["rev"])
    _annotate(client, second, setup["headers"]["rev"])

    for task_id, who in ((first, "rev2"), (second, "admin")):
        fired = client.post(
            f"/api/tasks/{task_id}/transitions",
            json={"event": "fast_track"},
            headers=setup["headers"][who],
        )
        assert fired.status_code == 200, fired.get_data(as_text=True)
        assert fired.get_json()["state"] == "reviewed"
        assert _state(app, task_id) == "reviewed"
