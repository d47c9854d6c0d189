"""Object storage: an S3, GCS or Azure Blob bucket, or a local folder, behind one interface.

Keys given to a store are relative to its ``prefix`` (S3) or ``root`` (local folder), so the same
asset code writes ``datasets/1/<version>/dataset.parquet`` to either.

``at`` turns a project's storage connection into a store, confined: a "local" connection is a
folder of the deployment's store outside its own areas (``DEPLOYMENT_AREAS``); an "s3" connection
is a bucket of its own with its own credentials (anonymous without them), never the deployment's
bucket or credentials; a "gcs" connection is a Google Cloud Storage bucket (credentials: a service
account's JSON key, anonymous without one) and an "azure" connection an Azure Blob Storage
container (credentials: the account name and key). The storages service checks the same rules (and
the endpoint) before.

Object URIs name the kind: ``s3://bucket/key``, ``gs://bucket/key``,
``azure-blob://container/key`` (as Label Studio writes them) and ``file:///path``.
"""

import json
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import md5
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import boto3
import dagster as dg
from botocore import UNSIGNED
from botocore.config import Config as BotoConfig
from pydantic import PrivateAttr

from labelops.domain.storage_paths import confinement_problem, normalize_prefix
from labelops.settings import Settings

SPOOL_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """One stored object: its key (relative to the store), ETag, last change and size in bytes."""

    key: str
    etag: str
    last_modified: datetime
    size: int


@dataclass(frozen=True, slots=True)
class StorageLocation:
    """Where a project's source files live, as a storage connection names it."""

    kind: str = "s3"
    bucket: str = ""
    prefix: str = ""
    region: str = ""
    endpoint_url: str = ""
    access_key_id: str = ""
    secret_access_key: str = ""

    @classmethod
    def of(cls, target: Any) -> "StorageLocation":
        """Returns the location of a resolved connection (a storages service ConnectionTarget)."""
        return cls(**{name: getattr(target, name) for name in cls.__dataclass_fields__})


# Bare, as Dagster documents it (the resource is its own value): a subscript would make pydantic
# build a generic subclass at runtime.
class ObjectStore(dg.ConfigurableResource, ABC):  # type: ignore[type-arg]
    """Reads and writes whole objects by key."""

    @abstractmethod
    def list_objects(self, prefix: str = "") -> list[ObjectInfo]:
        """Returns every object whose key starts with ``prefix``, sorted by key."""

    @abstractmethod
    def open(self, key: str) -> IO[bytes]:
        """Returns a readable, seekable binary stream of the object (the caller closes it).

        Raises:
            FileNotFoundError: No object has that key.
        """

    @abstractmethod
    def put_bytes(self, key: str, data: bytes, content_type: str = "") -> str:
        """Writes the object and returns its URI."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Returns True when an object has that key."""

    @abstractmethod
    def uri(self, key: str) -> str:
        """Returns the object's URI (``s3://bucket/key`` or ``file:///path``)."""

    def key_of(self, uri: str) -> str | None:
        """Returns the key of the object ``uri`` names in this store, or None when it lies outside.

        A key never climbs out of the store: one with an empty, ``.`` or ``..`` part is refused.
        """
        base = self.uri("")
        key = uri[len(base) :] if uri.startswith(base) else ""
        parts = key.split("/")
        return key if key and not any(p in ("", ".", "..") for p in parts) else None

    @abstractmethod
    def at(self, location: StorageLocation) -> "ObjectStore":
        """Returns a store for a project's storage connection (same kind of store, its place)."""

    def put_file(self, key: str, stream: IO[bytes], content_type: str = "") -> str:
        """Writes the object from a binary stream (read from its current position); returns its URI.

        Stores that can upload in parts override this so large objects never sit in memory whole.
        """
        return self.put_bytes(key, stream.read(), content_type)

    def put_json(self, key: str, obj: Any) -> str:
        """Writes ``obj`` as UTF-8 JSON and returns the URI."""
        data = json.dumps(obj, ensure_ascii=False, sort_keys=True).encode()
        return self.put_bytes(key, data, "application/json")

    def read_bytes(self, key: str) -> bytes:
        """Returns the object's bytes."""
        with self.open(key) as stream:
            return stream.read()


def _join(prefix: str, key: str) -> str:
    prefix = prefix.strip("/")
    key = key.lstrip("/")
    return f"{prefix}/{key}" if prefix else key


def _confined_folder(location: StorageLocation) -> str:
    """Returns the connection's normalized folder of the deployment's store.

    Raises:
        ValueError: The prefix is malformed or reaches the deployment's own areas.
    """
    prefix = normalize_prefix(location.prefix)
    problem = confinement_problem(prefix)
    if problem:
        raise ValueError(f"storage prefix: {problem}")
    return prefix


BUCKET_KINDS = ("s3", "gcs", "azure")
URI_SCHEMES = {"s3": "s3", "gcs": "gs", "azure": "azure-blob"}


def bucket_store(
    location: StorageLocation, own_bucket: str = "", own_endpoint: str = ""
) -> "ObjectStore":
    """Returns a store of the connection's own bucket (S3, GCS or Azure), with its own credentials.

    Args:
        location: The connection's place and resolved credentials.
        own_bucket: The deployment's own S3 bucket, which no connection may name.
        own_endpoint: The deployment's S3 endpoint (the same bucket name elsewhere is another).

    Raises:
        ValueError: An unknown kind, no bucket, the deployment's own bucket, or a malformed prefix.
    """
    if location.kind not in BUCKET_KINDS:
        raise ValueError(f"unknown storage kind {location.kind!r}")
    if not location.bucket:
        raise ValueError(f"a {location.kind} storage connection names its bucket")
    if location.kind == "gcs":
        return GCSObjectStore(
            bucket=location.bucket,
            prefix=normalize_prefix(location.prefix),
            endpoint_url=location.endpoint_url or None,
            credentials_json=location.secret_access_key or None,
        )
    if location.kind == "azure":
        return AzureBlobObjectStore(
            container=location.bucket,
            prefix=normalize_prefix(location.prefix),
            account_url=location.endpoint_url or None,
            account_name=location.access_key_id or None,
            account_key=location.secret_access_key or None,
        )
    return _bucket_store(location, own_bucket, own_endpoint)


def _bucket_store(
    location: StorageLocation, own_bucket: str = "", own_endpoint: str = ""
) -> "S3ObjectStore":
    """Returns an S3ObjectStore of the connection's own bucket, with only its own credentials.

    Raises:
        ValueError: No bucket, the deployment's own bucket, or a malformed prefix.
    """
    if not location.bucket:
        raise ValueError("an S3 storage connection names its bucket")
    same_service = (location.endpoint_url or "") == (own_endpoint or "")
    if own_bucket and location.bucket == own_bucket and same_service:
        raise ValueError("an S3 storage connection cannot name the deployment's own bucket")
    has_keys = bool(location.access_key_id and location.secret_access_key)
    return S3ObjectStore(
        bucket=location.bucket,
        prefix=normalize_prefix(location.prefix),
        endpoint_url=location.endpoint_url or None,
        region=location.region or None,
        access_key_id=location.access_key_id if has_keys else None,
        secret_access_key=location.secret_access_key if has_keys else None,
        anonymous=not has_keys,
    )


class BucketObjectStore(ObjectStore, ABC):
    """A store in a bucket (or container) under a key prefix: S3, GCS or Azure."""

    prefix: str = ""

    def _deployment_bucket(self) -> tuple[str, str]:
        """Returns (bucket, endpoint) that no connection may name: none unless overridden."""
        return "", ""

    def at(self, location: StorageLocation) -> ObjectStore:
        """Returns a store for the connection: a confined folder of this bucket, or its own bucket.

        Raises:
            ValueError: The connection breaks a confinement rule (see the module docstring).
        """
        if location.kind != "local":
            return bucket_store(location, *self._deployment_bucket())
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        fields["prefix"] = _join(self.prefix, _confined_folder(location))
        return type(self)(**fields)


class S3ObjectStore(BucketObjectStore):
    """An S3 bucket (or any S3-compatible store through ``endpoint_url``) under a key prefix."""

    bucket: str
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    anonymous: bool = False

    _client: Any = PrivateAttr(default=None)

    def _deployment_bucket(self) -> tuple[str, str]:
        """Returns this bucket and endpoint: a connection names another bucket."""
        return self.bucket, self.endpoint_url or ""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Builds the boto3 client once per run."""
        self._s3()

    def _s3(self) -> Any:
        if self._client is None:
            self._client = boto3.client(
                "s3",
                endpoint_url=self.endpoint_url or None,
                region_name=self.region or "us-east-1",
                aws_access_key_id=self.access_key_id or None,
                aws_secret_access_key=self.secret_access_key or None,
                config=BotoConfig(
                    retries={"max_attempts": 3, "mode": "standard"},
                    **({"signature_version": UNSIGNED} if self.anonymous else {}),
                ),
            )
        return self._client

    def list_objects(self, prefix: str = "") -> list[ObjectInfo]:
        """Returns every object under the store's prefix plus ``prefix``, sorted by key."""
        base = self.prefix.strip("/")
        # The store's prefix is a folder: "in" lists "in/...", never "inbox/...".
        full = (f"{base}/" if base else "") + prefix.lstrip("/")
        strip = len(base) + 1 if base else 0
        out: list[ObjectInfo] = []
        for page in (
            self._s3().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full)
        ):
            for item in page.get("Contents", []):
                if item["Key"].endswith("/"):
                    continue
                out.append(
                    ObjectInfo(
                        key=item["Key"][strip:],
                        etag=item["ETag"].strip('"'),
                        last_modified=item["LastModified"].astimezone(UTC),
                        size=int(item["Size"]),
                    )
                )
        return sorted(out, key=lambda o: o.key)

    def open(self, key: str) -> IO[bytes]:
        """Returns the object downloaded into a seekable temporary file (on disk past 32 MiB)."""
        client = self._s3()
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
        try:
            client.download_fileobj(self.bucket, _join(self.prefix, key), spool)
        except client.exceptions.ClientError as exc:
            spool.close()
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(f"no object {self.uri(key)}") from exc
            raise
        spool.seek(0)
        return spool

    def put_bytes(self, key: str, data: bytes, content_type: str = "") -> str:
        """Uploads the object and returns its URI."""
        extra = {"ContentType": content_type} if content_type else {}
        self._s3().put_object(Bucket=self.bucket, Key=_join(self.prefix, key), Body=data, **extra)
        return self.uri(key)

    def put_file(self, key: str, stream: IO[bytes], content_type: str = "") -> str:
        """Uploads the stream (multipart past boto3's threshold) and returns the object's URI.

        The stream stays open (boto3 closes what it is given, so it gets a read-only view).
        """
        extra = {"ContentType": content_type} if content_type else {}
        self._s3().upload_fileobj(
            _ReadOnly(stream), self.bucket, _join(self.prefix, key), ExtraArgs=extra
        )
        return self.uri(key)

    def exists(self, key: str) -> bool:
        """Returns True when the object exists (a HEAD request)."""
        client = self._s3()
        try:
            client.head_object(Bucket=self.bucket, Key=_join(self.prefix, key))
        except client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def uri(self, key: str) -> str:
        """Returns ``s3://bucket/prefix/key``."""
        return f"s3://{self.bucket}/{_join(self.prefix, key)}"


def _spool(download: Any) -> IO[bytes]:
    """Returns a seekable temporary file filled by ``download(stream)`` (on disk past 32 MiB)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        download(spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


class GCSObjectStore(BucketObjectStore):
    """A Google Cloud Storage bucket under a key prefix (``endpoint_url`` for an emulator).

    ``credentials_json`` is a service account's JSON key; without one the bucket is read
    anonymously (a public bucket, or an emulator).
    """

    bucket: str
    endpoint_url: str | None = None
    credentials_json: str | None = None
    project: str = "labelops"

    _client: Any = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Builds the storage client once per run."""
        self._gcs()

    def _gcs(self) -> Any:
        if self._client is None:
            from google.auth.credentials import AnonymousCredentials
            from google.cloud import storage
            from google.oauth2 import service_account

            if self.credentials_json:
                try:
                    info = json.loads(self.credentials_json)
                except ValueError as exc:
                    raise ValueError("the GCS credentials are not a JSON key") from exc
                credentials: Any = service_account.Credentials.from_service_account_info(info)
                project = info.get("project_id") or self.project
            else:
                credentials, project = AnonymousCredentials(), self.project
            options = {"api_endpoint": self.endpoint_url} if self.endpoint_url else None
            self._client = storage.Client(
                project=project, credentials=credentials, client_options=options
            )
        return self._client

    def _blob(self, key: str) -> Any:
        return self._gcs().bucket(self.bucket).blob(_join(self.prefix, key))

    def list_objects(self, prefix: str = "") -> list[ObjectInfo]:
        """Returns every object under the store's prefix plus ``prefix``, sorted by key."""
        base = self.prefix.strip("/")
        full = (f"{base}/" if base else "") + prefix.lstrip("/")
        strip = len(base) + 1 if base else 0
        out = [
            ObjectInfo(
                key=blob.name[strip:],
                etag=str(blob.etag or blob.md5_hash or ""),
                last_modified=blob.updated.astimezone(UTC),
                size=int(blob.size or 0),
            )
            for blob in self._gcs().list_blobs(self.bucket, prefix=full)
            if not blob.name.endswith("/")
        ]
        return sorted(out, key=lambda o: o.key)

    def open(self, key: str) -> IO[bytes]:
        """Returns the object downloaded into a seekable temporary file."""
        from google.api_core.exceptions import NotFound

        try:
            return _spool(self._blob(key).download_to_file)
        except NotFound as exc:
            raise FileNotFoundError(f"no object {self.uri(key)}") from exc

    def put_bytes(self, key: str, data: bytes, content_type: str = "") -> str:
        """Uploads the object and returns its URI."""
        self._blob(key).upload_from_string(data, content_type=content_type or None)
        return self.uri(key)

    def exists(self, key: str) -> bool:
        """Returns True when the object exists."""
        return bool(self._blob(key).exists())

    def uri(self, key: str) -> str:
        """Returns ``gs://bucket/prefix/key``."""
        return f"gs://{self.bucket}/{_join(self.prefix, key)}"


class AzureBlobObjectStore(BucketObjectStore):
    """An Azure Blob Storage container under a key prefix.

    ``account_url`` is the blob service URL (default ``https://<account>.blob.core.windows.net``;
    an emulator's URL such as Azurite's ``http://127.0.0.1:10000/devstoreaccount1``). Without an
    account key the container is read anonymously (a public container).
    """

    container: str
    account_url: str | None = None
    account_name: str | None = None
    account_key: str | None = None

    _client: Any = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Builds the container client once per run."""
        self._container()

    def _container(self) -> Any:
        if self._client is None:
            from azure.storage.blob import ContainerClient

            url = self.account_url or (
                f"https://{self.account_name}.blob.core.windows.net" if self.account_name else ""
            )
            if not url:
                raise ValueError("an Azure connection names its account or its endpoint URL")
            credential = (
                {"account_name": self.account_name, "account_key": self.account_key}
                if self.account_name and self.account_key
                else None
            )
            self._client = ContainerClient(
                account_url=url, container_name=self.container, credential=credential
            )
        return self._client

    def list_objects(self, prefix: str = "") -> list[ObjectInfo]:
        """Returns every blob under the store's prefix plus ``prefix``, sorted by key."""
        base = self.prefix.strip("/")
        full = (f"{base}/" if base else "") + prefix.lstrip("/")
        strip = len(base) + 1 if base else 0
        out = [
            ObjectInfo(
                key=blob.name[strip:],
                etag=str(blob.etag or "").strip('"'),
                last_modified=blob.last_modified.astimezone(UTC),
                size=int(blob.size or 0),
            )
            for blob in self._container().list_blobs(name_starts_with=full or None)
            if not blob.name.endswith("/")
        ]
        return sorted(out, key=lambda o: o.key)

    def open(self, key: str) -> IO[bytes]:
        """Returns the blob downloaded into a seekable temporary file."""
        from azure.core.exceptions import ResourceNotFoundError

        blob = self._container().get_blob_client(_join(self.prefix, key))
        try:
            return _spool(lambda stream: blob.download_blob().readinto(stream))
        except ResourceNotFoundError as exc:
            raise FileNotFoundError(f"no object {self.uri(key)}") from exc

    def put_bytes(self, key: str, data: bytes, content_type: str = "") -> str:
        """Uploads the blob (replacing any) and returns its URI."""
        from azure.storage.blob import ContentSettings

        settings = ContentSettings(content_type=content_type) if content_type else None
        self._container().upload_blob(
            _join(self.prefix, key), data, overwrite=True, content_settings=settings
        )
        return self.uri(key)

    def exists(self, key: str) -> bool:
        """Returns True when the blob exists."""
        return bool(self._container().get_blob_client(_join(self.prefix, key)).exists())

    def uri(self, key: str) -> str:
        """Returns ``azure-blob://container/prefix/key``."""
        return f"azure-blob://{self.container}/{_join(self.prefix, key)}"


class LocalObjectStore(ObjectStore):
    """A local folder: keys are relative paths, the ETag is the file's MD5 (as S3 gives it)."""

    root: str

    def _path(self, key: str) -> Path:
        root = Path(self.root).resolve()
        path = (root / key.lstrip("/")).resolve()
        if root != path and root not in path.parents:
            raise ValueError(f"key {key!r} leaves the store's root folder")
        return path

    def list_objects(self, prefix: str = "") -> list[ObjectInfo]:
        """Returns every file whose relative path starts with ``prefix``, sorted by key."""
        root = Path(self.root).resolve()
        if not root.is_dir():
            return []
        out = []
        for path in root.rglob("*"):
            key = path.relative_to(root).as_posix()
            if not path.is_file() or not key.startswith(prefix.lstrip("/")):
                continue
            if path.is_symlink() and root not in path.resolve().parents:
                continue  # a link out of the store's folder is not the store's object
            stat = path.stat()
            out.append(
                ObjectInfo(
                    key=key,
                    etag=_md5(path),
                    last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
                    size=stat.st_size,
                )
            )
        return sorted(out, key=lambda o: o.key)

    def open(self, key: str) -> IO[bytes]:
        """Returns the file opened for binary reading."""
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(f"no object {self.uri(key)}")
        return path.open("rb")

    def put_bytes(self, key: str, data: bytes, content_type: str = "") -> str:
        """Writes the file (through a temporary name, so readers never see half of it)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        shutil.move(tmp, path)
        return self.uri(key)

    def put_file(self, key: str, stream: IO[bytes], content_type: str = "") -> str:
        """Copies the stream into the file (through a temporary name) and returns its URI."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        with tmp.open("wb") as out:
            shutil.copyfileobj(stream, out)
        shutil.move(tmp, path)
        return self.uri(key)

    def exists(self, key: str) -> bool:
        """Returns True when the file exists."""
        return self._path(key).is_file()

    def uri(self, key: str) -> str:
        """Returns the file's ``file://`` URI."""
        return self._path(key).as_uri()

    def key_of(self, uri: str) -> str | None:
        """Returns the path under the root of the file ``uri`` names, or None when it lies outside.

        Links are followed first, so a link inside the folder that points out of it is outside.
        """
        parsed = urlparse(uri)
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            return None
        root = Path(self.root).resolve()
        path = Path(url2pathname(parsed.path)).resolve()
        return path.relative_to(root).as_posix() if root in path.parents else None

    def at(self, location: StorageLocation) -> ObjectStore:
        """Returns a store for the connection: a confined folder of this one, or its own bucket.

        Raises:
            ValueError: The connection breaks a confinement rule (see the module docstring); a
                folder that is a link into the deployment's areas counts as those areas.
        """
        if location.kind != "local":
            return bucket_store(location)
        path = self._path(_confined_folder(location))
        real = path.relative_to(Path(self.root).resolve()).as_posix()
        problem = confinement_problem("" if real == "." else real)
        if problem:
            raise ValueError(f"storage prefix: {problem}")
        return LocalObjectStore(root=str(path))


class _ReadOnly:
    """A view of a binary stream that only reads, so an uploader cannot close the stream."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        """Returns up to ``size`` bytes of the stream (all the rest by default)."""
        return self._stream.read(size)


def _md5(path: Path) -> str:
    digest = md5(usedforsecurity=False)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def deployment_store(settings: Settings, env: Mapping[str, str] | None = None) -> ObjectStore:
    """Returns the deployment's own object store, as the pipeline's ``object_store`` resource is.

    Production (``LABELOPS_ENV=production``) uses the S3 bucket ``LABELOPS_S3_BUCKET`` with the
    ``AWS_*`` credentials; otherwise the folder ``LABELOPS_OBJECT_STORE_ROOT``. Local-folder
    storage connections are folders of this store.
    """
    env = os.environ if env is None else env
    if env.get("LABELOPS_ENV", "local") != "production":
        return LocalObjectStore(root=str(settings.object_store_root))
    return S3ObjectStore(
        bucket=settings.s3_bucket,
        prefix=settings.s3_prefix,
        endpoint_url=settings.s3_endpoint_url or None,
        region=env.get("AWS_REGION") or None,
        access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
        secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
    )
