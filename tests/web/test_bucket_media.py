"""Bucket images on the task page: served through the task's media route to members only."""

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labelops.services.imports import ImportOptions, import_rows
from labelops.services.pipeline_storage import create_storage
from labelops.services.projects import get_project
from labelops.settings import Settings
from labelops.web.extensions import db
from tests.factories import add_member, make_project, make_user
from tests.resources import conftest as emulators

IMAGE_CONFIG = """<View>
  <Image name="img" value="$photo"/>
  <Choices name="kind" toName="img"><Choice value="cat"/><Choice value="dog"/></Choices>
</View>"""
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

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
    """A project whose task shows a bucket image, a member, and an outsider with a project."""

    def __init__(self, project_id: int, task_id: int, uri: str) -> None:
        self.project_id = project_id
        self.task_id = task_id
        self.uri = uri


@pytest.fixture
def setup(app: Flask, bucket: emulators.Bucket, tmp_path: Path, auth: Any) -> Setup:
    app.config["LABELOPS_SETTINGS"] = Settings.from_env(tmp_path / "home")
    bucket.store.put_bytes("photos/cat.png", PNG, "image/png")
    bucket.store.put_bytes("photos/secret.png", PNG + b"secret", "image/png")
    bucket.store.put_bytes("private/other.png", PNG + b"other", "image/png")
    scheme = {"s3": "s3", "gcs": "gs", "azure": "azure-blob"}[bucket.kind]
    uri = f"{scheme}://{bucket.fields['bucket']}/photos/cat.png"
    with app.app_context():
        manager = make_user(db.session, "manager@example.com")
        project = make_project(db.session, manager, label_config=IMAGE_CONFIG)
        add_member(db.session, project, make_user(db.session, "ann@example.com"), "annotator")
        create_storage(db.session, project, kind=bucket.kind, prefix="photos", **bucket.fields)
        outsider = make_user(db.session, "outsider@example.com")
        make_project(db.session, outsider, label_config=IMAGE_CONFIG)
        outside_uri = f"{scheme}://{bucket.fields['bucket']}/private/other.png"
        report = import_rows(
            db.session,
            get_project(db.session, project.id),
            [(1, {"photo": uri}), (2, {"photo": outside_uri})],
            source="test",
            options=ImportOptions(return_task_ids=True),
        )
        db.session.commit()
        return Setup(project.id, report.task_ids[0], uri)


def _payload(client: FlaskClient, setup: Setup) -> dict[str, Any]:
    page = client.get(f"/projects/{setup.project_id}/tasks/{setup.task_id}")
    assert page.status_code == 200
    found = re.search(
        r'<script type="application/json" id="task-payload">(.*?)</script>',
        page.get_data(as_text=True),
        re.S,
    )
    assert found
    return json.loads(found.group(1))


def test_a_member_opens_a_bucket_image_through_the_task_page(
    client: FlaskClient, auth: Any, setup: Setup
) -> None:
    auth.login("ann@example.com", "password123")

    photo = _payload(client, setup)["task"]["data"]["photo"]
    response = client.get(photo)

    assert photo == (
        f"/projects/{setup.project_id}/tasks/{setup.task_id}/media?url={quote(setup.uri, safe='')}"
    )
    assert response.status_code == 200
    assert response.data == PNG
    assert response.mimetype == "image/png"
    assert "private" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_user_of_another_project_gets_404(client: FlaskClient, auth: Any, setup: Setup) -> None:
    auth.login("outsider@example.com", "password123")

    response = client.get(
        f"/projects/{setup.project_id}/tasks/{setup.task_id}/media?url={quote(setup.uri)}"
    )

    assert response.status_code == 404
    assert PNG not in response.data


def test_the_route_is_no_open_proxy(client: FlaskClient, auth: Any, setup: Setup) -> None:
    auth.login("manager@example.com", "password123")
    base = f"/projects/{setup.project_id}/tasks"
    scheme, rest = setup.uri.split("://", 1)
    bucket_name = rest.split("/", 1)[0]
    not_in_task = f"{scheme}://{bucket_name}/photos/secret.png"
    outside_prefix = f"{scheme}://{bucket_name}/private/other.png"

    other_key = client.get(f"{base}/{setup.task_id}/media?url={quote(not_in_task)}")
    # The second task names an object outside the connection's prefix.
    outside = client.get(f"{base}/{setup.task_id + 1}/media?url={quote(outside_prefix)}")
    web = client.get(f"{base}/{setup.task_id}/media?url={quote('http://169.254.169.254/')}")
    wrong_task = client.get(f"{base}/{setup.task_id + 1}/media?url={quote(setup.uri)}")
    no_url = client.get(f"{base}/{setup.task_id}/media")

    assert [r.status_code for r in (other_key, outside, web, wrong_task, no_url)] == [404] * 5


def test_a_local_folder_image_is_served_from_the_connections_folder_only(
    app: Flask, client: FlaskClient, auth: Any, tmp_path: Path
) -> None:
    settings = Settings.from_env(tmp_path / "home")
    app.config["LABELOPS_SETTINGS"] = settings
    photo = settings.object_store_root / "photos" / "cat.png"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(PNG)
    elsewhere = settings.object_store_root / "private" / "other.png"
    elsewhere.parent.mkdir(parents=True)
    elsewhere.write_bytes(PNG + b"other")
    outside = tmp_path / "outside.png"
    outside.write_bytes(PNG + b"outside")
    with app.app_context():
        manager = make_user(db.session, "manager@example.com")
        project = make_project(db.session, manager, label_config=IMAGE_CONFIG)
        create_storage(db.session, project, kind="local", prefix="photos")
        data = {"photo": photo.as_uri(), "more": [elsewhere.as_uri(), outside.as_uri()]}
        report = import_rows(
            db.session, project, [(1, data)], source="test",
            options=ImportOptions(return_task_ids=True),
        )  # fmt: skip
        db.session.commit()
        setup = Setup(project.id, report.task_ids[0], photo.as_uri())
    auth.login("manager@example.com", "password123")
    base = f"/projects/{setup.project_id}/tasks/{setup.task_id}/media?url="

    shown = client.get(_payload(client, setup)["task"]["data"]["photo"])
    other_folder = client.get(base + quote(elsewhere.as_uri()))
    out_of_store = client.get(base + quote(outside.as_uri()))

    assert shown.status_code == 200 and shown.data == PNG
    assert [other_folder.status_code, out_of_store.status_code] == [404, 404]
