"""Who may open which page: every page checked with the Flask client."""

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labelops.web.extensions import db
from tests.factories import add_member, choice_result, make_project, make_tasks, make_user


def seed(app: Flask) -> dict[str, int]:
    """A project with a manager, a reviewer, an annotator, an outsider, an admin and 3 tasks."""
    with app.app_context():
        manager = make_user(db.session, "manager@example.com")
        project = make_project(db.session, manager)
        for role in ("reviewer", "annotator"):
            add_member(db.session, project, make_user(db.session, f"{role}@example.com"), role)
        make_user(db.session, "outsider@example.com")
        make_user(db.session, "admin@example.com", admin=True)
        tasks = make_tasks(db.session, project, 3)
        db.session.commit()
        return {"project": project.id, "task": tasks[0].id}


def pages(ids: dict[str, int]) -> dict[str, str]:
    p, t = ids["project"], ids["task"]
    return {
        "data": f"/projects/{p}/data",
        "task": f"/projects/{p}/tasks/{t}",
        "dashboard": f"/projects/{p}/dashboard",
        "review": f"/projects/{p}/review",
        "settings": f"/projects/{p}/settings",
        "import": f"/projects/{p}/import",
        "members": f"/projects/{p}/members",
        "delete": f"/projects/{p}/delete",
    }


EXPECTED = {
    "annotator": {"review": 403, "settings": 403, "import": 403, "members": 403, "delete": 403},
    "reviewer": {"settings": 403, "import": 403, "members": 403, "delete": 403},
    "manager": {},
    "admin": {},
    "outsider": dict.fromkeys(
        ("data", "task", "dashboard", "review", "settings", "import", "members", "delete"), 404
    ),
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_each_role_opens_only_its_pages(
    app: Flask, client: FlaskClient, auth: Any, who: str
) -> None:
    ids = seed(app)
    auth.login(f"{who}@example.com", "password123")
    seen = {name: client.get(path).status_code for name, path in pages(ids).items()}
    expected = {name: EXPECTED[who].get(name, 200) for name in seen}
    assert seen == expected


def test_anonymous_visitors_are_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    ids = seed(app)
    for path in [*pages(ids).values(), "/projects", "/projects/new", "/account/token"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.location.startswith("/auth/login"), path


def test_unknown_project_is_not_found(app: Flask, client: FlaskClient, auth: Any) -> None:
    seed(app)
    auth.login("admin@example.com", "password123")
    missing = client.get("/projects/999/data")
    assert missing.status_code == 404
    assert "belongs to a project you are not a member of" in missing.get_data(as_text=True)
    assert client.get("/projects/999/settings").status_code == 404


def test_refusal_page_explains_the_role(app: Flask, client: FlaskClient, auth: Any) -> None:
    ids = seed(app)
    auth.login("annotator@example.com", "password123")
    refused = client.get(pages(ids)["settings"])
    assert refused.status_code == 403
    assert "Your role in this project does not allow it." in refused.get_data(as_text=True)


def test_project_list_hides_other_projects(app: Flask, client: FlaskClient, auth: Any) -> None:
    seed(app)
    auth.login("outsider@example.com", "password123")
    body = client.get("/projects").get_data(as_text=True)
    assert "Sentiment" not in body
    assert "No projects yet" in body


def csrf(client: FlaskClient) -> str:
    html = client.get("/projects").get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found
    return found.group(1)


def test_annotator_cannot_post_manager_or_reviewer_actions(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    ids = seed(app)
    p, t = ids["project"], ids["task"]
    with app.app_context():
        from labelops.services.annotations import create_annotation
        from labelops.services.tasks import get_task
        from labelops.services.users import get_user_by_email

        user = get_user_by_email(db.session, "annotator@example.com")
        assert user is not None
        annotation = create_annotation(
            db.session,
            get_task(db.session, t),
            user_id=user.id,
            result=choice_result("Positive"),
            now=__import__("datetime").datetime(2024, 1, 1),
        )
        db.session.commit()
        annotation_id = annotation.id
    auth.login("annotator@example.com", "password123")
    token = csrf(client)
    posts = {
        f"/projects/{p}/data/delete": {"task": str(t)},
        f"/projects/{p}/members": {"email": "outsider@example.com", "role": "manager"},
        f"/projects/{p}/settings": {"title": "Mine now", "label_config": "<View/>"},
        f"/projects/{p}/delete": {"confirm": "Sentiment"},
        f"/projects/{p}/review/annotations/{annotation_id}": {"decision": "accepted"},
    }
    for path, data in posts.items():
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    with app.app_context():
        from labelops.services.projects import get_project

        project = get_project(db.session, p)
        assert project.title == "Sentiment"
        assert project.num_tasks == 3


def test_forms_without_csrf_token_are_refused(app: Flask, client: FlaskClient, auth: Any) -> None:
    ids = seed(app)
    auth.login("manager@example.com", "password123")
    response = client.post(f"/projects/{ids['project']}/data/delete", data={"task": "1"})
    assert response.status_code == 400
