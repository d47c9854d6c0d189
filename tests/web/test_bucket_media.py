"""Bucket images on the task page: served through the task's media route to members only."""

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labelops.resources.object_store import S3ObjectStore
from labelops.services.imports import ImportOptions, import_rows
from labelops.services.pipeline_storage import create_storage
from labelops.services.projects import get_project
from labelops.settings import Settings
from labelops.web.extensions import db
from tests.factories import add_member, make_project, make_user
from tests.resources import conftest as emulators
from tests.resources.conftest import S3_KEYS

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


def _local_connection_task(app: Flask, values: dict[str, Any]) -> Setup:
    """A project with a local-folder connection on ``photos`` and one task holding ``values``."""
    with app.app_context():
        manager = make_user(db.session, "manager@example.com")
        project = make_project(db.session, manager, label_config=IMAGE_CONFIG)
        create_storage(db.session, project, kind="local", prefix="photos")
        report = import_rows(
            db.session, project, [(1, values)], source="test",
            options=ImportOptions(return_task_ids=True),
        )  # fmt: skip
        db.session.commit()
        return Setup(project.id, report.task_ids[0], values["photo"])


def test_in_production_a_local_folder_image_is_served_from_the_deployments_bucket(
    app: Flask,
    client: FlaskClient,
    auth: Any,
    tmp_path: Path,
    s3_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Production: the deployment's store is an S3 bucket, and a local-folder connection is a
    # folder of it; its objects are s3:// URIs of that bucket, read with the deployment's keys.
    deployment = S3ObjectStore(
        bucket="deployment", prefix="lo", endpoint_url=s3_endpoint, **S3_KEYS
    )
    deployment._s3().create_bucket(Bucket="deployment")
    deployment.put_bytes("photos/cat.png", PNG)
    deployment.put_bytes("private/other.png", PNG + b"other")
    for name, value in {
        "LABELOPS_ENV": "production",
        "LABELOPS_S3_BUCKET": "deployment",
        "LABELOPS_S3_PREFIX": "lo",
        "LABELOPS_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    app.config["LABELOPS_SETTINGS"] = Settings.from_env(tmp_path / "home")
    photo = deployment.uri("photos/cat.png")
    traversal = "s3://deployment/lo/photos/../private/other.png"
    setup = _local_connection_task(
        app, {"photo": photo, "more": [deployment.uri("private/other.png"), traversal]}
    )
    auth.login("manager@example.com", "password123")
    base = f"/projects/{setup.project_id}/tasks/{setup.task_id}/media?url="

    shown = client.get(_payload(client, setup)["task"]["data"]["photo"])
    other_folder = client.get(base + quote(deployment.uri("private/other.png"), safe=""))
    climbing = client.get(base + quote(traversal, safe=""))

    assert photo == "s3://deployment/lo/photos/cat.png"
    assert shown.status_code == 200 and shown.data == PNG
    assert [other_folder.status_code, climbing.status_code] == [404, 404]


def test_a_local_folder_refuses_paths_and_links_that_climb_out_of_it(
    app: Flask, client: FlaskClient, auth: Any, tmp_path: Path
) -> None:
    settings = Settings.from_env(tmp_path / "home")
    app.config["LABELOPS_SETTINGS"] = settings
    folder = settings.object_store_root / "photos"
    folder.mkdir(parents=True)
    (folder / "cat.png").write_bytes(PNG)
    secret = settings.object_store_root / "private" / "other.png"
    secret.parent.mkdir(parents=True)
    secret.write_bytes(PNG + b"secret")
    (folder / "link.png").symlink_to(secret)
    climbing = f"{folder.as_uri()}/../private/other.png"
    encoded = f"{folder.as_uri()}/%2E%2E/private/other.png"
    setup = _local_connection_task(
        app,
        {
            "photo": (folder / "cat.png").as_uri(),
            "more": [climbing, encoded, (folder / "link.png").as_uri()],
        },
    )
    auth.login("manager@example.com", "password123")
    base = f"/projects/{setup.project_id}/tasks/{setup.task_id}/media?url="

    responses = [
        client.get(base + quote(uri, safe=""))
        for uri in (climbing, encoded, (folder / "link.png").as_uri())
    ]

    assert client.get(base + quote(setup.uri, safe="")).data == PNG
    assert [r.status_code for r in responses] == [404, 404, 404]
