"""A private, throwaway PostgreSQL server for test runs on machines where none answers.

``start_private_postgres`` runs the system's ``initdb`` and ``pg_ctl`` (Debian's
``/usr/lib/postgresql/<version>/bin``, else ``PATH``, or ``LABELOPS_TEST_PG_BIN``) on a temporary
data folder, listening on 127.0.0.1 at a free port with its unix socket inside that folder, trust
authentication and fsync off, and creates the database ``test``. ``initdb`` refuses to run as
root, so as root every server command runs as the ``postgres`` user through ``runuser``. ``stop``
shuts the server down and deletes the folder. The machine's own PostgreSQL is never touched.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psutil
import sqlalchemy as sa

DEFAULT_TEST_PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
SERVER_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be started (binaries or the server user missing, or a crash)."""


def answers(url: str, timeout: float = 2.0) -> bool:
    """Returns True when something accepts TCP connections at the URL's host and port."""
    parsed = sa.engine.make_url(url)
    try:
        with socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 5432), timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    """Returns a TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bin_dir() -> Path:
    """Returns the folder of the newest installed PostgreSQL server binaries.

    Raises:
        PostgresUnavailable: No ``initdb`` is installed.
    """
    override = os.environ.get("LABELOPS_TEST_PG_BIN")
    candidates = [Path(override)] if override else []
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: _version(p.parent.name), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) found: install the postgresql package "
        "or set LABELOPS_TEST_PG_BIN"
    )


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


@dataclass
class PrivatePostgres:
    """A running private server: its URL (database ``test``), folder and postmaster pid."""

    url: str
    root: Path
    pid: int
    _as_user: list[str]
    _bin: Path

    @property
    def data_dir(self) -> Path:
        """Returns the cluster's data folder."""
        return self.root / "data"

    def stop(self) -> None:
        """Returns once the server has exited and its folder is deleted."""
        if self.data_dir.exists():
            subprocess.run(
                [*self._as_user, str(self._bin / "pg_ctl"), "-D", str(self.data_dir),
                 "-m", "immediate", "-w", "-t", "60", "stop"],
                capture_output=True,
                check=False,
            )  # fmt: skip
        try:
            psutil.Process(self.pid).wait(timeout=30)
        except psutil.NoSuchProcess:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


def start_private_postgres(port: int | None = None) -> PrivatePostgres:
    """Returns a new private server listening on 127.0.0.1 (a free port unless ``port``).

    Raises:
        PostgresUnavailable: It could not be started; the message holds initdb's or the log's tail.
    """
    binaries = bin_dir()
    port = port or free_port()
    as_user: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="labelops-pg-"))
    try:
        if os.geteuid() == 0:
            try:
                server_user = pwd.getpwnam(SERVER_USER)
            except KeyError as exc:
                raise PostgresUnavailable(
                    f"running as root needs a {SERVER_USER!r} user to run PostgreSQL as"
                ) from exc
            os.chown(root, server_user.pw_uid, server_user.pw_gid)
            as_user = ["runuser", "-u", SERVER_USER, "--"]
        data, log = root / "data", root / "server.log"
        _run(
            [*as_user, str(binaries / "initdb"), "-D", str(data), "-U", "postgres",
             "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
        )  # fmt: skip
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -F"
        started = subprocess.run(
            [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log),
             "-o", options, "-w", "-t", "60", "start"],
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        if started.returncode != 0:
            subprocess.run(
                [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                check=False,
            )
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailable(f"pg_ctl start failed: {started.stderr.strip()} {tail}")
        pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
        server = PrivatePostgres(
            url=f"postgresql+psycopg2://postgres@127.0.0.1:{port}/test",
            root=root,
            pid=pid,
            _as_user=as_user,
            _bin=binaries,
        )
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    try:
        admin = sa.create_engine(
            f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres",
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE test"))
        admin.dispose()
    except BaseException:
        server.stop()
        raise
    return server


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PostgresUnavailable(
            f"{' '.join(command)} failed: {(done.stderr or done.stdout).strip()[-2000:]}"
        )
