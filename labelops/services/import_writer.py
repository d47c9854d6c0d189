"""Writing imported tasks (with their annotations and predictions) into a project.

One import is one import batch, all or nothing: tasks are checked (record limits, the config's
data fields, result shapes) and written in chunks through :class:`TaskBulkWriter`, and the first
bad row raises :class:`TaskImportError` naming its source, row and field, which rolls back
everything the batch wrote. Results that contradict the current labeling config (a two-label
box under a single-label control, a label the config lost) are kept as Label Studio keeps them
and listed on the report; ``ImportOptions.strict`` refuses them instead.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.clock import utcnow
from labelops.db.bulk import TaskBulkWriter, content_hash, to_json
from labelops.db.models import (
    AnnotationRow,
    ImportBatchRow,
    ImportedRowRow,
    ProjectRow,
    TaskRow,
    UserRow,
)
from labelops.domain.label_config import LabelConfig
from labelops.domain.permissions import can_manage
from labelops.domain.records import Annotation, Task
from labelops.services.errors import PermissionDeniedError
from labelops.services.import_checks import TaskChecker
from labelops.services.import_options import ImportOptions, ImportReport
from labelops.services.locking import bump_project
from labelops.services.projects import role_of
from labelops.services.users import imported_annotator
from labelops.services.webhook_events import tasks_created_event

CHUNK_SIZE = 5_000


def write_tasks(
    session: Session,
    project: ProjectRow,
    tasks: Iterable[tuple[int, Task]],
    *,
    config: LabelConfig,
    report: ImportReport,
    options: ImportOptions,
) -> ImportReport:
    """Returns the report after writing ``(row number, Task)`` pairs as one import batch.

    With ``options.track_rows`` the rows are matched to the rows of earlier imports of the same
    source (``report.source``) first: see :func:`_sync_known_rows`.

    Raises:
        TaskImportError: A task lacks a data field the config reads, breaks a record limit,
            carries something that is no result, or (``strict``) a result that contradicts
            the config.
        PermissionDeniedError: ``map_annotators_by_email`` from someone who does not manage
            the project.
    """
    if options.map_annotators_by_email:
        _check_may_map_annotators(session, project, options.created_by_id)
    checker = TaskChecker(config, report, strict=options.strict)
    rows: Iterable[tuple[int, Task]] = ((row, checker.check(task, row)) for row, task in tasks)
    if options.track_rows:
        rows = _sync_known_rows(session, project, list(rows), report)
        if not rows:
            return report
    batch = ImportBatchRow(
        project_id=project.id,
        source=report.source[:1024],
        format=report.format,
        created_by_id=options.created_by_id,
    )
    session.add(batch)
    session.flush()  # takes SQLite's write lock before ids are reserved
    report.batch_id = batch.id
    writer = _ImportWriter(session, project, batch.id, report, options)
    try:
        writer.write_all(rows)
    except BaseException:
        writer.bulk.abandon()
        raise
    writer.bulk.finish()
    batch.num_tasks = report.num_tasks
    batch.num_annotations = report.num_annotations
    batch.num_predictions = report.num_predictions
    batch.num_duplicates = report.num_duplicates
    bump_project(
        session,
        project,
        num_tasks=report.num_tasks,
        num_annotations=report.num_annotations,
        num_predictions=report.num_predictions,
        num_labeled_tasks=writer.num_labeled,
    )
    if report.num_tasks:
        tasks_created_event(session, project, batch.id)
    session.flush()
    return report


def _check_may_map_annotators(session: Session, project: ProjectRow, user_id: int | None) -> None:
    """Refuses mapping imported annotators to accounts unless a manager (or the CLI) asks."""
    if user_id is None:
        return
    user = session.get(UserRow, user_id)
    role = role_of(session, user, project.id) if user is not None else None
    if user is None or not can_manage(role, is_admin=user.is_admin):
        raise PermissionDeniedError(
            f"only managers of project {project.id} may map imported annotators to accounts "
            "by email (map_annotators_by_email)"
        )


class _ImportWriter:
    """Turns chunks of checked tasks into rows (counters, attribution) for the bulk writer."""

    def __init__(
        self,
        session: Session,
        project: ProjectRow,
        batch_id: int,
        report: ImportReport,
        options: ImportOptions,
    ) -> None:
        self.session = session
        self.project = project
        self.batch_id = batch_id
        self.report = report
        self.options = options
        self.bulk = TaskBulkWriter(session)
        self.annotators: dict[str, int] = {}
        self.map_to_members_of = project.id if options.map_annotators_by_email else None
        self.num_labeled = 0
        self.seen: set[bytes] = set()

    def write_all(self, tasks: Iterable[tuple[int, Task]]) -> None:
        handled = 0
        iterator = iter(tasks)
        while chunk := list(islice(iterator, CHUNK_SIZE)):
            handled += len(chunk)
            hashes = [content_hash(task.data) for _, task in chunk]
            if self.options.dedupe:
                self.bulk.wait()
                chunk, hashes = self._drop_duplicates(chunk, hashes)
            rows, annotations, predictions = self._prepare(chunk, hashes)
            ids = self.bulk.write(rows, annotations, predictions)
            self.report.num_tasks += len(ids)
            if self.options.return_task_ids or self.options.track_rows:
                self.report.task_ids.extend(ids)
            if self.options.track_rows:
                self.bulk.wait()  # the rows point at tasks that may still be in flight
                self.session.execute(
                    sa.insert(ImportedRowRow),
                    [
                        {
                            "project_id": self.project.id,
                            "key": self.report.source,
                            "row": row,
                            "task_id": task_id,
                        }
                        for (row, _), task_id in zip(chunk, ids, strict=True)
                    ],
                )
            if self.options.progress:
                self.options.progress(handled)

    def _drop_duplicates(
        self, chunk: list[tuple[int, Task]], hashes: list[str]
    ) -> tuple[list[tuple[int, Task]], list[str]]:
        existing = set(
            self.session.scalars(
                sa.select(TaskRow.content_hash).where(
                    TaskRow.project_id == self.project.id, TaskRow.content_hash.in_(set(hashes))
                )
            )
        )
        kept: list[tuple[int, Task]] = []
        kept_hashes: list[str] = []
        for item, digest in zip(chunk, hashes, strict=True):
            key = bytes.fromhex(digest[:32])
            if digest in existing or key in self.seen:
                continue
            self.seen.add(key)
            kept.append(item)
            kept_hashes.append(digest)
        self.report.num_duplicates += len(chunk) - len(kept)
        return kept, kept_hashes

    def _prepare(
        self, chunk: list[tuple[int, Task]], hashes: list[str]
    ) -> tuple[
        list[tuple[Any, ...]], list[tuple[int, dict[str, Any]]], list[tuple[int, dict[str, Any]]]
    ]:
        now = utcnow()
        stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
        rows: list[tuple[Any, ...]] = []
        annotations: list[tuple[int, dict[str, Any]]] = []
        predictions: list[tuple[int, dict[str, Any]]] = []
        for position, ((_, task), digest) in enumerate(zip(chunk, hashes, strict=True)):
            done = sum(not a.was_cancelled for a in task.annotations)
            cancelled = len(task.annotations) - done
            annotations += [(position, self._annotation_row(a, now)) for a in task.annotations]
            score = None
            for prediction in task.predictions:
                score = prediction.score if prediction.score is not None else score
                predictions.append(
                    (
                        position,
                        {
                            "project_id": self.project.id,
                            "model_version": prediction.model_version,
                            "score": prediction.score,
                            "result": prediction.result,
                            "created_at": now,
                        },
                    )
                )
            labeled = done >= self.project.maximum_annotations
            self.num_labeled += labeled
            self.report.num_annotations += done
            self.report.num_predictions += len(task.predictions)
            state = (
                "completed"
                if labeled
                else "in_progress"
                if done
                else "skipped"
                if cancelled
                else "new"
            )
            rows.append(
                (
                    self.project.id,
                    to_json(task.data).decode(),
                    to_json(task.meta).decode() if task.meta else "{}",
                    0.0,
                    state,
                    labeled,
                    done,
                    cancelled,
                    len(task.predictions),
                    score,
                    digest,
                    self.batch_id,
                    stamp,
                    stamp,
                )
            )
        return rows, annotations, predictions

    def _annotation_row(self, annotation: Annotation, now: datetime) -> dict[str, Any]:
        return {
            "project_id": self.project.id,
            "completed_by_id": imported_annotator(
                self.session,
                email=annotation.completed_by_email,
                external_id=annotation.completed_by,
                cache=self.annotators,
                map_to_members_of=self.map_to_members_of,
            ),
            "result": annotation.result,
            "was_cancelled": annotation.was_cancelled,
            "ground_truth": annotation.ground_truth,
            "lead_time": annotation.lead_time,
            "import_batch_id": self.batch_id,
            "created_at": annotation.created_at or now,
            "updated_at": annotation.updated_at or annotation.created_at or now,
        }


def _sync_known_rows(
    session: Session,
    project: ProjectRow,
    tasks: Sequence[tuple[int, Task]],
    report: ImportReport,
) -> list[tuple[int, Task]]:
    """Returns the rows new to the source, after updating the rows seen in earlier imports.

    Each row of a tracked source is a task identified by (project, source, row number). A row
    seen before updates its task's data and meta in place if the task has no annotations; a task
    with annotations is left untouched and listed under ``kept``; a row whose task was deleted is
    not imported again. Rows gone from the source leave their tasks.
    """
    has_annotations = sa.exists().where(AnnotationRow.task_id == TaskRow.id)
    known = {
        seen.row: seen
        for seen in session.execute(
            sa.select(
                ImportedRowRow.row,
                TaskRow.id,
                TaskRow.content_hash,
                sa.or_(
                    TaskRow.total_annotations > 0,
                    TaskRow.cancelled_annotations > 0,
                    has_annotations,
                ).label("annotated"),
            )
            .outerjoin(TaskRow, TaskRow.id == ImportedRowRow.task_id)
            .where(ImportedRowRow.project_id == project.id, ImportedRowRow.key == report.source)
        )
    }
    new_rows: list[tuple[int, Task]] = []
    updates: list[dict[str, Any]] = []
    for row, task in tasks:
        current = known.get(row)
        if current is None:
            new_rows.append((row, task))
        elif current.id is None:
            report.num_deleted += 1
        elif (digest := content_hash(task.data)) == current.content_hash:
            continue
        elif current.annotated:
            report.kept.append({"row": row, "task_id": current.id})
        else:
            updates.append(
                {
                    "id": current.id,
                    "data": dict(task.data),
                    "meta": dict(task.meta),
                    "content_hash": digest,
                    "updated_at": utcnow(),
                }
            )
    if updates:
        session.execute(sa.update(TaskRow), updates)
        report.num_updated = len(updates)
    return new_rows
