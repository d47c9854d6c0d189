"""What the pipeline reads and writes in the labeling database (the queue is in pipeline_queue).

Projects and their annotation fingerprints, agreement reports, consensus rows and dataset
versions. The Dagster assets and the web app's pipeline endpoints both come through here.
"""

import hashlib
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import (
    AgreementReportRow,
    AnnotationRow,
    DatasetVersionRow,
    ProjectRow,
    TaskRow,
)
from labelops.domain.agreement import CLASSIFICATION_TYPES, control_value
from labelops.domain.consensus import consensus_result
from labelops.domain.label_config import LabelConfig, parse_label_config
from labelops.services.tasks import iter_task_records


def project_ids(session: Session) -> list[int]:
    """Returns every project id, ascending."""
    return list(session.scalars(sa.select(ProjectRow.id).order_by(ProjectRow.id)))


def annotation_fingerprints(session: Session) -> dict[int, tuple[int, datetime | None]]:
    """Returns ``{project_id: (number of annotations, latest updated_at)}`` for every project."""
    rows = session.execute(
        sa.select(
            ProjectRow.id,
            sa.func.count(AnnotationRow.id),
            sa.func.max(AnnotationRow.updated_at),
        )
        .outerjoin(AnnotationRow, AnnotationRow.project_id == ProjectRow.id)
        .group_by(ProjectRow.id)
    )
    return {pid: (int(count), latest) for pid, count, latest in rows}


def fingerprint_version(count: int, latest: datetime | None) -> str:
    """Returns a short hash of an annotation fingerprint, used as a data version."""
    text = f"{count}:{latest.isoformat() if latest else ''}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def save_agreement_report(
    session: Session, project_id: int, report: dict[str, Any]
) -> AgreementReportRow:
    """Returns the stored agreement report of the project."""
    row = AgreementReportRow(project_id=project_id, report=report)
    session.add(row)
    session.flush()
    return row


def latest_agreement_report(session: Session, project_id: int) -> AgreementReportRow | None:
    """Returns the project's newest agreement report, or None."""
    return session.scalar(
        sa.select(AgreementReportRow)
        .where(AgreementReportRow.project_id == project_id)
        .order_by(AgreementReportRow.id.desc())
        .limit(1)
    )


def controls_of(config: LabelConfig) -> dict[str, str]:
    """Returns ``{control name: result type}`` of the config."""
    return {name: c.result_type for name, c in config.controls.items()}


def iter_consensus_rows(session: Session, project: ProjectRow) -> Iterator[dict[str, Any]]:
    """Yields one dataset row per task whose annotations give a consensus, in task id order.

    Tasks are read lazily (the session stays open while the rows are consumed). Columns:
    ``task_id``, ``data`` (canonical JSON), ``label`` (the first classification control's value as
    text, or None: also None when that control's tie is left unlabeled), ``result`` (JSON),
    ``method``, ``num_annotators``, ``agreement``, ``tie``, ``tie_break`` and ``incomplete`` (see
    :mod:`labelops.domain.consensus`; the overlap is the project's ``maximum_annotations``).
    """
    controls = controls_of(parse_label_config(project.label_config))
    first = next((n for n, t in controls.items() if t in CLASSIFICATION_TYPES), None)
    overlap = project.maximum_annotations
    for task in iter_task_records(session, project.id, only_annotated=True):
        label = consensus_result(task, controls, overlap=overlap)
        if label is None:
            continue
        value = control_value(label.result, first) if first else None
        yield {
            "task_id": task.id,
            "data": _canonical(dict(task.data)),
            "label": _label_text(value),
            "result": _canonical(label.result),
            "method": label.method,
            "num_annotators": label.num_annotators,
            "agreement": label.agreement,
            "tie": label.tie,
            "tie_break": label.tie_break,
            "incomplete": label.incomplete,
        }


def consensus_rows(session: Session, project: ProjectRow) -> list[dict[str, Any]]:
    """Returns every row :func:`iter_consensus_rows` yields, as a list."""
    return list(iter_consensus_rows(session, project))


def _label_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        return "|".join(str(v) for v in value)
    return str(value)


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_version(rows: Sequence[dict[str, Any]]) -> str:
    """Returns the dataset version: the first 16 hex digits of the rows' SHA-256."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(_canonical(row).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def counted_task_count(session: Session, project_id: int) -> int:
    """Returns how many tasks have an annotation that counts (finished and not rejected)."""
    counts = sa.exists().where(
        AnnotationRow.task_id == TaskRow.id,
        AnnotationRow.was_cancelled.is_(False),
        sa.or_(AnnotationRow.review_state.is_(None), AnnotationRow.review_state != "rejected"),
    )
    query = sa.select(sa.func.count(TaskRow.id)).where(TaskRow.project_id == project_id, counts)
    return int(session.scalar(query) or 0)


def get_dataset_version(
    session: Session, project_id: int, version: str
) -> DatasetVersionRow | None:
    """Returns the project's dataset version row, or None."""
    return session.scalar(
        sa.select(DatasetVersionRow).where(
            DatasetVersionRow.project_id == project_id, DatasetVersionRow.version == version
        )
    )


def record_dataset_version(
    session: Session,
    project_id: int,
    *,
    version: str,
    uri: str,
    num_tasks: int,
    details: dict[str, Any],
) -> DatasetVersionRow:
    """Returns the stored dataset version (the existing row when that version exists)."""
    existing = get_dataset_version(session, project_id, version)
    if existing is not None:
        return existing
    row = DatasetVersionRow(
        project_id=project_id, version=version, uri=uri, num_tasks=num_tasks, details=details
    )
    session.add(row)
    session.flush()
    return row


def list_dataset_versions(session: Session, project_id: int) -> list[DatasetVersionRow]:
    """Returns the project's dataset versions, newest first."""
    return list(
        session.scalars(
            sa.select(DatasetVersionRow)
            .where(DatasetVersionRow.project_id == project_id)
            .order_by(DatasetVersionRow.id.desc())
        )
    )


def latest_dataset_version(session: Session, project_id: int) -> DatasetVersionRow | None:
    """Returns the project's newest dataset version, or None."""
    versions = list_dataset_versions(session, project_id)
    return versions[0] if versions else None
