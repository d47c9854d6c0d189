"""Pipeline runs of a project: which job an action runs, the records, and every run of Dagster.

Launching and reading runs go through a :class:`RunLauncher` (the Dagster webserver's GraphQL
API, or in local mode a process running against the Dagster instance); this module only knows the
interface, so the service layer stays free of Dagster. The project's runs are every run of its
partition, whatever started it (the web app, a sensor, the schedule, the CLI), merged with the
web app's own records (who launched it, launches that failed before Dagster had a run).

A launch can wait on a child process or a webserver for a long time, so no transaction is open
while it does (on SQLite an open write transaction would lock out every other writer), and a
project has at most ``LABELOPS_MAX_RUNS_PER_PROJECT`` runs queued or running at once.
"""

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import PipelineRunRow, ProjectRow
from labelops.domain.errors import LabelopsError
from labelops.domain.pipeline_jobs import ACTION_JOBS
from labelops.services.errors import ConflictError, NotFoundError
from labelops.settings import current_limits, limit_variable

log = logging.getLogger(__name__)
RUN_STATUSES = ("queued", "running", "succeeded", "failed")
MAX_ERROR_LENGTH = 200
FINISHED = frozenset({"succeeded", "failed"})
_launching: Counter[int] = Counter()  # project id -> launches in progress in this process
_launching_lock = threading.Lock()


class TooManyRunsError(ConflictError):
    """The project already has as many runs queued or running as the limit allows."""


class DagsterUnavailableError(LabelopsError):
    """Dagster (its webserver) could not be reached or did not answer."""

    status = 503
    code = "dagster_unavailable"


@dataclass(frozen=True)
class RunInfo:
    """One Dagster run of a project's partition, as the Pipeline tab and the API show it.

    ``outcome`` is what the run's assets said they did (for instance why a pre-annotation
    predicted nothing); ``source`` names what started the run (``web app``, ``sensor <name>``,
    ``schedule <name>``, ``backfill``, ``CLI or Dagster UI``).
    """

    run_id: str
    job_name: str
    status: str
    error: str
    outcome: str
    source: str
    created_at: datetime
    updated_at: datetime | None
    record_id: int | None = None
    launched_by_id: int | None = None


class RunLauncher(Protocol):
    """Starts Dagster runs of one project's partition and reports how they are doing."""

    def launch(self, job_name: str, partition_key: str) -> str:
        """Returns the id of a new run of the job for the partition (added if missing)."""
        ...

    def status(self, run_id: str) -> tuple[str, str]:
        """Returns (one of RUN_STATUSES, the error message of a failed run or "")."""
        ...

    def runs(self, partition_key: str, limit: int = 50) -> list[RunInfo]:
        """Returns the partition's runs, newest first, whatever started them."""
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

    The session is committed before the launch (ending whatever transaction the caller had open,
    such as an API token's ``last_used_at``) and again after the run is recorded, so no
    transaction or database lock is held while the launcher waits.

    Raises:
        NotFoundError: No such action.
        TooManyRunsError: The project has ``LABELOPS_MAX_RUNS_PER_PROJECT`` runs queued or
            running already.
    """
    job_name = job_for_action(action)
    project_id = project.id
    limit = current_limits().max_active_runs_per_project
    active = _active_runs(session, project_id)
    if len(active) + _launching[project_id] >= limit:
        _refresh_active(session, active, launcher)
        active = _active_runs(session, project_id)
    with _launching_lock:
        if len(active) + _launching[project_id] >= limit:
            raise TooManyRunsError(
                f"project {project_id} already has {limit} pipeline runs queued or running, the "
                f"limit ({limit_variable('max_active_runs_per_project')}); wait for one to finish"
            )
        _launching[project_id] += 1
    try:
        row = PipelineRunRow(
            project_id=project_id, job_name=job_name, launched_by_id=launched_by_id
        )
        try:
            row.run_id = launcher.launch(job_name, str(project_id))
        except Exception as exc:  # any launch failure is shown to the user, never swallowed
            log.warning("could not launch %s for project %s", job_name, project_id, exc_info=True)
            row.status = "failed"
            row.error = summarize_error(f"could not launch {job_name}: {exc}")
        session.add(row)
        session.commit()
    finally:
        with _launching_lock:
            _launching[project_id] -= 1
    return row


def launches_in_progress(project_id: int) -> int:
    """Returns how many launches for the project this process is making right now."""
    return _launching[project_id]


def _active_runs(session: Session, project_id: int) -> list[tuple[int, str]]:
    """Returns (id, run id) of the project's runs not known to be finished; commits."""
    rows = session.execute(
        sa.select(PipelineRunRow.id, PipelineRunRow.run_id).where(
            PipelineRunRow.project_id == project_id,
            PipelineRunRow.status.not_in(FINISHED),
            PipelineRunRow.run_id != "",
        )
    ).all()
    session.commit()
    return [(row.id, row.run_id) for row in rows]


def _refresh_active(
    session: Session, active: Sequence[tuple[int, str]], launcher: RunLauncher
) -> None:
    """Stores the launcher's current status of the given runs (asked with no transaction open)."""
    statuses: dict[int, tuple[str, str]] = {}
    for row_id, run_id in active:
        try:
            statuses[row_id] = launcher.status(run_id)
        except Exception:  # an unknown status keeps the run counted as active
            log.warning("could not read the status of run %s", run_id, exc_info=True)
    for row_id, (status, error) in statuses.items():
        session.execute(
            sa.update(PipelineRunRow)
            .where(PipelineRunRow.id == row_id)
            .values(status=status, error=error)
        )
    session.commit()


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


def _from_record(row: PipelineRunRow) -> RunInfo:
    return RunInfo(
        run_id=row.run_id,
        job_name=row.job_name,
        status=row.status,
        error=row.error,
        outcome="",
        source="web app",
        created_at=row.created_at,
        updated_at=row.updated_at,
        record_id=row.id,
        launched_by_id=row.launched_by_id,
    )


@dataclass(frozen=True)
class ProjectRuns:
    """The project's runs, newest first, and why Dagster's own list is missing (or "")."""

    runs: list[RunInfo]
    problem: str = ""

    @property
    def active(self) -> bool:
        """Returns True while a run is queued or running (pages then poll)."""
        return any(run.status not in FINISHED for run in self.runs)


def project_runs(
    session: Session, project_id: int, launcher: RunLauncher, *, limit: int = 50
) -> ProjectRuns:
    """Returns every run of the project's partition merged with the web app's run records.

    A run Dagster knows is shown with Dagster's status, error and outcome (and the web app's
    record of it, when the web app launched it, is brought up to date); a launch that failed
    before Dagster had a run is shown from its record. When Dagster cannot be asked, the records
    are shown as last known and ``problem`` says why.
    """
    records = list_runs(session, project_id, limit=limit)
    try:
        found = launcher.runs(str(project_id), limit)
    except Exception as exc:  # shown on the page and in the API, never a 500
        log.warning("could not list the runs of project %s", project_id, exc_info=True)
        problem = summarize_error(f"could not read the runs from Dagster: {exc}")
        return ProjectRuns([_from_record(row) for row in records], problem)
    by_run_id = {row.run_id: row for row in records if row.run_id}
    merged: list[RunInfo] = []
    for run in found:
        row = by_run_id.pop(run.run_id, None)
        error = summarize_error(run.error)
        if row is not None:
            if (row.status, row.error) != (run.status, error):
                row.status, row.error = run.status, error
            run = replace(run, record_id=row.id, launched_by_id=row.launched_by_id)
        merged.append(replace(run, error=error, outcome=summarize_error(run.outcome)))
    oldest = min((run.created_at for run in found), default=None)
    beyond = len(found) >= limit and oldest is not None
    for row in records:
        if row.run_id and row.run_id not in by_run_id:
            continue  # merged above
        if row.run_id and beyond and oldest is not None and row.created_at < oldest:
            continue  # older than Dagster's page of runs
        merged.append(_from_record(row))
    session.flush()
    merged.sort(key=lambda run: run.created_at, reverse=True)
    return ProjectRuns(merged[:limit])
