"""The dashboard's agreement panel: the latest stored agreement report, read for people.

The pipeline stores the report as JSON keyed by user id (:mod:`labelops.domain.agreement_report`);
the panel gives each control its headline figures (kappa, alpha, percent agreement, F1), a row per
label and per annotator pair with the annotators' names, and the tasks whose annotators agreed
least, so a manager can open them.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AgreementReportRow, UserRow

WORST_TASKS = 10


@dataclass(frozen=True, slots=True)
class PairRow:
    """Agreement of two annotators on one control."""

    first: str
    second: str
    num_tasks: int
    kappa: float | None
    percent: float | None
    f1: float | None


@dataclass(frozen=True, slots=True)
class LabelRow:
    """Agreement on one label of a control: one-vs-rest alpha, or F1 for spans and regions."""

    label: str
    count: int | None
    alpha: float | None
    f1: float | None


@dataclass(frozen=True, slots=True)
class ControlPanel:
    """One control's figures; None marks a figure the data leaves undefined."""

    name: str
    kind: str
    num_tasks: int
    kappa: float | None
    alpha: float | None
    percent: float | None
    f1: float | None
    labels: tuple[LabelRow, ...]
    pairs: tuple[PairRow, ...]


@dataclass(frozen=True, slots=True)
class WorstTask:
    """A task with low agreement, at its least agreed control."""

    task_id: int
    control: str
    agreement: float


@dataclass(frozen=True, slots=True)
class AgreementPanel:
    """What the dashboard shows of the latest agreement report."""

    computed_at: datetime
    num_tasks: int
    controls: tuple[ControlPanel, ...]
    worst_tasks: tuple[WorstTask, ...]

    @property
    def num_pairs(self) -> int:
        """Returns how many annotator pairs the report compares, over all controls."""
        return sum(len(c.pairs) for c in self.controls)


def agreement_panel(session: Session, project_id: int) -> AgreementPanel | None:
    """Returns the panel of the project's latest agreement report, or None when it has none."""
    row = session.scalar(
        sa.select(AgreementReportRow)
        .where(AgreementReportRow.project_id == project_id)
        .order_by(AgreementReportRow.created_at.desc(), AgreementReportRow.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    report = row.report if isinstance(row.report, dict) else {}
    stored = report.get("controls")
    controls = _dicts(stored.values()) if isinstance(stored, dict) else []
    names = _user_names(
        session,
        {
            who
            for c in controls
            for p in _dicts(c.get("pairs"))
            for who in (p.get("annotator_a"), p.get("annotator_b"))
        },
    )
    return AgreementPanel(
        computed_at=row.created_at,
        num_tasks=_int(report.get("num_tasks")) or 0,
        controls=tuple(_control(c, names) for c in controls),
        worst_tasks=_worst_tasks(controls),
    )


def _dicts(items: Any) -> list[dict[str, Any]]:
    """Returns the dicts among ``items`` (a stored report from an older version may differ)."""
    return [i for i in items if isinstance(i, dict)] if isinstance(items, Iterable) else []


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


def _int(value: Any) -> int | None:
    number = _float(value)
    return None if number is None else int(number)


def _mean(values: Iterable[Any]) -> float | None:
    kept = [v for v in map(_float, values) if v is not None]
    return sum(kept) / len(kept) if kept else None


def _user_names(session: Session, ids: set[Any]) -> dict[Any, str]:
    """Returns a name per annotator key of the report: the user's full name, else their email."""
    user_ids = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}
    names: dict[Any, str] = {i: "an annotation without an author" for i in ids if i not in user_ids}
    for user in session.scalars(sa.select(UserRow).where(UserRow.id.in_(user_ids))):
        full = f"{user.first_name} {user.last_name}".strip()
        names[user.id] = full or user.email
    names.update({i: f"deleted user {i}" for i in user_ids if i not in names})
    return names


def _control(control: Mapping[str, Any], names: Mapping[Any, str]) -> ControlPanel:
    pairs = _dicts(control.get("pairs"))
    tasks = control.get("task_agreement")
    classification = control.get("kind") == "classification"
    per_label = control.get("per_label")
    labels: dict[Any, Any] = per_label if isinstance(per_label, dict) else {}
    fleiss = _float(control.get("fleiss_kappa"))
    return ControlPanel(
        name=str(control.get("name", "")),
        kind=str(control.get("kind", "")),
        num_tasks=_int(control.get("num_tasks")) or 0,
        kappa=fleiss if fleiss is not None else _mean(p.get("kappa") for p in pairs),
        alpha=_float(control.get("krippendorff_alpha_nominal")),
        percent=_mean(tasks.values()) if classification and isinstance(tasks, dict) else None,
        f1=None if classification else _mean(p.get("f1") for p in pairs),
        labels=tuple(
            LabelRow(
                label=str(label),
                count=_int(stats.get("count")),
                alpha=_float(stats.get("alpha_nominal")),
                f1=_float(stats.get("f1")),
            )
            for label, stats in labels.items()
            if isinstance(stats, dict)
        ),
        pairs=tuple(
            PairRow(
                first=names.get(p.get("annotator_a"), str(p.get("annotator_a"))),
                second=names.get(p.get("annotator_b"), str(p.get("annotator_b"))),
                num_tasks=_int(p.get("num_tasks")) or 0,
                kappa=_float(p.get("kappa")),
                percent=_float(p.get("percent_agreement")),
                f1=_float(p.get("f1")),
            )
            for p in pairs
            if _int(p.get("num_tasks"))  # pairs that share no task compare nothing
        ),
    )


def _worst_tasks(controls: list[dict[str, Any]]) -> tuple[WorstTask, ...]:
    """Returns the tasks where annotators disagreed (at their least agreed control), worst first."""
    worst: dict[int, WorstTask] = {}
    for control in controls:
        per_task = control.get("task_agreement")
        for key, value in per_task.items() if isinstance(per_task, dict) else ():
            agreement = _float(value)
            task_id = int(key) if str(key).isdigit() else None
            if agreement is None or task_id is None:
                continue
            if task_id not in worst or agreement < worst[task_id].agreement:
                worst[task_id] = WorstTask(task_id, str(control.get("name", "")), agreement)
    ranked = sorted(worst.values(), key=lambda t: (t.agreement, t.task_id))
    return tuple(t for t in ranked if t.agreement < 1.0)[:WORST_TASKS]
