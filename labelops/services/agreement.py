"""Annotator agreement: the annotations' fingerprints that say when to recompute it, and reports.

The agreement asset, the annotation sensor and the web app's pipeline pages all come through here.
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AgreementReportRow, AnnotationRow, ProjectRow, TaskRow
from labelops.domain.agreement_report import ControlAgreement, agreement_report
from labelops.domain.label_config import LabelConfig
from labelops.services.tasks import task_records


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


@dataclass(frozen=True, slots=True)
class TaskAgreement:
    """Agreement of the annotators of one task: the project report's metrics on that task alone.

    ``score`` is the mean over the controls of their per-task agreement (percent agreement for
    classification, mean pairwise F1 for spans and regions); None when no control has two
    annotators. ``controls`` holds each control's agreement with its annotator pairs.
    """

    task_id: int
    score: float | None
    controls: tuple[ControlAgreement, ...]


def task_agreement(session: Session, config: LabelConfig, task: TaskRow) -> TaskAgreement:
    """Returns how far the finished annotations of ``task`` agree, per control and overall."""
    records = task_records(session, [task])
    report = agreement_report(records, controls_of(config))
    controls = tuple(
        c for c in report.controls.values() if c.kind != "unsupported" and len(c.annotators) > 1
    )
    scores = [c.task_agreement.get(task.id, math.nan) for c in controls]
    kept = [s for s in scores if not math.isnan(s)]
    return TaskAgreement(task.id, sum(kept) / len(kept) if kept else None, controls)
