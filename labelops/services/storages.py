"""Storage connections of a project: validation, confinement and secrets, for every entry point.

The Pipeline tab, the REST API, the ingest asset and the new-object sensor all go through this
module, so one rule holds everywhere, at creation time and again each time a connection is used:

- Secrets are literal (encrypted with Fernet under ``LABELOPS_STORAGE_SECRET_KEY`` and stored as
  ``fernet:<token>``, never returned) or the name of an environment variable the administrator
  listed in ``LABELOPS_STORAGE_SECRET_ENV_ALLOWLIST`` (stored as ``env:<NAME>``).
- A custom ``endpoint_url`` must be one the administrator listed in
  ``LABELOPS_STORAGE_ENDPOINT_ALLOWLIST`` and must pass the outbound-URL rule (no loopback,
  private, link-local or metadata address unless ``LABELOPS_OUTBOUND_HOST_ALLOWLIST`` names it).
- An S3 connection names its own bucket (never the deployment's) and its own credentials; without
  credentials it reads anonymously, never with the deployment's.
- A "gcs" connection names a Google Cloud Storage bucket; its secret is a service account's JSON
  key (or none: anonymous). An "azure" connection names an Azure Blob Storage container; its
  access key id is the storage account's name and its secret the account key (or neither:
  anonymous, then the endpoint URL names the account). Their endpoints follow the S3 rule.
- A connection's ``direction`` is "import" (the project's source files) or "export" (a target
  storage: exports and labeled datasets are written there, nothing is imported from it).
- A "local" connection is a folder of the deployment's object store, confined: never the
  deployment's own areas (datasets/, uploads/, ...) nor a folder another project reads.
"""

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import boto3
import sqlalchemy as sa
from botocore import UNSIGNED
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.orm import Session

from labelops.db.models import ProjectRow, StorageConnectionRow
from labelops.domain.errors import LabelopsError
from labelops.domain.json_limits import is_stored_id
from labelops.domain.storage_paths import (
    StoragePrefixError,
    confinement_problem,
    normalize_prefix,
)
from labelops.services.errors import NotFoundError
from labelops.services.outbound import OutboundURLError, check_outbound_url
from labelops.settings import Settings

SECRET_KEY_ENV = "LABELOPS_STORAGE_SECRET_KEY"
SECRET_ENV_ALLOWLIST = "LABELOPS_STORAGE_SECRET_ENV_ALLOWLIST"
ENDPOINT_ALLOWLIST = "LABELOPS_STORAGE_ENDPOINT_ALLOWLIST"
CHECK_ON_CREATE_ENV = "LABELOPS_STORAGE_CHECK_ON_CREATE"
STORAGE_KINDS = ("s3", "gcs", "azure", "local")
BUCKET_KINDS = ("s3", "gcs", "azure")
DIRECTIONS = ("import", "export")
KIND_NAMES = {"s3": "S3", "gcs": "Google Cloud Storage", "azure": "Azure Blob Storage"}
SYNC_ACTION = "sync-storage"
# Variables no connection may read, even when an administrator lists them.
NEVER_SHARED_ENV = frozenset(
    {SECRET_KEY_ENV, "LABELOPS_SECRET_KEY", "LABELOPS_DATABASE_URL", "DAGSTER_PG_PASSWORD"}
)
S3_ONLY_FIELDS = (
    "bucket",
    "region",
    "endpoint_url",
    "access_key_id_env",
    "access_key_id",
    "secret",
    "secret_env",
)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
_REGION = re.compile(r"^[a-z0-9-]{0,64}$")
_MAX_LENGTHS = {
    "bucket": 255,
    "file_pattern": 255,
    "region": 64,
    "endpoint_url": 1024,
    "access_key_id_env": 255,
    "access_key_id": 255,
    "secret": 4096,
    "secret_env": 255,
}


class StorageError(LabelopsError):
    """A storage connection that may not be created or used; ``field`` names the bad field."""

    code = "invalid_storage"

    def __init__(self, field_name: str, message: str, *, storage_id: int | None = None) -> None:
        self.field = field_name
        self.storage_id = storage_id
        self.message = message
        where = f"storage {storage_id}: " if storage_id is not None else ""
        super().__init__(f"{where}{field_name}: {message}")

    def details(self) -> dict[str, object]:
        """Returns the bad field, the connection's id (None for a new one) and the message by field.

        ``validation_errors`` has Label Studio's shape (field -> messages), so its clients read it.
        """
        return {
            "field": self.field,
            "storage": self.storage_id,
            "validation_errors": {self.field: [self.message]},
        }


@dataclass(frozen=True)
class StoragePolicy:
    """What the administrator allows storage connections to use (read from settings)."""

    secret_env_allowlist: frozenset[str] = frozenset()
    endpoint_allowlist: tuple[str, ...] = ()
    outbound_hosts: tuple[str, ...] = ()
    deployment_bucket: str = ""

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "StoragePolicy":
        """Returns the policy of the settings (default: read from the environment now)."""
        settings = settings or Settings.from_env()
        return cls(
            secret_env_allowlist=frozenset(settings.storage_secret_env_allowlist),
            endpoint_allowlist=tuple(u.rstrip("/") for u in settings.storage_endpoint_allowlist),
            outbound_hosts=tuple(settings.outbound_host_allowlist),
            deployment_bucket=settings.s3_bucket,
        )

    def env_choices(self) -> list[str]:
        """Returns the variable names a member may pick, sorted."""
        return sorted(self.secret_env_allowlist - NEVER_SHARED_ENV)


@dataclass(frozen=True)
class StorageSpec:
    """The fields of a storage connection as a member gives them (secrets in clear)."""

    kind: str = "s3"
    bucket: str = ""
    prefix: str = ""
    file_pattern: str = ""
    region: str = ""
    endpoint_url: str = ""
    access_key_id_env: str = ""
    access_key_id: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    secret_env: str = ""
    direction: str = "import"


@dataclass(frozen=True)
class ConnectionTarget:
    """Where a connection's objects live, with its credentials resolved; checked just now."""

    kind: str
    bucket: str
    prefix: str
    region: str
    endpoint_url: str
    access_key_id: str = field(default="", repr=False)
    secret_access_key: str = field(default="", repr=False)


def _cipher(env: Mapping[str, str] | None = None) -> Fernet:
    key = (env if env is not None else os.environ).get(SECRET_KEY_ENV, "")
    if not key:
        raise StorageError(
            "secret",
            f"storing a secret needs an encryption key in {SECRET_KEY_ENV} (make one with "
            "cryptography.fernet.Fernet.generate_key()), or pick a variable an administrator "
            "allowed instead",
        )
    try:
        return Fernet(key.encode())
    except ValueError as exc:
        raise StorageError("secret", f"{SECRET_KEY_ENV} is not a valid Fernet key: {exc}") from exc


def encrypt_secret(clear: str) -> str:
    """Returns the text as stored encrypted (``fernet:<token>``) with the deployment's key.

    Raises:
        StorageError: No key, or not a valid Fernet key, in LABELOPS_SECRET_KEY.
    """
    return "fernet:" + _cipher().encrypt(clear.encode()).decode()


def decrypt_secret(stored: str, env: Mapping[str, str] | None = None) -> str:
    """Returns the clear text of a ``fernet:<token>`` written by :func:`encrypt_secret`.

    Raises:
        StorageError: No key, or not a valid Fernet key.
        InvalidToken: The token does not decrypt with the key.
    """
    return _cipher(env).decrypt(stored.removeprefix("fernet:").encode()).decode()


def _other_projects_folders(session: Session, project_id: int) -> list[str]:
    prefixes = session.scalars(
        sa.select(StorageConnectionRow.prefix).where(
            StorageConnectionRow.kind == "local", StorageConnectionRow.project_id != project_id
        )
    )
    out = []
    for prefix in prefixes:
        try:
            out.append(normalize_prefix(prefix))
        except StoragePrefixError:
            out.append(prefix.strip().strip("/"))
    return out


def _check_env_name(name: str, field_name: str, policy: StoragePolicy, sid: int | None) -> None:
    if not _ENV_NAME.match(name):
        raise StorageError(
            field_name, f"{name!r} is not an environment variable name", storage_id=sid
        )
    if name not in policy.env_choices():
        allowed = ", ".join(policy.env_choices()) or "none"
        raise StorageError(
            field_name,
            f"{name} is not a variable members may use; an administrator lists those in "
            f"{SECRET_ENV_ALLOWLIST} (allowed: {allowed})",
            storage_id=sid,
        )


def _check_endpoint(url: str, policy: StoragePolicy, sid: int | None) -> None:
    if url.rstrip("/") not in policy.endpoint_allowlist:
        allowed = ", ".join(policy.endpoint_allowlist) or "none"
        raise StorageError(
            "endpoint_url",
            f"{url!r} is not an endpoint members may use; an administrator lists those in "
            f"{ENDPOINT_ALLOWLIST} (allowed: {allowed})",
            storage_id=sid,
        )
    try:
        check_outbound_url(url, policy.outbound_hosts, what="endpoint_url")
    except OutboundURLError as exc:
        message = str(exc).removeprefix("endpoint_url: ")
        raise StorageError("endpoint_url", message, storage_id=sid) from exc


def check_spec(
    session: Session,
    project_id: int,
    spec: StorageSpec,
    policy: StoragePolicy,
    *,
    storage_id: int | None = None,
) -> StorageSpec:
    """Returns the spec with its values trimmed and its prefix normalized, once every rule holds.

    Raises:
        StorageError: The first rule broken, naming the field.
    """
    sid = storage_id
    values = {
        name: (getattr(spec, name) or "").strip() if name != "secret" else spec.secret or ""
        for name in StorageSpec.__dataclass_fields__
    }
    for name, limit in _MAX_LENGTHS.items():
        if len(values[name]) > limit:
            raise StorageError(name, f"at most {limit} characters", storage_id=sid)
    for name, value in values.items():
        if "\x00" in value:
            raise StorageError(name, "cannot contain NUL characters", storage_id=sid)
    kind = values["kind"]
    if kind not in STORAGE_KINDS:
        raise StorageError(
            "kind", f"unknown kind {kind!r}; expected one of {', '.join(STORAGE_KINDS)}",
            storage_id=sid,
        )  # fmt: skip
    if values["direction"] not in DIRECTIONS:
        raise StorageError(
            "direction",
            f"unknown direction {values['direction']!r}; expected import or export",
            storage_id=sid,
        )
    try:
        prefix = normalize_prefix(values["prefix"])
    except StoragePrefixError as exc:
        raise StorageError("prefix", str(exc), storage_id=sid) from exc
    if "/" in values["file_pattern"]:
        raise StorageError(
            "file_pattern", "a pattern matches file names, not folders", storage_id=sid
        )
    if kind == "local" and values["direction"] == "export":
        raise StorageError(
            "direction",
            "a target (export) storage is a bucket of its own (S3, GCS or Azure); datasets are "
            "already written to the deployment's store",
            storage_id=sid,
        )
    if kind == "local":
        for name in S3_ONLY_FIELDS:
            if values[name]:
                raise StorageError(name, "a local folder has no such setting", storage_id=sid)
        problem = confinement_problem(prefix, _other_projects_folders(session, project_id))
        if problem:
            raise StorageError("prefix", problem, storage_id=sid)
        return replace(spec, **{**values, "prefix": prefix})
    bucket = values["bucket"]
    if not bucket:
        raise StorageError(
            "bucket",
            f"a {KIND_NAMES[kind]} connection names its bucket; use a local-folder connection for "
            "a folder of the deployment's object store",
            storage_id=sid,
        )
    if not _BUCKET.match(bucket):
        raise StorageError("bucket", f"{bucket!r} is not a bucket name", storage_id=sid)
    if kind != "s3":
        _check_gcs_or_azure(kind, values, sid)
    if kind == "s3" and policy.deployment_bucket and bucket == policy.deployment_bucket:
        raise StorageError(
            "bucket",
            "the deployment's own bucket is reachable only as a local-folder connection",
            storage_id=sid,
        )
    if not _REGION.match(values["region"]):
        raise StorageError("region", f"{values['region']!r} is not a region name", storage_id=sid)
    if values["endpoint_url"]:
        _check_endpoint(values["endpoint_url"], policy, sid)
    for name in ("access_key_id_env", "secret_env"):
        if values[name]:
            _check_env_name(values[name], name, policy, sid)
    if values["secret"] and values["secret_env"]:
        raise StorageError(
            "secret_env", "give the secret or the name of its variable, not both", storage_id=sid
        )
    if values["access_key_id"] and values["access_key_id_env"]:
        raise StorageError(
            "access_key_id_env",
            "give the access key id or the name of its variable, not both",
            storage_id=sid,
        )
    if values["access_key_id"] and values["secret_env"]:
        raise StorageError(
            "access_key_id",
            "a typed access key id goes with a typed secret; with a secret's variable, pick the "
            "key id's variable too",
            storage_id=sid,
        )
    has_key = bool(values["access_key_id"] or values["access_key_id_env"])
    has_secret = bool(values["secret"] or values["secret_env"])
    if kind != "gcs" and has_key != has_secret:
        missing = "secret" if has_key else "access_key_id"
        raise StorageError(
            missing,
            "credentials come as a pair: an access key id and its secret (or neither, for a "
            "public bucket)",
            storage_id=sid,
        )
    return replace(spec, **{**values, "prefix": prefix})


def _check_gcs_or_azure(kind: str, values: Mapping[str, str], sid: int | None) -> None:
    """Checks the fields that differ from S3 for a GCS or Azure connection.

    Raises:
        StorageError: The first field the kind does not take, or a missing one.
    """
    if values["region"]:
        raise StorageError(
            "region", f"a {KIND_NAMES[kind]} connection has no region setting", storage_id=sid
        )
    if kind == "gcs":
        for name in ("access_key_id", "access_key_id_env"):
            if values[name]:
                raise StorageError(
                    name,
                    "a Google Cloud Storage connection has no access key id: its secret is a "
                    "service account's JSON key",
                    storage_id=sid,
                )
        if values["secret"]:
            try:
                key = json.loads(values["secret"])
            except ValueError:
                key = None
            if not isinstance(key, dict) or key.get("type") != "service_account":
                raise StorageError(
                    "secret",
                    "a Google Cloud Storage secret is a service account's JSON key "
                    '(with "type": "service_account")',
                    storage_id=sid,
                )
        return
    has_account = bool(values["access_key_id"] or values["access_key_id_env"])
    if not has_account and not values["endpoint_url"]:
        raise StorageError(
            "access_key_id",
            "an Azure Blob Storage connection names its storage account (the access key id) or "
            "an endpoint URL that includes it",
            storage_id=sid,
        )


def create_storage(
    session: Session,
    project: ProjectRow,
    *,
    policy: StoragePolicy | None = None,
    kind: str = "s3",
    bucket: str = "",
    prefix: str = "",
    file_pattern: str = "",
    region: str = "",
    endpoint_url: str = "",
    access_key_id_env: str = "",
    access_key_id: str | None = None,
    secret: str | None = None,
    secret_env: str | None = None,
    check_listing: bool | None = None,
    direction: str = "import",
    ls_settings: Mapping[str, Any] | None = None,
) -> StorageConnectionRow:
    """Returns a new storage connection of the project, once every storage rule holds.

    An S3 connection is also checked by listing one page of its bucket under its prefix (with
    its own credentials), so a wrong bucket, secret or endpoint is refused now rather than
    failing every sync later. ``LABELOPS_STORAGE_CHECK_ON_CREATE=0`` turns the listing off.

    Args:
        session: The database session.
        project: The project whose files the connection holds.
        policy: What the administrator allows (default: from the environment's settings).
        kind: "s3", "gcs" or "azure" (a bucket or container of its own) or "local" (a folder of
            the deployment's object store).
        bucket: The bucket (Azure: container); required but for local; never the deployment's.
        prefix: The key prefix (S3) or folder (local) of the project's files.
        file_pattern: A glob on the file name (``*.jsonl``); empty imports every file.
        region: The S3 region.
        endpoint_url: An S3-compatible endpoint the administrator allowed.
        access_key_id_env: An allowed variable holding the access key id.
        access_key_id: The access key id (Azure: account name), encrypted with the secret.
        secret: The secret access key (GCS: service account JSON key; Azure: account key),
            encrypted before it is stored.
        secret_env: An allowed variable holding the secret.
        direction: "import" (source files) or "export" (target storage for exports).
        check_listing: List one page of a bucket connection before it is stored (default: on
            unless ``LABELOPS_STORAGE_CHECK_ON_CREATE`` is "0").
        ls_settings: Label Studio's fields kept with the connection (title, description ...);
            they change nothing here.

    Raises:
        StorageError: A rule is broken, or the listing failed; ``field`` names the field.
    """
    policy = policy or StoragePolicy.from_settings()
    row = _checked_row(
        session,
        project,
        StorageSpec(
            kind=kind,
            bucket=bucket,
            prefix=prefix,
            file_pattern=file_pattern,
            region=region,
            endpoint_url=endpoint_url,
            access_key_id_env=access_key_id_env,
            access_key_id=access_key_id or "",
            secret=secret or "",
            secret_env=secret_env or "",
            direction=direction or "import",
        ),
        policy,
        check_listing,
    )
    row.ls_settings = dict(ls_settings) if ls_settings else None
    session.add(row)
    session.flush()
    return row


def _checked_row(
    session: Session,
    project: ProjectRow,
    spec: StorageSpec,
    policy: StoragePolicy,
    check_listing: bool | None,
    *,
    storage_id: int | None = None,
) -> StorageConnectionRow:
    """Returns an unsaved row for the spec once every rule holds (and an S3 bucket lists)."""
    spec = check_spec(session, project.id, spec, policy, storage_id=storage_id)
    row = StorageConnectionRow(
        project_id=project.id,
        kind=spec.kind,
        bucket=spec.bucket,
        prefix=spec.prefix,
        file_pattern=spec.file_pattern,
        region=spec.region,
        endpoint_url=spec.endpoint_url,
        access_key_id_env=spec.access_key_id_env,
        secret_encrypted=_stored_secret(spec),
        direction=spec.direction,
    )
    if check_listing is None:
        check_listing = check_on_create()
    if check_listing and spec.kind == "s3":
        check_connection(resolve_connection(session, row, policy))
    return row


def _stored_secret(spec: StorageSpec) -> str:
    """Returns the secret as stored: ``fernet:<token>``, ``env:<NAME>`` or "" (none)."""
    if spec.secret:
        pair = {"access_key_id": spec.access_key_id, "secret_access_key": spec.secret}
        return encrypt_secret(json.dumps(pair))
    if spec.secret_env:
        return f"env:{spec.secret_env}"
    return ""


def validate_storage(
    session: Session, project: ProjectRow, *, policy: StoragePolicy | None = None, **fields: Any
) -> None:
    """Returns None when a connection with these fields could be created (nothing is stored).

    An S3 connection's bucket is listed, as at creation, unless
    ``LABELOPS_STORAGE_CHECK_ON_CREATE`` turns the listing off.

    Raises:
        StorageError: A rule is broken, or the listing failed; ``field`` names the field.
    """
    spec = StorageSpec(**{k: v or "" for k, v in fields.items()})
    _checked_row(session, project, spec, policy or StoragePolicy.from_settings(), None)


def update_storage(
    session: Session,
    row: StorageConnectionRow,
    changes: Mapping[str, Any],
    *,
    policy: StoragePolicy | None = None,
    ls_settings: Mapping[str, Any] | None = None,
) -> StorageConnectionRow:
    """Returns the connection with the given fields changed, once every rule holds again.

    ``changes`` takes the fields of ``create_storage`` (but ``kind`` and ``direction``, which a
    connection keeps). A new ``secret`` or ``access_key_id`` replaces the stored pair (give both
    when the kind takes both); without either, the stored secret stays. ``ls_settings`` are
    merged into the kept Label Studio fields.

    Raises:
        StorageError: A rule is broken, the kind or direction would change, or the listing of
            an S3 bucket failed.
    """
    policy = policy or StoragePolicy.from_settings()
    for fixed in ("kind", "direction"):
        if fixed in changes and changes[fixed] != getattr(row, fixed):
            raise StorageError(
                fixed, f"a connection's {fixed} cannot change; create another", storage_id=row.id
            )
    given = {k: v or "" for k, v in changes.items() if k in StorageSpec.__dataclass_fields__}
    replaces_secret = any(k in given for k in ("secret", "access_key_id", "secret_env"))
    spec = check_spec(
        session, row.project_id, replace(_stored_spec(row), **given), policy, storage_id=row.id
    )
    for name in ("bucket", "prefix", "file_pattern", "region", "endpoint_url", "access_key_id_env"):
        setattr(row, name, getattr(spec, name))
    if replaces_secret:
        row.secret_encrypted = _stored_secret(spec)
    if row.kind == "s3" and check_on_create():
        check_connection(resolve_connection(session, row, policy))
    if ls_settings:
        row.ls_settings = {**(row.ls_settings or {}), **ls_settings}
    session.flush()
    return row


def check_synchronizable(row: StorageConnectionRow) -> None:
    """Returns None unless the connection was marked not to sync (Label Studio's setting).

    Raises:
        StorageError: ``synchronizable`` is false for the connection.
    """
    if (row.ls_settings or {}).get("synchronizable") is False:
        raise StorageError(
            "synchronizable",
            "this connection is set not to sync (synchronizable: false)",
            storage_id=row.id,
        )


def check_on_create(env: Mapping[str, str] | None = None) -> bool:
    """Returns False when ``LABELOPS_STORAGE_CHECK_ON_CREATE`` turns the create-time listing off."""
    value = (env if env is not None else os.environ).get(CHECK_ON_CREATE_ENV, "1")
    return value.strip().lower() not in ("0", "false", "no", "off")


def check_connection(target: ConnectionTarget) -> None:
    """Returns None once one page of the S3 connection's objects was listed.

    Raises:
        StorageError: The listing failed; the message names the bucket, prefix and S3's error
            code (``NoSuchBucket``, ``AccessDenied``, ``InvalidAccessKeyId`` ...) or says the
            endpoint could not be reached.
    """
    has_keys = bool(target.access_key_id and target.secret_access_key)
    client = boto3.client(
        "s3",
        endpoint_url=target.endpoint_url or None,
        region_name=target.region or "us-east-1",
        aws_access_key_id=target.access_key_id if has_keys else None,
        aws_secret_access_key=target.secret_access_key if has_keys else None,
        config=BotoConfig(
            connect_timeout=5,
            read_timeout=10,
            retries={"max_attempts": 1},
            **({} if has_keys else {"signature_version": UNSIGNED}),
        ),
    )
    where = f"s3://{target.bucket}/{target.prefix}"
    prefix = f"{target.prefix}/" if target.prefix else ""
    try:
        client.list_objects_v2(Bucket=target.bucket, Prefix=prefix, MaxKeys=1)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code") or "error"
        field_name = "bucket"
        if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            field_name = "secret" if has_keys else "access_key_id"
        raise StorageError(
            field_name, f"listing {where} failed: {code}: {error.get('Message', '')}".rstrip()
        ) from exc
    except BotoCoreError as exc:
        field_name = "endpoint_url" if target.endpoint_url else "region"
        raise StorageError(field_name, f"listing {where} failed: {exc}") from exc


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


def storage_by_id(session: Session, storage_id: int) -> StorageConnectionRow:
    """Returns the storage connection with this id (the caller checks who may see its project).

    Raises:
        NotFoundError: There is none.
    """
    row = session.get(StorageConnectionRow, storage_id) if is_stored_id(storage_id) else None
    if row is None:
        raise NotFoundError(f"storage {storage_id} not found")
    return row


def note_export_sync(
    session: Session, row: StorageConnectionRow, *, error: str | None, now: datetime
) -> None:
    """Keeps the outcome of the last export written to a target connection (shown as its status)."""
    row.ls_settings = {
        **(row.ls_settings or {}),
        "status": "failed" if error else "completed",
        "traceback": error,
        "last_sync": now.isoformat() + "Z",
    }
    session.flush()


def delete_storage(session: Session, row: StorageConnectionRow) -> None:
    """Deletes the connection (the tasks it imported stay)."""
    session.delete(row)
    session.flush()


def _stored_spec(row: StorageConnectionRow) -> StorageSpec:
    stored = row.secret_encrypted or ""
    return StorageSpec(
        kind=row.kind,
        bucket=row.bucket,
        prefix=row.prefix,
        file_pattern=row.file_pattern,
        region=row.region,
        endpoint_url=row.endpoint_url,
        access_key_id_env=row.access_key_id_env,
        secret_env=stored[4:] if stored.startswith("env:") else "",
        direction=row.direction or "import",
    )


def storage_credentials(
    row: StorageConnectionRow,
    policy: StoragePolicy | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """Returns (access key id, secret access key) of an S3 connection; ("", "") for none.

    Only variables the policy allows are read, whatever the row says.

    Raises:
        StorageError: A variable that is not allowed or not set, a secret that does not
            decrypt, or half a pair.
    """
    policy = policy or StoragePolicy.from_settings()
    env = env if env is not None else os.environ
    if row.kind == "local":
        return "", ""
    key_id = ""
    if row.access_key_id_env:
        _check_env_name(row.access_key_id_env, "access_key_id_env", policy, row.id)
        key_id = env.get(row.access_key_id_env, "")
        if not key_id:
            raise StorageError(
                "access_key_id_env", f"{row.access_key_id_env} is not set", storage_id=row.id
            )
    stored = row.secret_encrypted or ""
    secret = ""
    if stored.startswith("env:"):
        name = stored[4:]
        _check_env_name(name, "secret_env", policy, row.id)
        secret = env.get(name, "")
        if not secret:
            raise StorageError("secret_env", f"{name} is not set", storage_id=row.id)
    elif stored.startswith("fernet:"):
        try:
            clear = decrypt_secret(stored, env)
        except InvalidToken as exc:
            raise StorageError(
                "secret", f"the secret does not decrypt with {SECRET_KEY_ENV}", storage_id=row.id
            ) from exc
        secret = clear
        try:
            pair = json.loads(clear)
        except ValueError:
            pair = None
        if isinstance(pair, dict) and "secret_access_key" in pair:
            secret = str(pair["secret_access_key"])
            key_id = key_id or str(pair.get("access_key_id") or "")
    if row.kind != "gcs" and bool(key_id) != bool(secret):
        raise StorageError(
            "secret" if key_id else "access_key_id",
            "credentials come as a pair: an access key id and its secret",
            storage_id=row.id,
        )
    return key_id, secret


def resolve_connection(
    session: Session,
    row: StorageConnectionRow,
    policy: StoragePolicy | None = None,
    env: Mapping[str, str] | None = None,
) -> ConnectionTarget:
    """Returns where the connection reads, after checking every rule again (at use time).

    Raises:
        StorageError: The connection breaks a rule now (e.g. a variable no longer allowed, an
            endpoint whose host now resolves to a private address); nothing was contacted.
    """
    policy = policy or StoragePolicy.from_settings()
    spec = check_spec(session, row.project_id, _stored_spec(row), policy, storage_id=row.id)
    key_id, secret = storage_credentials(row, policy, env)
    return ConnectionTarget(
        kind=spec.kind,
        bucket=spec.bucket,
        prefix=spec.prefix,
        region=spec.region,
        endpoint_url=spec.endpoint_url,
        access_key_id=key_id,
        secret_access_key=secret,
    )


def sync_problems(
    session: Session, project_id: int, policy: StoragePolicy | None = None
) -> list[StorageError]:
    """Returns what keeps each of the project's connections from being used now (empty: none)."""
    policy = policy or StoragePolicy.from_settings()
    problems = []
    for row in list_storages(session, project_id):
        try:
            resolve_connection(session, row, policy)
        except StorageError as exc:
            problems.append(exc)
    return problems


def check_sync(session: Session, project_id: int, policy: StoragePolicy | None = None) -> None:
    """Returns None when every connection of the project may be used to sync now.

    Raises:
        StorageError: The first connection that may not be used, naming its field.
    """
    problems = sync_problems(session, project_id, policy)
    if problems:
        raise problems[0]


def check_launch(
    session: Session, project_id: int, action: str, policy: StoragePolicy | None = None
) -> None:
    """Returns None when the pipeline action may start as far as storage goes.

    A ``sync-storage`` launch (from the Pipeline tab or the API) needs every connection of the
    project to pass its rules now; other actions read no connection.

    Raises:
        StorageError: The first connection that may not be used, naming its field.
    """
    if action == SYNC_ACTION:
        check_sync(session, project_id, policy)
