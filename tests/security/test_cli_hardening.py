"""``labelops up`` and the run launcher: what they expose, where runs go, what they import."""

import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest
import requests
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.orm import Session

import labelops
from labelops.cli import main
from labelops.db.engine import make_engine
from labelops.db.models import PipelineRunRow
from labelops.services.projects import create_project
from labelops.services.runs import (
    MAX_ERROR_LENGTH,
    launch_action,
    refresh_runs,
    summarize_error,
)
from labelops.web.run_launcher import LocalRunLauncher
from tests.factories import TEXT_CONFIG
from tests.up_process import free_port, get, start_up


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The umask of a shared machine, where new files are readable by everyone."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No LABELOPS_*, DAGSTER_* or MLFLOW_* setting: the embedded defaults under --home."""
    for name in list(os.environ):
        if name.startswith(("LABELOPS_", "DAGSTER_", "MLFLOW_")):
            monkeypatch.delenv(name)


def test_a_new_home_and_its_sqlite_files_are_private(
    tmp_path: Path, loose_umask: None, bare_env: None
) -> None:
    home = tmp_path / "a" / "home"
    result = CliRunner().invoke(
        main, ["--home", str(home), "user", "create", "--email", "a@b.io", "--password", "p" * 8]
    )
    assert result.exit_code == 0, result.output
    engine = make_engine(f"sqlite:///{home / 'labelops.db'}")
    with engine.connect() as conn:  # an open connection keeps the -wal and -shm files
        conn.execute(sa.text("SELECT count(*) FROM users"))
        sidecars = [home / "labelops.db-wal", home / "labelops.db-shm"]
        assert all(path.exists() for path in sidecars)
        assert {path.name: _mode(path) for path in sidecars} == {
            "labelops.db-wal": 0o600,
            "labelops.db-shm": 0o600,
        }
    engine.dispose()

    for folder in (home, home / "objects", home / "dagster", tmp_path / "a"):
        assert _mode(folder) == 0o700, folder
    for file in (home / "labelops.db", home / "mlflow.db"):
        assert _mode(file) == 0o600, file


def test_an_existing_world_readable_database_file_is_narrowed(
    tmp_path: Path, loose_umask: None, bare_env: None
) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "labelops.db").touch(mode=0o644)
    assert _mode(home / "labelops.db") == 0o644

    result = CliRunner().invoke(main, ["db", "upgrade", "--home", str(home)])

    assert result.exit_code == 0, result.output
    assert _mode(home / "labelops.db") == 0o600


class _FakeDagster(BaseHTTPRequestHandler):
    """Answers every request with 200, as anything squatting the Dagster port could."""

    seen: list[str]

    def _answer(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        body = json.dumps({"data": {}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *_args: object) -> None:
        """Stays quiet."""


@pytest.fixture
def fake_dagster() -> Iterator[tuple[int, list[str]]]:
    """A listener on a free port that records what it is asked."""
    seen: list[str] = []
    handler = type("Handler", (_FakeDagster,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], seen
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.mark.slow
def test_up_without_dagster_never_sends_runs_to_what_answers_on_the_dagster_port(
    tmp_path: Path, fake_dagster: tuple[int, list[str]]
) -> None:
    squatter_port, seen = fake_dagster
    port = free_port()
    up = start_up(
        tmp_path / "home",
        "--no-dagster",
        "--port",
        str(port),
        "--dagster-port",
        str(squatter_port),
    )
    try:
        base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Token {up.token}"}
        demo = get(f"{base}/api/projects", headers=headers).json()["results"][0]["id"]

        launched = requests.post(
            f"{base}/api/projects/{demo}/pipeline/agreement", headers=headers, timeout=180
        )

        assert launched.status_code == 202, launched.text
        run = launched.json()
        assert run["status"] != "failed", run["error"]
        assert run["run_id"]  # created by the local child process in the home's instance
        assert (tmp_path / "home" / "dagster" / "labelops_runs").is_dir()
        assert seen == []
    finally:
        up.stop()


def _listening(root: psutil.Process, port: int) -> set[str]:
    addresses = set()
    for process in [root, *root.children(recursive=True)]:
        try:
            for conn in process.net_connections(kind="inet"):
                if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port:
                    addresses.add(conn.laddr.ip)
        except psutil.Error:
            continue
    return addresses


@pytest.mark.slow
def test_up_on_all_interfaces_keeps_the_dagster_ui_on_loopback(tmp_path: Path) -> None:
    port, dagster_port = free_port(), free_port()
    up = start_up(
        tmp_path / "home", "--host", "0.0.0.0", "--port", str(port), "--dagster-port",
        str(dagster_port),
    )  # fmt: skip
    try:
        root = psutil.Process(up.process.pid)
        deadline = time.monotonic() + 120
        while not _listening(root, dagster_port) and time.monotonic() < deadline:
            time.sleep(0.5)  # polls for the Dagster webserver's socket, started by a child
        assert _listening(root, dagster_port) == {"127.0.0.1"}
        assert _listening(root, port) == {"0.0.0.0"}
        assert f"Dagster UI: http://127.0.0.1:{dagster_port}/" in "".join(up.lines)
    finally:
        up.stop()


@pytest.fixture
def run_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The environment a local run's child inherits; returns its Dagster home."""
    for name in ("DAGSTER_HOME", "LABELOPS_OBJECT_STORE_ROOT", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LABELOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABELOPS_ENV", "local")
    return tmp_path / "dagster"


@pytest.fixture
def hostile_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The server's working directory holds look-alike packages; returns the file they write."""
    marker = tmp_path / "imported-from-cwd"
    cwd = tmp_path / "cwd"
    for package in ("dagster", "labelops"):
        (cwd / package).mkdir(parents=True)
        code = f"open({str(marker)!r}, 'a').write({package!r})\nraise SystemExit(3)\n"
        for name in ("__init__.py", "__main__.py", "definitions.py"):
            (cwd / package / name).write_text(code)
    monkeypatch.chdir(cwd)
    return marker


@pytest.mark.slow
def test_a_local_run_never_imports_from_the_servers_working_directory_and_fails_in_one_line(
    sqlite_url: str, run_env: Path, hostile_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABELOPS_DATABASE_URL", sqlite_url)
    launcher = LocalRunLauncher(run_env)

    run_id = launcher.launch("ingest_job", "424242")  # no such project: the step fails
    launcher.wait(180)
    status, error = launcher.status(run_id)

    assert not hostile_cwd.exists(), hostile_cwd.read_text()
    # It ran the same labelops as this process (the import path is intact, only cwd is out).
    logs = "".join(p.read_text(errors="replace") for p in (run_env / "labelops_runs").glob("*.log"))
    assert str(Path(labelops.__file__).parent / "assets" / "ingest.py") in logs
    assert status == "failed"
    assert "424242" in error and "\n" not in error.strip() and "Traceback" not in error


def test_a_launch_that_fails_is_recorded_with_a_one_line_reason(
    database_url: str, run_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABELOPS_DATABASE_URL", database_url)
    launcher = LocalRunLauncher(run_env, module="labelops.no_such_definitions")
    engine = make_engine(database_url)
    with Session(engine) as session:
        project = create_project(session, created_by=None, title="P", label_config=TEXT_CONFIG)

        row = launch_action(session, project, "agreement", launcher=launcher, launched_by_id=None)
        session.commit()

        assert row.status == "failed"
        assert row.error.startswith("could not launch agreement_job: agreement_job exited")
        assert "\n" not in row.error and len(row.error) <= MAX_ERROR_LENGTH
        assert "no_such_definitions" in row.error
    engine.dispose()


class _MultiLineLauncher:
    """A launcher whose runs fail with a whole traceback (as a webserver may report them)."""

    def launch(self, job_name: str, partition_key: str) -> str:
        return "run-1"

    def status(self, run_id: str) -> tuple[str, str]:
        trace = "\n".join(f'  File "/srv/app/module{i}.py", line {i}, in f' for i in range(50))
        return "failed", f"Traceback (most recent call last):\n{trace}\nKeyError: 'bucket'\n"


def test_run_errors_shown_to_users_are_one_line(database_url: str) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        project = create_project(session, created_by=None, title="P", label_config=TEXT_CONFIG)
        row = PipelineRunRow(project_id=project.id, job_name="ingest_job", run_id="run-1")
        session.add(row)
        session.flush()

        (refreshed,) = refresh_runs(session, [row], _MultiLineLauncher())
        session.commit()

        assert (refreshed.status, refreshed.error) == ("failed", "KeyError: 'bucket'")
    engine.dispose()
    assert summarize_error("first line\nsecond line") == "first line"
    assert len(summarize_error("x" * 5000)) == MAX_ERROR_LENGTH
