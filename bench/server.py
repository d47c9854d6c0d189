"""``labelops serve`` (gunicorn) in a process group of its own, and its memory while it works."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil


def free_port() -> int:
    """Returns a TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running ``labelops serve``: its master process, address and log."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def processes(self) -> list[psutil.Process]:
        """Returns the gunicorn master and its workers."""
        master = psutil.Process(self.process.pid)
        return [master, *master.children(recursive=True)]


@contextmanager
def serve(
    database_url: str, home: Path, *, workers: int, threads: int, boot_timeout: float = 120.0
) -> Iterator[Server]:
    """Yields ``labelops serve`` on a free port of 127.0.0.1 once every worker answers; stops it.

    The database must be migrated already (the server starts with ``--no-migrate``).
    """
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LABELOPS_", "DAGSTER_", "MLFLOW_"))
    }
    env.update(
        LABELOPS_HOME=str(home),
        LABELOPS_DATABASE_URL=database_url,
        LABELOPS_SECRET_KEY=secrets.token_hex(16),
        LABELOPS_DAGSTER_UI_URL="",
    )
    command = [sys.executable, "-m", "labelops.cli", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--threads", str(threads)]
    command += ["--no-migrate"]
    log = home / "serve.log"
    home.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_up(server, workers, boot_timeout)
        yield server
    finally:
        _stop(process)


def _wait_until_up(server: Server, workers: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"labelops serve exited: {server.log.read_text()[-2000:]}")
        booted = len(server.processes()) > workers
        try:
            urllib.request.urlopen(f"{server.base_url}/api/projects", timeout=5)
        except urllib.error.HTTPError as exc:
            if exc.code == 401 and booted:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"labelops serve did not answer in {timeout:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@dataclass
class MemoryPeak:
    """The highest resident memory seen: of the server as a whole and of its largest process."""

    total_mb: float = 0.0
    process_mb: float = 0.0
    stopped: threading.Event = field(default_factory=threading.Event)


@contextmanager
def peak_rss(server: Server, interval: float = 0.05) -> Iterator[MemoryPeak]:
    """Yields a MemoryPeak that a sampling thread raises while the block runs."""
    peak = MemoryPeak()

    def sample() -> None:
        while not peak.stopped.is_set():
            sizes = []
            for process in server.processes():
                try:
                    sizes.append(process.memory_info().rss / 2**20)
                except psutil.Error:
                    continue
            peak.total_mb = max(peak.total_mb, sum(sizes))
            peak.process_mb = max(peak.process_mb, max(sizes, default=0.0))
            peak.stopped.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        peak.stopped.set()
        sampler.join()
