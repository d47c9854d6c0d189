"""The storages service's rules for GCS and Azure connections and for export (target) ones."""

import json
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.orm import Session

from labelops.db.models import StorageConnectionRow
from labelops.services.storages import (
    StorageError,
    StoragePolicy,
    create_storage,
    resolve_connection,
)
from tests.factories import make_project

POLICY = StoragePolicy(
    endpoint_allowlist=("http://127.0.0.1:4443",), outbound_hosts=("127.0.0.1:4443",)
)
SERVICE_ACCOUNT = json.dumps({"type": "service_account", "project_id": "p", "private_key": "k"})


@pytest.fixture(autouse=True)
def _fernet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABELOPS_STORAGE_SECRET_KEY", Fernet.generate_key().decode())


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"kind": "gcs"}, "bucket", "Google Cloud Storage connection names its bucket"),
        ({"kind": "gcs", "bucket": "b", "region": "eu"}, "region", "no region"),
        ({"kind": "gcs", "bucket": "b", "access_key_id": "k", "secret": "s"}, "access_key_id",
         "service account's JSON key"),
        ({"kind": "gcs", "bucket": "b", "secret": "not json"}, "secret", "service account"),
        ({"kind": "gcs", "bucket": "b", "endpoint_url": "http://127.0.0.1:9"}, "endpoint_url",
         "LABELOPS_STORAGE_ENDPOINT_ALLOWLIST"),
        ({"kind": "azure", "bucket": "c"}, "access_key_id", "names its storage account"),
        ({"kind": "azure", "bucket": "c", "access_key_id": "acct"}, "secret", "pair"),
        ({"kind": "local", "prefix": "out", "direction": "export"}, "direction", "bucket"),
        ({"kind": "s3", "bucket": "b", "direction": "sideways"}, "direction", "unknown"),
    ],
)  # fmt: skip
def test_a_connection_that_breaks_a_rule_of_its_kind_is_refused_naming_the_field(
    session: Session, fields: dict[str, Any], field: str, words: str
) -> None:
    project = make_project(session)

    with pytest.raises(StorageError) as refused:
        create_storage(session, project, policy=POLICY, **fields)

    assert refused.value.field == field
    assert words in refused.value.message
    assert session.scalar(sa.select(sa.func.count(StorageConnectionRow.id))) == 0


def test_gcs_and_azure_credentials_are_stored_encrypted_and_resolved_at_use(
    session: Session,
) -> None:
    project = make_project(session)
    gcs = create_storage(
        session, project, policy=POLICY, kind="gcs", bucket="b", secret=SERVICE_ACCOUNT
    )
    azure = create_storage(
        session,
        project,
        policy=POLICY,
        kind="azure",
        bucket="c",
        access_key_id="acct",
        secret="account-key",
        direction="export",
        endpoint_url="http://127.0.0.1:4443",
    )

    gcs_target = resolve_connection(session, gcs, POLICY)
    azure_target = resolve_connection(session, azure, POLICY)

    assert SERVICE_ACCOUNT not in gcs.secret_encrypted
    assert "account-key" not in azure.secret_encrypted
    assert (gcs_target.kind, gcs_target.secret_access_key) == ("gcs", SERVICE_ACCOUNT)
    assert (azure_target.access_key_id, azure_target.secret_access_key) == ("acct", "account-key")
    assert (gcs.direction, azure.direction) == ("import", "export")
