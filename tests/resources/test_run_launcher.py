"""Launching through a real ``dagster dev`` (GraphQL + daemon), as ``labelops up`` runs it."""

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
from labelops.resources.run_launcher import (
    LocalRunLauncher,
    WebserverRunLauncher,
    launcher_for,
)
from labelops.services.pipeline_storage import create_storage
from labelops.services.projects import create_project
from tests.factories import TEXT_CONFIG

ROOT = Path(__file__).resolve().parents[2]


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


def test_webserver_launcher_runs_the_job_and_reports_success(
    dagster_dev: tuple[str, Path], sqlite_url: str, tmp_path: Path
) -> None:
    url, dagster_home = dagster_dev
    engine = make_engine(sqlite_url)
    with sa.orm.Session(engine) as session:
        project = create_project(session, created_by=None, title="P", label_config=TEXT_CONFIG)
        create_storage(session, project, kind="local", prefix="incoming")
        session.commit()
        project_id = project.id
    incoming = tmp_path / "home" / "objects" / "incoming"
    incoming.mkdir(parents=True)
    (incoming / "tasks.jsonl").write_text('{"text": "a"}\n{"text": "b"}\n')
    launcher = launcher_for(url, dagster_home)

    run_id = launcher.launch("ingest_job", str(project_id))
    deadline = time.monotonic() + 120
    status, error = launcher.status(run_id)
    while status not in ("succeeded", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
        status, error = launcher.status(run_id)

    assert (status, error) == ("succeeded", "")
    with sa.orm.Session(engine) as session:
        assert session.scalar(sa.select(sa.func.count(TaskRow.id))) == 2
    engine.dispose()


def test_without_a_webserver_runs_go_to_a_local_process(tmp_path: Path) -> None:
    launcher = launcher_for(f"http://127.0.0.1:{_free_port()}", tmp_path / "dagster")
    assert isinstance(launcher, LocalRunLauncher)
