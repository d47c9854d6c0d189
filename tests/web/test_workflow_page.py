"""The Workflow section of the project settings page, through the Flask client on both databases."""

import html
import json
import re
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labelops.domain.workflow import DEFAULT_WORKFLOW, workflow_with
from labelops.services.annotations import create_annotation
from labelops.services.projects import get_project
from labelops.services.users import get_user_by_email
from labelops.services.workflow import fire_event, set_workflow
from labelops.web.extensions import db
from tests.factories import add_member, choice_result, make_project, make_tasks, make_user

NOW = datetime(2026, 1, 1, 12, 0, 0)

SECOND_REVIEW = workflow_with(
    ["needs_second_review"],
    ["request_second_review"],
    [
        ("completed", "request_second_review", "needs_second_review"),
        ("needs_second_review", "accept", "reviewed"),
        ("needs_second_review", "reject", "rejected"),
    ],
)


def _csrf(client: FlaskClient, path: str) -> str:
    found = re.search(
        r'name="csrf-token" content="([^"]+)"', client.get(path).get_data(as_text=True)
    )
    assert found
    return found.group(1)


@pytest.fixture
def project_id(app: Flask) -> int:
    with app.app_context():
        manager = make_user(db.session, "manager@example.com")
        reviewer = make_user(db.session, "reviewer@example.com")
        project = make_project(db.session, manager)
        add_member(db.session, project, reviewer, "reviewer")
        db.session.commit()
        return project.id


def _save(client: FlaskClient, project_id: int, definition: str) -> Any:
    token = _csrf(client, f"/projects/{project_id}/settings")
    return client.post(
        f"/projects/{project_id}/settings/workflow",
        data={"workflow-csrf_token": token, "workflow-definition": definition},
    )


def _stored(app: Flask, project_id: int) -> Any:
    with app.app_context():
        return get_project(db.session, project_id).workflow


def test_settings_page_shows_the_current_workflow(
    client: FlaskClient, auth: Any, project_id: int
) -> None:
    auth.login("manager@example.com", "password123")
    page = client.get(f"/projects/{project_id}/settings").get_data(as_text=True)
    found = re.search(r'<textarea[^>]*name="workflow-definition"[^>]*>(.*?)</textarea>', page, re.S)
    assert found
    assert json.loads(html.unescape(found.group(1))) == DEFAULT_WORKFLOW.to_dict()


def test_settings_page_saves_a_workflow(
    app: Flask, client: FlaskClient, auth: Any, project_id: int
) -> None:
    auth.login("manager@example.com", "password123")
    saved = _save(client, project_id, json.dumps(SECOND_REVIEW))
    assert saved.status_code == 302
    assert _stored(app, project_id) == SECOND_REVIEW
    page = client.get(f"/projects/{project_id}/settings").get_data(as_text=True)
    assert "Workflow saved." in page
    assert "needs_second_review" in page
    # an empty box returns the project to the built-in workflow
    assert _save(client, project_id, "").status_code == 302
    assert _stored(app, project_id) is None


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ("{not json", "not valid JSON: Expecting property name enclosed in double quotes"),
        (
            json.dumps(
                {**SECOND_REVIEW, "events": [e for e in SECOND_REVIEW["events"] if e != "skip"]}
            ),
            "built-in event &#39;skip&#39; is missing",
        ),
        (
            json.dumps(workflow_with(["parked"], ["park"], [("reviewed", "park", "parked")])),
            "state &#39;parked&#39; has no way out",
        ),
    ],
)
def test_an_invalid_workflow_is_shown_with_its_error_and_not_saved(
    app: Flask, client: FlaskClient, auth: Any, project_id: int, definition: str, message: str
) -> None:
    auth.login("manager@example.com", "password123")
    refused = _save(client, project_id, definition)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert message in page
    assert 'name="workflow-definition"' in page
    assert _stored(app, project_id) is None


def test_reviewers_cannot_open_or_save_the_workflow(
    app: Flask, client: FlaskClient, auth: Any, project_id: int
) -> None:
    auth.login("reviewer@example.com", "password123")
    assert client.get(f"/projects/{project_id}/settings").status_code == 403
    token = _csrf(client, "/projects")
    refused = client.post(
        f"/projects/{project_id}/settings/workflow",
        data={"workflow-csrf_token": token, "workflow-definition": json.dumps(SECOND_REVIEW)},
    )
    assert refused.status_code == 403
    assert _stored(app, project_id) is None


def test_a_change_that_strands_tasks_is_shown_with_state_and_count(
    app: Flask, client: FlaskClient, auth: Any, project_id: int
) -> None:
    with app.app_context():
        project = get_project(db.session, project_id)
        manager = get_user_by_email(db.session, "manager@example.com")
        set_workflow(db.session, project, SECOND_REVIEW, user=manager)
        (task,) = make_tasks(db.session, project, 1)
        create_annotation(
            db.session, task, user_id=manager.id, result=choice_result("Positive"), now=NOW
        )
        fire_event(db.session, task, "request_second_review", user=manager, now=NOW)
        db.session.commit()
    auth.login("manager@example.com", "password123")
    refused = _save(client, project_id, "")
    assert refused.status_code == 400
    page = html.unescape(refused.get_data(as_text=True))
    assert "1 task(s)" in page and "'needs_second_review'" in page
    assert _stored(app, project_id) == SECOND_REVIEW


def test_data_manager_and_review_stream_show_a_custom_state(
    app: Flask, client: FlaskClient, auth: Any, project_id: int
) -> None:
    with app.app_context():
        project = get_project(db.session, project_id)
        manager = get_user_by_email(db.session, "manager@example.com")
        annotator = make_user(db.session, "annotator@example.com")
        set_workflow(db.session, project, SECOND_REVIEW, user=manager)
        waiting, other = make_tasks(db.session, project, 2)
        create_annotation(
            db.session, waiting, user_id=annotator.id, result=choice_result("Positive"), now=NOW
        )
        fire_event(db.session, waiting, "request_second_review", user=manager, now=NOW)
        db.session.commit()
        waiting_id, other_id = waiting.id, other.id
    auth.login("reviewer@example.com", "password123")
    listed = client.get(f"/projects/{project_id}/data?state=needs_second_review")
    assert listed.status_code == 200
    page = listed.get_data(as_text=True)
    assert '<option selected value="needs_second_review">' in page
    assert f"/tasks/{waiting_id}" in page and f"/tasks/{other_id}" not in page
    stream = client.get(f"/projects/{project_id}/review").get_data(as_text=True)
    assert f"Task {waiting_id}" in stream and "needs second review" in stream
