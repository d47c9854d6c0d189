"""Deleted data is never handed to the next project or task (issue 8, item 3).

The attack on the SQLite default: the web app ran without ``PRAGMA foreign_keys``, so deleting a
project left its rows behind, and SQLite gave the next project the same id, which inherited the
old tasks, annotations, storage rows and members (manager rights included). A manager deleting
their newest project and creating the next one got a 500 from their own leftover membership.
Every test runs on SQLite and PostgreSQL, through the API and through the pages.
"""

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from labelops.db.base import Base
from labelops.db.models import (
    AgreementReportRow,
    AnnotationRevisionRow,
    AnnotationRow,
    DatasetVersionRow,
    ImportedObjectRow,
    PipelineRunRow,
    PredictionRow,
    ProjectRow,
    StorageConnectionRow,
    TaskLockRow,
    UserRow,
    utcnow,
)
from labelops.services.projects import set_member
from labelops.web.extensions import db
from tests.conftest import AuthActions
from tests.factories import TEXT_CONFIG, choice_result
from tests.web.helpers import user_with_token

PASSWORD = "password123"
# Tables whose rows belong to a project or a task (the audit log keeps history on purpose).
PROJECT_TABLES = [
    t for t in Base.metadata.sorted_tables if "project_id" in t.c and t.c.project_id.foreign_keys
]
TASK_TABLES = [t for t in Base.metadata.sorted_tables if "task_id" in t.c]


class People:
    """Three accounts: the manager who deletes, a co-manager, and someone else who creates."""

    def __init__(self, app: Flask) -> None:
        self.deleter_id, self.deleter = user_with_token(app, "deleter@example.com", admin=True)
        self.member_id, self.member = user_with_token(app, "member@example.com")
        self.other_id, self.other = user_with_token(app, "other@example.com", admin=True)


@pytest.fixture
def people(app: Flask) -> People:
    return People(app)


def _create_project(client: FlaskClient, headers: dict[str, str], title: str) -> int:
    response = client.post(
        "/api/projects", json={"title": title, "label_config": TEXT_CONFIG}, headers=headers
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return int(response.json["id"])


def _import(client: FlaskClient, headers: dict[str, str], project_id: int, n: int) -> list[int]:
    response = client.post(
        f"/api/projects/{project_id}/import?return_task_ids=true",
        json=[{"text": f"row {project_id}-{i}"} for i in range(n)],
        headers=headers,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return [int(i) for i in response.json["task_ids"]]


def _fill(app: Flask, project_id: int, task_ids: list[int], people: People) -> None:
    """Gives the project a co-manager and a row in every table that hangs off it."""
    with app.app_context():
        session = db.session
        project = session.get_one(ProjectRow, project_id)
        set_member(session, project, session.get_one(UserRow, people.member_id), "manager", by=None)
        for task_id in task_ids:
            annotation = AnnotationRow(
                task_id=task_id,
                project_id=project_id,
                completed_by_id=people.member_id,
                result=choice_result("Positive"),
            )
            session.add(annotation)
            session.flush()
            session.add_all(
                [
                    AnnotationRevisionRow(
                        annotation_id=annotation.id,
                        task_id=task_id,
                        revision=1,
                        action="created",
                        result=annotation.result,
                        changed_by_id=people.member_id,
                    ),
                    PredictionRow(
                        task_id=task_id, project_id=project_id, result=choice_result("Negative")
                    ),
                    TaskLockRow(task_id=task_id, user_id=people.member_id, expire_at=utcnow()),
                ]
            )
        session.add_all(
            [
                StorageConnectionRow(project_id=project_id, kind="local", prefix="secret-folder"),
                ImportedObjectRow(project_id=project_id, key="secret-folder/a.json", etag="e"),
                DatasetVersionRow(project_id=project_id, version="v1", uri="file:///d/v1"),
                AgreementReportRow(project_id=project_id, report={"agreement": 1.0}),
                PipelineRunRow(project_id=project_id, job_name="sync_storage_job"),
            ]
        )
        session.commit()


def _leftovers(app: Flask, project_id: int, task_ids: list[int]) -> dict[str, int]:
    """Returns the tables that still hold rows of the project or of its tasks, with counts."""
    with app.app_context():
        counts = {
            table.name: db.session.scalar(
                sa.select(sa.func.count())
                .select_from(table)
                .where(table.c.project_id == project_id)
            )
            for table in PROJECT_TABLES
        }
        counts.update(
            {
                f"{table.name} (tasks)": db.session.scalar(
                    sa.select(sa.func.count())
                    .select_from(table)
                    .where(table.c.task_id.in_(task_ids))
                )
                for table in TASK_TABLES
            }
        )
        counts["projects"] = db.session.scalar(
            sa.select(sa.func.count()).where(ProjectRow.id == project_id)
        )
    return {name: count for name, count in counts.items() if count}


def _delete_project(
    client: FlaskClient, people: People, project_id: int, title: str, entry: str
) -> None:
    if entry == "api":
        response = client.delete(f"/api/projects/{project_id}", headers=people.deleter)
        assert response.status_code == 204, response.get_data(as_text=True)
        return
    auth = AuthActions(client)
    assert auth.login("deleter@example.com", PASSWORD).status_code == 302
    page = client.get(f"/projects/{project_id}/delete")
    assert page.status_code == 200
    response = client.post(
        f"/projects/{project_id}/delete",
        data={"confirm": title, "csrf_token": _csrf(page.get_data(as_text=True))},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    auth.logout()


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.mark.parametrize("entry", ["api", "page"])
@pytest.mark.parametrize("creator", ["another user", "the deleter"])
def test_next_project_inherits_nothing_from_a_deleted_one(
    app: Flask, client: FlaskClient, people: People, entry: str, creator: str
) -> None:
    kept = _create_project(client, people.deleter, "Kept")
    doomed = _create_project(client, people.deleter, "Medical records")
    task_ids = _import(client, people.deleter, doomed, 3)
    _fill(app, doomed, task_ids, people)
    assert client.get(f"/api/projects/{doomed}", headers=people.member).status_code == 200

    _delete_project(client, people, doomed, "Medical records", entry)
    assert _leftovers(app, doomed, task_ids) == {}

    headers = people.other if creator == "another user" else people.deleter
    fresh = _create_project(client, headers, "Next")
    assert fresh > doomed > kept
    assert (
        _leftovers(app, fresh, task_ids)
        == _leftovers(app, fresh, [])
        == {
            "projects": 1,
            "project_members": 1,
        }
    )
    tasks = client.get(f"/api/projects/{fresh}/tasks", headers=headers)
    assert tasks.status_code == 200
    assert _tasks_json(tasks) == []
    storages = client.get(f"/api/projects/{fresh}/storages", headers=headers)
    assert storages.status_code == 200
    assert storages.json["results"] == []
    # The deleted project's co-manager has no rights on the new one.
    assert client.get(f"/api/projects/{fresh}", headers=people.member).status_code in (403, 404)
    refused = client.delete(f"/api/projects/{fresh}", headers=people.member)
    assert refused.status_code in (403, 404)
    assert client.get(f"/api/projects/{fresh}", headers=headers).status_code == 200


def _delete_task(
    client: FlaskClient, people: People, project_id: int, task_id: int, entry: str
) -> None:
    if entry == "api":
        response = client.delete(f"/api/tasks/{task_id}", headers=people.deleter)
        assert response.status_code == 204, response.get_data(as_text=True)
        return
    auth = AuthActions(client)
    assert auth.login("deleter@example.com", PASSWORD).status_code == 302
    page = client.get(f"/projects/{project_id}/data")
    assert page.status_code == 200
    response = client.post(
        f"/projects/{project_id}/data/delete",
        data={"task": [str(task_id)], "csrf_token": _csrf(page.get_data(as_text=True))},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    auth.logout()


@pytest.mark.parametrize("entry", ["api", "page"])
def test_a_deleted_task_id_is_never_given_to_an_imported_task(
    app: Flask, client: FlaskClient, people: People, entry: str
) -> None:
    first = _create_project(client, people.deleter, "First")
    second = _create_project(client, people.deleter, "Second")
    task_ids = _import(client, people.deleter, first, 3)
    _fill(app, first, task_ids, people)
    newest = max(task_ids)

    _delete_task(client, people, first, newest, entry)
    assert _leftovers(app, -1, [newest]) == {}

    (imported,) = _import(client, people.deleter, second, 1)
    assert imported > newest
    history = client.get(f"/api/tasks/{imported}/annotations", headers=people.deleter)
    assert history.status_code == 200
    assert history.json == []
    assert _leftovers(app, -1, [imported]) == {}
    # The other tasks of the first project keep their rows.
    assert _leftovers(app, -1, task_ids[:-1])["annotations (tasks)"] == 2


def test_bulk_import_reserves_ids_above_every_id_ever_used(
    app: Flask, client: FlaskClient, people: People
) -> None:
    project = _create_project(client, people.deleter, "Bulk")
    first = _import(client, people.deleter, project, 50)
    for task_id in first[-10:]:
        assert client.delete(f"/api/tasks/{task_id}", headers=people.deleter).status_code == 204
    second = _import(client, people.deleter, project, 50)
    assert min(second) > max(first)
    assert len(set(second)) == 50


def _tasks_json(response: Any) -> list[Any]:
    body = response.json
    return list(body["tasks"] if isinstance(body, dict) else body)
