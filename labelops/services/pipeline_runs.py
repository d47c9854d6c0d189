"""Pipeline runs launched from the web app: which job an action runs, and the run records.

Launching itself goes through a :class:`RunLauncher` (the Dagster webserver's GraphQL API, or a
local process running against the Dagster instance); this module only knows the interface, so the
service layer stays free of Dagster.
"""

import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import PipelineRunRow, ProjectRow
from labelops.services.errors import NotFoundError

log = logging.getLogger(__name__)
ACTION_JOBS: Mapping[str, str] = {
    "sync-storage": "ingest_job",
    "preannotate": "preannotation_job",
    "agreement": "agreement_job",
    "export-dataset": "dataset_job",
}
RUN_STATUSES = ("queued", "running", "succeeded", "failed")
MAX_ERROR_LENGTH = 200
FINISHED = frozenset({"succeeded", "failed"})


class RunLauncher(Protocol):
    """Starts Dagster runs of one project's partition and reports how they are doing."""

    def launch(self, job_name: str, partition_key: str) -> str:
        """Returns the id of a new run of the job for the partition (added if missing)."""
        ...

    def status(self, run_id: str) -> tuple[str, str]:
        """Returns (one of RUN_STATUSES, the error message of a failed run or "")."""
        ...


def summarize_error(text: str) -> str:
    """Returns a one-line summary of a run's error, as every page and the API show it.

    The full error (stack, log) stays in the Dagster instance and the server log; the summary is
    the exception line of a traceback, else the first non-empty line, with whitespace collapsed
    and cut at ``MAX_ERROR_LENGTH`` characters.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    traceback = any(line.startswith("Traceback (most recent call last)") for line in lines)
    summary = " ".join((lines[-1] if traceback else lines[0]).split())
    if len(summary) > MAX_ERROR_LENGTH:
        summary = summary[: MAX_ERROR_LENGTH - 1].rstrip() + "…"
    return summary


def job_for_action(action: str) -> str:
    """Returns the job an action of the web app runs.

    Raises:
        NotFoundError: No such action.
    """
    try:
        return ACTION_JOBS[action]
    except KeyError:
        known = ", ".join(ACTION_JOBS)
        raise NotFoundError(
            f"unknown pipeline action {action!r}; expected one of {known}"
        ) from None


def launch_action(
    session: Session,
    project: ProjectRow,
    action: str,
    *,
    launcher: RunLauncher,
    launched_by_id: int | None,
) -> PipelineRunRow:
    """Returns the record of a run launched for the project; a launch that fails is recorded failed.

    Raises:
        NotFoundError: No such action.
    """
    job_name = job_for_action(action)
    row = PipelineRunRow(project_id=project.id, job_name=job_name, launched_by_id=launched_by_id)
    try:
        row.run_id = launcher.launch(job_name, str(project.id))
    except Exception as exc:  # any launch failure is shown to the user, never swallowed
        log.warning("could not launch %s for project %s", job_name, project.id, exc_info=True)
        row.status, row.error = "failed", summarize_error(f"could not launch {job_name}: {exc}")
    session.add(row)
    session.flush()
    return row


def list_runs(session: Session, project_id: int, *, limit: int = 50) -> list[PipelineRunRow]:
    """Returns the project's latest runs, newest first."""
    return list(
        session.scalars(
            sa.select(PipelineRunRow)
            .where(PipelineRunRow.project_id == project_id)
            .order_by(PipelineRunRow.id.desc())
            .limit(limit)
        )
    )


def refresh_runs(
    session: Session, runs: Sequence[PipelineRunRow], launcher: RunLauncher
) -> list[PipelineRunRow]:
    """Returns the runs after asking the launcher for the status of those not finished yet."""
    for row in runs:
        if row.status in FINISHED or not row.run_id:
            continue
        status, error = launcher.status(row.run_id)
        error = summarize_error(error)
        if (status, error) != (row.status, row.error):
            row.status, row.error = status, error
    session.flush()
    return list(runs)
