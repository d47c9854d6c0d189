"""Snapshot exports (/api/projects/<id>/exports/) built by the worker, and /api/version."""

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from labelops.cli import main
from labelops.db.models import BackgroundJobRow
from labelops.web.extensions import db
from tests.conftest import AuthActions, _csrf_from
from tests.factories import TEXT_CONFIG, choice_result
from tests.web.helpers import user_with_token
from tests.worker_helpers import drain


@pytest.fixture
def admin(app: Flask) -> dict[str, str]:
    return user_with_token(app, "admin@example.com", admin=True)[1]


def _project_with_tasks(client: FlaskClient, headers: dict[str, str], n: int) -> int:
    body = {"title": "Snap", "label_config": TEXT_CONFIG}
    project_id = int(client.post("/api/projects", json=body, headers=headers).json["id"])
    tasks = [{"text": f"task {i}"} for i in range(n)]
    client.post(f"/api/projects/{project_id}/import", json=tasks, headers=headers)
    listed = client.get(f"/api/projects/{project_id}/tasks?page_size=100", headers=headers).json
    for task in listed[: n // 2]:
        client.post(
            f"/api/tasks/{task['id']}/annotations",
            json={"result": choice_result("Positive"), "lead_time": 2.5},
            headers=headers,
        )
    return project_id


def test_snapshot_of_n_tasks_equals_the_synchronous_export_in_every_format(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    project_id = _project_with_tasks(client, admin, 30)
    base = f"/api/projects/{project_id}/exports"
    created = client.post(base + "/", json={"title": "nightly"}, headers=admin)
    assert created.status_code == 201, created.json
    snapshot = created.json
    assert snapshot["status"] == "created" and snapshot["title"] == "nightly"
    assert client.get(f"{base}/{snapshot['id']}/download", headers=admin).status_code == 409

    drain(app)
    done = client.get(f"{base}/{snapshot['id']}", headers=admin).json
    assert done["status"] == "completed"
    assert done["counters"] == {"task_number": 30}
    assert len(done["md5"]) == 32 and done["finished_at"]
    assert [e["id"] for e in client.get(base, headers=admin).json] == [snapshot["id"]]
    for fmt in ("JSON", "JSON_MIN", "CSV"):
        snap = client.get(f"{base}/{snapshot['id']}/download?exportType={fmt}", headers=admin)
        assert snap.status_code == 200, snap.json
        sync = client.get(
            f"/api/projects/{project_id}/export?exportType={fmt}&download_all_tasks=true",
            headers=admin,
        )
        assert snap.data == sync.data, fmt
    # A later change does not reach the snapshot.
    client.post(f"/api/projects/{project_id}/import", json=[{"text": "late"}], headers=admin)
    again = client.get(f"{base}/{snapshot['id']}/download?exportType=JSON", headers=admin)
    assert len(again.json) == 30


def test_snapshot_with_annotated_tasks_only_convert_and_delete(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    project_id = _project_with_tasks(client, admin, 6)
    base = f"/api/projects/{project_id}/exports"
    snapshot = client.post(
        base, json={"task_filter_options": {"only_with_annotations": True}}, headers=admin
    ).json
    drain(app)
    assert client.get(f"{base}/{snapshot['id']}", headers=admin).json["counters"] == {
        "task_number": 3
    }
    converted = client.post(
        f"{base}/{snapshot['id']}/convert", json={"export_type": "CSV"}, headers=admin
    )
    assert converted.status_code == 200 and converted.json["converted_format"] == 2
    formats = client.get(f"{base}/{snapshot['id']}", headers=admin).json["converted_formats"]
    assert [f["export_type"] for f in formats] == ["JSON", "CSV"]
    unfit = client.post(
        f"{base}/{snapshot['id']}/convert", json={"export_type": "COCO"}, headers=admin
    )
    assert unfit.status_code == 400
    unknown = client.get(f"{base}/{snapshot['id']}/download?exportType=NOPE", headers=admin)
    assert unknown.status_code == 400
    assert client.delete(f"{base}/{snapshot['id']}", headers=admin).status_code == 204
    assert client.get(f"{base}/{snapshot['id']}", headers=admin).status_code == 404


def test_snapshots_follow_the_export_rules_of_project_membership(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    project_id = _project_with_tasks(client, admin, 2)
    other_id = _project_with_tasks(client, admin, 2)
    base = f"/api/projects/{project_id}/exports"
    snapshot = client.post(base, headers=admin).json
    drain(app)
    _, annotator = user_with_token(app, "ann@example.com")
    _, stranger = user_with_token(app, "nobody@example.com")
    client.post(
        f"/api/projects/{project_id}/members",
        json={"email": "ann@example.com", "role": "annotator"},
        headers=admin,
    )
    for path in (base, f"{base}/{snapshot['id']}", f"{base}/{snapshot['id']}/download"):
        assert client.get(path, headers=annotator).status_code == 403, path
        assert client.get(path, headers=stranger).status_code == 404, path
    assert client.post(base, headers=annotator).status_code == 403
    assert client.delete(f"{base}/{snapshot['id']}", headers=annotator).status_code == 403
    # Another project's path does not reach this snapshot.
    foreign = f"/api/projects/{other_id}/exports/{snapshot['id']}"
    assert client.get(foreign, headers=admin).status_code == 404
    assert client.post(base, json={"bogus": 1}, headers=admin).status_code == 400


def test_the_worker_command_builds_queued_snapshots(
    app: Flask,
    client: FlaskClient,
    admin: dict[str, str],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project_id = _project_with_tasks(client, admin, 4)
    base = f"/api/projects/{project_id}/exports"
    snapshot = client.post(base, headers=admin).json
    monkeypatch.setenv("LABELOPS_DATABASE_URL", database_url)
    home = app.config["LABELOPS_SETTINGS"].home
    result = CliRunner().invoke(main, ["worker", "--once", "--home", str(home)])
    assert result.exit_code == 0, result.output
    done = client.get(f"{base}/{snapshot['id']}", headers=admin).json
    assert done["status"] == "completed" and done["counters"] == {"task_number": 4}


def test_version_answers_in_label_studio_shape(client: FlaskClient) -> None:
    for path in ("/api/version", "/api/version/"):
        body = client.get(path).json
        assert body["edition"] == "Community"
        assert body["release"] == body["label-studio-os-package"]["version"]
        assert {"label-studio-os-backend", "label-studio-frontend", "lsf"} <= set(body)


def _delete_by_api(client: FlaskClient, headers: dict[str, str], project_id: int) -> int:
    return client.delete(f"/api/projects/{project_id}", headers=headers).status_code


def _delete_by_page(client: FlaskClient, headers: dict[str, str], project_id: int) -> int:
    AuthActions(client).login("admin@example.com", "password123")
    page = client.get(f"/projects/{project_id}/delete").get_data(as_text=True)
    form = {"csrf_token": _csrf_from(page), "confirm": "Snap"}
    return client.post(f"/projects/{project_id}/delete", data=form).status_code


@pytest.mark.parametrize(
    ("delete", "answer"), [(_delete_by_api, 204), (_delete_by_page, 302)], ids=["api", "page"]
)
def test_deleting_a_project_deletes_its_snapshot_files(
    app: Flask,
    client: FlaskClient,
    admin: dict[str, str],
    delete: Callable[[FlaskClient, dict[str, str], int], int],
    answer: int,
) -> None:
    project_id = _project_with_tasks(client, admin, 4)
    kept_id = _project_with_tasks(client, admin, 2)
    doomed = client.post(f"/api/projects/{project_id}/exports", headers=admin).json
    kept = client.post(f"/api/projects/{kept_id}/exports", headers=admin).json
    drain(app)
    files = {"doomed": _result_path(app, doomed["id"]), "kept": _result_path(app, kept["id"])}
    assert files["doomed"].is_file() and files["kept"].is_file()

    assert delete(client, admin, project_id) == answer

    assert not files["doomed"].exists()
    assert files["kept"].is_file()  # another project's snapshot stays


def _result_path(app: Flask, job_id: int) -> Path:
    with app.app_context():
        return Path(db.session.get_one(BackgroundJobRow, job_id).result_path)
