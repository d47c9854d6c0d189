"""Storage connections cannot leak the server's secrets, reach internal hosts or other projects.

Issue 8, items 1 and 2: a project member named the server's environment variables as a
connection's credentials and pointed its endpoint at a listener, then pressed "Sync storage"; a
connection's prefix reached another project's exported dataset. Each attack is replayed here
through every entry point (API, Pipeline page, ingest asset, sensor), on SQLite and PostgreSQL,
against the S3 store (moto's S3 server) and the local store, and is now refused without the
listener ever being contacted.
"""

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from labelops.assets.ingest import raw_tasks
from labelops.db.models import PipelineRunRow, ProjectRow, StorageConnectionRow, TaskRow
from labelops.domain.outbound import OutboundURLError, check_url
from labelops.domain.storage_paths import StoragePrefixError, normalize_prefix
from labelops.resources.database import DatabaseResource
from labelops.resources.object_store import (
    LocalObjectStore,
    ObjectStore,
    S3ObjectStore,
    StorageLocation,
)
from labelops.resources.predictor import LabelStudioMLBackend
from labelops.sensors import new_object_sensor
from labelops.services.outbound import check_outbound_url
from labelops.services.storages import StorageError, StoragePolicy, create_storage
from labelops.services.users import issue_token
from labelops.settings import Settings
from labelops.web.extensions import db
from tests.assets.conftest import database, instance  # noqa: F401
from tests.factories import TEXT_CONFIG, make_project, make_user
from tests.resources.conftest import S3_KEYS, s3_bucket, s3_endpoint, s3_store  # noqa: F401

SERVER_KEY_ID = "AKIASERVERKEYID00001"
SERVER_SECRET = "server-aws-secret-never-leaves"


@dataclass
class Listener:
    """A local HTTP server that records every request it receives."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def listener() -> Iterator[Listener]:
    """An HTTP listener on 127.0.0.1 standing in for an attacker's (or an internal) host."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers)})
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = do_HEAD = _record

        def log_message(self, format: str, *args: Any) -> None:
            """Keeps the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Listener(url=f"http://127.0.0.1:{server.server_address[1]}", requests=seen)
    server.shutdown()
    server.server_close()


@pytest.fixture
def server_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Path:
    """A deployment on the S3 store whose environment holds secrets; no allowlist configured."""
    home = tmp_path / "home"
    monkeypatch.setenv("LABELOPS_HOME", str(home))
    monkeypatch.setenv("LABELOPS_DATABASE_URL", database_url)
    monkeypatch.setenv("LABELOPS_ENV", "production")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", SERVER_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SERVER_SECRET)
    monkeypatch.setenv("LABELOPS_STORAGE_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("LABELOPS_DAGSTER_UI_URL", "http://127.0.0.1:9")
    for name in (
        "LABELOPS_STORAGE_SECRET_ENV_ALLOWLIST",
        "LABELOPS_STORAGE_ENDPOINT_ALLOWLIST",
        "LABELOPS_OUTBOUND_HOST_ALLOWLIST",
        "LABELOPS_S3_BUCKET",
        "DAGSTER_HOME",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def web(server_env: Path, app: Flask) -> Flask:
    """The web app reading the server environment above."""
    app.config["LABELOPS_SETTINGS"] = Settings.from_env(server_env)
    app.config["DAGSTER_UI_URL"] = "http://127.0.0.1:9"
    return app


@dataclass
class Member:
    """A signed-in, non-admin user managing their own project, with an API token."""

    client: FlaskClient
    headers: dict[str, str]
    project_id: int


def _sign_in(app: Flask, email: str) -> Member:
    with app.app_context():
        user = make_user(db.session, email)
        project = make_project(db.session, user, title=f"Project of {email}")
        key = issue_token(db.session, user)
        db.session.commit()
        project_id = project.id
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    signed_in = client.post(
        "/auth/login",
        data={"email": email, "password": "password123", "csrf_token": _csrf(page)},
    )
    assert signed_in.status_code == 302
    return Member(client, {"Authorization": f"Token {key}"}, project_id)


def _csrf(html: str) -> str:
    marker = 'name="csrf-token" content="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


@pytest.fixture
def mallory(web: Flask) -> Member:
    return _sign_in(web, "mallory@example.com")


def _page_post(member: Member, path: str, data: dict[str, str]) -> Any:
    page = member.client.get(f"/projects/{member.project_id}/pipeline").get_data(as_text=True)
    return member.client.post(path, data={"csrf_token": _csrf(page), **data})


def _insert_connection(url_or_app: Any, project_id: int, **columns: Any) -> int:
    """Writes a connection row as an older release (or a since-changed allowlist) left it."""
    row = StorageConnectionRow(
        project_id=project_id,
        kind=columns.pop("kind", "s3"),
        bucket=columns.pop("bucket", ""),
        prefix=columns.pop("prefix", ""),
        file_pattern=columns.pop("file_pattern", ""),
        region=columns.pop("region", ""),
        endpoint_url=columns.pop("endpoint_url", ""),
        access_key_id_env=columns.pop("access_key_id_env", ""),
        secret_encrypted=columns.pop("secret_encrypted", ""),
    )
    assert not columns
    if isinstance(url_or_app, Flask):
        with url_or_app.app_context():
            db.session.add(row)
            db.session.commit()
            return row.id
    with url_or_app.session() as session:
        session.add(row)
        session.commit()
        return row.id


def _count(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count(model.id))) or 0)


# --- 1. Secrets and SSRF: create time, through the API and the page -------------------------


def test_a_member_cannot_name_server_variables_or_a_listener_endpoint(
    mallory: Member, web: Flask, listener: Listener
) -> None:
    base = f"/api/projects/{mallory.project_id}/storages"
    attack = {
        "kind": "s3",
        "bucket": "loot",
        "access_key_id_env": "AWS_ACCESS_KEY_ID",
        "secret_env": "AWS_SECRET_ACCESS_KEY",
        "endpoint_url": listener.url,
    }
    whole = mallory.client.post(base, json=attack, headers=mallory.headers)
    variables = mallory.client.post(
        base, json={**attack, "endpoint_url": ""}, headers=mallory.headers
    )
    fernet_key = mallory.client.post(
        base,
        json={
            "kind": "s3",
            "bucket": "loot",
            "access_key_id": "AKIA1",
            "secret_env": "LABELOPS_STORAGE_SECRET_KEY",
        },
        headers=mallory.headers,
    )
    page = _page_post(mallory, f"/projects/{mallory.project_id}/pipeline/storages", attack)

    assert whole.status_code == 400
    assert whole.get_json()["field"] == "endpoint_url"
    assert "LABELOPS_STORAGE_ENDPOINT_ALLOWLIST" in whole.get_json()["detail"]
    assert variables.status_code == 400
    assert variables.get_json()["field"] == "access_key_id_env"
    assert "AWS_ACCESS_KEY_ID is not a variable members may use" in variables.get_json()["detail"]
    assert fernet_key.status_code == 400 and fernet_key.get_json()["field"] == "secret_env"
    assert page.status_code == 400
    assert '<span class="error" id="endpoint_url-error">' in page.get_data(as_text=True)
    assert _count(web, StorageConnectionRow) == 0
    assert listener.requests == []


def test_the_fernet_key_is_never_usable_even_when_an_administrator_lists_it(
    web: Flask, mallory: Member, monkeypatch: pytest.MonkeyPatch, server_env: Path
) -> None:
    monkeypatch.setenv(
        "LABELOPS_STORAGE_SECRET_ENV_ALLOWLIST", "LABELOPS_STORAGE_SECRET_KEY,TEAM_SECRET"
    )
    web.config["LABELOPS_SETTINGS"] = Settings.from_env(server_env)

    refused = mallory.client.post(
        f"/api/projects/{mallory.project_id}/storages",
        json={"bucket": "b", "access_key_id": "AKIA1", "secret_env": "LABELOPS_STORAGE_SECRET_KEY"},
        headers=mallory.headers,
    )

    assert refused.status_code == 400 and refused.get_json()["field"] == "secret_env"
    assert "allowed: TEAM_SECRET" in refused.get_json()["detail"]


def test_an_allowed_endpoint_on_a_loopback_host_still_needs_the_outbound_allowlist(
    web: Flask,
    mallory: Member,
    listener: Listener,
    monkeypatch: pytest.MonkeyPatch,
    server_env: Path,
) -> None:
    monkeypatch.setenv("LABELOPS_STORAGE_ENDPOINT_ALLOWLIST", listener.url)
    web.config["LABELOPS_SETTINGS"] = Settings.from_env(server_env)
    body = {"kind": "s3", "bucket": "b", "endpoint_url": listener.url}

    refused = mallory.client.post(
        f"/api/projects/{mallory.project_id}/storages", json=body, headers=mallory.headers
    )
    monkeypatch.setenv("LABELOPS_OUTBOUND_HOST_ALLOWLIST", listener.url.split("//")[1])
    web.config["LABELOPS_SETTINGS"] = Settings.from_env(server_env)
    allowed = mallory.client.post(
        f"/api/projects/{mallory.project_id}/storages", json=body, headers=mallory.headers
    )

    assert refused.status_code == 400 and refused.get_json()["field"] == "endpoint_url"
    assert "127.0.0.1, a loopback address" in refused.get_json()["detail"]
    assert allowed.status_code == 201
    assert listener.requests == []  # creating a connection contacts nothing


def test_an_s3_connection_names_its_own_bucket_never_the_deployments(
    web: Flask, mallory: Member, monkeypatch: pytest.MonkeyPatch, server_env: Path
) -> None:
    monkeypatch.setenv("LABELOPS_S3_BUCKET", "deployment-bucket")
    web.config["LABELOPS_SETTINGS"] = Settings.from_env(server_env)
    base = f"/api/projects/{mallory.project_id}/storages"

    empty = mallory.client.post(base, json={"kind": "s3", "prefix": "x"}, headers=mallory.headers)
    own = mallory.client.post(
        base, json={"kind": "s3", "bucket": "deployment-bucket"}, headers=mallory.headers
    )

    assert empty.status_code == 400 and empty.get_json()["field"] == "bucket"
    assert own.status_code == 400 and own.get_json()["field"] == "bucket"
    assert "deployment's own bucket" in own.get_json()["detail"]


# --- 1. Secrets and SSRF: use time (sync through API and page, asset, sensor) ---------------


def test_pressing_sync_with_a_stored_attack_is_refused_and_contacts_nothing(
    web: Flask, mallory: Member, listener: Listener
) -> None:
    storage_id = _insert_connection(
        web,
        mallory.project_id,
        bucket="loot",
        endpoint_url=listener.url,
        access_key_id_env="AWS_ACCESS_KEY_ID",
        secret_encrypted="env:AWS_SECRET_ACCESS_KEY",
    )

    api = mallory.client.post(
        f"/api/projects/{mallory.project_id}/pipeline/sync-storage", headers=mallory.headers
    )
    page = _page_post(mallory, f"/projects/{mallory.project_id}/pipeline/run/sync-storage", {})

    assert api.status_code == 400
    assert api.get_json()["field"] == "endpoint_url"
    assert api.get_json()["storage"] == storage_id
    assert api.get_json()["detail"].startswith(f"storage {storage_id}: endpoint_url: ")
    assert page.status_code == 400
    assert f"Sync storage was not started. storage {storage_id}: endpoint_url:" in (
        page.get_data(as_text=True)
    )
    assert _count(web, PipelineRunRow) == 0
    assert listener.requests == []


def _run_ingest(
    database: DatabaseResource,  # noqa: F811
    store: ObjectStore,
    instance: dg.DagsterInstance,  # noqa: F811
    project_id: int,
) -> dg.ExecuteInProcessResult:
    key = str(project_id)
    if not instance.has_dynamic_partition("projects", key):
        instance.add_dynamic_partitions("projects", [key])
    return dg.materialize(
        [raw_tasks],
        resources={"database": database, "object_store": store},
        instance=instance,
        partition_key=key,
        raise_on_error=False,
    )


def _failure(result: dg.ExecuteInProcessResult) -> str:
    assert not result.success
    events = [e for e in result.all_events if e.is_step_failure]
    assert events
    error = events[0].step_failure_data.error
    return (error.message if error else "") + str(events[0].step_failure_data.user_failure_data)


def _project(database: DatabaseResource, title: str = "P") -> int:  # noqa: F811
    with database.session() as session:
        project = make_project(session, None, title=title, label_config=TEXT_CONFIG)
        session.commit()
        return project.id


def _tasks(database: DatabaseResource, project_id: int) -> list[dict[str, Any]]:  # noqa: F811
    with database.session() as session:
        return list(
            session.scalars(sa.select(TaskRow.data).where(TaskRow.project_id == project_id))
        )


@pytest.mark.parametrize(
    ("endpoint", "field_name"), [(True, "endpoint_url"), (False, "access_key_id_env")]
)
@pytest.mark.parametrize("store_kind", ["s3", "local"])
def test_ingest_and_sensor_refuse_a_stored_attack_without_contacting_it(
    server_env: Path,
    database: DatabaseResource,  # noqa: F811
    instance: dg.DagsterInstance,  # noqa: F811
    s3_store: S3ObjectStore,  # noqa: F811
    listener: Listener,
    tmp_path: Path,
    store_kind: str,
    endpoint: bool,
    field_name: str,
) -> None:
    store: ObjectStore = (
        s3_store if store_kind == "s3" else LocalObjectStore(root=str(tmp_path / "objects"))
    )
    project_id = _project(database)
    _insert_connection(
        database,
        project_id,
        bucket="loot",
        endpoint_url=listener.url if endpoint else "",
        access_key_id_env="AWS_ACCESS_KEY_ID",
        secret_encrypted="env:AWS_SECRET_ACCESS_KEY",
    )

    result = _run_ingest(database, store, instance, project_id)
    resources = {"database": database, "object_store": store}
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        tick = new_object_sensor(context)

    message = _failure(result)
    assert "storage sync refused" in message and f"{field_name}: " in message
    assert SERVER_SECRET not in message and SERVER_KEY_ID not in message
    assert tick.run_requests == []
    assert listener.requests == []
    assert _tasks(database, project_id) == []


def test_an_endpoint_allowed_later_refused_again_when_the_allowlist_goes(
    server_env: Path,
    database: DatabaseResource,  # noqa: F811
    instance: dg.DagsterInstance,  # noqa: F811
    s3_store: S3ObjectStore,  # noqa: F811
    s3_endpoint: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tests allow moto's loopback endpoint; without the allowlist the same endpoint is refused."""
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **_keys())
    bucket = f"team-{uuid.uuid4().hex[:12]}"  # moto's server lives for the whole session
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key="in/a.json", Body=b'[{"text": "one"}]')
    host = s3_endpoint.split("//")[1]
    project_id = _project(database)
    monkeypatch.setenv("LABELOPS_STORAGE_ENDPOINT_ALLOWLIST", s3_endpoint)
    with database.session() as session:
        with pytest.raises(StorageError, match="loopback address") as refused:
            create_storage(
                session,
                session.get(ProjectRow, project_id),
                bucket=bucket,
                prefix="in",
                endpoint_url=s3_endpoint,
                access_key_id="testing",
                secret="testing",
            )
        assert refused.value.field == "endpoint_url"
        monkeypatch.setenv("LABELOPS_OUTBOUND_HOST_ALLOWLIST", host)
        create_storage(
            session,
            session.get(ProjectRow, project_id),
            bucket=bucket,
            prefix="in",
            endpoint_url=s3_endpoint,
            access_key_id="testing",
            secret="testing",
        )
        session.commit()

    allowed = _run_ingest(database, s3_store, instance, project_id)
    client.put_object(Bucket=bucket, Key="in/b.json", Body=b'[{"text": "two"}]')
    monkeypatch.delenv("LABELOPS_OUTBOUND_HOST_ALLOWLIST")
    refused_later = _run_ingest(database, s3_store, instance, project_id)

    assert allowed.success
    assert "127.0.0.1, a loopback address" in _failure(refused_later)
    assert [t["text"] for t in _tasks(database, project_id)] == ["one"]


def _keys() -> dict[str, str]:
    return {
        "aws_access_key_id": S3_KEYS["access_key_id"],
        "aws_secret_access_key": S3_KEYS["secret_access_key"],
    }


def test_a_connection_without_credentials_never_signs_with_the_deployments(
    server_env: Path,
    database: DatabaseResource,  # noqa: F811
    instance: dg.DagsterInstance,  # noqa: F811
    s3_store: S3ObjectStore,  # noqa: F811
    listener: Listener,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LABELOPS_STORAGE_ENDPOINT_ALLOWLIST", listener.url)
    monkeypatch.setenv("LABELOPS_OUTBOUND_HOST_ALLOWLIST", listener.url.split("//")[1])
    project_id = _project(database)
    with database.session() as session:
        create_storage(
            session, session.get(ProjectRow, project_id), bucket="public", endpoint_url=listener.url
        )
        session.commit()

    _run_ingest(database, s3_store, instance, project_id)

    assert listener.requests, "the allowed endpoint was asked for the bucket's objects"
    for request in listener.requests:
        assert "Authorization" not in request["headers"]
        assert SERVER_KEY_ID not in json.dumps(request) and "testing" not in json.dumps(request)
    with pytest.raises(ValueError, match="names its bucket"):
        s3_store.at(StorageLocation(kind="s3", bucket=""))
    with pytest.raises(ValueError, match="deployment's own bucket"):
        s3_store.at(
            StorageLocation(
                kind="s3", bucket=s3_store.bucket, endpoint_url=s3_store.endpoint_url or ""
            )
        )


def test_an_ml_backend_on_an_internal_address_is_refused_before_any_request(
    listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LABELOPS_OUTBOUND_HOST_ALLOWLIST", raising=False)
    inside = LabelStudioMLBackend(url=listener.url)
    metadata = LabelStudioMLBackend(url="http://169.254.169.254/latest/meta-data")
    allowed = LabelStudioMLBackend(url=listener.url, allowed_hosts=["127.0.0.1"])

    with pytest.raises(RuntimeError, match=r"ML backend refused: .*loopback address"):
        inside.health()
    with pytest.raises(RuntimeError, match="cloud metadata address"):
        metadata.health()
    assert listener.requests == []
    with pytest.raises(RuntimeError, match="not healthy"):
        allowed.health()
    assert len(listener.requests) == 1  # the administrator's allowlist lets it through


# --- The outbound-URL rule itself -----------------------------------------------------------


def _resolver(*addresses: str) -> Any:
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    ("url", "addresses", "reason"),
    [
        ("http://127.0.0.1:9000", (), "loopback"),
        ("http://[::1]/", (), "loopback"),
        ("http://[::ffff:127.0.0.1]/", (), "loopback"),
        ("http://10.1.2.3/", (), "private"),
        ("http://192.168.0.10/", (), "private"),
        ("http://169.254.169.254/latest", (), "cloud metadata"),
        ("http://[fd00:ec2::254]/", (), "cloud metadata"),
        ("http://169.254.10.10/", (), "link-local"),
        ("http://224.0.0.1/", (), "multicast"),
        ("http://0.0.0.0/", (), "unspecified"),
        ("http://240.0.0.1/", (), "reserved"),
        ("http://100.100.100.200/", (), "not a public address"),
        ("http://rebind.example/", ("93.184.216.34", "10.0.0.7"), "private"),
        ("http://2130706433/", ("127.0.0.1",), "loopback"),
        ("file:///etc/passwd", (), "scheme 'file'"),
        ("gopher://example.com/", (), "scheme 'gopher'"),
        ("http:///nohost", (), "names no host"),
        ("http://unresolved.example/", (), "does not resolve"),
    ],
)
def test_outbound_rule_refuses_internal_and_odd_urls(
    url: str, addresses: tuple[str, ...], reason: str
) -> None:
    with pytest.raises(OutboundURLError, match=reason):
        check_url(url, resolve=_resolver(*addresses), what="endpoint_url")


def test_outbound_rule_lets_public_and_allowed_hosts_through() -> None:
    check_url("https://s3.example.com", resolve=_resolver("93.184.216.34", "2606:2800::1"))
    check_url("http://minio:9000", resolve=_resolver("10.0.0.5"), allowed_hosts=["minio"])
    check_url("http://10.0.0.5:9000", resolve=_resolver(), allowed_hosts=["10.0.0.5:9000"])
    with pytest.raises(OutboundURLError, match="private"):
        check_url("http://10.0.0.5:9001", resolve=_resolver(), allowed_hosts=["10.0.0.5:9000"])


def test_outbound_rule_resolves_names_with_the_system() -> None:
    with pytest.raises(OutboundURLError, match="loopback"):
        check_outbound_url("http://localhost:8080/predict")


# --- 2. Cross-project data through prefixes -------------------------------------------------


@pytest.mark.parametrize(
    "prefix",
    [
        "",
        "/",
        "datasets",
        "datasets/3",
        "Datasets/3",
        "/datasets/3",
        "uploads/1",
        "models",
        "incoming/../datasets/3",
        "./datasets",
        "incoming/./x",
        "incoming//x",
        "%2e%2e/datasets",
        "datasets%2F3",
        "incoming\\..\\datasets",
        "incoming\x00",
    ],
)
def test_a_local_prefix_cannot_reach_the_deployments_areas(
    mallory: Member, web: Flask, prefix: str
) -> None:
    response = mallory.client.post(
        f"/api/projects/{mallory.project_id}/storages",
        json={"kind": "local", "prefix": prefix},
        headers=mallory.headers,
    )

    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    # The storages service names the field; a NUL character is refused earlier, by the schema.
    assert body.get("field") == "prefix" or list(body.get("validation_errors", {})) == ["prefix"]
    assert _count(web, StorageConnectionRow) == 0


def test_a_local_prefix_cannot_overlap_another_projects_folder(mallory: Member, web: Flask) -> None:
    alice = _sign_in(web, "alice@example.com")
    mine = alice.client.post(
        f"/api/projects/{alice.project_id}/storages",
        json={"kind": "local", "prefix": "teams/alice"},
        headers=alice.headers,
    )
    results = [
        mallory.client.post(
            f"/api/projects/{mallory.project_id}/storages",
            json={"kind": "local", "prefix": prefix},
            headers=mallory.headers,
        )
        for prefix in ("teams/alice", "teams/alice/sub", "teams", "teams/alice/")
    ]
    own = mallory.client.post(
        f"/api/projects/{mallory.project_id}/storages",
        json={"kind": "local", "prefix": "teams/mallory"},
        headers=mallory.headers,
    )

    assert mine.status_code == 201
    for response in results:
        assert response.status_code == 400 and response.get_json()["field"] == "prefix"
        assert "another project" in response.get_json()["detail"]
    assert own.status_code == 201 and own.get_json()["prefix"] == "teams/mallory"


@pytest.mark.parametrize(
    "connection",
    [
        {"kind": "local", "prefix": "datasets/{victim}"},
        {"kind": "local", "prefix": "incoming/../datasets"},
        {"kind": "s3", "bucket": "", "prefix": "datasets/{victim}"},
        {"kind": "s3", "bucket": "{deployment}", "prefix": "datasets"},
    ],
)
@pytest.mark.parametrize("store_kind", ["s3", "local"])
def test_a_stored_prefix_into_another_projects_dataset_imports_nothing(
    server_env: Path,
    database: DatabaseResource,  # noqa: F811
    instance: dg.DagsterInstance,  # noqa: F811
    s3_store: S3ObjectStore,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    store_kind: str,
    connection: dict[str, str],
) -> None:
    store: ObjectStore = (
        s3_store if store_kind == "s3" else LocalObjectStore(root=str(tmp_path / "objects"))
    )
    monkeypatch.setenv("LABELOPS_S3_BUCKET", s3_store.bucket)
    victim = _project(database, "Victim")
    attacker = _project(database, "Attacker")
    store.put_json(f"datasets/{victim}/v1/export_json.json", [{"text": "patient record"}])
    values = {k: v.format(victim=victim, deployment=s3_store.bucket) for k, v in connection.items()}
    _insert_connection(database, attacker, **values)

    result = _run_ingest(database, store, instance, attacker)

    assert "storage sync refused" in _failure(result)
    assert _tasks(database, attacker) == []


def test_a_local_folder_linked_into_the_datasets_area_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    store = LocalObjectStore(root=str(root))
    store.put_json("datasets/1/v1/export_json.json", [{"text": "patient record"}])
    (root / "incoming").symlink_to(root / "datasets")
    (root / "inbox").mkdir()
    (root / "inbox" / "leak.json").symlink_to(root / "datasets/1/v1/export_json.json")

    with pytest.raises(ValueError, match="datasets/ area"):
        store.at(StorageLocation(kind="local", prefix="incoming"))
    assert store.at(StorageLocation(kind="local", prefix="inbox")).list_objects() == []


def test_a_deployment_folder_lists_its_own_folder_not_its_siblings(
    s3_store: S3ObjectStore,  # noqa: F811
) -> None:
    s3_store.put_json("in/a.json", [])
    s3_store.put_json("inbox/b.json", [])

    listed = s3_store.at(StorageLocation(kind="local", prefix="in")).list_objects()

    assert [o.key for o in listed] == ["a.json"]


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [("incoming", "incoming"), ("incoming/", "incoming"), (" a/b ", "a/b"), ("", "")],
)
def test_prefixes_are_normalized(raw: str, normalized: str) -> None:
    assert normalize_prefix(raw) == normalized


@pytest.mark.parametrize("raw", ["..", "a/../b", "a\\b", "/a", "a//b", "%2e%2e", "a%2fb", "a\x01"])
def test_malformed_prefixes_are_refused(raw: str) -> None:
    with pytest.raises(StoragePrefixError):
        normalize_prefix(raw)


def test_policy_comes_from_the_administrators_settings(
    server_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = StoragePolicy.from_settings(Settings.from_env(server_env))
    monkeypatch.setenv("LABELOPS_STORAGE_SECRET_ENV_ALLOWLIST", "TEAM_KEY, TEAM_SECRET")
    monkeypatch.setenv("LABELOPS_STORAGE_ENDPOINT_ALLOWLIST", "https://minio.example.com/")
    monkeypatch.setenv("LABELOPS_OUTBOUND_HOST_ALLOWLIST", "minio.internal")

    policy = StoragePolicy.from_settings(Settings.from_env(server_env))

    assert default.env_choices() == [] and default.endpoint_allowlist == ()
    assert default.outbound_hosts == ()
    assert policy.env_choices() == ["TEAM_KEY", "TEAM_SECRET"]
    assert policy.endpoint_allowlist == ("https://minio.example.com",)
    assert policy.outbound_hosts == ("minio.internal",)
