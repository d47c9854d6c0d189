"""Attack: ids past 2^63 in the query strings of pages answered a 500.

The API bounds every id, but the labeling page (``?task=``), the review stream (``?task=``) and
the data manager (``?annotator=``) handed any number to the database: SQLite raised an
OverflowError, PostgreSQL an out-of-range error. The services' getters now answer "not found" for
an id no row can have, and a task filter refuses one, whatever the entry point.
"""

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labelops.domain.json_limits import JsonLimitError
from labelops.services.annotations import get_annotation
from labelops.services.errors import NotFoundError
from labelops.services.predictions import get_prediction
from labelops.services.projects import get_project
from labelops.services.tasks import TaskFilter, get_task
from labelops.web.extensions import db
from tests.factories import make_project, make_tasks, make_user

HUGE = 2**63
PASSWORD = "password123"


def _csrf(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).get_data(True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def _manager(app: Flask) -> tuple[FlaskClient, int]:
    with app.app_context():
        project = make_project(db.session, make_user(db.session, "mgr@example.com"))
        make_tasks(db.session, project, 2)
        db.session.commit()
        project_id = project.id
    client = app.test_client()
    signed = client.post(
        "/auth/login",
        data={
            "email": "mgr@example.com",
            "password": PASSWORD,
            "csrf_token": _csrf(client, "/auth/login"),
        },
    )
    assert signed.status_code == 302
    return client, project_id


@pytest.mark.parametrize("value", [HUGE, 10**30])
def test_page_query_ids_past_the_database_range_are_not_server_errors(
    app: Flask, value: int
) -> None:
    client, project_id = _manager(app)

    label = client.get(f"/projects/{project_id}/label?task={value}")
    assert label.status_code == 404

    review = client.get(f"/projects/{project_id}/review?task={value}")
    assert review.status_code == 200  # the id names no waiting task: the stream's next one

    data = client.get(f"/projects/{project_id}/data?annotator={value}")
    assert data.status_code == 400
    assert "annotator" in data.get_data(as_text=True)


def test_service_getters_answer_not_found_for_impossible_ids(app: Flask) -> None:
    with app.app_context():
        for getter in (get_task, get_annotation, get_project, get_prediction):
            for value in (HUGE, 0, -1):
                with pytest.raises(NotFoundError):
                    getter(db.session, value)
        with pytest.raises(JsonLimitError, match="annotator"):
            TaskFilter(annotator_id=HUGE)
        with pytest.raises(JsonLimitError, match=r"ids\[1\]"):
            TaskFilter(ids=[1, HUGE])
