"""Export snapshots, as Label Studio's ``/api/projects/<id>/exports/``: built in the background.

Creating one enqueues a background job; the worker reads the project's tasks in keyset batches
(each in its own short transaction) into a JSON-lines file of task records, with its MD5 and
task count. A download then writes any format the labeling config of that moment supports from
the file, so every format of one snapshot shows the same tasks, and a download reads no database.
"""

import hashlib
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from labelops.db.models import BackgroundJobRow, ProjectRow
from labelops.domain.formats.options import ExportOptions, MediaReader
from labelops.domain.label_config import parse_label_config
from labelops.domain.snapshot import task_from_line, task_line
from labelops.services import jobs
from labelops.services.errors import ConflictError
from labelops.services.exports import (
    ExportStream,
    checked_format,
    iter_tasks_in_batches,
    open_task_stream,
)
from labelops.settings import current_limits

KIND = "export"
Clock = Callable[[], datetime]


def create_snapshot(
    session: Session,
    project: ProjectRow,
    *,
    created_by_id: int | None,
    title: str = "",
    only_with_annotations: bool = False,
    now: datetime,
) -> BackgroundJobRow:
    """Returns a new snapshot export job of the project (the caller commits).

    The labeling config is taken now: the snapshot's formats are those it supports.
    """
    return jobs.enqueue(
        session,
        KIND,
        project_id=project.id,
        created_by_id=created_by_id,
        title=title or f"{project.title} at {now:%Y-%m-%d %H:%M:%S}",
        params={
            "only_with_annotations": only_with_annotations,
            "label_config": project.label_config,
            "converted_formats": ["JSON"],
        },
        now=now,
    )


def build_snapshot(
    session_factory: Callable[[], Session], job: BackgroundJobRow, env: jobs.JobEnv
) -> tuple[dict[str, Any], str]:
    """Writes the job's snapshot file; returns its result (md5, counters) and its path."""
    folder = env.root / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"project-{job.project_id}-export-{job.id}.jsonl"
    partial = path.with_suffix(".part")
    digest = hashlib.md5(usedforsecurity=False)
    count = 0
    batch = current_limits().export_batch_size
    tasks = iter_tasks_in_batches(
        session_factory,
        job.project_id or 0,
        only_annotated=bool(job.params.get("only_with_annotations")),
        batch_size=batch,
    )
    with partial.open("wb") as out:
        for task in tasks:
            line = task_line(task)
            out.write(line)
            digest.update(line)
            count += 1
            if count % batch == 0:
                with session_factory() as session:
                    jobs.report_progress(session, job.id, count, now=env.clock())
    os.replace(partial, path)
    return {"md5": digest.hexdigest(), "counters": {"task_number": count}}, str(path)


def convert(job: BackgroundJobRow, format_name: str) -> int:
    """Returns the number of the job's converted format after checking the format fits.

    Any format is written from the snapshot when downloaded, so a conversion is ready at once;
    it is listed among the snapshot's ``converted_formats`` (the caller commits).

    Raises:
        UnknownFormatError: No such format.
        ValueError: The format does not fit the snapshot's labeling config.
    """
    fmt = checked_format(format_name, parse_label_config(job.params["label_config"]))
    converted = list(job.params.get("converted_formats", ["JSON"]))
    if fmt.name not in converted:
        converted.append(fmt.name)
        job.params = {**job.params, "converted_formats": converted}
    return converted.index(fmt.name) + 1


def open_download(
    job: BackgroundJobRow, format_name: str, media: MediaReader | None = None
) -> tuple[Any, ExportStream]:
    """Returns the format and the stream of the snapshot written in that format.

    ``media`` reads the tasks' images for a format that holds them (``YOLO_WITH_IMAGES``...).

    Raises:
        ConflictError: The snapshot is not completed (yet).
        ValueError: The format does not fit the snapshot's labeling config.
        UnknownFormatError: No such format.
        ExportsBusyError: As many exports stream as the limit allows.
    """
    if job.status != "completed" or not job.result_path:
        raise ConflictError(
            f"export {job.id} is {job.status}; download it once its status is completed"
        )
    config = parse_label_config(job.params["label_config"])
    return open_task_stream(
        _read(Path(job.result_path)),
        config,
        format_name,
        ExportOptions(download_all_tasks=True, media=media),
    )


def _read(path: Path) -> Iterator[Any]:
    with path.open("rb") as lines:
        for line in lines:
            yield task_from_line(line)


def delete_snapshot(session: Session, job: BackgroundJobRow) -> None:
    """Deletes the snapshot and its file (the caller commits)."""
    if job.result_path:
        Path(job.result_path).unlink(missing_ok=True)
    session.delete(job)
    session.flush()


def snapshot_json(job: BackgroundJobRow) -> dict[str, Any]:
    """Returns the snapshot in Label Studio's export JSON shape."""
    converted = job.params.get("converted_formats", ["JSON"])
    return {
        "id": job.id,
        "title": job.title,
        "created_by": {"id": job.created_by_id} if job.created_by_id else None,
        "created_at": _iso(job.created_at),
        "finished_at": _iso(job.finished_at),
        "status": job.status,
        "md5": job.result.get("md5", ""),
        "counters": job.result.get("counters", {}),
        "converted_formats": [
            {"id": i, "export_type": name, "status": job.status, "traceback": job.error or None}
            for i, name in enumerate(converted, start=1)
        ],
        "task_filter_options": {
            "only_with_annotations": bool(job.params.get("only_with_annotations"))
        },
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None
