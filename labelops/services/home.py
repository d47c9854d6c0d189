"""The data folder (LABELOPS_HOME) and its SQLite files, created readable by their owner only.

The embedded defaults keep everything under one folder: the labeling database, the MLflow
database, the object store, the Dagster instance and the session signing key. On a shared machine
the umask would leave them readable by every local user, so the folders are created 0700 and
the SQLite files 0600 (SQLite gives its ``-wal`` and ``-shm`` files the database file's mode).
"""

import logging
import os
import stat
from pathlib import Path

import sqlalchemy as sa

from labelops.settings import Settings

log = logging.getLogger(__name__)
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def prepare_home(settings: Settings) -> None:
    """Returns once the home, object store and Dagster folders and the SQLite files exist privately.

    Folders this call creates get mode 0700; SQLite database files named by the settings are
    created empty with mode 0600, or narrowed to 0600 when they exist and belong to this user.
    An existing folder keeps its mode (it may be shared on purpose); a folder that others can
    read is reported in the log.
    """
    for folder in (settings.home, settings.object_store_root, settings.dagster_home):
        make_private_dir(folder)
    for url in (settings.database_url, settings.mlflow_tracking_uri):
        path = sqlite_path(url)
        if path is not None:
            _make_dirs(path.parent)
            make_private_file(path)


def make_private_dir(folder: Path) -> None:
    """Returns once ``folder`` exists; folders this call creates (parents too) get mode 0700."""
    if folder.is_dir():
        if folder.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("%s is accessible to other users of this machine (chmod 700 it)", folder)
        return
    _make_dirs(folder)


def _make_dirs(folder: Path) -> None:
    if folder.is_dir():
        return
    _make_dirs(folder.parent)
    try:
        folder.mkdir(mode=PRIVATE_DIR)
    except FileExistsError:  # created meanwhile by another process
        return
    folder.chmod(PRIVATE_DIR)


def make_private_file(path: Path) -> None:
    """Returns once ``path`` exists with mode 0600 (created empty if missing)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE)
    try:
        if os.fstat(fd).st_uid == os.geteuid():
            os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def sqlite_path(url: str) -> Path | None:
    """Returns the file of a SQLite URL, or None for other databases and in-memory SQLite."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return None
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.database.startswith("file:"):
        return None
    return Path(parsed.database).expanduser().resolve()
