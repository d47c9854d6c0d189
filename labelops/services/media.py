"""Uploaded data files (images, audio, video, time series CSVs, PDFs...) kept for their tasks.

An import that receives a data file (:func:`labelops.services.imports.import_source`) stores it
under ``<root>/<project_id>/`` through an :class:`UploadStore`; the task's data field holds the
file's URL on the project's media route, which serves it to members of the project only. When
the import fails, the files stored for it are removed again (:meth:`UploadStore.discard`).
"""

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from labelops.services.errors import NotFoundError
from labelops.settings import Settings

UPLOADS = "uploads"  # the deployment's own area of the object store (see storage_paths)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(filename: str) -> str:
    """Returns a stored file name: a random prefix plus the name reduced to safe characters."""
    base = _UNSAFE.sub("_", Path(filename).name).strip("._") or "file"
    return f"{uuid.uuid4().hex[:12]}-{base[-120:]}"


def upload_url(project_id: int, name: str) -> str:
    """Returns the URL of a stored file on the project's media route."""
    return f"/projects/{project_id}/media/{name}"


def media_path(root: Path, project_id: int, name: str) -> Path:
    """Returns the path of a stored media file of the project.

    Raises:
        NotFoundError: The name is not a stored file of this project (or tries to leave its folder).
    """
    folder = (root / str(project_id)).resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        raise NotFoundError(f"media file {name!r} not found in project {project_id}")
    return path


@dataclass
class UploadStore:
    """Stores the data files of one import under ``root``; remembers them for :meth:`discard`."""

    root: Path
    stored: list[Path] = field(default_factory=list)

    @classmethod
    def for_settings(cls, settings: Settings) -> "UploadStore":
        """Returns a store under the deployment's ``uploads/`` area of its object store folder."""
        return cls(settings.uploads_root)

    def save(self, project_id: int, file_name: str, stream: IO[bytes]) -> str:
        """Returns the URL a task holds for the file, once written under the project's folder."""
        folder = self.root / str(project_id)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / safe_name(file_name)
        self.stored.append(path)
        with path.open("wb") as out:
            while chunk := stream.read(1024 * 1024):
                out.write(chunk)
        return upload_url(project_id, path.name)

    def discard(self) -> None:
        """Removes every file this store wrote (the import that needed them failed)."""
        for path in self.stored:
            path.unlink(missing_ok=True)
        self.stored.clear()
