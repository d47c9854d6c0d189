"""``/api/comments``: Label Studio's comment endpoints, used by a reviewer and an annotator.

Then attacked by another annotator, another project's manager and a user of no project.
"""

from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labelops.db.models import UserRow
from labelops.web.extensions import db
from tests.factories import add_member, choice_result, make_project, make_tasks
from tests.web.helpers import user_with_token

LS_COMMENT_KEYS = {
    "id", "text", "annotation", "task", "project", "draft", "created_by", "is_resolved",
    "resolved_at", "created_at", "updated_at",
}  # fmt: skip


@dataclass
class Team:
    annotation_id: int
    task_id: int
    ids: dict[str, int]
    headers: dict[str, dict[str, str]]


@pytest.fixture
def team(app: Flask, client: FlaskClient) -> Team:
    ids: dict[str, int] = {}
    headers: dict[str, dict[str, str]] = {}
    for name in ("manager", "reviewer", "annotator", "other", "outsider", "nobody"):
        ids[name], headers[name] = user_with_token(
            app, f"{name}@example.com", can_create_projects=name in ("manager", "outsider")
        )
    with app.app_context():
        project = make_project(db.session, db.session.get_one(UserRow, ids["manager"]))
        for name, role in (
            ("reviewer", "reviewer"),
            ("annotator", "annotator"),
            ("other", "annotator"),
        ):
            add_member(db.session, project, db.session.get_one(UserRow, ids[name]), role)
        make_project(db.session, db.session.get_one(UserRow, ids["outsider"]), title="Theirs")
        task = make_tasks(db.session, project, n=1)[0]
        db.session.commit()
        task_id = task.id
    created = client.post(
        f"/api/tasks/{task_id}/annotations",
        json={"result": choice_result("Positive")},
        headers=headers["annotator"],
    )
    assert created.status_code == 201, created.get_json()
    return Team(created.get_json()["id"], task_id, ids, headers)


def _comment(client: FlaskClient, team: Team, who: str, text: str) -> dict:
    response = client.post(
        "/api/comments",
        # what Label Studio's editor sends: a temporary negative id, the task, writer and time
        json={
            "id": -1732850000000,
            "text": text,
            "annotation": team.annotation_id,
            "task": team.task_id,
            "created_by": team.ids[who],
            "created_at": "2026-11-29T05:00:00Z",
        },
        headers=team.headers[who],
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_reviewers_comment_is_listed_for_the_author_who_resolves_it(
    client: FlaskClient, team: Team
) -> None:
    made = _comment(client, team, "reviewer", "Misses the last word")

    assert LS_COMMENT_KEYS <= set(made)
    assert made["created_by"] == team.ids["reviewer"] and made["is_resolved"] is False
    assert made["annotation"] == team.annotation_id and made["task"] == team.task_id
    listed = client.get(
        f"/api/comments?annotation={team.annotation_id}", headers=team.headers["annotator"]
    )
    assert listed.status_code == 200
    assert [c["text"] for c in listed.get_json()] == ["Misses the last word"]
    resolved = client.patch(
        f"/api/comments/{made['id']}",
        json={"id": made["id"], "is_resolved": True},
        headers=team.headers["annotator"],
    )
    assert resolved.status_code == 200, resolved.get_json()
    assert resolved.get_json()["is_resolved"] is True and resolved.get_json()["resolved_at"]
    assert client.get(f"/api/comments/{made['id']}/", headers=team.headers["manager"]).get_json()[
        "is_resolved"
    ]


def test_the_writer_edits_and_deletes_a_comment(client: FlaskClient, team: Team) -> None:
    made = _comment(client, team, "reviewer", "Typo")

    edited = client.patch(
        f"/api/comments/{made['id']}", json={"text": "Two typos"}, headers=team.headers["reviewer"]
    )
    deleted = client.delete(f"/api/comments/{made['id']}", headers=team.headers["reviewer"])

    assert edited.get_json()["text"] == "Two typos"
    assert deleted.status_code == 204
    assert (
        client.get(f"/api/comments/{made['id']}", headers=team.headers["reviewer"]).status_code
        == 404
    )


def test_outsiders_and_blind_annotators_cannot_read_write_or_touch_comments(
    client: FlaskClient, team: Team
) -> None:
    made = _comment(client, team, "reviewer", "Private remark")
    url = f"/api/comments/{made['id']}"

    for who in ("other", "outsider", "nobody"):
        h = team.headers[who]
        listed = client.get(f"/api/comments?annotation={team.annotation_id}", headers=h)
        posted = client.post(
            "/api/comments", json={"annotation": team.annotation_id, "text": "x"}, headers=h
        )
        assert listed.status_code == 404, who
        assert posted.status_code == 404, who
        assert client.get(url, headers=h).status_code == 404, who
        assert client.patch(url, json={"is_resolved": True}, headers=h).status_code == 404, who
        assert client.delete(url, headers=h).status_code == 404, who
    assert client.get(url, headers=team.headers["reviewer"]).get_json()["is_resolved"] is False


def test_members_without_the_right_are_refused_with_the_rule(
    client: FlaskClient, team: Team
) -> None:
    made = _comment(client, team, "reviewer", "Check the label")
    url = f"/api/comments/{made['id']}"

    edit = client.patch(url, json={"text": "mine now"}, headers=team.headers["annotator"])
    delete = client.delete(url, headers=team.headers["annotator"])
    manager_edit = client.patch(url, json={"text": "mine now"}, headers=team.headers["manager"])

    assert edit.status_code == 403 and "only its writer may" in edit.get_json()["detail"]
    assert delete.status_code == 403 and "its writer or a manager" in delete.get_json()["detail"]
    assert manager_edit.status_code == 403
    assert client.delete(url, headers=team.headers["manager"]).status_code == 204


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "no annotation"}, "annotation"),  # the annotation is required
        ({"annotation": "1", "text": "x"}, "annotation"),  # a string is not an id
        ({"annotation": 1, "text": ""}, "text"),  # empty text
        ({"annotation": 1, "text": "x" * 10_001}, "text"),  # too long
        ({"annotation": 1, "text": "x", "colour": "red"}, "colour"),  # unknown field
    ],
)
def test_refuses_a_bad_comment_naming_the_field(
    client: FlaskClient, team: Team, body: dict, field: str
) -> None:
    response = client.post("/api/comments", json=body, headers=team.headers["reviewer"])

    assert response.status_code == 400, response.get_json()
    assert field in response.get_json()["validation_errors"]


def test_blank_text_after_trimming_and_a_missing_query_are_refused(
    client: FlaskClient, team: Team
) -> None:
    blank = client.post(
        "/api/comments",
        json={"annotation": team.annotation_id, "text": "   "},
        headers=team.headers["reviewer"],
    )
    no_query = client.get("/api/comments", headers=team.headers["reviewer"])
    bad_query = client.get("/api/comments?annotation=abc", headers=team.headers["reviewer"])

    assert blank.status_code == 400 and "text" in blank.get_json()["detail"]
    assert no_query.status_code == 400 and "annotation" in no_query.get_json()["detail"]
    assert bad_query.status_code == 400
    assert client.get("/api/comments?annotation=1").status_code == 401
