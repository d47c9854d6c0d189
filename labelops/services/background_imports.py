"""Large imports run by the background worker, reported as Label Studio's project imports.

The upload is saved to files under the jobs folder and a job is queued; the worker imports the
files through the import service in one transaction (all or nothing, as a synchronous import)
and records the counts, or the first bad file/row, on the job.
"""

import re
import shutil
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from labelops.db.models import BackgroundJobRow, ProjectRow
from labelops.domain.errors import TaskImportError
from labelops.services import imports as import_service
from labelops.services import jobs
from labelops.services.projects import get_project

KIND = "import"
COUNTS = ("task_count", "annotation_count", "prediction_count", "duplicate_count")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
Source = tuple[str, BinaryIO, str | None]


def enqueue_import(
    session: Session,
    project: ProjectRow,
    sources: Iterable[Source],
    *,
    options: dict[str, Any],
    created_by_id: int | None,
    root: Path,
    now: datetime,
) -> BackgroundJobRow:
    """Returns a queued import job after saving the uploaded files (the caller commits).

    Args:
        session: The database session.
        project: The project the tasks go into.
        sources: ``(file name, stream, implied format)`` of each upload.
        options: The import's options, as :func:`import_one` takes them.
        created_by_id: Who imports.
        root: The jobs folder (shared by the web app and the worker).
        now: The current time.
    """
    job = jobs.enqueue(
        session, KIND, project_id=project.id, created_by_id=created_by_id, params={}, now=now
    )
    folder = root / "imports" / str(job.id)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for index, (name, stream, implied_format) in enumerate(sources):
        path = folder / f"{index}-{_UNSAFE.sub('_', Path(name).name)[:100]}"
        with path.open("wb") as out:
            shutil.copyfileobj(stream, out)
        files.append({"name": name, "path": str(path), "format": implied_format})
    job.params = {"files": files, "options": options}
    job.title = ", ".join(f["name"] for f in files)[:2048]
    session.flush()
    return job


def import_one(
    session: Session,
    project: ProjectRow,
    stream: BinaryIO,
    *,
    source_name: str,
    implied_format: str | None,
    options: dict[str, Any],
    created_by_id: int | None,
) -> import_service.ImportReport:
    """Returns the report of importing one saved file: the one call into the import service."""
    return import_service.import_file(
        session,
        project,
        stream,
        source_name=source_name,
        format_name=options.get("format") or implied_format,
        as_=options.get("as", "annotations"),
        image_sizes=options.get("image_sizes"),
        created_by_id=created_by_id,
        dedupe=bool(options.get("dedupe")),
        return_task_ids=bool(options.get("return_task_ids")),
        map_annotators_by_email=bool(options.get("map_annotators_by_email")),
    )


def run_import(
    session_factory: Callable[[], Session],
    job: BackgroundJobRow,
    root: Path,
    clock: Callable[[], datetime],
) -> tuple[dict[str, Any], str]:
    """Imports the job's files in one transaction; returns the counts.

    Raises:
        TaskImportError: A row is bad (nothing is written; the error names file, row, field).
    """
    totals: dict[str, Any] = {key: 0 for key in COUNTS} | {"task_ids": [], "batches": []}
    options = job.params.get("options", {})
    try:
        with session_factory() as session:
            project = get_project(session, job.project_id or 0)
            for item in job.params.get("files", []):
                with Path(item["path"]).open("rb") as stream:
                    report = import_one(
                        session,
                        project,
                        stream,
                        source_name=item["name"],
                        implied_format=item["format"],
                        options=options,
                        created_by_id=job.created_by_id,
                    )
                counts = report.to_dict()
                for key in COUNTS:
                    totals[key] += counts[key]
                totals["task_ids"] += counts["task_ids"]
                totals["batches"].append(report.batch_id)
            session.commit()
    finally:
        shutil.rmtree(root / "imports" / str(job.id), ignore_errors=True)
    if not options.get("return_task_ids"):
        totals.pop("task_ids")
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
