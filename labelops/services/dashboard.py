"""Figures for a project's dashboard: progress, throughput, label counts and agreement.

Progress is annotations per day, throughput is per annotator, and agreement is the latest report
the pipeline wrote (see :mod:`labelops.services.dashboard_agreement`).

Every count of annotations follows one definition (:func:`finished_annotation`): a *finished*
annotation was submitted, not skipped, and not rejected by a reviewer, which is what counts toward
a task's overlap. Skipped and rejected annotations are counted apart, so the totals, the
throughput table and the progress chart add up to the same numbers.

Each figure is one grouped query over indexed columns; label counts read the results of the most
recent annotations only (``label_sample``), so the page stays fast on a million-task project.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AnnotationRow, ProjectRow, UserRow
from labelops.domain.label_interface import LABEL_KEYS
from labelops.services.dashboard_agreement import AgreementPanel, agreement_panel


@dataclass
class Dashboard:
    """What the dashboard page draws."""

    totals: dict[str, int] = field(default_factory=dict)
    per_day: list[dict[str, Any]] = field(default_factory=list)
    annotators: list[dict[str, Any]] = field(default_factory=list)
    labels: list[dict[str, Any]] = field(default_factory=list)
    labels_sampled: int = 0
    agreement: AgreementPanel | None = None
    overlap: int = 1
    own_work_only: bool = False

    def to_json(self) -> dict[str, Any]:
        """Returns the figures as JSON for the page's charts."""
        return {
            "totals": self.totals,
            "per_day": self.per_day,
            "annotators": self.annotators,
            "labels": self.labels,
            "labels_sampled": self.labels_sampled,
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
    throughput = annotator_throughput(session, project_id, author_id=author_id)
    figures = Dashboard(
        totals={
            key: sum(a[key] for a in throughput) for key in ("finished", "rejected", "skipped")
        },
        per_day=annotations_per_day(session, project_id, now=now, days=days, author_id=author_id),
        annotators=throughput,
        **_label_counts(session, project_id, label_sample, author_id=author_id),
        overlap=session.get_one(ProjectRow, project_id).maximum_annotations,
        own_work_only=author_id is not None,
    )
    if author_id is None:
        figures.agreement = agreement_panel(session, project_id)
    return figures


def finished_annotation() -> sa.ColumnElement[bool]:
    """Returns the condition of a finished annotation: submitted, not skipped, not rejected.

    It is what counts toward a task's overlap (``ProjectRow.num_annotations`` keeps the same
    count); the dashboard counts skipped and rejected annotations apart.
    """
    return sa.and_(
        AnnotationRow.was_cancelled.is_(False),
        sa.or_(AnnotationRow.review_state.is_(None), AnnotationRow.review_state != "rejected"),
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
    """Returns ``[{day, count}]`` of finished annotations created on each of the last ``days``."""
    start = (now - timedelta(days=days - 1)).date()
    day = sa.func.date(AnnotationRow.created_at)
    rows = session.execute(
        sa.select(day, sa.func.count())
        .where(
            _of(project_id, author_id),
            finished_annotation(),
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
    """Returns per annotator: finished, rejected and skipped annotations and mean lead time.

    The busiest come first; annotations without an author (imported) are one row whose
    ``email`` is None, so the rows add up to the project's totals.
    """
    finished = sa.func.sum(sa.case((finished_annotation(), 1), else_=0))
    rejected = sa.func.sum(
        sa.case(
            (
                sa.and_(
                    AnnotationRow.was_cancelled.is_(False),
                    AnnotationRow.review_state == "rejected",
                ),
                1,
            ),
            else_=0,
        )
    )
    skipped = sa.func.sum(sa.case((AnnotationRow.was_cancelled.is_(True), 1), else_=0))
    rows = session.execute(
        sa.select(UserRow.email, finished, rejected, skipped, sa.func.avg(AnnotationRow.lead_time))
        .outerjoin(UserRow, UserRow.id == AnnotationRow.completed_by_id)
        .where(_of(project_id, author_id))
        .group_by(UserRow.email)
        .order_by(finished.desc(), UserRow.email)
    )
    return [
        {
            "email": email,
            "finished": int(done or 0),
            "rejected": int(rejects or 0),
            "skipped": int(skip or 0),
            "mean_lead_time": round(float(lead), 1) if lead is not None else None,
        }
        for email, done, rejects, skip, lead in rows
    ]


def _label_counts(
    session: Session, project_id: int, sample: int, *, author_id: int | None = None
) -> dict[str, Any]:
    results = session.scalars(
        sa.select(AnnotationRow.result)
        .where(_of(project_id, author_id), finished_annotation())
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
