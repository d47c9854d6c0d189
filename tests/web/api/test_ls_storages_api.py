"""Storage connections through Label Studio's ``/api/storages`` API, on a real S3 endpoint (moto).

The same rules as every other entry point hold (they live in ``services.storages``): allowlisted
endpoints only, secrets never returned, local folders confined, managers only.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from labelops.db.models import UserRow, utcnow
from labelops.services.annotations import create_annotation
from labelops.settings import Settings
from labelops.web.extensions import db
from tests.factories import add_member, choice_result, make_project, make_tasks
from tests.resources import conftest as emulators
from tests.web.helpers import user_with_token

s3_endpoint = emulators.s3_endpoint
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing-secret-value"}
DEAD = "http://127.0.0.1:9"  # nothing listens there


@dataclass
class Setup:
    """A project with a manager, an annotator, and another project's manager; an S3 bucket."""

    project_id: int
    manager: dict[str, str]
    annotator: dict[str, str]
    outsider: dict[str, str]
    outsider_project_id: int
    endpoint: str
    bucket: str


@pytest.fixture
def setup(
    app: Flask, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Setup]:
    bucket = f"ls-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEYS["aws_access_key_id"],
        aws_secret_access_key=KEYS["aws_secret_access_key"],
    ).create_bucket(Bucket=bucket)
    monkeypatch.setenv("LABELOPS_STORAGE_ENDPOINT_ALLOWLIST", s3_endpoint)
    monkeypatch.setenv("LABELOPS_OUTBOUND_HOST_ALLOWLIST", urlsplit(s3_endpoint).netloc)
    monkeypatch.setenv("LABELOPS_STORAGE_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("LABELOPS_STORAGE_CHECK_ON_CREATE", "1")  # bucket listed when created
    monkeypatch.setenv("LABELOPS_ENV", "production")  # a sync launch never runs a job here
    monkeypatch.setenv("LABELOPS_DAGSTER_UI_URL", DEAD)
    app.config["LABELOPS_SETTINGS"] = Settings.from_env(tmp_path / "home")
    app.config["DAGSTER_UI_URL"] = DEAD
    manager_id, manager = user_with_token(app, "manager@example.com", can_create_projects=True)
    annotator_id, annotator = user_with_token(app, "ann@example.com")
    outsider_id, outsider = user_with_token(app, "outsider@example.com")
    with app.app_context():
        project = make_project(db.session, db.session.get_one(UserRow, manager_id))
        add_member(db.session, project, db.session.get_one(UserRow, annotator_id), "annotator")
        task = make_tasks(db.session, project, n=1, text="good")[0]
        create_annotation(
            db.session, task, user_id=manager_id, result=choice_result("Positive"), now=utcnow()
        )
        theirs = make_project(db.session, db.session.get_one(UserRow, outsider_id))
        db.session.commit()
        yield Setup(project.id, manager, annotator, outsider, theirs.id, s3_endpoint, bucket)


def _s3_fields(setup: Setup, **extra: str) -> dict[str, str]:
    return {
        "project": str(setup.project_id),
        "bucket": setup.bucket,
        "s3_endpoint": setup.endpoint,
        **KEYS,
        **extra,
    }


def _create(client: FlaskClient, setup: Setup, path: str = "s3", **extra: str) -> dict:
    response = client.post(
        f"/api/storages/{path}", data=_s3_fields(setup, **extra), headers=setup.manager
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_an_s3_storage_is_created_read_changed_and_deleted_as_label_studio_does(
    client: FlaskClient, setup: Setup
) -> None:
    created = _create(
        client,
        setup,
        title="Images",
        use_blob_urls="false",
        presign_ttl="3600",
        prefix="images",
        region_name="us-east-1",
    )

    assert created["type"] == "s3" and created["project"] == setup.project_id
    assert created["title"] == "Images" and created["use_blob_urls"] is False
    assert created["presign_ttl"] == 3600 and created["prefix"] == "images"
    assert created["s3_endpoint"] == setup.endpoint and created["status"] == "initialized"
    assert created["secret_source"] == "encrypted"
    assert KEYS["aws_secret_access_key"] not in str(created)

    one = client.get(f"/api/storages/s3/{created['id']}", headers=setup.manager).get_json()
    listed = client.get(f"/api/storages/s3?project={setup.project_id}", headers=setup.manager)
    everything = client.get(f"/api/storages?project={setup.project_id}", headers=setup.manager)
    assert one["id"] == created["id"]
    assert [s["id"] for s in listed.get_json()] == [created["id"]]
    assert [s["id"] for s in everything.get_json()] == [created["id"]]

    # The stored secret stays when other fields change: the bucket is listed again with it.
    patched = client.patch(
        f"/api/storages/s3/{created['id']}",
        json={"title": "Renamed", "presign": False},
        headers=setup.manager,
    )
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["title"] == "Renamed" and patched.get_json()["presign"] is False
    assert patched.get_json()["use_blob_urls"] is False

    stopped = client.patch(
        f"/api/storages/s3/{created['id']}", json={"synchronizable": False}, headers=setup.manager
    )
    assert stopped.status_code == 200
    refused = client.post(f"/api/storages/s3/{created['id']}/sync", headers=setup.manager)
    assert refused.status_code == 400
    assert refused.get_json()["field"] == "synchronizable"

    assert (
        client.delete(f"/api/storages/s3/{created['id']}", headers=setup.manager).status_code == 204
    )
    assert client.get(f"/api/storages/s3/{created['id']}", headers=setup.manager).status_code == 404


def test_validate_lists_the_bucket_and_stores_nothing(client: FlaskClient, setup: Setup) -> None:
    good = client.post("/api/storages/s3/validate", data=_s3_fields(setup), headers=setup.manager)
    missing = client.post(
        "/api/storages/s3/validate",
        data=_s3_fields(setup, bucket="no-such-bucket-here"),
        headers=setup.manager,
    )

    assert good.status_code == 200 and good.get_json() == {}
    assert missing.status_code == 400
    assert "NoSuchBucket" in " ".join(missing.get_json()["validation_errors"]["bucket"])
    listed = client.get(f"/api/storages?project={setup.project_id}", headers=setup.manager)
    assert listed.get_json() == []


@pytest.mark.parametrize(
    ("path", "fields", "field"),
    [
        # an endpoint the administrator did not allow (the metadata address)
        ("s3", {"s3_endpoint": "http://169.254.169.254"}, "endpoint_url"),
        # a folder outside the project's confinement
        ("localfiles", {"path": "../../etc"}, "prefix"),
        # a GCS secret that is not a service account key
        ("gcs", {"google_application_credentials": '{"wrong": "key"}'}, "secret"),
        # a target folder: datasets already go to the deployment's store
        ("export/localfiles", {"path": "exports"}, "direction"),
    ],
)
def test_storage_rules_hold_for_create_and_validate(
    client: FlaskClient, setup: Setup, path: str, fields: dict[str, str], field: str
) -> None:
    body = {"project": str(setup.project_id), "bucket": setup.bucket, **fields}
    if path.endswith("localfiles"):
        body.pop("bucket")
    for url in (f"/api/storages/{path}", f"/api/storages/{path}/validate"):
        response = client.post(url, data=body, headers=setup.manager)
        assert response.status_code == 400, (url, response.get_json())
        assert response.get_json()["field"] == field


def test_a_change_is_checked_by_the_same_rules(client: FlaskClient, setup: Setup) -> None:
    created = _create(client, setup)

    response = client.patch(
        f"/api/storages/s3/{created['id']}",
        json={"s3_endpoint": "http://127.0.0.1:22"},
        headers=setup.manager,
    )

    assert response.status_code == 400
    assert response.get_json()["field"] == "endpoint_url"
    kept = client.get(f"/api/storages/s3/{created['id']}", headers=setup.manager).get_json()
    assert kept["s3_endpoint"] == setup.endpoint


def test_sync_of_a_source_storage_launches_the_sync_run_and_shows_its_status(
    client: FlaskClient, setup: Setup
) -> None:
    created = _create(client, setup)

    synced = client.post(f"/api/storages/s3/{created['id']}/sync", headers=setup.manager)
    again = client.get(f"/api/storages/s3/{created['id']}", headers=setup.manager).get_json()
    runs = client.get(
        f"/api/projects/{setup.project_id}/pipeline/runs", headers=setup.manager
    ).get_json()

    assert synced.status_code == 200, synced.get_json()
    # Dagster is not reachable here: the launch is recorded failed and the storage says so.
    assert synced.get_json()["status"] == "failed"
    assert "Dagster" in synced.get_json()["traceback"]
    assert again["status"] == "failed"
    assert [r["job_name"] for r in runs["results"]] == ["ingest_job"]


def test_sync_of_a_target_storage_writes_an_export_to_its_bucket(
    client: FlaskClient, setup: Setup
) -> None:
    created = _create(client, setup, path="export/s3", prefix="exports")
    assert created["direction"] == "export"

    synced = client.post(f"/api/storages/export/s3/{created['id']}/sync", headers=setup.manager)

    assert synced.status_code == 200, synced.get_json()
    assert synced.get_json()["status"] == "completed" and synced.get_json()["last_sync"]
    objects = boto3.client(
        "s3",
        endpoint_url=setup.endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEYS["aws_access_key_id"],
        aws_secret_access_key=KEYS["aws_secret_access_key"],
    ).list_objects_v2(Bucket=setup.bucket, Prefix="exports/")
    keys = [o["Key"] for o in objects.get("Contents", [])]
    assert len(keys) == 1 and keys[0].endswith(".json")
    # A target storage is not a source one, nor the other way round.
    assert client.get(f"/api/storages/s3/{created['id']}", headers=setup.manager).status_code == 404
    assert (
        client.get(f"/api/storages/gcs/{created['id']}", headers=setup.manager).status_code == 404
    )


def test_storages_are_for_the_projects_managers_only(client: FlaskClient, setup: Setup) -> None:
    created = _create(client, setup)
    sid = created["id"]

    by_annotator = client.post("/api/storages/s3", data=_s3_fields(setup), headers=setup.annotator)
    assert by_annotator.status_code == 403
    listed = client.get(f"/api/storages?project={setup.project_id}", headers=setup.annotator)
    assert listed.status_code == 403
    assert client.get(f"/api/storages/s3/{sid}", headers=setup.annotator).status_code == 403

    # Another project's manager neither sees nor touches it, nor adds one to this project.
    into_theirs = client.post("/api/storages/s3", data=_s3_fields(setup), headers=setup.outsider)
    assert into_theirs.status_code == 404
    for method, url in (
        ("get", f"/api/storages/s3/{sid}"),
        ("patch", f"/api/storages/s3/{sid}"),
        ("delete", f"/api/storages/s3/{sid}"),
        ("post", f"/api/storages/s3/{sid}/sync"),
    ):
        response = getattr(client, method)(url, json={"title": "mine"}, headers=setup.outsider)
        assert response.status_code == 404, (method, url)
        assert response.get_json()["detail"] == f"s3 storage {sid} not found"
    theirs = client.get(
        f"/api/storages?project={setup.outsider_project_id}", headers=setup.outsider
    )
    assert theirs.status_code == 200 and theirs.get_json() == []
    assert client.get(f"/api/storages/s3/{sid}", headers=setup.manager).get_json()["title"] == ""


def test_storage_lists_cover_the_callers_projects_and_types_are_named(
    client: FlaskClient, setup: Setup
) -> None:
    created = _create(client, setup)

    mine = client.get("/api/storages/s3", headers=setup.manager).get_json()
    everything = client.get("/api/storages", headers=setup.manager).get_json()
    theirs = client.get("/api/storages", headers=setup.outsider).get_json()
    annotators = client.get("/api/storages", headers=setup.annotator).get_json()
    types = client.get("/api/storages/types", headers=setup.manager).get_json()
    export_types = client.get("/api/storages/export/types", headers=setup.manager).get_json()

    assert [s["id"] for s in mine] == [created["id"]] == [s["id"] for s in everything]
    assert theirs == [] and annotators == []
    assert [t["name"] for t in types] == ["s3", "gcs", "azure", "localfiles"]
    assert {"name": "s3", "title": "AWS S3"} in types
    assert "localfiles" not in [t["name"] for t in export_types]
