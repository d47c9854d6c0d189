"""Imports above LABELOPS_BACKGROUND_IMPORT_BYTES run in the background with a status."""

import io
import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import TEXT_CONFIG
from tests.web.helpers import user_with_token
from tests.worker_helpers import drain


@pytest.fixture
def admin(app: Flask, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("LABELOPS_BACKGROUND_IMPORT_BYTES", "200")
    return user_with_token(app, "admin@example.com", admin=True)[1]


@pytest.fixture
def project_id(client: FlaskClient, admin: dict[str, str]) -> int:
    body = {"title": "Big", "label_config": TEXT_CONFIG}
    return int(client.post("/api/projects", json=body, headers=admin).json["id"])


def test_a_large_import_answers_at_once_then_completes(
    app: Flask, client: FlaskClient, admin: dict[str, str], project_id: int
) -> None:
    tasks = [{"text": f"a longer task number {i}"} for i in range(40)]
    queued = client.post(
        f"/api/projects/{project_id}/import?return_task_ids=true", json=tasks, headers=admin
    )
    assert queued.status_code == 201, queued.json
    import_id = queued.json["import"]
    assert queued.json["status"] == "created"
    status = f"/api/projects/{project_id}/imports/{import_id}"
    assert client.get(status, headers=admin).json["status"] == "created"
    assert client.get(f"/api/projects/{project_id}", headers=admin).json["task_number"] == 0

    drain(app)
    done = client.get(status, headers=admin).json
    assert done["status"] == "completed", done
    assert done["task_count"] == 40 and len(done["task_ids"]) == 40
    assert client.get(f"/api/projects/{project_id}", headers=admin).json["task_number"] == 40


def test_a_bad_file_fails_the_import_with_its_file_and_row(
    app: Flask, client: FlaskClient, admin: dict[str, str], project_id: int
) -> None:
    rows = [{"text": f"fine task {i}"} for i in range(20)] + [{"other": "no text field"}]
    upload = io.BytesIO(json.dumps(rows).encode())
    queued = client.post(
        f"/api/projects/{project_id}/import",
        data={"file": (upload, "tasks.json")},
        headers=admin,
        content_type="multipart/form-data",
    )
    assert queued.status_code == 201, queued.json
    drain(app)
    failed = client.get(
        f"/api/projects/{project_id}/imports/{queued.json['import']}", headers=admin
    ).json
    assert failed["status"] == "failed"
    assert "tasks.json" in failed["error"] and "row 21" in failed["error"]
    assert failed["errors"][0]["row"] == 21 and failed["errors"][0]["field"] == "text"
    assert failed["task_count"] == 0
    assert client.get(f"/api/projects/{project_id}", headers=admin).json["task_number"] == 0


def test_small_imports_stay_synchronous_and_status_is_for_managers(
    app: Flask, client: FlaskClient, admin: dict[str, str], project_id: int
) -> None:
    small = client.post(f"/api/projects/{project_id}/import", json=[{"text": "a"}], headers=admin)
    assert small.status_code == 201 and small.json["task_count"] == 1
    big = [{"text": f"a longer task number {i}"} for i in range(40)]
    import_id = client.post(f"/api/projects/{project_id}/import", json=big, headers=admin).json[
        "import"
    ]
    _, annotator = user_with_token(app, "ann@example.com")
    _, stranger = user_with_token(app, "nobody@example.com")
    client.post(
        f"/api/projects/{project_id}/members",
        json={"email": "ann@example.com", "role": "annotator"},
        headers=admin,
    )
    status = f"/api/projects/{project_id}/imports/{import_id}"
    assert client.get(status, headers=annotator).status_code == 403
    assert client.get(status, headers=stranger).status_code == 404
    assert client.get(f"/api/projects/{project_id}/imports/999", headers=admin).status_code == 404
    assert (
        client.post(f"/api/projects/{project_id}/import", json=big, headers=annotator).status_code
        == 403
    )
