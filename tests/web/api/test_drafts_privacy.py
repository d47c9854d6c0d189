"""Drafts are their author's alone: nobody else reads or overwrites them.

Tried by another annotator, a reviewer, a manager, another project's manager and a user of no
project.
"""

from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labelops.db.models import UserRow
from labelops.web.extensions import db
from tests.factories import add_member, choice_result, make_project, make_tasks
from tests.web.helpers import user_with_token

OTHERS = ("other", "reviewer", "manager", "outsider", "nobody")


@dataclass
class Team:
    task_id: int
    headers: dict[str, dict[str, str]]


@pytest.fixture
def team(app: Flask) -> Team:
    ids: dict[str, int] = {}
    headers: dict[str, dict[str, str]] = {}
    for name in ("annotator", *OTHERS):
        ids[name], headers[name] = user_with_token(
            app, f"{name}@example.com", can_create_projects=name in ("manager", "outsider")
        )
    with app.app_context():
        project = make_project(db.session, db.session.get_one(UserRow, ids["manager"]))
        for name, role in (
            ("annotator", "annotator"),
            ("other", "annotator"),
            ("reviewer", "reviewer"),
        ):
            add_member(db.session, project, db.session.get_one(UserRow, ids[name]), role)
        make_project(db.session, db.session.get_one(UserRow, ids["outsider"]), title="Theirs")
        task_id = make_tasks(db.session, project, n=1)[0].id
        db.session.commit()
    return Team(task_id, headers)


def test_nobody_else_reads_changes_or_deletes_a_draft(client: FlaskClient, team: Team) -> None:
    mine = client.post(
        f"/api/tasks/{team.task_id}/drafts",
        json={"result": choice_result("Positive"), "lead_time": 3.5},
        headers=team.headers["annotator"],
    ).get_json()
    url = f"/api/drafts/{mine['id']}"

    for who in OTHERS:
        h = team.headers[who]
        assert client.get(url, headers=h).status_code == 404, who
        assert client.patch(url, json={"result": []}, headers=h).status_code == 404, who
        assert client.delete(url, headers=h).status_code == 404, who
        listed = client.get(f"/api/tasks/{team.task_id}/drafts", headers=h)
        assert listed.status_code == 404 or listed.get_json() == [], who

    kept = client.get(url, headers=team.headers["annotator"]).get_json()
    assert kept["result"] == choice_result("Positive") and kept["lead_time"] == 3.5


def test_saving_on_the_same_task_writes_ones_own_draft_never_the_authors(
    client: FlaskClient, team: Team
) -> None:
    mine = client.post(
        f"/api/tasks/{team.task_id}/drafts",
        json={"result": choice_result("Positive")},
        headers=team.headers["annotator"],
    ).get_json()

    for who in ("other", "reviewer", "manager"):
        theirs = client.post(
            f"/api/tasks/{team.task_id}/drafts",
            json={"result": choice_result("Negative")},
            headers=team.headers[who],
        )
        assert theirs.status_code == 201 and theirs.get_json()["id"] != mine["id"], who
    for who in ("outsider", "nobody"):
        refused = client.post(
            f"/api/tasks/{team.task_id}/drafts", json={"result": []}, headers=team.headers[who]
        )
        assert refused.status_code == 404, who

    kept = client.get(f"/api/drafts/{mine['id']}", headers=team.headers["annotator"]).get_json()
    assert kept["result"] == choice_result("Positive")


def test_a_draft_of_someone_elses_annotation_is_for_managers_only(
    client: FlaskClient, team: Team
) -> None:
    annotation = client.post(
        f"/api/tasks/{team.task_id}/annotations",
        json={"result": choice_result("Positive")},
        headers=team.headers["annotator"],
    ).get_json()
    url = f"/api/tasks/{team.task_id}/annotations/{annotation['id']}/drafts"
    body = {"result": choice_result("Negative")}

    assert client.post(url, json=body, headers=team.headers["other"]).status_code == 403
    assert client.post(url, json=body, headers=team.headers["reviewer"]).status_code == 403
    assert client.post(url, json=body, headers=team.headers["outsider"]).status_code == 404
    assert client.post(url, json=body, headers=team.headers["manager"]).status_code == 201
    assert client.post(url, json=body, headers=team.headers["annotator"]).status_code == 201
