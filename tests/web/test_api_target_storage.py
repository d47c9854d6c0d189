"""Target storage through the API: write an export to a project's export bucket."""

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labelops.db.models import UserRow
from labelops.services.annotations import create_annotation
from labelops.settings import Settings
from labelops.web.extensions import db
from tests.factories import add_member, choice_result, make_project, make_tasks
from tests.resources import conftest as emulators
from tests.web.helpers import user_with_token

NOW = datetime(2026, 1, 1)

# The emulators of tests/resources (one bucket per kind: S3 on moto, GCS, Azure on Azurite).
s3_endpoint = emulators.s3_endpoint
gcs_endpoint = emulators.gcs_endpoint
gcs_bucket = emulators.gcs_bucket
gcs_store = emulators.gcs_store
azure_endpoint = emulators.azure_endpoint
azure_container = emulators.azure_container
azure_store = emulators.azure_store
bucket = emulators.bucket


class Setup:
    """A labeled project, its manager's and an annotator's tokens, an outsider's token."""

    def __init__(self, project_id: int, manager: dict[str, str], annotator: dict[str, str],
                 outsider: dict[str, str]) -> None:  # fmt: skip
        self.project_id = project_id
        self.manager = manager
        self.annotator = annotator
        self.outsider = outsider


@pytest.fixture
def setup(app: Flask, bucket: emulators.Bucket, tmp_path: Path) -> Setup:
    app.config["LABELOPS_SETTINGS"] = Settings.from_env(tmp_path / "home")
    manager_id, manager = user_with_token(app, "manager@example.com", can_create_projects=True)
    annotator_id, annotator = user_with_token(app, "ann@example.com")
    _, outsider = user_with_token(app, "outsider@example.com", can_create_projects=True)
    with app.app_context():
        owner = db.session.get_one(UserRow, manager_id)
        project = make_project(db.session, owner)
        add_member(db.session, project, db.session.get_one(UserRow, annotator_id), "annotator")
        task = make_tasks(db.session, project, n=1, text="good")[0]
        create_annotation(
            db.session, task, user_id=manager_id, result=choice_result("Positive"), now=NOW
        )
        db.session.commit()
        return Setup(project.id, manager, annotator, outsider)


def _storage(client: FlaskClient, setup: Setup, bucket: emulators.Bucket, **fields: str) -> int:
    response = client.post(
        f"/api/projects/{setup.project_id}/storages",
        json={"kind": bucket.kind, "prefix": "exports", **bucket.fields, **fields},
        headers=setup.manager,
    )
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def test_a_manager_writes_an_export_to_the_target_bucket(
    client: FlaskClient, setup: Setup, bucket: emulators.Bucket
) -> None:
    storage_id = _storage(client, setup, bucket, direction="export")

    response = client.post(
        f"/api/projects/{setup.project_id}/storages/{storage_id}/export",
        json={"exportType": "JSON"},
        headers=setup.manager,
    )

    assert response.status_code == 201, response.get_json()
    uri = response.get_json()["uri"]
    assert uri.startswith(bucket.store.uri(f"exports/project-{setup.project_id}-JSON-"))
    key = uri.split("/", 3)[3]
    exported = json.loads(bucket.store.read_bytes(key))
    assert [t["data"]["text"] for t in exported] == ["good"]
    listed = client.get(f"/api/projects/{setup.project_id}/storages", headers=setup.manager)
    assert listed.get_json()["results"][0]["direction"] == "export"


def test_exports_go_only_to_target_connections_of_a_bucket(
    client: FlaskClient, setup: Setup, bucket: emulators.Bucket
) -> None:
    import_id = _storage(client, setup, bucket)
    base = f"/api/projects/{setup.project_id}/storages"

    to_import = client.post(f"{base}/{import_id}/export", json={}, headers=setup.manager)
    local = client.post(
        base, json={"kind": "local", "prefix": "out", "direction": "export"}, headers=setup.manager
    )
    odd = client.post(
        base, json={**bucket.fields, "kind": bucket.kind, "direction": "both"},
        headers=setup.manager,
    )  # fmt: skip

    assert to_import.status_code == 400 and to_import.get_json()["field"] == "direction"
    assert local.status_code == 400 and local.get_json()["field"] == "direction"
    assert odd.status_code == 400 and "unknown direction" in odd.get_json()["detail"]
    assert bucket.store.list_objects() == []


def test_only_the_projects_managers_may_export_to_its_bucket(
    client: FlaskClient, setup: Setup, bucket: emulators.Bucket
) -> None:
    storage_id = _storage(client, setup, bucket, direction="export")
    url = f"/api/projects/{setup.project_id}/storages/{storage_id}/export"

    annotator = client.post(url, json={}, headers=setup.annotator)
    outsider = client.post(url, json={}, headers=setup.outsider)

    assert annotator.status_code == 403
    assert outsider.status_code == 404
    assert bucket.store.list_objects() == []


def test_the_pipeline_page_writes_an_export_to_the_target_bucket(
    client: FlaskClient, setup: Setup, bucket: emulators.Bucket, auth: Any
) -> None:
    storage_id = _storage(client, setup, bucket, direction="export")
    auth.login("manager@example.com", "password123")
    page = client.get(f"/projects/{setup.project_id}/pipeline").get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found and "Write export" in page

    response = client.post(
        f"/projects/{setup.project_id}/pipeline/storages/{storage_id}/export",
        data={"csrf_token": found.group(1), "export_type": "CSV"},
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert "Export written to" in response.get_data(as_text=True)
    (written,) = bucket.store.list_objects("exports/")
    assert written.key.endswith(".csv")
    assert b"good" in bucket.store.read_bytes(written.key)
