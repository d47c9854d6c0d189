"""Attack: an annotator swaps the result a reviewer accepted.

Once a reviewer accepted an annotation, its author could still ``PATCH`` a different result (or
``DELETE`` it) and the annotation stayed "accepted by" that reviewer: the export and agreement
then carried a label nobody reviewed. The annotations service now refuses (409) a change to an
accepted annotation by anyone but a manager or an administrator, for every entry point.
"""

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labelops.db.models import AnnotationRow
from labelops.services.annotations import create_annotation, update_annotation
from labelops.services.errors import ConflictError
from labelops.services.users import issue_token
from labelops.web.extensions import db
from tests.factories import add_member, choice_result, make_project, make_tasks, make_user


def _accepted(app: Flask) -> dict[str, Any]:
    """An annotator's Negative annotation that a reviewer accepted, with everyone's tokens."""
    with app.app_context():
        session = db.session
        manager = make_user(session, "mgr@example.com")
        author = make_user(session, "ann@example.com")
        reviewer = make_user(session, "rev@example.com")
        project = make_project(session, manager)
        add_member(session, project, author, "annotator")
        add_member(session, project, reviewer, "reviewer")
        task = make_tasks(session, project, 1)[0]
        annotation = create_annotation(
            session,
            task,
            user_id=author.id,
            result=choice_result("Negative"),
            now=datetime.now(UTC),
        )
        session.commit()
        tokens = {
            name: {"Authorization": f"Token {issue_token(session, user)}"}
            for name, user in (("mgr", manager), ("ann", author), ("rev", reviewer))
        }
        session.commit()
        ids = {"annotation": annotation.id, "author": author.id, "manager": manager.id}
    client = app.test_client()
    decided = client.post(
        f"/api/annotations/{ids['annotation']}/review",
        json={"decision": "accepted"},
        headers=tokens["rev"],
    )
    assert decided.status_code == 200, decided.get_data(as_text=True)
    return {**ids, "tokens": tokens}


def _stored(app: Flask, annotation_id: int) -> AnnotationRow | None:
    with app.app_context():
        row = db.session.get(AnnotationRow, annotation_id)
        if row is not None:
            db.session.expunge(row)
        return row


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_author_cannot_change_an_accepted_annotation(app: Flask, method: str) -> None:
    setup = _accepted(app)
    client: FlaskClient = app.test_client()
    url = f"/api/annotations/{setup['annotation']}"

    changed = client.open(
        url,
        method=method,
        json={"result": choice_result("Positive")},
        headers=setup["tokens"]["ann"],
    )
    assert changed.status_code == 409
    assert "accepted by a reviewer" in changed.get_json()["detail"]
    skipped = client.open(
        url, method=method, json={"was_cancelled": True}, headers=setup["tokens"]["ann"]
    )
    assert skipped.status_code == 409

    row = _stored(app, setup["annotation"])
    assert row is not None
    assert row.result[0]["value"]["choices"] == ["Negative"]
    assert row.review_state == "accepted" and row.was_cancelled is False


def test_author_cannot_delete_an_accepted_annotation(app: Flask) -> None:
    setup = _accepted(app)
    response = app.test_client().delete(
        f"/api/annotations/{setup['annotation']}", headers=setup["tokens"]["ann"]
    )
    assert response.status_code == 409
    assert _stored(app, setup["annotation"]) is not None


def test_a_manager_may_still_correct_an_accepted_annotation(app: Flask) -> None:
    setup = _accepted(app)
    response = app.test_client().patch(
        f"/api/annotations/{setup['annotation']}",
        json={"result": choice_result("Neutral")},
        headers=setup["tokens"]["mgr"],
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    row = _stored(app, setup["annotation"])
    assert row is not None and row.result[0]["value"]["choices"] == ["Neutral"]


def test_the_service_refuses_the_author_whatever_the_entry_point(app: Flask) -> None:
    setup = _accepted(app)
    with app.app_context():
        row = db.session.get_one(AnnotationRow, setup["annotation"])
        with pytest.raises(ConflictError, match="accepted by a reviewer"):
            update_annotation(
                db.session,
                row,
                user_id=setup["author"],
                result=choice_result("Positive"),
                now=datetime.now(UTC),
            )
