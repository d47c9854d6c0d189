"""Storage connections of a project, their secrets, and the import of storage objects as tasks.

Secrets are never stored in plain text: either encrypted with Fernet under the key in
``LABELOPS_STORAGE_SECRET_KEY`` (stored as ``fernet:<token>``) or referenced by the name of an
environment variable (stored as ``env:<NAME>``). Each object is imported once per key and ETag.
"""

import fnmatch
import os
import posixpath
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.orm import Session

from labelops.db.models import ImportedObjectRow, ProjectRow, StorageConnectionRow
from labelops.domain.errors import TaskImportError, UnknownFormatError
from labelops.domain.formats.readers import detect_format, normalize_task, read_rows
from labelops.domain.label_config import parse_label_config
from labelops.domain.records import Task
from labelops.services.errors import NotFoundError
from labelops.services.imports import import_rows, import_tasks

SECRET_KEY_ENV = "LABELOPS_STORAGE_SECRET_KEY"
STORAGE_KINDS = ("s3", "local")
MEDIA_EXTENSIONS: Mapping[str, str] = {
    **dict.fromkeys((".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"), "Image"),
    **dict.fromkeys((".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac"), "Audio"),
    **dict.fromkeys((".mp4", ".webm", ".mov", ".avi", ".mkv"), "Video"),
}
_DEFAULT_FIELDS = {"Image": "image", "Audio": "audio", "Video": "video"}


def _cipher(env: Mapping[str, str] | None = None) -> Fernet:
    key = (env if env is not None else os.environ).get(SECRET_KEY_ENV, "")
    if not key:
        raise ValueError(
            f"storing a secret needs an encryption key in {SECRET_KEY_ENV} "
            "(make one with cryptography.fernet.Fernet.generate_key()), "
            "or give the secret as the name of an environment variable instead"
        )
    try:
        return Fernet(key.encode())
    except ValueError as exc:
        raise ValueError(f"{SECRET_KEY_ENV} is not a valid Fernet key: {exc}") from exc


def create_storage(
    session: Session,
    project: ProjectRow,
    *,
    kind: str = "s3",
    bucket: str = "",
    prefix: str = "",
    file_pattern: str = "",
    region: str = "",
    endpoint_url: str = "",
    access_key_id_env: str = "",
    secret: str | None = None,
    secret_env: str | None = None,
) -> StorageConnectionRow:
    """Returns a new storage connection of the project.

    Args:
        session: The database session.
        project: The project whose files the connection holds.
        kind: "s3" (a bucket, or the deployment's object store) or "local" (a folder of it).
        bucket: The bucket (empty: the deployment's object store).
        prefix: The key prefix of the project's files.
        file_pattern: A glob on the file name (``*.jsonl``); empty imports every file.
        region: The S3 region.
        endpoint_url: An S3-compatible endpoint.
        access_key_id_env: Name of the environment variable holding the access key id.
        secret: The secret access key, encrypted before it is stored.
        secret_env: Name of the environment variable holding the secret access key instead.

    Raises:
        ValueError: A bad kind, both secret forms given, or no encryption key for a secret.
    """
    if kind not in STORAGE_KINDS:
        raise ValueError(
            f"unknown storage kind {kind!r}; expected one of {', '.join(STORAGE_KINDS)}"
        )
    if secret and secret_env:
        raise ValueError("give the secret or the name of its environment variable, not both")
    stored = ""
    if secret:
        stored = "fernet:" + _cipher().encrypt(secret.encode()).decode()
    elif secret_env:
        stored = f"env:{secret_env}"
    row = StorageConnectionRow(
        project_id=project.id,
        kind=kind,
        bucket=bucket,
        prefix=prefix.strip("/"),
        file_pattern=file_pattern,
        region=region,
        endpoint_url=endpoint_url,
        access_key_id_env=access_key_id_env,
        secret_encrypted=stored,
    )
    session.add(row)
    session.flush()
    return row


def list_storages(session: Session, project_id: int) -> list[StorageConnectionRow]:
    """Returns the project's storage connections, oldest first."""
    return list(
        session.scalars(
            sa.select(StorageConnectionRow)
            .where(StorageConnectionRow.project_id == project_id)
            .order_by(StorageConnectionRow.id)
        )
    )


def get_storage(session: Session, project_id: int, storage_id: int) -> StorageConnectionRow:
    """Returns one storage connection of the project.

    Raises:
        NotFoundError: The project has no such connection.
    """
    row = session.get(StorageConnectionRow, storage_id)
    if row is None or row.project_id != project_id:
        raise NotFoundError(f"storage {storage_id} not found in project {project_id}")
    return row


def delete_storage(session: Session, row: StorageConnectionRow) -> None:
    """Deletes the connection (the tasks it imported stay)."""
    session.delete(row)
    session.flush()


def storage_credentials(
    row: StorageConnectionRow, env: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """Returns (access key id, secret access key) of the connection; empty strings when unset.

    Raises:
        ValueError: A referenced variable is unset, or the secret cannot be decrypted.
    """
    env = env if env is not None else os.environ
    key_id = ""
    if row.access_key_id_env:
        key_id = env.get(row.access_key_id_env, "")
        if not key_id:
            raise ValueError(f"storage {row.id}: {row.access_key_id_env} is not set")
    stored = row.secret_encrypted
    if stored.startswith("env:"):
        name = stored[4:]
        if not env.get(name):
            raise ValueError(f"storage {row.id}: {name} is not set")
        return key_id, env[name]
    if stored.startswith("fernet:"):
        try:
            return key_id, _cipher(env).decrypt(stored[7:].encode()).decode()
        except InvalidToken as exc:
            raise ValueError(
                f"storage {row.id}: the secret does not decrypt with {SECRET_KEY_ENV}"
            ) from exc
    return key_id, ""


def matches_pattern(row: StorageConnectionRow, key: str) -> bool:
    """Returns True when the object's file name matches the connection's file pattern."""
    return not row.file_pattern or fnmatch.fnmatch(posixpath.basename(key), row.file_pattern)


def is_imported(session: Session, project_id: int, key: str, etag: str) -> bool:
    """Returns True when this version (key + ETag) of the object was imported before."""
    return (
        session.scalar(
            sa.select(ImportedObjectRow.id).where(
                ImportedObjectRow.project_id == project_id,
                ImportedObjectRow.key == key,
                ImportedObjectRow.etag == etag,
            )
        )
        is not None
    )


@dataclass
class ObjectImport:
    """What importing one storage object did."""

    key: str
    kind: str
    num_tasks: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""


def media_field(project: ProjectRow, key: str) -> str | None:
    """Returns the data field a media object fills (the config's object tag of its kind)."""
    kind = MEDIA_EXTENSIONS.get(posixpath.splitext(key.lower())[1])
    if kind is None:
        return None
    config = parse_label_config(project.label_config)
    for obj in config.objects.values():
        if obj.tag == kind and obj.data_field:
            return obj.data_field
    return _DEFAULT_FIELDS[kind]


def import_object(
    session: Session,
    project: ProjectRow,
    *,
    key: str,
    etag: str,
    uri: str,
    opener: Callable[[], BinaryIO],
) -> ObjectImport:
    """Returns the outcome of importing one storage object, which is then marked as imported.

    A task file (JSON, JSONL, CSV, TSV, Parquet) adds one task per good row; rows that do not
    make a task are listed under ``rejected`` with their error. A media file adds one task whose
    data field points at ``uri`` (a media file is never downloaded). ``opener`` returns the
    object's bytes as a stream; it is closed here. When the file as a whole fails (unreadable,
    or an annotation that does not fit the config), nothing of it is written and ``error`` says
    why. Other files are skipped. Either way the object version is marked, so it is never tried
    twice.
    """
    outcome = ObjectImport(key=key, kind="task_file")
    batch_id: int | None = None
    data_field = media_field(project, key)
    try:
        with session.begin_nested():
            if data_field is not None:
                outcome.kind = "media"
                report = import_rows(
                    session, project, [(1, {data_field: uri})], source=key, fmt="media",
                    created_by_id=None,
                )  # fmt: skip
            else:
                fmt = detect_format(key)
                config = parse_label_config(project.label_config)
                with opener() as stream:
                    rows = read_rows(stream, fmt, key)
                    report = import_tasks(
                        session,
                        project,
                        _good_rows(rows, key, config.data_fields, outcome.rejected),
                        source=key,
                        fmt=fmt,
                        created_by_id=None,
                        config=config,
                    )
            outcome.num_tasks = report.num_tasks
            batch_id = report.batch_id
    except UnknownFormatError:
        outcome.kind = "skipped"
    except TaskImportError as exc:
        outcome.error = str(exc)
    session.add(
        ImportedObjectRow(project_id=project.id, key=key, etag=etag, import_batch_id=batch_id)
    )
    session.flush()
    return outcome


def _good_rows(
    rows: Iterator[tuple[int, Any]], source: str, required: tuple[str, ...], rejected: list[Any]
) -> Iterator[tuple[int, Task]]:
    for row, item in rows:
        try:
            yield row, normalize_task(item, source=source, row=row, required_fields=required)
        except TaskImportError as exc:
            rejected.append({"row": row, "field": exc.field, "error": str(exc)})
