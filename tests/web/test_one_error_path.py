"""One error path: the same case answered alike by the pages, the API and the CLI.

Every refusal comes from one policy (``services.policies.authorize``) and every error a user can
cause is a ``LabelopsError`` answered by one handler: JSON on ``/api``, the app's own error page
everywhere else (the labeling page included), a message and exit code 1 on the command line. A
bug (any other exception) is a logged 500 whose answer does not repeat its message.
"""

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from labelops.cli import main
from labelops.db.models import UserRow
from labelops.services import projects as project_service
from labelops.web.extensions import db
from tests.factories import TEXT_CONFIG, add_member, make_project, make_tasks
from tests.web.helpers import user_with_token

PASSWORD = "password123"
APP_404 = "belongs to a project you are not a member of"
APP_403 = "You cannot open this page"
FLASK_DEFAULT_404 = "The requested URL was not found on the server"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The answers do not depend on the database: SQLite only."""
    return sqlite_url


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LABELOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABELOPS_DATABASE_URL", database_url)
    return CliRunner()


def _seed(app: Flask) -> dict[str, Any]:
    """A project (manager, reviewer, annotator, one task) and an outsider with a token each."""
    ids, headers = {}, {}
    for name in ("manager", "reviewer", "annotator", "outsider"):
        ids[name], headers[name] = user_with_token(app, f"{name}@example.com")
    with app.app_context():
        users = {name: db.session.get_one(UserRow, user_id) for name, user_id in ids.items()}
        project = make_project(db.session, users["manager"])
        add_member(db.session, project, users["reviewer"], "reviewer")
        add_member(db.session, project, users["annotator"], "annotator")
        (task,) = make_tasks(db.session, project, 1)
        db.session.commit()
        return {"project": project.id, "task": task.id, "headers": headers}


def _csrf(client: FlaskClient) -> str:
    found = re.search(
        r'name="csrf-token" content="([^"]+)"', client.get("/projects").get_data(as_text=True)
    )
    assert found
    return found.group(1)


def test_an_unknown_project_is_404_on_every_page_the_api_and_the_cli(
    app: Flask, client: FlaskClient, auth: Any, cli: CliRunner, tmp_path: Path
) -> None:
    _seed(app)
    auth.login("manager@example.com", PASSWORD)
    for page in (
        "/projects/999/label",  # the labeling page once showed Flask's default 404
        "/projects/999/label?task=1",
        "/projects/999/data",
        "/projects/999/review",
        "/projects/999/dashboard",
        "/projects/999/pipeline",
        "/projects/999/settings",
    ):
        answer = client.get(page)
        assert answer.status_code == 404, page
        body = answer.get_data(as_text=True)
        assert APP_404 in body and FLASK_DEFAULT_404 not in body, page
    api = client.get("/api/projects/999")
    assert api.status_code == 404
    assert api.get_json() == {"detail": "project 999 not found", "status_code": 404}
    out = cli.invoke(main, ["export", "999", "--out", str(tmp_path / "x.json")])
    assert out.exit_code == 1
    assert "project 999 not found" in out.output


def test_a_non_member_gets_the_same_404_as_for_a_project_that_does_not_exist(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    seed = _seed(app)
    p, t = seed["project"], seed["task"]
    auth.login("outsider@example.com", PASSWORD)
    for page in (f"/projects/{p}/label", f"/projects/{p}/label?task={t}", f"/projects/{p}/data"):
        answer = client.get(page)
        assert answer.status_code == 404 and APP_404 in answer.get_data(as_text=True), page
    for path in (f"/api/projects/{p}", f"/api/tasks/{t}"):
        answer = client.get(path, headers=seed["headers"]["outsider"])
        assert answer.status_code == 404, path
        assert answer.get_json()["detail"] == f"project {p} not found"


def test_a_member_whose_role_refuses_gets_403_from_the_page_and_the_api(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    seed = _seed(app)
    p = seed["project"]
    auth.login("annotator@example.com", PASSWORD)
    page = client.get(f"/projects/{p}/review")
    assert page.status_code == 403 and APP_403 in page.get_data(as_text=True)
    api = client.patch(
        f"/api/projects/{p}", json={"title": "Mine now"}, headers=seed["headers"]["annotator"]
    )
    assert api.status_code == 403
    assert api.get_json() == {
        "detail": f"your role (annotator) in project {p} does not allow you to manage it: "
        "managers may",
        "status_code": 403,
    }


def test_reviewing_ones_own_annotation_is_refused_on_the_review_page_and_the_api(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    seed = _seed(app)
    reviewer = seed["headers"]["reviewer"]
    own = client.post(
        f"/api/tasks/{seed['task']}/annotations",
        json={"result": [_choice("Positive")]},
        headers=reviewer,
    )
    assert own.status_code == 201, own.get_data(as_text=True)
    annotation = own.get_json()["id"]
    refusal = f"annotation {annotation} is your own; reviewers cannot review their own annotations"
    auth.login("reviewer@example.com", PASSWORD)
    page = client.post(
        f"/projects/{seed['project']}/review/annotations/{annotation}",
        data={"decision": "accepted", "csrf_token": _csrf(client)},
        follow_redirects=True,
    )
    assert refusal in page.get_data(as_text=True)
    api = client.post(
        f"/api/annotations/{annotation}/review", json={"decision": "accepted"}, headers=reviewer
    )
    assert api.status_code == 403
    assert api.get_json()["detail"] == refusal
    stored = client.get(f"/api/annotations/{annotation}", headers=reviewer).get_json()
    assert stored["review_state"] is None


def test_firing_a_workflow_event_checks_membership_before_the_body(
    app: Flask, client: FlaskClient
) -> None:
    seed = _seed(app)
    path = f"/api/tasks/{seed['task']}/transitions"
    bad_body = {"event": "x", "unexpected": 1}
    # an outsider learns nothing from a malformed body: the task is simply not theirs
    hidden = client.post(path, json=bad_body, headers=seed["headers"]["outsider"])
    assert hidden.status_code == 404
    assert hidden.get_json()["detail"] == f"project {seed['project']} not found"
    refused = client.post(path, json=bad_body, headers=seed["headers"]["annotator"])
    assert refused.status_code == 403
    # a reviewer gets the 400 naming what is wrong, and the service's 400 for an unknown event
    bad = client.post(path, json=bad_body, headers=seed["headers"]["reviewer"])
    assert bad.status_code == 400
    assert "unknown field(s): unexpected" in bad.get_json()["detail"]
    unknown = client.post(path, json={"event": "nope"}, headers=seed["headers"]["reviewer"])
    assert unknown.status_code == 400
    assert "event 'nope' cannot be fired by hand" in unknown.get_json()["detail"]


def test_creating_a_project_without_the_permission_is_refused_by_page_api_and_cli(
    app: Flask, client: FlaskClient, auth: Any, cli: CliRunner, tmp_path: Path
) -> None:
    seed = _seed(app)
    auth.login("annotator@example.com", PASSWORD)
    page = client.get("/projects/new")
    assert page.status_code == 403 and APP_403 in page.get_data(as_text=True)
    api = client.post(
        "/api/projects",
        json={"title": "Mine", "label_config": TEXT_CONFIG},
        headers=seed["headers"]["annotator"],
    )
    assert api.status_code == 403
    assert "project-creation permission" in api.get_json()["detail"]
    config = tmp_path / "config.xml"
    config.write_text(TEXT_CONFIG)
    out = cli.invoke(
        main,
        [
            *("project", "create", "--title", "Mine", "--config", str(config)),
            *("--owner", "annotator@example.com"),
        ],
    )
    assert out.exit_code == 1
    assert "project-creation permission" in out.output


def test_a_broken_storage_rule_gets_the_same_400_from_both_storage_apis(app: Flask) -> None:
    seed = _seed(app)
    client, manager = app.test_client(), seed["headers"]["manager"]
    metadata = "http://169.254.169.254"  # the cloud metadata address: never allowed
    native = client.post(
        f"/api/projects/{seed['project']}/storages",
        json={"kind": "s3", "bucket": "raw", "endpoint_url": metadata},
        headers=manager,
    )
    label_studio = client.post(
        "/api/storages/s3",
        json={"project": seed["project"], "bucket": "raw", "s3_endpoint": metadata},
        headers=manager,
    )
    validate = client.post(
        "/api/storages/s3/validate",
        json={"project": seed["project"], "bucket": "raw", "s3_endpoint": metadata},
        headers=manager,
    )

    bodies = [r.get_json() for r in (native, label_studio, validate)]
    assert [r.status_code for r in (native, label_studio, validate)] == [400, 400, 400]
    assert bodies[0] == bodies[1] == bodies[2]
    (message,) = bodies[0]["validation_errors"]["endpoint_url"]
    assert bodies[0] == {
        "detail": f"endpoint_url: {message}",
        "status_code": 400,
        "field": "endpoint_url",
        "storage": None,
        "validation_errors": {"endpoint_url": [message]},
    }


def test_a_bug_deep_in_a_service_is_a_logged_500_that_does_not_leak_its_message(
    app: Flask, client: FlaskClient, auth: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    seed = _seed(app)

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise ValueError("connection string postgresql://admin:s3cret@db/internal")

    monkeypatch.setattr(project_service, "visible_projects", broken)
    api = client.get("/api/projects", headers=seed["headers"]["manager"])
    assert api.status_code == 500
    assert api.get_json() == {"detail": "internal server error", "status_code": 500}
    assert "s3cret" in caplog.text  # logged for the operator, with its stack
    auth.login("manager@example.com", PASSWORD)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: no test re-raise
    page = client.get("/projects")
    assert page.status_code == 500
    body = page.get_data(as_text=True)
    assert "Something went wrong" in body and "s3cret" not in body


def _choice(value: str) -> dict[str, Any]:
    return {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [value]},
    }
