"""Helpers for the page tests in the browser: seed data through the REST API and the services."""

from typing import Any

import requests

from labelops.services.projects import get_project, set_member
from labelops.services.users import create_user, issue_token
from labelops.web.extensions import db


def api(server: Any, method: str, path: str, **kwargs: Any) -> Any:
    """Calls the REST API as the admin and returns the decoded JSON (fails on an error status)."""
    response = requests.request(
        method, f"{server.url}{path}", headers=server.api_headers(), timeout=30, **kwargs
    )
    assert response.status_code < 400, response.text
    return response.json() if response.content else None


def make_project(server: Any, title: str, label_config: str, **fields: Any) -> int:
    """Creates a project through the API and returns its id."""
    body = {"title": title, "label_config": label_config, **fields}
    return int(api(server, "POST", "/api/projects", json=body)["id"])


def import_tasks(server: Any, project_id: int, items: list[dict[str, Any]]) -> list[int]:
    """Imports tasks through the API and returns their ids."""
    report = api(
        server, "POST", f"/api/projects/{project_id}/import?return_task_ids=true", json=items
    )
    return [int(i) for i in report["task_ids"]]


def annotate(server: Any, task_id: int, result: list[dict[str, Any]], token: str) -> int:
    """Submits an annotation as the user owning ``token`` and returns its id."""
    response = requests.post(
        f"{server.url}/api/tasks/{task_id}/annotations",
        json={"result": result, "lead_time": 12.5},
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def add_user(server: Any, email: str, project_id: int | None = None, role: str = "") -> str:
    """Creates a user (password ``password123``), optionally a member, and returns an API token."""
    with server.app.app_context():
        user = create_user(db.session, email=email, password="password123")
        if project_id is not None:
            set_member(db.session, get_project(db.session, project_id), user, role, by=None)
        token = issue_token(db.session, user)
        db.session.commit()
        return token


def choice(value: str, from_name: str = "sentiment", to_name: str = "text") -> list[dict[str, Any]]:
    """Returns a one-item Choices result."""
    return [
        {
            "id": "c1",
            "from_name": from_name,
            "to_name": to_name,
            "type": "choices",
            "value": {"choices": [value]},
        }
    ]
