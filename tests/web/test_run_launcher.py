"""Launching and reading runs through a real ``dagster dev`` (GraphQL + daemon) only."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from labelops.db.engine import make_engine
from labelops.db.models import TaskRow
from labelops.services.pipeline_storage import create_storage
from labelops.services.projects import create_project
from labelops.services.runs import DagsterUnavailableError
from labelops.web.run_launcher import (
    LocalRunLauncher,
    WebserverRunLauncher,
    launcher_for,
)
from tests.factories import TEXT_CONFIG

ROOT = Path(__file__).resolve().parents[2]
DEAD = "http://127.0.0.1:9"  # nothing listens there


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dagster_dev(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[str, Path]]:
    """``dagster dev`` on the repository's workspace, with a SQLite Dagster home."""
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home),
        "LABELOPS_HOME": str(tmp_path / "home"),
        "LABELOPS_DATABASE_URL": sqlite_url,
        "LABELOPS_ENV": "local",
        "LABELOPS_AUTOMATION": "stopped",  # only the runs the test launches
        "LABELOPS_STEP_RETRIES": "0",
        "LABELOPS_STORAGE_ENDPOINT_ALLOWLIST": DEAD,
        "LABELOPS_OUTBOUND_HOST_ALLOWLIST": "127.0.0.1:9",
    }
    env.pop("LABELOPS_OBJECT_STORE_ROOT", None)
    port = _free_port()
    log = (tmp_path / "webserver.log").open("wb")
    command = [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(
        [*command, "-w", str(ROOT / "workspace.yaml")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so it can be stopped
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while not isinstance(launcher_for(url, dagster_home), WebserverRunLauncher):
        if process.poll() is not None or time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGTERM)
            pytest.fail(
                "dagster dev did not answer: " + (tmp_path / "webserver.log").read_text()[-3000:],
                pytrace=False,
            )
        time.sleep(0.5)
    yield url, dagster_home
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)
    log.close()


def _wait(launcher: WebserverRunLauncher, run_id: str) -> tuple[str, str]:
    deadline = time.monotonic() + 120
    status, error = launcher.status(run_id)
    while status not in ("succeeded", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
        status, error = launcher.status(run_id)
    return status, error


def test_webserver_launcher_runs_jobs_and_reads_runs_errors_through_graphql(
    dagster_dev: tuple[str, Path], sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, dagster_home = dagster_dev
    monkeypatch.setenv("LABELOPS_STORAGE_ENDPOINT_ALLOWLIST", DEAD)
    monkeypatch.setenv("LABELOPS_OUTBOUND_HOST_ALLOWLIST", "127.0.0.1:9")
    engine = make_engine(sqlite_url)
    with sa.orm.Session(engine) as session:
        project = create_project(session, created_by=None, title="P", label_config=TEXT_CONFIG)
        create_storage(session, project, kind="local", prefix="incoming")
        broken = create_project(session, created_by=None, title="B", label_config=TEXT_CONFIG)
        create_storage(session, broken, kind="s3", bucket="b", endpoint_url=DEAD)
        session.commit()
        project_id, broken_id = project.id, broken.id
    incoming = tmp_path / "home" / "objects" / "incoming"
    incoming.mkdir(parents=True)
    (incoming / "tasks.jsonl").write_text('{"text": "a"}\n{"text": "b"}\n')
    launcher = launcher_for(url, dagster_home, production=True)
    assert isinstance(launcher, WebserverRunLauncher)

    run_id = launcher.launch("ingest_job", str(project_id))
    failed_id = launcher.launch("ingest_job", str(broken_id))

    assert _wait(launcher, run_id) == ("succeeded", "")
    status, error = _wait(launcher, failed_id)
    assert status == "failed" and "Could not connect to the endpoint URL" in error
    with sa.orm.Session(engine) as session:
        assert session.scalar(sa.select(sa.func.count(TaskRow.id))) == 2
    engine.dispose()
    (listed,) = launcher.runs(str(project_id))
    assert (listed.run_id, listed.job_name, listed.status) == (run_id, "ingest_job", "succeeded")
    assert listed.source == "web app"
    (broken_run,) = launcher.runs(str(broken_id))
    assert broken_run.run_id == failed_id and "Could not connect" in broken_run.error


def test_in_production_an_unreachable_webserver_is_a_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    launcher = launcher_for(url, tmp_path / "dagster", production=True)

    assert isinstance(launcher, WebserverRunLauncher)
    with pytest.raises(DagsterUnavailableError, match="LABELOPS_DAGSTER_UI_URL"):
        launcher.launch("ingest_job", "1")
    with pytest.raises(DagsterUnavailableError, match="is unreachable"):
        launcher.runs("1")
    assert not (tmp_path / "dagster").exists()


def test_without_a_webserver_runs_go_to_a_local_process_in_local_mode(tmp_path: Path) -> None:
    launcher = launcher_for(
        f"http://127.0.0.1:{_free_port()}", tmp_path / "dagster", production=False
    )
    assert isinstance(launcher, LocalRunLauncher)
