"""Consensus label of one task from its annotations, for the labeled dataset.

Which annotations count, in order of precedence:

1. Cancelled annotations and rejected ones (``review_state == "rejected"``) never count.
2. A ground-truth annotation wins outright (method "ground_truth"); with several, the last one in
   the task's order is taken and, if their results differ, the consensus is flagged as a tie.
3. If any annotation was accepted in review, consensus is computed over the accepted ones only
   (method "reviewed"); unreviewed annotations are then ignored.
4. Otherwise every remaining annotation counts: one alone is taken as is (method "single"), two or
   more are voted on (method "majority").

Voting per control: classification controls (choices, rating, number, textarea, ...) take the
plurality category; a tie is broken by the config's label order when given, then by the smaller
number, then lexicographically, and flagged. Spans keep every exact (location, label) span that a
strict majority of the voters marked; boxes and polygons keep a region when a strict majority of
voters have a same-label region with IoU at or above the threshold with it. Relations and
controls of other kinds are not voted on. ``agreement`` is the mean over voted controls of the
share of votes behind the result (winner's votes over voters; kept spans' or regions' marks over
all marks).
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
        }


def _tie_key(category: Hashable, order: Sequence[str]) -> tuple[Any, ...]:
    labels = category if isinstance(category, tuple) else (category,)
    ranks = tuple(order.index(x) if x in order else len(order) for x in labels) if order else ()
    numeric = all(isinstance(x, int | float) and not isinstance(x, bool) for x in labels)
    numbers = tuple(float(x) for x in labels) if numeric else ()  # type: ignore[arg-type]
    return (ranks, numbers, repr(category))


def _vote_classification(
    pool: Sequence[Annotation], control: str, order: Sequence[str]
) -> tuple[list[ResultItem], float, bool] | None:
    votes: list[tuple[Hashable, list[ResultItem]]] = []
    for annotation in pool:
        category = control_value(annotation.result, control)
        if category is not None:
            items = [i for i in annotation.result if i.get("from_name") == control]
            votes.append((category, items))
    if not votes:
        return None
    counts = Counter(category for category, _ in votes)
    top = max(counts.values())
    leaders = [c for c, n in counts.items() if n == top]
    winner = min(leaders, key=lambda c: _tie_key(c, order))
    items = next(items for category, items in votes if category == winner)
    return copy.deepcopy(items), top / len(votes), len(leaders) > 1


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
    chosen = truths[-1]
    differ = len({result_signature(t) for t in truths}) > 1
    return ConsensusLabel(
        result=copy.deepcopy(chosen.result),
        method="ground_truth",
        num_annotators=len(truths),
        agreement=1.0 if not differ else None,
        tie=differ,
        annotation_ids=(chosen.id,),
    )


def consensus_result(
    task: Task,
    controls: Mapping[str, str],
    *,
    label_order: Mapping[str, Sequence[str]] | None = None,
    iou_threshold: float = 0.5,
) -> ConsensusLabel | None:
    """Returns the consensus label of one task, or None when no annotation counts.

    See the module docstring for the rules. Ground-truth and single annotations are returned whole;
    a vote returns only items of the given controls.

    Args:
        task: The task with its annotations.
        controls: Control name -> result type, e.g. ``{"sentiment": "choices"}``.
        label_order: Control name -> labels in config order, for breaking ties.
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
            agreement=1.0,
            annotation_ids=ids,
        )
    result: list[ResultItem] = []
    agreements: list[float] = []
    share: float | None
    tied: list[str] = []
    for control, kind in controls.items():
        if kind in CLASSIFICATION_TYPES:
            order = (label_order or {}).get(control, ())
            voted = _vote_classification(pool, control, order)
            if voted is None:
                continue
            items, share, tie = voted
            if tie:
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
    )
