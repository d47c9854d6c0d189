"""Opening a task's media with its storage connection's credentials (the media route, exports).

Which URI may be served is decided in ``labelops.services.bucket_media``; this module turns the
chosen connection into an object store client and opens the object. A local-folder connection is
a folder of the deployment's own store (``deployment_store``: a folder in the embedded deployment,
the S3 bucket in production), and an object is served from it only when the URI names a key
inside that folder (no ``..``, no link out of it).
"""

import mimetypes
import posixpath
from collections.abc import Callable
from typing import IO
from urllib.parse import unquote

from sqlalchemy.orm import Session

from labelops.db.models import TaskRow
from labelops.domain.errors import LabelopsError
from labelops.domain.formats.options import MediaReader
from labelops.resources.object_store import (
    ObjectStore,
    StorageLocation,
    bucket_store,
    deployment_store,
)
from labelops.services.bucket_media import (
    MediaUnavailableError,
    TaskMedia,
    connection_for,
    local_connections,
    parse_bucket_uri,
    task_values,
)
from labelops.services.errors import NotFoundError
from labelops.services.media import media_path
from labelops.services.storages import StoragePolicy, resolve_connection
from labelops.settings import Settings


def open_task_media(
    session: Session,
    task: TaskRow,
    uri: str,
    policy: StoragePolicy,
    store: ObjectStore,
) -> TaskMedia:
    """Returns the object ``uri`` of the task's data, opened with its connection's credentials.

    Raises:
        NotFoundError: The URI is not a value of the task's data, or :func:`open_project_media`
            finds nothing to serve.
        MediaUnavailableError: The bucket did not answer or refused the connection's credentials.
    """
    if uri not in task_values(task.data or {}):
        raise NotFoundError(f"task {task.id} has no bucket object {uri!r}")
    return open_project_media(session, task.project_id, uri, policy, store)


def open_project_media(
    session: Session, project_id: int, uri: str, policy: StoragePolicy, store: ObjectStore
) -> TaskMedia:
    """Returns the bucket object ``uri`` of one of the project's storage connections, opened.

    Args:
        session: The database session.
        project_id: The project whose connections may hold the object.
        uri: ``s3://``, ``gs://``, ``azure-blob://`` or ``file://`` URI.
        policy: The administrator's storage rules.
        store: The deployment's own store, whose folders the local connections are.

    Raises:
        NotFoundError: Not a bucket object URI, under none of the project's connections, the
            connection breaks a storage rule now, or no object has that key (all look the same
            to the caller: nothing to serve).
        MediaUnavailableError: The bucket did not answer or refused the connection's credentials.
    """
    parsed = parse_bucket_uri(uri)
    if parsed is None:
        raise NotFoundError(f"{uri!r} is not a bucket object")
    try:
        stream = _open_in_local_folder(session, project_id, uri, policy, store)
        if stream is None:
            found = connection_for(session, project_id, parsed)
            if found is None:
                raise NotFoundError(f"{uri!r} is in none of project {project_id}'s storages")
            row, relative = found
            location = StorageLocation.of(resolve_connection(session, row, policy))
            stream = bucket_store(location, policy.deployment_bucket).open(relative)
    except NotFoundError:
        raise
    except (LabelopsError, ValueError, FileNotFoundError) as exc:  # refused, or an unknown kind
        raise NotFoundError(f"{uri!r} cannot be served: {exc}") from exc
    except Exception as exc:  # the client libraries' own errors: the bucket did not answer
        raise MediaUnavailableError(f"{uri!r} could not be read: {type(exc).__name__}") from exc
    name = posixpath.basename(parsed.key.replace("\\", "/"))
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return TaskMedia(stream=stream, content_type=content_type, name=name)


def _open_in_local_folder(
    session: Session, project_id: int, uri: str, policy: StoragePolicy, store: ObjectStore
) -> IO[bytes] | None:
    """Returns the object opened from the local-folder connection that holds it, else None."""
    for row in local_connections(session, project_id):
        try:
            folder = store.at(StorageLocation.of(resolve_connection(session, row, policy)))
        except (LabelopsError, ValueError):  # breaks a storage rule now: serves nothing
            continue
        key = folder.key_of(uri)
        if key is not None:
            return folder.open(key)
    return None


def export_media_reader(
    settings: Settings, session_factory: Callable[[], Session], project_id: int
) -> MediaReader:
    """Returns what reads a task's image for an export that includes the images.

    It reads files uploaded to the project (``/projects/<id>/media/<name>``, from the upload
    folder) and objects of the project's storage connections, under the media route's rules. Any
    other URL (another project's files, the internet) is not fetched: it reads as None, and the
    export lists the image as left out.
    """
    uploaded = f"/projects/{project_id}/media/"
    uploads_root = settings.uploads_root
    policy = StoragePolicy.from_settings(settings)
    store = deployment_store(settings)

    def read(url: str) -> bytes | None:
        try:
            if url.startswith(uploaded):
                name = unquote(url[len(uploaded) :].split("?", 1)[0])
                return media_path(uploads_root, project_id, name).read_bytes()
            if parse_bucket_uri(url) is None:
                return None
            with session_factory() as session:
                media = open_project_media(session, project_id, url, policy, store)
            with media.stream:
                return media.stream.read()
        except (NotFoundError, MediaUnavailableError, OSError):
            return None

    return read
