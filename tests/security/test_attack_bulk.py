"""Attack: the data manager's bulk delete with hostile ids and a hostile ``next``.

The API bounds every id, but the data manager's "Delete selected" form parsed ids by hand: an id
of 2^63 or more reached the database and answered a 500 (SQLite: OverflowError, PostgreSQL:
out of range), and its ``next`` field sent the manager to any site after the delete. The ids are
now checked in ``services.tasks.delete_tasks`` (every entry point passes there) and ``next`` only
goes back to the project's data manager.
"""

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labelops.db.models import TaskRow
from labelops.domain.json_limits import JsonLimitError
from labelops.services.tasks import delete_tasks
from labelops.web.extensions import db
from tests.factories import make_project, make_tasks, make_user

PASSWORD = "password123"


def _csrf(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).get_data(True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def _manager_with_tasks(app: Flask) -> tuple[FlaskClient, int, list[int]]:
    with app.app_context():
        manager = make_user(app_session := db.session, "mgr@example.com")
        project = make_project(app_session, manager)
        task_ids = [t.id for t in make_tasks(app_session, project, 3)]
        app_session.commit()
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
    return client, project_id, task_ids


def _remaining(app: Flask, project_id: int) -> int:
    with app.app_context():
        return db.session.query(TaskRow).filter_by(project_id=project_id).count()


@pytest.mark.parametrize("hostile", ["9223372036854775808", "99999999999999999999999", "²", "-1"])
def test_out_of_range_ids_get_400_and_nothing_is_deleted(app: Flask, hostile: str) -> None:
    client, project_id, task_ids = _manager_with_tasks(app)
    response = client.post(
        f"/projects/{project_id}/data/delete",
        data={
            "csrf_token": _csrf(client, f"/projects/{project_id}/data"),
            "task": [str(task_ids[0]), hostile],
        },
    )
    assert response.status_code == 400
    assert "task_ids[1]" in response.get_data(as_text=True)
    assert _remaining(app, project_id) == 3


def test_the_service_refuses_ids_the_database_cannot_hold(app: Flask) -> None:
    _, project_id, task_ids = _manager_with_tasks(app)
    with app.app_context():
        from labelops.db.models import ProjectRow

        project = db.session.get_one(ProjectRow, project_id)
        for bad in (2**63, 0, True, "1"):
            with pytest.raises(JsonLimitError, match=r"task_ids\[1\]"):
                delete_tasks(db.session, project, [task_ids[0], bad])  # type: ignore[list-item]
            db.session.rollback()
    assert _remaining(app, project_id) == 3


def test_next_never_leaves_the_project_data_manager(app: Flask) -> None:
    client, project_id, task_ids = _manager_with_tasks(app)
    for target in ("https://evil.example/phish", "//evil.example/", "/projects/999/data"):
        response = client.post(
            f"/projects/{project_id}/data/delete",
            data={
                "csrf_token": _csrf(client, f"/projects/{project_id}/data"),
                "task": str(task_ids.pop()),
                "next": target,
            },
        )
        assert response.status_code == 302
        assert response.headers["Location"] == f"/projects/{project_id}/data", target
    kept = client.post(
        f"/projects/{project_id}/data/delete",
        data={
            "csrf_token": _csrf(client, f"/projects/{project_id}/data"),
            "task": "",
            "next": f"/projects/{project_id}/data?state=new",
        },
    )
    assert kept.headers["Location"] == f"/projects/{project_id}/data?state=new"
    assert _remaining(app, project_id) == 0
