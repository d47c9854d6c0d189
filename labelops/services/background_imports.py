"""Large imports run by the background worker, reported as Label Studio's project imports.

The upload is saved to files under the jobs folder and a job is queued; the worker imports the
files through the import service in one transaction (all or nothing, as a synchronous import)
and records the counts, or the first bad file/row, on the job.
"""

import re
import shutil
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from labelops.db.models import BackgroundJobRow, ProjectRow
from labelops.domain.errors import TaskImportError
from labelops.services import imports as import_service
from labelops.services import jobs
from labelops.services.media import UploadStore
from labelops.services.projects import get_project
from labelops.settings import Settings

KIND = "import"
COUNTS = ("task_count", "annotation_count", "prediction_count", "duplicate_count")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# The options a queued import keeps (the upload store and progress callback are the worker's).
_KEPT_OPTIONS = (
    "format_name",
    "as_",
    "image_sizes",
    "as_tasks_list",
    "dedupe",
    "strict",
    "return_task_ids",
    "map_annotators_by_email",
)


def enqueue_import(
    session: Session,
    project: ProjectRow,
    sources: Iterable[import_service.ImportSource],
    *,
    options: import_service.ImportOptions,
    root: Path,
    now: datetime,
) -> BackgroundJobRow:
    """Returns a queued import job after saving the uploaded files (the caller commits).

    Args:
        session: The database session.
        project: The project the tasks go into.
        sources: The uploads.
        options: The import's options (who imports among them).
        root: The jobs folder (shared by the web app and the worker).
        now: The current time.
    """
    job = jobs.enqueue(
        session,
        KIND,
        project_id=project.id,
        created_by_id=options.created_by_id,
        params={},
        now=now,
    )
    folder = root / "imports" / str(job.id)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for index, source in enumerate(sources):
        path = folder / f"{index}-{_UNSAFE.sub('_', Path(source.name).name)[:100]}"
        with path.open("wb") as out:
            shutil.copyfileobj(source.opener(), out)
        files.append({"name": source.name, "path": str(path), "content_type": source.content_type})
    kept = {name: getattr(options, name) for name in _KEPT_OPTIONS}
    job.params = {"files": files, "options": kept}
    job.title = ", ".join(source.name for source in sources)[:2048]
    session.flush()
    return job


def run_import(
    session_factory: Callable[[], Session],
    job: BackgroundJobRow,
    env: jobs.JobEnv,
) -> tuple[dict[str, Any], str]:
    """Imports the job's files in one transaction; returns the counts.

    Raises:
        TaskImportError: A row is bad (nothing is written; the error names file, row, field).
    """
    kept = dict(job.params.get("options", {}))
    if kept.get("image_sizes"):
        kept["image_sizes"] = {name: tuple(size) for name, size in kept["image_sizes"].items()}
    options = import_service.ImportOptions(
        created_by_id=job.created_by_id,
        store=UploadStore.for_settings(Settings.from_env()),
        **kept,
    )
    try:
        with session_factory() as session:
            project = get_project(session, job.project_id or 0)
            with ExitStack() as streams:
                sources = [
                    import_service.ImportSource.of_stream(
                        item["name"],
                        streams.enter_context(Path(item["path"]).open("rb")),
                        item.get("content_type"),
                    )
                    for item in job.params.get("files", [])
                ]
                summary = import_service.import_sources(session, project, sources, options)
            session.commit()
    finally:
        shutil.rmtree(env.root / "imports" / str(job.id), ignore_errors=True)
    body = summary.to_dict(task_ids=options.return_task_ids)
    totals: dict[str, Any] = {key: body[key] for key in COUNTS}
    totals["batches"] = body["import"]
    if options.return_task_ids:
        totals["task_ids"] = body["task_ids"]
    return totals, ""


def import_json(job: BackgroundJobRow) -> dict[str, Any]:
    """Returns the import in the shape of Label Studio's project import."""
    out: dict[str, Any] = {
        "id": job.id,
        "project": job.project_id,
        "status": job.status,
        "error": job.error or None,
        "errors": job.result.get("errors", []),
        "created_at": _iso(job.created_at),
        "updated_at": _iso(job.finished_at or job.started_at or job.created_at),
        "finished_at": _iso(job.finished_at),
        "duration": (
            (job.finished_at - job.started_at).total_seconds()
            if job.finished_at and job.started_at
            else None
        ),
        "files": [f["name"] for f in job.params.get("files", [])],
        "progress": job.progress,
    }
    out.update({key: job.result.get(key, 0) for key in COUNTS})
    if "task_ids" in job.result:
        out["task_ids"] = job.result["task_ids"]
    return out


def failure_details(exc: Exception) -> list[dict[str, Any]]:
    """Returns what the import report lists about a failed import (file, row, field)."""
    if isinstance(exc, TaskImportError):
        return [exc.to_dict()]
    return [{"message": str(exc)}]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None
