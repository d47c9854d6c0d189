"""A storage connection is listed (one page) when it is created: wrong settings are refused now."""

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy.orm import Session

from labelops.db.models import StorageConnectionRow
from labelops.services.storages import StorageError, create_storage
from labelops.settings import Settings
from tests.factories import TEXT_CONFIG, make_project
from tests.resources.conftest import s3_bucket, s3_endpoint  # noqa: F401
from tests.web.helpers import user_with_token


@pytest.fixture
def listing_on(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    """The test S3 endpoint allowed by the administrator, and the create-time listing on."""
    monkeypatch.setenv("LABELOPS_STORAGE_CHECK_ON_CREATE", "1")
    monkeypatch.setenv("LABELOPS_STORAGE_ENDPOINT_ALLOWLIST", s3_endpoint)
    monkeypatch.setenv("LABELOPS_OUTBOUND_HOST_ALLOWLIST", s3_endpoint.split("//")[1])
    monkeypatch.setenv("LABELOPS_STORAGE_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("LABELOPS_STORAGE_SECRET_ENV_ALLOWLIST", "TEAM_KEY,TEAM_SECRET")
    monkeypatch.setenv("TEAM_KEY", "testing")
    monkeypatch.delenv("TEAM_SECRET", raising=False)
    return s3_endpoint


def _count(session: Session) -> int:
    return session.scalar(sa.select(sa.func.count(StorageConnectionRow.id))) or 0


def test_a_connection_to_a_missing_bucket_or_with_an_unset_secret_is_refused_when_created(
    session: Session,
    listing_on: str,
    s3_bucket: str,  # noqa: F811
) -> None:
    project = make_project(session)
    keys = {"access_key_id": "testing", "secret": "testing"}

    gone = f"gone-{uuid.uuid4().hex[:8]}"
    by_env = {"access_key_id_env": "TEAM_KEY", "secret_env": "TEAM_SECRET"}

    with pytest.raises(StorageError) as missing:
        create_storage(session, project, bucket=gone, endpoint_url=listing_on, **keys)
    with pytest.raises(StorageError) as unset:
        create_storage(session, project, bucket=s3_bucket, endpoint_url=listing_on, **by_env)
    created = create_storage(session, project, bucket=s3_bucket, endpoint_url=listing_on, **keys)

    assert missing.value.field == "bucket" and "NoSuchBucket" in missing.value.message
    assert unset.value.field == "secret_env" and "TEAM_SECRET is not set" in unset.value.message
    assert created.id is not None and _count(session) == 1


def test_an_endpoint_that_does_not_answer_is_refused_naming_it(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = "http://127.0.0.1:9"  # nothing listens there
    monkeypatch.setenv("LABELOPS_STORAGE_CHECK_ON_CREATE", "1")
    monkeypatch.setenv("LABELOPS_STORAGE_ENDPOINT_ALLOWLIST", dead)
    monkeypatch.setenv("LABELOPS_OUTBOUND_HOST_ALLOWLIST", "127.0.0.1:9")
    project = make_project(session)

    with pytest.raises(StorageError) as refused:
        create_storage(session, project, bucket="team", endpoint_url=dead)

    assert refused.value.field == "endpoint_url"
    assert "listing s3://team/ failed" in refused.value.message and dead in refused.value.message
    assert _count(session) == 0


def test_the_api_answers_400_naming_the_listing_error_and_stores_nothing(
    app: Flask, listing_on: str, tmp_path: Path
) -> None:
    app.config["LABELOPS_SETTINGS"] = Settings.from_env(tmp_path / "home")
    client = app.test_client()
    _, headers = user_with_token(app, "manager@example.com", can_create_projects=True)
    project = client.post(
        "/api/projects", json={"title": "Loop", "label_config": TEXT_CONFIG}, headers=headers
    ).get_json()["id"]
    bucket = f"gone-{uuid.uuid4().hex[:8]}"

    body = {"bucket": bucket, "endpoint_url": listing_on, "access_key_id": "k", "secret": "s"}

    refused = client.post(f"/api/projects/{project}/storages", json=body, headers=headers)
    listed = client.get(f"/api/projects/{project}/storages", headers=headers)

    assert refused.status_code == 400
    answer = refused.get_json()
    assert answer["field"] == "bucket" and answer["status_code"] == 400
    assert f"listing s3://{bucket}/ failed: NoSuchBucket" in answer["detail"]
    assert listed.get_json() == {"results": []}
