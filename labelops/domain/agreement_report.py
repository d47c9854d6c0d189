"""The project-level agreement report: per control, per annotator pair, per label, per task.

Classification controls (choices, rating, number, ...) get Cohen's kappa per annotator pair,
Fleiss' kappa and Krippendorff's alpha; span controls get span-level F1 per pair; region controls
(boxes, polygons) get IoU-matched F1 per pair. The metrics themselves live in
:mod:`labelops.domain.agreement` and :mod:`labelops.domain.agreement_regions`.
"""

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, cast

from labelops.domain.agreement import (
    CLASSIFICATION_TYPES,
    INTERVAL_TYPES,
    control_value,
    encode_values,
    finished_annotations,
    fleiss_kappa,
    fleiss_table,
    krippendorff_alpha,
    ordered_categories,
    pairwise_kappas,
    percent_agreement,
    result_signature,
)
from labelops.domain.agreement_regions import (
    REGION_TYPES,
    SPAN_TYPES,
    MatchCounts,
    region_counts,
    regions_of,
    span_counts,
    spans_of,
    total,
)
from labelops.domain.records import Annotation, Task

Annotator = int | str


def _num(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _mean(values: Iterable[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return sum(kept) / len(kept) if kept else math.nan


@dataclass(frozen=True, slots=True)
class PairAgreement:
    """Agreement of two annotators on one control, over the tasks both annotated."""

    annotator_a: Annotator
    annotator_b: Annotator
    num_tasks: int
    kappa: float = math.nan
    percent_agreement: float = math.nan
    precision: float = math.nan
    recall: float = math.nan
    f1: float = math.nan
    mean_iou: float = math.nan
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Returns the pair as a JSON-ready dict (NaN becomes None)."""
        out: dict[str, Any] = {"annotator_a": self.annotator_a, "annotator_b": self.annotator_b}
        out["num_tasks"] = self.num_tasks
        for key in ("kappa", "percent_agreement", "precision", "recall", "f1", "mean_iou"):
            out[key] = _num(getattr(self, key))
        out.update(tp=self.tp, fp=self.fp, fn=self.fn)
        return out


@dataclass(frozen=True, slots=True)
class ControlAgreement:
    """Agreement on one control of a project; NaN marks a value that is undefined for the data.

    ``kind`` is "classification" (kappa, alpha, percent agreement), "span" (exact-span F1),
    "region" (IoU-matched F1) or "unsupported" (counts only). ``task_agreement`` is percent
    agreement per task for classification and mean pairwise F1 per task otherwise. ``per_label``
    holds, per label, one-vs-rest nominal alpha for classification, pooled F1 (and mean IoU) over
    all pairs otherwise. ``per_annotator`` is the mean of an annotator's pairwise kappas (F1 for
    spans and regions).
    """

    name: str
    type: str
    kind: str
    num_tasks: int
    annotators: tuple[Annotator, ...]
    pairs: tuple[PairAgreement, ...] = ()
    fleiss_kappa: float = math.nan
    fleiss_num_raters: int = 0
    fleiss_num_tasks: int = 0
    alpha_nominal: float = math.nan
    alpha_interval: float = math.nan
    mean_iou: float = math.nan
    task_agreement: Mapping[int, float] = field(default_factory=dict)
    per_label: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    per_annotator: Mapping[Annotator, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Returns the control's agreement as a JSON-ready dict (NaN becomes None)."""
        return {
            "name": self.name,
            "type": self.type,
            "kind": self.kind,
            "num_tasks": self.num_tasks,
            "annotators": list(self.annotators),
            "pairs": [p.to_dict() for p in self.pairs],
            "fleiss_kappa": _num(self.fleiss_kappa),
            "fleiss_num_raters": self.fleiss_num_raters,
            "fleiss_num_tasks": self.fleiss_num_tasks,
            "krippendorff_alpha_nominal": _num(self.alpha_nominal),
            "krippendorff_alpha_interval": _num(self.alpha_interval),
            "mean_iou": _num(self.mean_iou),
            "task_agreement": {str(t): _num(v) for t, v in self.task_agreement.items()},
            "per_label": {
                label: {k: _num(v) for k, v in stats.items()}
                for label, stats in self.per_label.items()
            },
            "per_annotator": {str(a): _num(v) for a, v in self.per_annotator.items()},
        }


@dataclass(frozen=True, slots=True)
class AgreementReport:
    """Inter-annotator agreement of a project, per control, plus contradictory ground truths."""

    num_tasks: int
    controls: Mapping[str, ControlAgreement]
    contradictory_ground_truth: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Returns the report as a JSON-ready dict."""
        return {
            "num_tasks": self.num_tasks,
            "controls": {name: c.to_dict() for name, c in self.controls.items()},
            "contradictory_ground_truth": list(self.contradictory_ground_truth),
        }


def _by_annotator(tasks: Sequence[Task]) -> list[tuple[int, dict[Annotator, Annotation]]]:
    out = []
    for position, task in enumerate(tasks):
        latest: dict[Annotator, Annotation] = {}
        for k, annotation in enumerate(finished_annotations(task)):
            who = annotation.completed_by
            key: Annotator = who if who is not None else f"annotation-{annotation.id or k}"
            latest[key] = annotation  # an annotator's last annotation of a task counts
        out.append((task.id if task.id is not None else position, latest))
    return out


def _classification(
    name: str, kind: str, per_task: list[tuple[int, dict[Annotator, Annotation]]]
) -> ControlAgreement:
    labels: dict[Annotator, dict[int, Hashable]] = {}
    for task_id, annotations in per_task:
        for who, annotation in annotations.items():
            value = control_value(annotation.result, name)
            if value is not None:
                labels.setdefault(who, {})[task_id] = value
    annotators = tuple(labels)
    task_ids = list(dict.fromkeys(t for per in labels.values() for t in per))
    per_item = {t: [labels[a][t] for a in annotators if t in labels[a]] for t in task_ids}
    pairs = []
    for (first, second), (n, kappa) in pairwise_kappas(labels).items():  # type: ignore[arg-type]
        a, b = cast(Annotator, first), cast(Annotator, second)
        shared = [t for t in labels[a] if t in labels[b]]
        same = sum(labels[a][t] == labels[b][t] for t in shared)
        pairs.append(
            PairAgreement(a, b, n, kappa=kappa, percent_agreement=same / n if n else math.nan)
        )
    # Fleiss' kappa needs a fixed number of raters: take the tasks with the most common number of
    # raters (two or more; on a tie, the larger number).
    rater_counts = Counter(len(v) for v in per_item.values() if len(v) >= 2)
    fleiss, fleiss_n, fleiss_tasks = math.nan, 0, 0
    if rater_counts:
        fleiss_n = max(rater_counts, key=lambda n: (rater_counts[n], n))
        rows = [v for v in per_item.values() if len(v) == fleiss_n]
        table, _ = fleiss_table(rows, ordered_categories([x for v in per_item.values() for x in v]))
        fleiss, fleiss_tasks = fleiss_kappa(table), len(rows)
    rows_by_coder = [[labels[a].get(t) for t in task_ids] for a in annotators]
    alpha_nominal = krippendorff_alpha(encode_values(rows_by_coder)[0]) if task_ids else math.nan
    alpha_interval = math.nan
    numeric = all(isinstance(v, int | float) for per in labels.values() for v in per.values())
    if kind in INTERVAL_TYPES and numeric and task_ids:
        data = [[math.nan if v is None else float(v) for v in row] for row in rows_by_coder]  # type: ignore[arg-type]
        alpha_interval = krippendorff_alpha(data, "interval")
    per_label: dict[str, dict[str, float]] = {}
    singles = {
        x for v in per_item.values() for c in v for x in (c if isinstance(c, tuple) else (c,))
    }
    for label in ordered_categories(list(singles)):
        binary = [
            [
                None if c is None else (label in c if isinstance(c, tuple) else c == label)
                for c in row
            ]
            for row in rows_by_coder
        ]
        count = sum(1 for row in binary for x in row if x)
        per_label[str(label)] = {
            "alpha_nominal": krippendorff_alpha(encode_values(binary)[0]),
            "count": float(count),
        }
    return ControlAgreement(
        name=name,
        type=kind,
        kind="classification",
        num_tasks=len(task_ids),
        annotators=annotators,
        pairs=tuple(pairs),
        fleiss_kappa=fleiss,
        fleiss_num_raters=fleiss_n,
        fleiss_num_tasks=fleiss_tasks,
        alpha_nominal=alpha_nominal,
        alpha_interval=alpha_interval,
        task_agreement={t: percent_agreement(v) for t, v in per_item.items()},
        per_label=per_label,
        per_annotator={
            a: _mean(p.kappa for p in pairs if a in (p.annotator_a, p.annotator_b))
            for a in annotators
        },
    )


def _matched(
    name: str,
    kind: str,
    per_task: list[tuple[int, dict[Annotator, Annotation]]],
    iou_threshold: float,
) -> ControlAgreement:
    is_span = kind in SPAN_TYPES
    pair_totals: dict[tuple[Annotator, Annotator], dict[str, MatchCounts]] = {}
    pair_tasks: Counter[tuple[Annotator, Annotator]] = Counter()
    task_agreement: dict[int, float] = {}
    annotators: dict[Annotator, None] = {}
    num_tasks = 0
    for task_id, annotations in per_task:
        if not annotations:
            continue
        num_tasks += 1
        annotators.update(dict.fromkeys(annotations))
        f1s = []
        for a, b in combinations(annotations, 2):
            ra, rb = annotations[a].result, annotations[b].result
            if is_span:
                counts = span_counts(spans_of(ra, name), spans_of(rb, name))
            else:
                counts = region_counts(
                    regions_of(ra, name), regions_of(rb, name), iou_threshold=iou_threshold
                )
            f1s.append(total(counts).f1)
            pooled = pair_totals.setdefault((a, b), {})
            for label, c in counts.items():
                pooled[label] = pooled.get(label, MatchCounts()) + c
            pair_tasks[(a, b)] += 1
        task_agreement[task_id] = _mean(f1s)
    pairs = []
    per_label_counts: dict[str, MatchCounts] = {}
    for (a, b), counts in pair_totals.items():
        c = total(counts)
        pairs.append(
            PairAgreement(
                a,
                b,
                pair_tasks[(a, b)],
                precision=c.precision,
                recall=c.recall,
                f1=c.f1,
                mean_iou=math.nan if is_span else c.mean_iou,
                tp=c.tp,
                fp=c.fp,
                fn=c.fn,
            )
        )
        for label, lc in counts.items():
            per_label_counts[label] = per_label_counts.get(label, MatchCounts()) + lc
    per_label: dict[str, dict[str, float]] = {}
    for label in sorted(per_label_counts):
        lc = per_label_counts[label]
        per_label[label] = {"f1": lc.f1, "precision": lc.precision, "recall": lc.recall}
        if not is_span:
            per_label[label]["mean_iou"] = lc.mean_iou
    everything = total(per_label_counts)
    return ControlAgreement(
        name=name,
        type=kind,
        kind="span" if is_span else "region",
        num_tasks=num_tasks,
        annotators=tuple(annotators),
        pairs=tuple(pairs),
        mean_iou=math.nan if is_span else everything.mean_iou,
        task_agreement=task_agreement,
        per_label=per_label,
        per_annotator={
            a: _mean(p.f1 for p in pairs if a in (p.annotator_a, p.annotator_b)) for a in annotators
        },
    )


def agreement_report(
    tasks: Iterable[Task], controls: Mapping[str, str], *, iou_threshold: float = 0.5
) -> AgreementReport:
    """Returns the inter-annotator agreement of a project, per control.

    Cancelled and rejected annotations are left out; annotators are told apart by ``completed_by``
    (an annotation without one counts as its own annotator) and an annotator's last annotation of a
    task is the one that counts. Classification controls get Cohen's kappa and percent agreement
    per pair (on tasks both labeled), Fleiss' kappa over the tasks with the most common number of
    raters, Krippendorff's alpha (nominal, and interval for rating and number), percent agreement
    per task, one-vs-rest alpha per label and each annotator's mean kappa with the others. Span
    controls get exact-span F1 per pair and label; box and polygon controls get F1 after
    one-to-one IoU matching at ``iou_threshold`` and the mean IoU of the matches. Tasks with two
    ground-truth annotations whose results differ are listed by id.

    Args:
        tasks: Tasks with their annotations.
        controls: Control name -> result type, e.g. ``{"bbox": "rectanglelabels"}``.
        iou_threshold: The smallest IoU at which two regions match.

    Returns:
        The report.
    """
    task_list = list(tasks)
    per_task = _by_annotator(task_list)
    out: dict[str, ControlAgreement] = {}
    for name, kind in controls.items():
        if kind in CLASSIFICATION_TYPES:
            out[name] = _classification(name, kind, per_task)
        elif kind in SPAN_TYPES or kind in REGION_TYPES:
            out[name] = _matched(name, kind, per_task, iou_threshold)
        else:
            labeled = [
                (t, a)
                for t, a in per_task
                if any(i.get("from_name") == name for x in a.values() for i in x.result)
            ]
            who = tuple(dict.fromkeys(k for _, a in labeled for k in a))
            out[name] = ControlAgreement(name, kind, "unsupported", len(labeled), who)
    contradictory = []
    for position, task in enumerate(task_list):
        truths = {result_signature(a) for a in finished_annotations(task) if a.ground_truth}
        if len(truths) > 1:
            contradictory.append(task.id if task.id is not None else position)
    return AgreementReport(len(task_list), out, tuple(contradictory))
