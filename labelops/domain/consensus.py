"""Consensus label of one task from its annotations, for the labeled dataset.

Which annotations count, in order of precedence:

1. Cancelled annotations and rejected ones (``review_state == "rejected"``) never count.
2. A ground-truth annotation wins outright (method "ground_truth"). Several ground truths that
   agree give that result; several that differ are a tie (see below).
3. If any annotation was accepted in review, consensus is computed over the accepted ones only
   (method "reviewed"); unreviewed annotations are then ignored.
4. Otherwise every remaining annotation counts: one alone is taken as is (method "single"), two or
   more are voted on (method "majority").

Voting per control: classification controls (choices, rating, number, textarea, ...) take the
plurality category. Spans keep every exact (location, label) span that a strict majority of the
voters marked; boxes and polygons keep a region when a strict majority of voters have a same-label
region with IoU at or above the threshold with it. Relations and controls of other kinds are not
voted on. ``agreement`` is the mean over voted controls of the share of votes behind the result
(winner's votes over voters; kept spans' or regions' marks over all marks); it is None when fewer
than two annotations were compared.

Ties (``TIE_RULE``) are never broken by label order or value: a tied control takes the value of a
reviewer-accepted annotation of the task when those name exactly one of the tied values, else that
of the ground truth when it names exactly one of them, else the control is left unlabeled (no
result item) and the consensus is flagged ``tie``. ``tie_break`` says which rule decided.

A task is ``incomplete`` when its label comes from plain votes (methods "single" and "majority")
of fewer counted annotations than the project's overlap (``maximum_annotations``); reviewed and
ground-truth labels are complete by the reviewer's or manager's word.
"""

import copy
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from labelops.domain.agreement import (
    CLASSIFICATION_TYPES,
    control_value,
    finished_annotations,
    result_signature,
)
from labelops.domain.agreement_regions import (
    REGION_TYPES,
    SPAN_TYPES,
    Region,
    regions_of,
    spans_of,
)
from labelops.domain.records import Annotation, ResultItem, Task

Method = Literal["ground_truth", "reviewed", "majority", "single"]
TieBreak = Literal["reviewed", "ground_truth", "unlabeled"]
TIE_RULE = (
    "a tie takes the value of the task's reviewer-accepted annotation, else of its ground truth, "
    "else the tied control is left unlabeled (label null, tie true); label order never decides"
)


@dataclass(frozen=True, slots=True)
class ConsensusLabel:
    """The consensus result of one task and how it was reached."""

    result: list[ResultItem]
    method: Method
    num_annotators: int
    agreement: float | None
    tie: bool = False
    tied_controls: tuple[str, ...] = ()
    annotation_ids: tuple[int | None, ...] = ()
    tie_break: TieBreak | None = None
    incomplete: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Returns the consensus as a JSON-ready dict."""
        return {
            "result": self.result,
            "method": self.method,
            "num_annotators": self.num_annotators,
            "agreement": self.agreement,
            "tie": self.tie,
            "tied_controls": list(self.tied_controls),
            "annotation_ids": list(self.annotation_ids),
            "tie_break": self.tie_break,
            "incomplete": self.incomplete,
        }


def _items_of(annotation: Annotation, control: str) -> list[ResultItem]:
    return [i for i in annotation.result if i.get("from_name") == control]


def _only_one(
    annotations: Sequence[Annotation], control: str, allowed: Sequence[Hashable]
) -> Annotation | None:
    """Returns an annotation naming the one allowed value these annotations name, else None."""
    named = [(control_value(a.result, control), a) for a in annotations]
    named = [(value, a) for value, a in named if value is not None]
    values = {value for value, _ in named}
    if len(values) != 1 or next(iter(values)) not in allowed:
        return None
    return named[-1][1]


def _break_tie(
    task_annotations: Sequence[Annotation], control: str, leaders: Sequence[Hashable]
) -> tuple[Annotation | None, TieBreak]:
    """Returns the annotation whose value breaks the tie (or None) and the rule that decided."""
    accepted = [a for a in task_annotations if a.review_state == "accepted"]
    chosen = _only_one(accepted, control, leaders)
    if chosen is not None:
        return chosen, "reviewed"
    truths = [a for a in task_annotations if a.ground_truth]
    chosen = _only_one(truths, control, leaders)
    if chosen is not None:
        return chosen, "ground_truth"
    return None, "unlabeled"


def _vote_classification(
    pool: Sequence[Annotation], control: str, task_annotations: Sequence[Annotation]
) -> tuple[list[ResultItem], float, TieBreak | None] | None:
    votes: list[tuple[Hashable, Annotation]] = []
    for annotation in pool:
        category = control_value(annotation.result, control)
        if category is not None:
            votes.append((category, annotation))
    if not votes:
        return None
    counts = Counter(category for category, _ in votes)
    top = max(counts.values())
    leaders = [c for c, n in counts.items() if n == top]
    if len(leaders) == 1:
        winner = next(a for category, a in votes if category == leaders[0])
        return copy.deepcopy(_items_of(winner, control)), top / len(votes), None
    chosen, rule = _break_tie(task_annotations, control, leaders)
    items = copy.deepcopy(_items_of(chosen, control)) if chosen is not None else []
    return items, top / len(votes), rule


def _vote_spans(pool: Sequence[Annotation], control: str) -> tuple[list[ResultItem], float | None]:
    votes: Counter[Any] = Counter()
    first_item: dict[Any, ResultItem] = {}
    for annotation in pool:
        for item in annotation.result:
            if item.get("from_name") != control:
                continue
            for key in spans_of([item], control):
                first_item.setdefault(key, item)
        votes.update(spans_of(annotation.result, control))
    kept = [key for key, n in votes.items() if 2 * n > len(pool)]
    out = []
    for key in sorted(kept, key=repr):
        item = copy.deepcopy(first_item[key])
        item["value"][item["type"]] = [key[1]]
        out.append(item)
    marked = sum(votes.values())
    return out, (sum(votes[k] for k in kept) / marked if marked else None)


def _vote_regions(
    pool: Sequence[Annotation], control: str, iou_threshold: float
) -> tuple[list[ResultItem], float | None]:
    per_annotator: list[list[tuple[Region, ResultItem]]] = []
    for annotation in pool:
        pairs = [
            (region, item)
            for item in annotation.result
            if item.get("from_name") == control
            for region in regions_of([item], control)
        ]
        per_annotator.append(pairs)
    used: set[tuple[int, int]] = set()
    out: list[ResultItem] = []
    kept_votes = 0
    for a, pairs in enumerate(per_annotator):
        for i, (seed, item) in enumerate(pairs):
            if (a, i) in used:
                continue
            cluster = [(a, i)]
            for b in range(a + 1, len(per_annotator)):
                best, best_iou = None, iou_threshold
                for j, (other, _) in enumerate(per_annotator[b]):
                    if (b, j) in used or other.label != seed.label:
                        continue
                    union = seed.geometry.union(other.geometry).area
                    iou = seed.geometry.intersection(other.geometry).area / union if union else 0.0
                    if iou >= best_iou:
                        best, best_iou = j, iou
                if best is not None:
                    cluster.append((b, best))
            if 2 * len(cluster) > len(pool):
                used.update(cluster)
                kept_votes += len(cluster)
                kept = copy.deepcopy(item)
                if str(kept.get("type", "")).endswith("labels"):
                    kept["value"][kept["type"]] = [seed.label]
                out.append(kept)
    marked = sum(len(p) for p in per_annotator)
    return out, (kept_votes / marked if marked else None)


def _ground_truth(truths: Sequence[Annotation]) -> ConsensusLabel:
    if len({result_signature(t) for t in truths}) == 1:
        chosen = truths[-1]
        return ConsensusLabel(
            result=copy.deepcopy(chosen.result),
            method="ground_truth",
            num_annotators=len(truths),
            agreement=1.0 if len(truths) > 1 else None,
            annotation_ids=(chosen.id,),
        )
    accepted = [t for t in truths if t.review_state == "accepted"]
    if accepted and len({result_signature(t) for t in accepted}) == 1:
        chosen = accepted[-1]
        return ConsensusLabel(
            result=copy.deepcopy(chosen.result),
            method="ground_truth",
            num_annotators=len(truths),
            agreement=None,
            annotation_ids=(chosen.id,),
            tie_break="reviewed",
        )
    return ConsensusLabel(
        result=[],
        method="ground_truth",
        num_annotators=len(truths),
        agreement=None,
        tie=True,
        annotation_ids=tuple(t.id for t in truths),
        tie_break="unlabeled",
    )


def consensus_result(
    task: Task,
    controls: Mapping[str, str],
    *,
    overlap: int = 1,
    iou_threshold: float = 0.5,
) -> ConsensusLabel | None:
    """Returns the consensus label of one task, or None when no annotation counts.

    See the module docstring for the rules. Ground-truth and single annotations are returned whole;
    a vote returns only items of the given controls.

    Args:
        task: The task with its annotations.
        controls: Control name -> result type, e.g. ``{"sentiment": "choices"}``.
        overlap: How many annotations the project asks per task; a plain vote of fewer is
            flagged ``incomplete``.
        iou_threshold: The smallest IoU at which two regions are the same region.

    Returns:
        The consensus, or None.
    """
    usable = finished_annotations(task)
    if not usable:
        return None
    truths = [a for a in usable if a.ground_truth]
    if truths:
        return _ground_truth(truths)
    accepted = [a for a in usable if a.review_state == "accepted"]
    pool = accepted or usable
    method: Method = "reviewed" if accepted else "majority"
    ids = tuple(a.id for a in pool)
    if len(pool) == 1:
        return ConsensusLabel(
            result=copy.deepcopy(pool[0].result),
            method="reviewed" if accepted else "single",
            num_annotators=1,
            agreement=None,
            annotation_ids=ids,
            incomplete=not accepted and len(usable) < overlap,
        )
    result: list[ResultItem] = []
    agreements: list[float] = []
    share: float | None
    tied: list[str] = []
    rules: list[TieBreak] = []
    for control, kind in controls.items():
        if kind in CLASSIFICATION_TYPES:
            voted = _vote_classification(pool, control, usable)
            if voted is None:
                continue
            items, share, rule = voted
            if rule is not None:
                rules.append(rule)
                if rule == "unlabeled":
                    tied.append(control)
        elif kind in SPAN_TYPES:
            items, share = _vote_spans(pool, control)
        elif kind in REGION_TYPES:
            items, share = _vote_regions(pool, control, iou_threshold)
        else:
            continue
        result.extend(items)
        if share is not None:
            agreements.append(share)
    return ConsensusLabel(
        result=result,
        method=method,
        num_annotators=len(pool),
        agreement=sum(agreements) / len(agreements) if agreements else None,
        tie=bool(tied),
        tied_controls=tuple(tied),
        annotation_ids=ids,
        tie_break="unlabeled" if tied else (rules[0] if rules else None),
        incomplete=not accepted and len(usable) < overlap,
    )
