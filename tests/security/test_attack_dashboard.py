"""Attack: a blind annotator reads other annotators' work from the dashboard and agreement API.

Blind labeling hid other annotators' annotations on the task page and the task API, but the
project dashboard (a page every member may open) still listed every annotator by email with
their throughput, counted the labels they chose and showed the agreement report, whose per-task
and per-annotator figures tell what the others answered; ``GET /api/projects/<id>/agreement``
handed the same report to annotators. Both now go through ``services.policies``.
"""

import json
import re
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from labelops.db.models import AgreementReportRow
from labelops.services.annotations import create_annotation
from labelops.web.extensions import db
from tests.factories import add_member, choice_result, make_project, make_tasks, make_user
from tests.web.helpers import user_with_token

PASSWORD = "password123"
REPORT = {
    "num_tasks": 3,
    "controls": {
        "sentiment": {
            "name": "sentiment",
            "kind": "classification",
            "num_tasks": 3,
            "task_agreement": {"1": 0.0},
        }
    },
}


def _csrf(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).get_data(True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def _sign_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    response = client.post(
        "/auth/login",
        data={"email": email, "password": PASSWORD, "csrf_token": _csrf(client, "/auth/login")},
    )
    assert response.status_code in (302, 303), response.get_data(True)
    return client


def _project_with_other_work(app: Flask, *, show_annotations: bool = False) -> dict[str, Any]:
    """A project where 'other' labelled two tasks Negative and 'me' labelled one Positive."""
    with app.app_context():
        session = db.session
        manager = make_user(session, "mgr@example.com")
        me = make_user(session, "me@example.com")
        other = make_user(session, "other@example.com")
        reviewer = make_user(session, "rev@example.com")
        project = make_project(
            session,
            manager,
            maximum_annotations=2,
            show_annotations_to_annotators=show_annotations,
        )
        for user, role in ((me, "annotator"), (other, "annotator"), (reviewer, "reviewer")):
            add_member(session, project, user, role)
        tasks = make_tasks(session, project, 3)
        now = datetime.now(UTC)
        for task in tasks[:2]:
            create_annotation(
                session, task, user_id=other.id, result=choice_result("Negative"), now=now
            )
        create_annotation(
            session, tasks[2], user_id=me.id, result=choice_result("Positive"), now=now
        )
        session.add(AgreementReportRow(project_id=project.id, report=REPORT))
        session.commit()
        return {"project": project.id}


def _figures(client: FlaskClient, project_id: int) -> dict[str, Any]:
    response = client.get(f"/projects/{project_id}/dashboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    found = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', html)
    assert found, "the dashboard has no figures"
    figures: dict[str, Any] = json.loads(found.group(1))
    figures["html"] = html
    return figures


def test_blind_annotator_dashboard_shows_only_their_own_work(app: Flask) -> None:
    ids = _project_with_other_work(app)
    figures = _figures(_sign_in(app, "me@example.com"), ids["project"])

    assert "other@example.com" not in figures["html"]
    assert [a["email"] for a in figures["annotators"]] == ["me@example.com"]
    assert [(x["label"], x["count"]) for x in figures["labels"]] == [("Positive", 1)]
    assert figures["labels_sampled"] == 1
    assert sum(day["count"] for day in figures["per_day"]) == 1
    assert "data-control=" not in figures["html"]
    assert "reviewers and managers see it" in figures["html"]


def test_reviewer_and_manager_dashboards_still_show_everyone(app: Flask) -> None:
    ids = _project_with_other_work(app)
    for email in ("rev@example.com", "mgr@example.com"):
        figures = _figures(_sign_in(app, email), ids["project"])
        assert {a["email"] for a in figures["annotators"]} == {
            "me@example.com",
            "other@example.com",
        }
        assert {(x["label"], x["count"]) for x in figures["labels"]} == {
            ("Negative", 2),
            ("Positive", 1),
        }
        assert 'data-control="sentiment"' in figures["html"]


def test_project_that_shows_annotations_shows_the_full_dashboard(app: Flask) -> None:
    ids = _project_with_other_work(app, show_annotations=True)
    figures = _figures(_sign_in(app, "me@example.com"), ids["project"])
    assert {a["email"] for a in figures["annotators"]} == {"me@example.com", "other@example.com"}
    assert 'data-control="sentiment"' in figures["html"]


def test_blind_annotator_cannot_read_the_agreement_report_through_the_api(app: Flask) -> None:
    ids = _project_with_other_work(app)
    with app.app_context():
        from labelops.services.users import get_user_by_email, issue_token

        me = get_user_by_email(db.session, "me@example.com")
        rev = get_user_by_email(db.session, "rev@example.com")
        assert me is not None and rev is not None
        me_headers = {"Authorization": f"Token {issue_token(db.session, me)}"}
        rev_headers = {"Authorization": f"Token {issue_token(db.session, rev)}"}
        db.session.commit()
    path = f"/api/projects/{ids['project']}/agreement"

    refused = app.test_client().get(path, headers=me_headers)
    assert refused.status_code == 403
    assert refused.json is not None
    assert "blind labeling" in refused.json["detail"]
    assert "other@example.com" not in refused.get_data(as_text=True)

    allowed = app.test_client().get(path, headers=rev_headers)
    assert allowed.status_code == 200
    assert allowed.json is not None and allowed.json["report"] == REPORT


def test_outsider_gets_404_for_dashboard_and_agreement(app: Flask) -> None:
    ids = _project_with_other_work(app)
    _, outsider = user_with_token(app, "out@example.com")
    response = app.test_client().get(f"/api/projects/{ids['project']}/agreement", headers=outsider)
    assert response.status_code == 404
