"""Figures for a project's dashboard: progress, throughput, label counts and agreement.

Progress is annotations per day, throughput is per annotator, and agreement is the latest report
the pipeline wrote.

Each figure is one grouped query over indexed columns; label counts read the results of the most
recent annotations only (``label_sample``), so the page stays fast on a million-task project.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AgreementReportRow, AnnotationRow, UserRow
from labelops.domain.label_interface import LABEL_KEYS


@dataclass
class Dashboard:
    """What the dashboard page draws."""

    per_day: list[dict[str, Any]] = field(default_factory=list)
    annotators: list[dict[str, Any]] = field(default_factory=list)
    labels: list[dict[str, Any]] = field(default_factory=list)
    labels_sampled: int = 0
    agreement: dict[str, Any] | None = None
    agreement_at: datetime | None = None
    own_work_only: bool = False

    def to_json(self) -> dict[str, Any]:
        """Returns the figures as JSON for the page's charts."""
        return {
            "per_day": self.per_day,
            "annotators": self.annotators,
            "labels": self.labels,
            "labels_sampled": self.labels_sampled,
            "agreement": self.agreement,
        }


def project_dashboard(
    session: Session,
    project_id: int,
    *,
    now: datetime,
    days: int = 30,
    label_sample: int = 20_000,
    author_id: int | None = None,
) -> Dashboard:
    """Returns the dashboard figures of a project, or of one author's work in it.

    Args:
        session: The database session.
        project_id: The project.
        now: The current time (the last day of the progress chart).
        days: How many days the progress chart covers.
        label_sample: How many of the most recent annotations the label counts read.
        author_id: When set, every figure counts only this user's annotations and the
            agreement report (which compares annotators) is left out: what a blind
            annotator may see (``services.visibility.visible_dashboard``).
    """
    if author_id is not None:
        return Dashboard(
            per_day=annotations_per_day(
                session, project_id, now=now, days=days, author_id=author_id
            ),
            annotators=annotator_throughput(session, project_id, author_id=author_id),
            **_label_counts(session, project_id, label_sample, author_id=author_id),
            own_work_only=True,
        )
    return Dashboard(
        per_day=annotations_per_day(session, project_id, now=now, days=days),
        annotators=annotator_throughput(session, project_id),
        **_label_counts(session, project_id, label_sample),
        **_agreement(session, project_id),
    )


def _of(project_id: int, author_id: int | None) -> sa.ColumnElement[bool]:
    """Returns the condition on annotations: the project's, and the author's when one is given."""
    condition = AnnotationRow.project_id == project_id
    if author_id is not None:
        condition = sa.and_(condition, AnnotationRow.completed_by_id == author_id)
    return condition


def annotations_per_day(
    session: Session, project_id: int, *, now: datetime, days: int, author_id: int | None = None
) -> list[dict[str, Any]]:
    """Returns ``[{day, count}]`` for each of the last ``days`` days, zeros included."""
    start = (now - timedelta(days=days - 1)).date()
    day = sa.func.date(AnnotationRow.created_at)
    rows = session.execute(
        sa.select(day, sa.func.count())
        .where(
            _of(project_id, author_id),
            AnnotationRow.was_cancelled.is_(False),
            AnnotationRow.created_at >= datetime.combine(start, datetime.min.time()),
        )
        .group_by(day)
    )
    counts = {str(d)[:10]: int(n) for d, n in rows}
    return [
        {"day": (d := start + timedelta(days=i)).isoformat(), "count": counts.get(d.isoformat(), 0)}
        for i in range((now.date() - start).days + 1)
    ]


def annotator_throughput(
    session: Session, project_id: int, *, author_id: int | None = None
) -> list[dict[str, Any]]:
    """Returns per annotator: finished and skipped annotations and mean lead time, busiest first."""
    finished = sa.func.sum(sa.case((AnnotationRow.was_cancelled.is_(False), 1), else_=0))
    skipped = sa.func.sum(sa.case((AnnotationRow.was_cancelled.is_(True), 1), else_=0))
    rows = session.execute(
        sa.select(UserRow.email, finished, skipped, sa.func.avg(AnnotationRow.lead_time))
        .join(UserRow, UserRow.id == AnnotationRow.completed_by_id)
        .where(_of(project_id, author_id))
        .group_by(UserRow.email)
        .order_by(finished.desc(), UserRow.email)
    )
    return [
        {
            "email": email,
            "finished": int(done or 0),
            "skipped": int(skip or 0),
            "mean_lead_time": round(float(lead), 1) if lead is not None else None,
        }
        for email, done, skip, lead in rows
    ]


def _label_counts(
    session: Session, project_id: int, sample: int, *, author_id: int | None = None
) -> dict[str, Any]:
    results = session.scalars(
        sa.select(AnnotationRow.result)
        .where(_of(project_id, author_id), AnnotationRow.was_cancelled.is_(False))
        .order_by(AnnotationRow.id.desc())
        .limit(sample)
    ).all()
    counts: Counter[tuple[str, str]] = Counter()
    for result in results:
        for item in result or []:
            value = item.get("value") if isinstance(item, dict) else None
            if not isinstance(value, dict):
                continue
            for key in LABEL_KEYS:
                for label in value.get(key) or []:
                    name = " / ".join(map(str, label)) if isinstance(label, list) else str(label)
                    counts[(str(item.get("from_name", "")), name)] += 1
    return {
        "labels": [
            {"control": control, "label": label, "count": n}
            for (control, label), n in counts.most_common(40)
        ],
        "labels_sampled": len(results),
    }


def _agreement(session: Session, project_id: int) -> dict[str, Any]:
    row = session.scalar(
        sa.select(AgreementReportRow)
        .where(AgreementReportRow.project_id == project_id)
        .order_by(AgreementReportRow.created_at.desc(), AgreementReportRow.id.desc())
        .limit(1)
    )
    if row is None:
        return {}
    return {"agreement": row.report, "agreement_at": row.created_at}
