"""Opening a task's bucket object with its storage connection's credentials (the media route).

Which URI may be served is decided in ``labelops.services.bucket_media``; this module turns the
chosen connection into an object store client and opens the object.
"""

import mimetypes
import posixpath
from pathlib import Path

from sqlalchemy.orm import Session

from labelops.db.models import TaskRow
from labelops.domain.errors import LabelopsError
from labelops.resources.object_store import (
    LocalObjectStore,
    ObjectStore,
    StorageLocation,
    bucket_store,
)
from labelops.services.bucket_media import (
    MediaUnavailableError,
    TaskMedia,
    connection_for,
    parse_bucket_uri,
    task_values,
)
from labelops.services.errors import NotFoundError
from labelops.services.storages import StoragePolicy, resolve_connection


def _store_of(
    row_target: StorageLocation, policy: StoragePolicy, local_root: Path | None
) -> ObjectStore:
    if row_target.kind == "local":
        return LocalObjectStore(root=str(local_root)).at(row_target)
    return bucket_store(row_target, policy.deployment_bucket)


def open_task_media(
    session: Session,
    task: TaskRow,
    uri: str,
    policy: StoragePolicy | None = None,
    local_root: Path | None = None,
) -> TaskMedia:
    """Returns the bucket object ``uri`` of the task, opened with its connection's credentials.

    ``local_root`` is the embedded deployment's object store folder, whose local-folder
    connections' ``file://`` objects are then served too (None: no ``file://`` object is).

    Raises:
        NotFoundError: The URI is not a value of the task's data, not a bucket object URI, not
            under one of the project's connections, the connection breaks a storage rule now, or
            no object has that key (all look the same to the caller: nothing to serve).
        MediaUnavailableError: The bucket did not answer or refused the connection's credentials.
    """
    parsed = parse_bucket_uri(uri)
    if parsed is None or uri not in task_values(task.data or {}):
        raise NotFoundError(f"task {task.id} has no bucket object {uri!r}")
    policy = policy or StoragePolicy.from_settings()
    found = connection_for(session, task.project_id, parsed, local_root)
    if found is None:
        raise NotFoundError(f"{uri!r} is in none of project {task.project_id}'s storages")
    row, relative = found
    try:
        target = resolve_connection(session, row, policy)
        location = StorageLocation.of(target)
        store = _store_of(location, policy, local_root)
        stream = store.open(relative)
    except (LabelopsError, ValueError, FileNotFoundError) as exc:  # refused, or an unknown kind
        raise NotFoundError(f"{uri!r} cannot be served: {exc}") from exc
    except Exception as exc:  # the client libraries' own errors: the bucket did not answer
        raise MediaUnavailableError(f"{uri!r} could not be read: {type(exc).__name__}") from exc
    name = posixpath.basename(parsed.key.replace("\\", "/"))
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return TaskMedia(stream=stream, content_type=content_type, name=name)
