"""Label Studio's SDK over real HTTP: its project fields, storages, webhook catalog and whoami."""

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
from cryptography.fernet import Fernet
from flask import Flask
from label_studio_sdk import LabelStudio
from werkzeug.serving import make_server

from labelops.settings import Settings
from tests.factories import TEXT_CONFIG
from tests.resources import conftest as emulators
from tests.web.helpers import user_with_token

s3_endpoint = emulators.s3_endpoint
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing-secret"}


@pytest.fixture
def ls(
    app: Flask, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[LabelStudio]:
    monkeypatch.setenv("LABELOPS_STORAGE_ENDPOINT_ALLOWLIST", s3_endpoint)
    monkeypatch.setenv("LABELOPS_OUTBOUND_HOST_ALLOWLIST", urlsplit(s3_endpoint).netloc)
    monkeypatch.setenv("LABELOPS_STORAGE_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("LABELOPS_STORAGE_CHECK_ON_CREATE", "1")
    app.config["LABELOPS_SETTINGS"] = Settings.from_env(tmp_path / "home")
    _, headers = user_with_token(app, "sdk@example.com", can_create_projects=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LabelStudio(
            base_url=f"http://127.0.0.1:{server.server_port}",
            api_key=headers["Authorization"].split()[1],
        )
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_the_sdk_sets_label_studio_fields_and_manages_storages(
    ls: LabelStudio, s3_endpoint: str
) -> None:
    project = ls.projects.create(
        title="SDK fields",
        label_config=TEXT_CONFIG,
        is_published=True,
        show_collab_predictions=False,
        skip_queue="REQUEUE_FOR_ME",
        min_annotations_to_start_training=5,
    )
    got = ls.projects.get(id=project.id)
    assert got.is_published is True and got.show_collab_predictions is False
    assert got.min_annotations_to_start_training == 5 and got.skip_queue == "REQUEUE_FOR_ME"

    bucket = f"sdk-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **KEYS).create_bucket(
        Bucket=bucket
    )
    fields = {"bucket": bucket, "s3endpoint": s3_endpoint, **KEYS}
    ls.import_storage.s3.validate(project=project.id, **fields)
    storage = ls.import_storage.s3.create(project=project.id, title="Bucket", **fields)
    assert storage.project == project.id and storage.title == "Bucket"
    assert storage.aws_secret_access_key is None

    updated = ls.import_storage.s3.update(id=storage.id, title="Renamed", presign_ttl=60)
    assert updated.title == "Renamed" and updated.presign_ttl == 60
    assert [s.id for s in ls.import_storage.s3.list(project=project.id)] == [storage.id]
    assert ls.import_storage.s3.get(id=storage.id).title == "Renamed"
    assert "s3" in [t.name for t in ls.import_storage.list_types()]
    ls.import_storage.s3.delete(id=storage.id)
    assert ls.import_storage.s3.list(project=project.id) == []

    info = ls.webhooks.info()
    assert info.annotation_created.key == "annotation"
    assert info.tasks_deleted.name == "Task deleted"
    me = ls.users.whoami()
    assert me.email == "sdk@example.com" and me.initials and me.active_organization
