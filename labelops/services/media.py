"""Uploads from the import page: task files become tasks, media files become stored files + tasks.

A media file (image, audio, video) is stored under ``<root>/<project_id>/`` and becomes one task
whose data field is the one the labeling config's matching object tag reads (``$image`` for an
``<Image>``...), holding the URL the caller builds for the stored file. Everything of one upload is
one transaction: the first bad row or file raises, the caller rolls back, and the stored files of
that upload are removed again.
"""

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from labelops.db.models import ProjectRow
from labelops.domain.errors import TaskImportError
from labelops.domain.formats.readers import detect_format, read_rows
from labelops.domain.label_config import parse_label_config
from labelops.services.errors import NotFoundError
from labelops.services.imports import import_rows

MEDIA_EXTENSIONS: dict[str, str] = {
    **dict.fromkeys(
        (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".svg", ".tif", ".tiff"), "Image"
    ),
    **dict.fromkeys((".wav", ".mp3", ".ogg", ".flac", ".m4a", ".aac", ".opus"), "Audio"),
    **dict.fromkeys((".mp4", ".webm", ".mov", ".mkv", ".avi"), "Video"),
}
_OBJECT_TAGS = {"Image": ("Image",), "Audio": ("Audio", "AudioPlus"), "Video": ("Video",)}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class FileReport:
    """What one uploaded file added."""

    name: str
    format: str
    num_tasks: int = 0
    num_annotations: int = 0
    num_predictions: int = 0
    num_duplicates: int = 0


@dataclass
class UploadReport:
    """What one upload (several files) added to a project."""

    files: list[FileReport] = field(default_factory=list)

    @property
    def num_tasks(self) -> int:
        """Returns the number of tasks created from all files."""
        return sum(f.num_tasks for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        """Returns the report as JSON for the import page's script."""
        return {
            "task_count": self.num_tasks,
            "files": [vars(f) for f in self.files],
        }


def media_kind(filename: str) -> str | None:
    """Returns "Image", "Audio" or "Video" for a media file name, None for anything else."""
    return MEDIA_EXTENSIONS.get(Path(filename.lower()).suffix)


def media_field(project: ProjectRow, kind: str, source: str) -> str:
    """Returns the data field that the config's first object tag of this media kind reads.

    Raises:
        TaskImportError: The config shows no such media (e.g. an image in a text project).
    """
    config = parse_label_config(project.label_config)
    for obj in config.objects.values():
        if obj.tag in _OBJECT_TAGS[kind] and obj.data_field:
            return obj.data_field
    raise TaskImportError(
        f"the labeling config has no <{kind}> tag reading a data field, so "
        f"{kind.lower()} files cannot become tasks in this project",
        source=source,
    )


def safe_name(filename: str) -> str:
    """Returns a stored file name: a random prefix plus the name reduced to safe characters."""
    base = _UNSAFE.sub("_", Path(filename).name).strip("._") or "file"
    return f"{uuid.uuid4().hex[:12]}-{base[-120:]}"


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


def import_uploads(
    session: Session,
    project: ProjectRow,
    uploads: list[tuple[str, BinaryIO]],
    *,
    media_root: Path,
    media_url: Callable[[str], str],
    created_by_id: int | None,
    dedupe: bool = False,
) -> UploadReport:
    """Returns what importing the uploaded files added; the caller commits or rolls back.

    Args:
        session: The database session.
        project: The project the tasks go into.
        uploads: ``(file name, binary stream)`` pairs.
        media_root: The folder that holds uploaded media, one subfolder per project.
        media_url: Builds the URL a task stores for a stored media file name.
        created_by_id: Who imports.
        dedupe: Skip tasks whose data already exists in the project.

    Raises:
        TaskImportError: A row or file cannot become a task (names the file, row and field).
        UnknownFormatError: A file is neither a task file nor a known media type.
    """
    report = UploadReport()
    stored: list[Path] = []
    try:
        for name, stream in uploads:
            kind = media_kind(name)
            if kind is not None:
                path = _store(media_root, project.id, name, stream)
                stored.append(path)
                data_field = media_field(project, kind, name)
                rows: Iterator[tuple[int, Any]] = iter([(1, {data_field: media_url(path.name)})])
                fmt = kind.lower()
            else:
                fmt = detect_format(name)
                rows = read_rows(stream, fmt, name)
            result = import_rows(
                session,
                project,
                rows,
                source=name,
                fmt=fmt,
                created_by_id=created_by_id,
                dedupe=dedupe,
            )
            report.files.append(
                FileReport(
                    name=name,
                    format=fmt,
                    num_tasks=result.num_tasks,
                    num_annotations=result.num_annotations,
                    num_predictions=result.num_predictions,
                    num_duplicates=result.num_duplicates,
                )
            )
    except Exception:
        for path in stored:
            path.unlink(missing_ok=True)
        raise
    return report


def _store(root: Path, project_id: int, filename: str, stream: BinaryIO) -> Path:
    folder = root / str(project_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe_name(filename)
    with path.open("wb") as out:
        while chunk := stream.read(1024 * 1024):
            out.write(chunk)
    return path
