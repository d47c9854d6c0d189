"""What the web app's pipeline page shows: storages, runs, dataset versions, and launch checks.

The runs themselves are launched and refreshed by :mod:`labelops.services.runs`; this
module only gathers the page's rows and says why an action cannot be launched yet.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import DatasetVersionRow, StorageConnectionRow, TaskRow
from labelops.domain.pipeline_jobs import ACTION_JOBS
from labelops.services import agreement as agreement_service
from labelops.services import datasets as dataset_service
from labelops.services import pipeline_storage as storage_service
from labelops.services import runs as run_service

ACTION_LABELS: Mapping[str, str] = {
    "sync-storage": "Sync storage",
    "preannotate": "Run pre-annotation",
    "agreement": "Compute agreement",
    "export-dataset": "Export dataset",
    "train": "Train model",
}
JOB_LABELS: Mapping[str, str] = {
    **{job: ACTION_LABELS[action] for action, job in ACTION_JOBS.items()},
    "ingest_job": "Sync storage",
    "model_refresh_job": "Refresh agreement, dataset and model",
    "labeling_loop_job": "Whole labeling loop",
    "sampling_job": "Reorder the queue",
    "annotations_observation_job": "Observe annotations",
}
NO_MODEL_HINT = "no champion model yet"
NO_STORAGE = (
    "This project has no storage connection yet: add one under “Storage connections” "
    "before syncing storage."
)


@dataclass(frozen=True)
class PipelineOverview:
    """The rows of a project's pipeline page."""

    storages: list[StorageConnectionRow]
    runs: list[run_service.RunInfo]
    datasets: list[DatasetVersionRow]
    agreement_at: datetime | None
    runs_problem: str = ""

    @property
    def has_active_runs(self) -> bool:
        """Returns True while a run is queued or running (the page then polls)."""
        return any(r.status not in run_service.FINISHED for r in self.runs)


def pipeline_overview(
    session: Session, project_id: int, launcher: run_service.RunLauncher
) -> PipelineOverview:
    """Returns the project's storages (oldest first), runs and dataset versions (newest first).

    The runs are every Dagster run of the project's partition (see
    :func:`labelops.services.runs.project_runs`).
    """
    agreement = agreement_service.latest_agreement_report(session, project_id)
    runs = run_service.project_runs(session, project_id, launcher)
    return PipelineOverview(
        storages=storage_service.list_storages(session, project_id),
        runs=runs.runs,
        datasets=dataset_service.list_dataset_versions(session, project_id),
        agreement_at=agreement.created_at if agreement is not None else None,
        runs_problem=runs.problem,
    )


CONNECT_STORAGE = "connect-storage"
"""The first step of a project without tasks or storage: not a job, a form on the page."""


def next_step(session: Session, project_id: int, overview: PipelineOverview) -> str:
    """Returns the action that makes sense now, shown as the page's primary button.

    No tasks and no import storage: connect one (``CONNECT_STORAGE``); a storage but no tasks:
    sync it; tasks but no labels: pre-annotate them (the labeling loop starts); labels but no
    dataset version: export one; else train a model on it.
    """
    has_tasks, has_labels = session.execute(
        sa.select(
            sa.func.count(TaskRow.id) > 0,
            sa.func.coalesce(sa.func.sum(TaskRow.total_annotations), 0) > 0,
        ).where(TaskRow.project_id == project_id)
    ).one()
    if not has_tasks:
        imports = [s for s in overview.storages if s.direction != "export"]
        return "sync-storage" if imports else CONNECT_STORAGE
    if not has_labels:
        return "preannotate"
    return "export-dataset" if not overview.datasets else "train"


def needs_training(run: run_service.RunInfo) -> bool:
    """Returns True when the run predicted nothing because the project has no model yet."""
    return NO_MODEL_HINT in run.outcome


def launch_problem(session: Session, project_id: int, action: str) -> str:
    """Returns why the action cannot be launched now, or "" when it can.

    Raises:
        NotFoundError: No such action.
    """
    run_service.job_for_action(action)
    if action == "sync-storage" and not storage_service.list_storages(session, project_id):
        return NO_STORAGE
    return ""


def secret_state(row: StorageConnectionRow) -> str:
    """Returns how the connection's secret is held, never the secret itself."""
    stored = row.secret_encrypted
    if stored.startswith("fernet:"):
        return "set (encrypted)"
    if stored.startswith("env:"):
        return f"set (from ${stored[4:]})"
    return "not set"
