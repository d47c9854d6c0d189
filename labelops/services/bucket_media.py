"""Media of bucket objects (``s3://``, ``gs://``, ``azure-blob://``) served to the labeling page.

Local-folder connections are folders of the deployment's own store (``file://`` URIs in the
embedded deployment, objects of the deployment's S3 bucket in production); the resources layer,
which holds that store, matches them (``labelops.resources.bucket_media``) under the same rules.

Browsers cannot open bucket URIs, so the task payload points each one at the task's media route
(:func:`media_path`), and the route streams the object through
``labelops.resources.bucket_media.open_task_media``, which
serves an object only when:

- the URI is one of the task's own data values (no open proxy: nothing else is fetched), and
- it lies under one of the project's own storage connections of that kind and bucket, which
  passes every storage rule now (``labelops.services.storages``); the object is read with that
  connection's credentials only.

Who may open the task (a member of its project) is the caller's check.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import quote
from urllib.request import url2pathname

from sqlalchemy.orm import Session

from labelops.db.models import StorageConnectionRow
from labelops.domain.errors import LabelopsError
from labelops.services.storages import list_storages

# URI scheme -> storage connection kind.
SCHEME_KINDS = {"s3": "s3", "gs": "gcs", "azure-blob": "azure", "file": "local"}


class MediaUnavailableError(LabelopsError):
    """The bucket could not be read just now (network, credentials refused by the bucket)."""

    status = 502
    code = "media_unavailable"


@dataclass(frozen=True, slots=True)
class BucketURI:
    """A bucket object's URI split into the connection kind, bucket and key."""

    kind: str
    bucket: str
    key: str


@dataclass
class TaskMedia:
    """An opened bucket object: its stream (the caller closes it), type and file name."""

    stream: IO[bytes]
    content_type: str
    name: str


def parse_bucket_uri(value: Any) -> BucketURI | None:
    """Returns the URI's kind, bucket and key, or None when ``value`` is no bucket object URI."""
    if not isinstance(value, str) or "://" not in value:
        return None
    scheme, rest = value.split("://", 1)
    kind = SCHEME_KINDS.get(scheme.lower())
    if kind == "local":  # file:///absolute/path (no host)
        path = url2pathname(rest)
        if not rest.startswith("/") or path.endswith("/"):
            return None
        return BucketURI(kind="local", bucket="", key=path)
    bucket, _, key = rest.partition("/")
    if kind is None or not bucket or not key or key.endswith("/"):
        return None
    return BucketURI(kind=kind, bucket=bucket, key=key)


def media_path(project_id: int, task_id: int, uri: str) -> str:
    """Returns the path of the task's media route that streams the bucket object ``uri``."""
    return f"/projects/{project_id}/tasks/{task_id}/media?url={quote(uri, safe='')}"


def rewrite_media_urls(
    data: Mapping[str, Any], keys: list[str], project_id: int, task_id: int
) -> dict[str, Any]:
    """Returns ``data`` with every bucket URI under ``keys`` pointed at the task's media route."""

    def rewrite(value: Any) -> Any:
        if isinstance(value, str):
            return media_path(project_id, task_id, value) if parse_bucket_uri(value) else value
        if isinstance(value, list):
            return [rewrite(v) for v in value]
        if isinstance(value, dict):
            return {k: rewrite(v) for k, v in value.items()}
        return value

    out = dict(data)
    for key in keys:
        if key in out:
            out[key] = rewrite(out[key])
    return out


def task_values(value: Any) -> list[str]:
    """Returns every string in a task's data, however deeply nested."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in task_values(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in task_values(v)]
    return []


def _under(prefix: str, key: str) -> str | None:
    """Returns ``key`` relative to the folder ``prefix``, or None when it lies outside."""
    prefix = prefix.strip("/")
    if not prefix:
        return key
    return key[len(prefix) + 1 :] if key.startswith(prefix + "/") else None


def connection_for(
    session: Session, project_id: int, uri: BucketURI
) -> tuple[StorageConnectionRow, str] | None:
    """Returns the project's bucket connection holding ``uri`` and its key under the prefix."""
    for row in list_storages(session, project_id):
        if row.kind == "local" or row.kind != uri.kind or row.bucket != uri.bucket:
            continue
        relative = _under(row.prefix, uri.key)
        if relative:
            return row, relative
    return None


def local_connections(session: Session, project_id: int) -> list[StorageConnectionRow]:
    """Returns the project's local-folder connections (folders of the deployment's store)."""
    return [row for row in list_storages(session, project_id) if row.kind == "local"]
