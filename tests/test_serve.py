"""``labelops serve`` and ``labelops up --workers N``: the web app under gunicorn, for real.

Each test starts the command in its own process group on a free port, signs in with an API
token, checks that gunicorn runs the asked number of gthread workers, and stops the group.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from tests.up_process import clean_env, free_port, start_up

pytestmark = pytest.mark.slow


def get(url: str, token: str = "") -> requests.Response:
    """Returns the answer at ``url`` once a worker answers there (90 s at most).

    The connection is closed after each answer: gunicorn's graceful stop waits (up to its
    graceful timeout) for idle keep-alive connections, which would slow the stop down.
    """
    headers = {"Connection": "close"}
    if token:
        headers["Authorization"] = f"Token {token}"
    deadline = time.monotonic() + 90
    while True:
        try:
            return requests.get(url, timeout=30, headers=headers)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _workers(pid: int) -> list[psutil.Process]:
    """Returns the gunicorn worker processes of the master ``pid`` (once they all booted)."""
    return psutil.Process(pid).children()


def _wait_for_workers(pid: int, count: int, timeout: float = 60.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = _workers(pid)
        if len(workers) >= count:
            return workers
        time.sleep(0.2)
    raise AssertionError(f"{count} workers did not start within {timeout:.0f} s")


def test_serve_runs_gthread_workers_that_answer_and_stop_on_sigterm(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = clean_env(LABELOPS_HOME=str(home))
    labelops = [sys.executable, "-m", "labelops.cli"]
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*labelops, "serve", "--port", str(port), "--workers", "3", "--threads", "2"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert get(f"http://127.0.0.1:{port}/api/projects").status_code == 401
        # serve migrated the home's database: a user created now can sign in with a token.
        created = subprocess.run(
            [
                *labelops,
                "user",
                "create",
                "--email",
                "admin@example.com",
                "--password",
                "long-enough-pw",
                "--admin",
                "--print-token",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        token = created.stdout.strip().splitlines()[-1]
        workers = _wait_for_workers(process.pid, 3)
        answered = {
            get(f"http://127.0.0.1:{port}/api/projects", token).status_code for _ in range(6)
        }
        assert answered == {200}
        assert len(workers) == 3
        assert "Using worker: gthread" in log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0, log.read_text()
    assert not any(worker.is_running() for worker in workers)


def test_up_with_workers_serves_under_gunicorn(tmp_path: Path) -> None:
    port = free_port()
    up = start_up(tmp_path / "home", "--no-dagster", "--no-demo", "--port", str(port),
                  "--workers", "2")  # fmt: skip
    try:
        response = get(f"http://127.0.0.1:{port}/api/projects", up.token)
        assert response.status_code == 200
        assert len(_wait_for_workers(up.process.pid, 2)) == 2
    finally:
        up.stop()
    assert up.process.returncode == 0
