"""The projects list: search by title, pages of 24, counts in the right number."""

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from labelops.services.users import get_user_by_email
from labelops.web.extensions import db
from tests.factories import add_member, make_project, make_tasks, make_user


def _seed(app: Flask, auth: Any, n: int) -> None:
    with app.app_context():
        manager = make_user(db.session, "manager@example.com")
        for i in range(n):
            make_project(db.session, manager, title=f"Batch {i:02d}" if i else "Street signs 100%")
        db.session.commit()
    auth.login("manager@example.com", "password123")


def test_pages_of_projects_and_a_search_by_title(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    _seed(app, auth, 30)
    first = client.get("/projects").get_data(as_text=True)
    assert "30 projects you can open" in first and "Page 1 of 2" in first
    assert first.count('class="project-card"') == 24 and "Batch 29" in first
    second = client.get("/projects?page=2").get_data(as_text=True)
    assert second.count('class="project-card"') == 6 and "Street signs" in second
    assert "Page 2 of 2" in client.get("/projects?page=99").get_data(as_text=True)

    found = client.get("/projects?q=batch 1").get_data(as_text=True)
    assert "10 projects match" in found and found.count('class="project-card"') == 10
    percent = client.get("/projects?q=100%").get_data(as_text=True)
    assert "1 project match" in percent and "Street signs 100%" in percent
    assert client.get("/projects?q=_").get_data(as_text=True).count('class="project-card"') == 0
    none = client.get("/projects?q=nothing").get_data(as_text=True)
    assert "No project title contains “nothing”" in none


def test_search_never_shows_projects_the_user_is_not_in(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    with app.app_context():
        manager = make_user(db.session, "manager@example.com")
        mine = make_project(db.session, manager, title="Shared birds")
        make_project(db.session, manager, title="Secret birds")
        add_member(db.session, mine, make_user(db.session, "ann@example.com"), "annotator")
        db.session.commit()
    auth.login("ann@example.com", "password123")
    body = client.get("/projects?q=birds").get_data(as_text=True)
    assert "Shared birds" in body and "Secret birds" not in body and "1 project match" in body


def test_counts_use_the_right_number(app: Flask, client: FlaskClient, auth: Any) -> None:
    with app.app_context():
        manager = make_user(db.session, "manager@example.com")
        one = make_project(db.session, manager, title="One")
        make_tasks(db.session, one, 1)
        db.session.commit()
        one_id = one.id
        assert get_user_by_email(db.session, "manager@example.com") is not None
    auth.login("manager@example.com", "password123")
    assert "1 project you can open" in client.get("/projects").get_data(as_text=True)
    assert "0 annotations" in client.get("/projects").get_data(as_text=True)
    data = client.get(f"/projects/{one_id}/data").get_data(as_text=True)
    assert "1 task in the project" in data
    settings = client.get(f"/projects/{one_id}/settings").get_data(as_text=True)
    assert "its 1 task and 0 annotations" in settings
