"""Object storage: an S3 (or S3-compatible) bucket, or a local folder, behind one interface.

Keys given to a store are relative to its ``prefix`` (S3) or ``root`` (local folder), so the same
asset code writes ``datasets/1/<version>/dataset.parquet`` to either.
"""

import json
import shutil
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import md5
from pathlib import Path
from typing import IO, Any

import boto3
import dagster as dg
from botocore.config import Config as BotoConfig
from pydantic import PrivateAttr

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


class ObjectStore(dg.ConfigurableResource, ABC):
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

    @abstractmethod
    def at(self, location: StorageLocation) -> "ObjectStore":
        """Returns a store for a project's storage connection (same kind of store, its place)."""

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


class S3ObjectStore(ObjectStore):
    """An S3 bucket (or any S3-compatible store through ``endpoint_url``) under a key prefix."""

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None

    _client: Any = PrivateAttr(default=None)

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
                config=BotoConfig(retries={"max_attempts": 3, "mode": "standard"}),
            )
        return self._client

    def list_objects(self, prefix: str = "") -> list[ObjectInfo]:
        """Returns every object under the store's prefix plus ``prefix``, sorted by key."""
        full = _join(self.prefix, prefix) if prefix else self.prefix.strip("/")
        strip = len(self.prefix.strip("/")) + 1 if self.prefix.strip("/") else 0
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

    def at(self, location: StorageLocation) -> "S3ObjectStore":
        """Returns a store for the connection; unset fields fall back to this store's settings."""
        return S3ObjectStore(
            bucket=location.bucket or self.bucket,
            prefix=location.prefix,
            endpoint_url=location.endpoint_url or self.endpoint_url,
            region=location.region or self.region,
            access_key_id=location.access_key_id or self.access_key_id,
            secret_access_key=location.secret_access_key or self.secret_access_key,
        )


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

    def exists(self, key: str) -> bool:
        """Returns True when the file exists."""
        return self._path(key).is_file()

    def uri(self, key: str) -> str:
        """Returns the file's ``file://`` URI."""
        return self._path(key).as_uri()

    def at(self, location: StorageLocation) -> "LocalObjectStore":
        """Returns a store rooted at the connection's prefix inside this folder."""
        return LocalObjectStore(root=str(self._path(location.prefix)))


def _md5(path: Path) -> str:
    digest = md5(usedforsecurity=False)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
