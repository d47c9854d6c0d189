"""``labelops up`` started for real in a child process, as a newcomer starts it."""

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests


def free_port() -> int:
    """Returns a TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class UpProcess:
    """A running ``labelops up``: its process, the API token and login it printed, its output."""

    process: "subprocess.Popen[str]"
    token: str
    email: str
    password: str
    lines: list[str] = field(default_factory=list)

    def stop(self) -> None:
        """Returns once the process group has been sent SIGTERM and the process has exited."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()


def clean_env(**extra: str) -> dict[str, str]:
    """Returns this process's environment without labelops, Dagster and MLflow settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LABELOPS_", "DAGSTER_", "MLFLOW_"))
    }
    env.update(extra)
    return env


def start_up(
    home: Path,
    *args: str,
    admin_password: str | None = "demo-password",
    home_after_command: bool = False,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> UpProcess:
    """Returns ``labelops up`` once it printed the web app's address (and the admin login).

    Args:
        home: The data folder.
        *args: More options of ``up``.
        admin_password: LABELOPS_ADMIN_PASSWORD, or None to let ``up`` generate one.
        home_after_command: Spell it ``labelops up --home DIR`` instead of
            ``labelops --home DIR up``.
        cwd: Where to start it.
        env: The environment (default: this one without labelops settings).
    """
    env = dict(env if env is not None else clean_env())
    if admin_password is not None:
        env["LABELOPS_ADMIN_PASSWORD"] = admin_password
    home_args = ["--home", str(home)]
    command = ["up", *home_args] if home_after_command else [*home_args, "up"]
    process = subprocess.Popen(
        [sys.executable, "-m", "labelops.cli", *command, *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    token, email, password, lines = "", "", "", []
    deadline = time.time() + 120
    served = False
    while time.time() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if line.startswith("admin API token:"):
            token = line.split(":", 1)[1].strip()
        if line.startswith("admin login:"):
            email, _, password = line.split(":", 1)[1].strip().partition(" / ")
        if "web app:" in line:
            served = True
        if served and (email or not token):
            break
        if process.poll() is not None:
            break
    if not served or (token and not email):
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        process.stdout.close()
        raise AssertionError("labelops up did not start:\n" + "".join(lines))
    return UpProcess(process, token, email, password, lines)


def get(url: str, **kwargs: object) -> requests.Response:
    """Returns the answer at ``url`` once something answers there (60 s at most)."""
    for _ in range(300):
        try:
            return requests.get(url, timeout=5, **kwargs)  # type: ignore[arg-type]
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url}")
