"""Denial of service: zip bombs, huge tasks and configs, stalled exports and parallel run launches.

Each test replays the attack from the security review and shows that it is now refused (a clear
4xx naming the limit) or that it no longer starves other users.
"""

import contextlib
import io
import json
import re
import socket
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
import requests
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from labelops.cli import main
from labelops.db.models import TaskRow
from labelops.domain.errors import LabelConfigError, TaskImportError
from labelops.domain.label_config import parse_label_config
from labelops.services import exports as export_service
from labelops.services import runs as run_service
from labelops.services.imports import ImportOptions, ImportSource, import_sources
from labelops.services.media import UploadStore
from labelops.services.pipeline_storage import import_object
from labelops.settings import Limits, Settings
from labelops.web.extensions import db
from labelops.web.server import request_handler
from tests.factories import TEXT_CONFIG, make_project, make_user
from tests.web.helpers import user_with_token

MiB = 1024**2
ZIP_BOMB_INFLATED = 1024 * MiB


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """A ~1 MB ZIP whose one JSON member (a task list) inflates to 1 GiB."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("tasks.json", "w", force_zip64=True) as member,
    ):
        head, tail = b'[{"data": {"text": "', b'"}}]'
        member.write(head)
        chunk = b"a" * (8 * MiB)
        for _ in range((ZIP_BOMB_INFLATED - len(head) - len(tail)) // len(chunk)):
            member.write(chunk)
        member.write(tail)
    return buffer.getvalue()


@pytest.fixture
def admin(app: Flask) -> dict[str, str]:
    return user_with_token(app, "admin@example.com", admin=True)[1]


@pytest.fixture
def project_id(client: FlaskClient, admin: dict[str, str]) -> int:
    response = client.post(
        "/api/projects", json={"title": "DoS", "label_config": TEXT_CONFIG}, headers=admin
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def _task_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(TaskRow)) or 0


def _upload(client: FlaskClient, pid: int, headers: dict[str, str], name: str, payload: bytes):
    return client.post(
        f"/api/projects/{pid}/import",
        data={"file": (io.BytesIO(payload), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


# --- ZIP archives -------------------------------------------------------------------------------


def test_zip_bomb_upload_is_refused_in_bounded_memory(
    app: Flask,
    client: FlaskClient,
    admin: dict[str, str],
    project_id: int,
    zip_bomb: bytes,
) -> None:
    assert len(zip_bomb) < 2 * MiB
    tracemalloc.start()
    try:
        response = _upload(client, project_id, admin, "bomb.zip", zip_bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 400, response.json
    detail = response.json["detail"]
    assert "bomb.zip:tasks.json" in detail
    assert "LABELOPS_MAX_UNZIPPED_MEMBER_BYTES" in detail
    assert peak < 200 * MiB, f"the refused upload allocated {peak / MiB:.0f} MiB"
    assert _task_count(app) == 0


def test_zip_member_with_a_bomb_ratio_is_refused_even_under_the_size_caps(
    app: Flask, client: FlaskClient, admin: dict[str, str], project_id: int
) -> None:
    # 16 MiB of one character deflates about a thousand times: far past the default ratio of 200.
    payload = b'[{"text": "' + b"a" * (16 * MiB) + b'"}]'
    response = _upload(client, project_id, admin, "ratio.zip", _zip({"tasks.json": payload}))
    assert response.status_code == 400, response.json
    assert "ratio.zip:tasks.json" in response.json["detail"]
    assert "LABELOPS_MAX_ZIP_RATIO" in response.json["detail"]
    assert _task_count(app) == 0


def test_zip_whose_members_together_inflate_past_the_total_cap_is_refused(
    app: Flask,
    client: FlaskClient,
    admin: dict[str, str],
    project_id: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LABELOPS_MAX_UNZIPPED_BYTES", str(100_000))
    members = {
        f"part{i}.json": json.dumps([{"text": f"task {i}.{j}"} for j in range(1_500)]).encode()
        for i in range(3)
    }
    assert all(len(m) < 100_000 for m in members.values())
    assert sum(len(m) for m in members.values()) > 100_000
    response = _upload(client, project_id, admin, "parts.zip", _zip(members))
    assert response.status_code == 400, response.json
    assert "parts.zip" in response.json["detail"]
    assert "LABELOPS_MAX_UNZIPPED_BYTES" in response.json["detail"]
    assert _task_count(app) == 0


def test_zip_within_the_limits_still_imports(
    app: Flask, client: FlaskClient, admin: dict[str, str], project_id: int
) -> None:
    members = {"a.json": json.dumps([{"text": "one"}, {"text": "two"}]).encode()}
    response = _upload(client, project_id, admin, "ok.zip", _zip(members))
    assert response.status_code == 201, response.json
    assert response.json["task_count"] == 2


def test_request_body_past_the_upload_cap_gets_413(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    from labelops.web import create_app

    monkeypatch.setenv("LABELOPS_MAX_UPLOAD_BYTES", str(MiB))
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "LABELOPS_SETTINGS": Settings.from_env(tmp_path / "home"),
            "SECRET_KEY": "test-secret",
        }
    )
    assert app.config["MAX_CONTENT_LENGTH"] == MiB
    headers = user_with_token(app, "admin@example.com", admin=True)[1]
    client = app.test_client()
    pid = client.post(
        "/api/projects", json={"title": "Cap", "label_config": TEXT_CONFIG}, headers=headers
    ).json["id"]
    response = _upload(client, pid, headers, "big.json", b"[" + b" " * (2 * MiB) + b"]")
    assert response.status_code == 413
    assert response.json["status_code"] == 413
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_default_limits_are_the_documented_ones() -> None:
    limits = Limits()
    assert limits.max_upload_bytes == 512 * MiB
    assert limits.max_task_bytes == MiB
    assert limits.max_config_bytes == 64 * 1024
    with pytest.raises(ValueError, match="LABELOPS_MAX_TASK_BYTES"):
        Limits.from_env({"LABELOPS_MAX_TASK_BYTES": "lots"})
    with pytest.raises(ValueError, match="LABELOPS_MAX_CONCURRENT_EXPORTS"):
        Limits.from_env({"LABELOPS_MAX_CONCURRENT_EXPORTS": "0"})


# --- one huge task -----------------------------------------------------------------------------


def _tasks_with_one_huge(size: int) -> bytes:
    return json.dumps([{"text": "small"}, {"text": "x" * size}, {"text": "small too"}]).encode()


def test_huge_task_is_refused_through_the_api_naming_file_and_row(
    app: Flask, client: FlaskClient, admin: dict[str, str], project_id: int
) -> None:
    response = _upload(client, project_id, admin, "huge.json", _tasks_with_one_huge(2 * MiB))
    assert response.status_code == 400, response.json
    assert response.json["source"] == "huge.json"
    assert response.json["row"] == 2
    assert "LABELOPS_MAX_TASK_BYTES" in response.json["detail"]
    assert _task_count(app) == 0


def test_huge_task_in_a_json_body_is_refused(
    app: Flask, client: FlaskClient, admin: dict[str, str], project_id: int
) -> None:
    body = [{"data": {"text": "fine"}}, {"data": {"text": "y" * (3 * MiB)}}]
    response = client.post(f"/api/projects/{project_id}/import", json=body, headers=admin)
    assert response.status_code == 400, response.json
    assert response.json["row"] == 2
    assert _task_count(app) == 0


def test_task_limit_is_a_setting(
    app: Flask,
    client: FlaskClient,
    admin: dict[str, str],
    project_id: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LABELOPS_MAX_TASK_BYTES", "1000")
    response = _upload(client, project_id, admin, "mid.json", _tasks_with_one_huge(2_000))
    assert response.status_code == 400, response.json
    assert "the limit is 1000 bytes" in response.json["detail"]
    monkeypatch.setenv("LABELOPS_MAX_TASK_BYTES", "4000")
    response = _upload(client, project_id, admin, "mid.json", _tasks_with_one_huge(2_000))
    assert response.status_code == 201, response.json


def test_huge_task_is_refused_by_the_cli(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABELOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABELOPS_DATABASE_URL", database_url)
    config = tmp_path / "config.xml"
    config.write_text(TEXT_CONFIG)
    runner = CliRunner()
    result = runner.invoke(main, ["project", "create", "--title", "CLI", "--config", str(config)])
    assert result.exit_code == 0, result.output
    pid = next(int(w) for w in result.output.replace(":", " ").split() if w.isdigit())
    tasks = tmp_path / "huge.json"
    tasks.write_bytes(_tasks_with_one_huge(2 * MiB))
    result = runner.invoke(main, ["import", str(pid), str(tasks)])
    assert result.exit_code != 0
    assert "nothing imported" in result.output
    assert "huge.json" in result.output and "row 2" in result.output
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(TaskRow)) == 0
    engine.dispose()


def test_huge_task_is_refused_by_the_import_page_service(app: Flask, tmp_path: Path) -> None:
    with app.app_context():
        project = make_project(db.session)
        with pytest.raises(TaskImportError) as caught:
            import_sources(
                db.session,
                project,
                [ImportSource.of_stream("page.json", io.BytesIO(_tasks_with_one_huge(2 * MiB)))],
                ImportOptions(store=UploadStore(tmp_path / "media")),
            )
        db.session.rollback()
        assert caught.value.source == "page.json" and caught.value.row == 2
        assert _task_count(app) == 0


def test_huge_task_is_refused_by_the_import_page(app: Flask, client: FlaskClient, auth) -> None:
    with app.app_context():
        manager = make_user(db.session, "manager@example.com")
        project = make_project(db.session, owner=manager)
        db.session.commit()
        pid = project.id
    auth.login("manager@example.com", "password123")
    page = client.get(f"/projects/{pid}/import").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token
    response = client.post(
        f"/projects/{pid}/import",
        data={
            "csrf_token": token.group(1),
            "files": (io.BytesIO(_tasks_with_one_huge(2 * MiB)), "page.json"),
        },
        headers={"Accept": "application/json"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    error = response.json["error"]
    assert (error["source"], error["row"]) == ("page.json", 2)
    assert "LABELOPS_MAX_TASK_BYTES" in error["message"]
    assert _task_count(app) == 0


def test_huge_task_in_a_bucket_object_is_refused(app: Flask) -> None:
    with app.app_context():
        project = make_project(db.session)
        outcome = import_object(
            db.session,
            project,
            key="drop/huge.json",
            etag="1",
            uri="s3://bucket/drop/huge.json",
            opener=lambda: io.BytesIO(_tasks_with_one_huge(2 * MiB)),
        )
        db.session.commit()
        assert outcome.num_tasks == 0
        assert "LABELOPS_MAX_TASK_BYTES" in (outcome.error or ""), outcome
        assert "row 2" in (outcome.error or ""), outcome.error
        assert _task_count(app) == 0


# --- labeling configs --------------------------------------------------------------------------


def _padded_config(size: int) -> str:
    padding = "<!-- " + "x" * size + " -->"
    return TEXT_CONFIG.replace("</View>", padding + "</View>")


def test_config_past_the_size_limit_is_refused_before_parsing() -> None:
    with pytest.raises(LabelConfigError, match="LABELOPS_MAX_CONFIG_BYTES"):
        parse_label_config(_padded_config(70 * 1024))


def test_config_size_limit_applies_to_every_api_entry_point(
    client: FlaskClient, admin: dict[str, str], project_id: int
) -> None:
    big = _padded_config(1024**2)
    for method, url, body in (
        ("post", "/api/projects", {"title": "Big", "label_config": big}),
        ("patch", f"/api/projects/{project_id}", {"label_config": big}),
        ("post", "/api/projects/validate", {"label_config": big}),
    ):
        response = getattr(client, method)(url, json=body, headers=admin)
        assert response.status_code == 400, (url, response.json)
        assert "the limit is 65536 bytes" in response.json["detail"], url


def test_gallery_templates_fit_well_within_the_config_limit() -> None:
    gallery = Path(__file__).parents[2] / "labelops" / "templates_gallery"
    sizes = [len(p.read_bytes()) for p in gallery.glob("*.xml")]
    assert sizes and max(sizes) * 10 < Limits().max_config_bytes


# --- exports whose clients stop reading ---------------------------------------------------------


@contextmanager
def _serving(app: Flask, write_timeout: float) -> Iterator[str]:
    """Yields the base URL of a threaded werkzeug server running the app with a write timeout."""
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=request_handler(write_timeout)
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _wait_for(predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _stalled_download(base: str, path: str, token_header: str) -> socket.socket:
    """Returns a socket that sent a GET for ``path`` and will never read the answer."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {token_header}\r\n\r\n".encode()
    )
    return sock


def _idle_in_transaction(database_url: str) -> int:
    url = sa.engine.make_url(database_url)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = :db AND state LIKE 'idle in transaction%'"
                ),
                {"db": url.database},
            )
    finally:
        engine.dispose()


def test_stalled_export_downloads_do_not_starve_other_requests(
    app: Flask,
    admin: dict[str, str],
    project_id: int,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LABELOPS_MAX_CONCURRENT_EXPORTS", "4")
    monkeypatch.setenv("LABELOPS_EXPORT_BATCH_SIZE", "100")
    # The ~12 MB import below stays synchronous (above the limit it would run in the background).
    monkeypatch.setenv("LABELOPS_BACKGROUND_IMPORT_BYTES", str(64 * 1024**2))
    client = app.test_client()
    # ~12 MB of tasks: far more than the socket buffers between a stalled client and the server.
    body = [{"text": f"{i} " + "w" * 4_000} for i in range(3_000)]
    imported = client.post(f"/api/projects/{project_id}/import", json=body, headers=admin)
    assert imported.status_code == 201, imported.json
    path = f"/api/projects/{project_id}/export?exportType=JSON&download_all_tasks=true"
    with _serving(app, write_timeout=3.0) as base:
        stalled = [_stalled_download(base, path, admin["Authorization"]) for _ in range(4)]
        try:
            _wait_for(lambda: export_service.active_exports() == 4, "four exports streaming")
            # The fifth export is turned away at once with a Retry-After.
            busy = requests.get(base + path, headers=admin, timeout=10)
            assert busy.status_code == 503, busy.text
            assert busy.headers["Retry-After"].isdigit()
            assert "LABELOPS_MAX_CONCURRENT_EXPORTS" in busy.json()["detail"]
            # More bystanders at once than the connection pool holds, reading and writing.
            urls = [f"{base}/api/projects", f"{base}/api/projects/{project_id}"] * 10
            with ThreadPoolExecutor(max_workers=20) as pool:
                started = time.monotonic()
                answers = list(pool.map(lambda u: requests.get(u, headers=admin, timeout=10), urls))
                elapsed = time.monotonic() - started
            assert [a.status_code for a in answers] == [200] * len(urls)
            assert elapsed < 8, f"bystanders took {elapsed:.1f} s"
            write = requests.post(
                f"{base}/api/projects/{project_id}/import",
                json=[{"text": "written while exports stall"}],
                headers=admin,
                timeout=10,
            )
            assert write.status_code == 201, write.text
            if database_url.startswith("postgresql"):
                _wait_for(
                    lambda: _idle_in_transaction(database_url) == 0,
                    "no session idle in transaction",
                    timeout=5,
                )
            # The write timeout ends the stalled downloads and frees their slots.
            _wait_for(lambda: export_service.active_exports() == 0, "stalled exports to time out")
        finally:
            for sock in stalled:
                sock.close()
        full = requests.get(base + path, headers=admin, timeout=60)
        assert full.status_code == 200
        assert len(full.json()) == 3_001
    assert export_service.active_exports() == 0


# --- pipeline launches ---------------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_parallel_run_launches_are_capped_and_do_not_lock_out_bystanders(
    app: Flask, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("LABELOPS_HOME", str(home))
    monkeypatch.setenv("LABELOPS_DATABASE_URL", database_url)
    monkeypatch.setenv("LABELOPS_ENV", "local")
    monkeypatch.setenv("LABELOPS_MAX_RUNS_PER_PROJECT", "2")
    for name in ("DAGSTER_HOME", "LABELOPS_OBJECT_STORE_ROOT", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    # Nothing listens here, so launches start local Dagster processes and wait for them.
    app.config["LABELOPS_SETTINGS"] = Settings.from_env(home)
    app.config["DAGSTER_UI_URL"] = "http://127.0.0.1:9"
    _, manager = user_with_token(app, "manager@example.com", can_create_projects=True)
    _, other = user_with_token(app, "other@example.com", can_create_projects=True)
    client = app.test_client()
    pid = client.post(
        "/api/projects", json={"title": "Runs", "label_config": TEXT_CONFIG}, headers=manager
    ).json["id"]
    own = client.post(
        "/api/projects", json={"title": "Other", "label_config": TEXT_CONFIG}, headers=other
    ).json["id"]
    # Other tests' servers (an emulator, a browser) may be children of this process too: wait only
    # for the run processes this test starts.
    before = {child.pid for child in psutil.Process().children(recursive=True)}
    with _serving(app, write_timeout=60) as base, ThreadPoolExecutor(max_workers=4) as pool:
        launches = [
            pool.submit(
                requests.post,
                f"{base}/api/projects/{pid}/pipeline/agreement",
                headers=manager,
                timeout=180,
            )
            for _ in range(4)
        ]
        _wait_for(lambda: run_service.launches_in_progress(pid) > 0, "a launch in progress")
        slowest = 0.0
        while run_service.launches_in_progress(pid) > 0:
            for method, url, body in (
                ("get", f"{base}/api/projects", None),
                ("get", f"{base}/api/projects/{own}", None),
                ("post", f"{base}/api/projects/{own}/import", [{"text": "bystander"}]),
            ):
                started = time.monotonic()
                answer = requests.request(method, url, json=body, headers=other, timeout=30)
                slowest = max(slowest, time.monotonic() - started)
                assert answer.status_code < 500, (url, answer.status_code, answer.text)
        answers = [f.result() for f in launches]
    codes = sorted(a.status_code for a in answers)
    assert codes == [202, 202, 409, 409], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 409).json()
    assert "LABELOPS_MAX_RUNS_PER_PROJECT" in refused["detail"]
    assert slowest < 3, f"a bystander waited {slowest:.1f} s"
    with app.app_context():
        tasks = db.session.scalar(
            sa.select(sa.func.count()).select_from(TaskRow).where(TaskRow.project_id == own)
        )
    assert tasks and tasks > 0
    for child in psutil.Process().children(recursive=True):
        if child.pid in before:
            continue
        with contextlib.suppress(psutil.NoSuchProcess):
            child.wait(timeout=180)
