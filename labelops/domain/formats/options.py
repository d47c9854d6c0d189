"""Export options and the choice of which annotations of a task an export carries.

Label Studio's converter drops cancelled (skipped) annotations and writes the remaining ones newest
first; :func:`select_annotations` does the same and then applies the options: only some annotators,
a creation-date window, and one of four policies (all, latest, consensus, ground truth).

Date filters compare the annotation's ``created_at``; an annotation without one is left out when a
date filter is set. Naive datetimes are compared as they are (the records hold naive UTC).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from labelops.domain.errors import InvalidInputError
from labelops.domain.records import Annotation, ResultItem, Task

AnnotationPolicy = Literal["all", "latest", "consensus", "ground_truth"]

ConsensusFn = Callable[[Task], list[ResultItem] | None]
# Returns the bytes of the media file a task's data names (a URL or bucket URI), or None when it
# cannot be read; the caller decides what may be read (the domain does no I/O).
MediaReader = Callable[[str], bytes | None]


@dataclass(frozen=True)
class ExportOptions:
    """What an export includes.

    Attributes:
        annotations: Which annotations per task: every one, the newest one, the consensus result
            (computed by ``consensus``) or the ground-truth ones.
        include_predictions: Whether the JSON export lists the tasks' predictions. Defaults to True
            because Label Studio's JSON export includes them; the flat formats (JSON_MIN, CSV, TSV
            and the training formats) never carry predictions.
        annotators: Keep only annotations by these user ids (None keeps all).
        since: Keep only annotations created at or after this time.
        until: Keep only annotations created before this time.
        download_all_tasks: Whether tasks left with no selected annotation are exported too (Label
            Studio's ``download_all_tasks``; its REST default is False, so pass it explicitly).
        consensus: Returns the consensus result of a task, or None when there is none; required
            when ``annotations == "consensus"``.
        media: Reads a task's image; when set, the vision formats (COCO, VOC, YOLO*) put the
            images in their zip (``include_images``).
    """

    annotations: AnnotationPolicy = "all"
    include_predictions: bool = True
    annotators: frozenset[int] | None = None
    since: datetime | None = None
    until: datetime | None = None
    download_all_tasks: bool = True
    consensus: ConsensusFn | None = None
    media: MediaReader | None = None

    def __post_init__(self) -> None:
        if self.annotations not in ("all", "latest", "consensus", "ground_truth"):
            raise InvalidInputError(
                f"unknown annotation policy {self.annotations!r}; "
                "expected one of all, latest, consensus, ground_truth"
            )
        if self.annotations == "consensus" and self.consensus is None:
            raise ValueError("annotations='consensus' needs a consensus function")


def select_annotations(
    task: Task, options: ExportOptions, *, keep_cancelled: bool = False
) -> list[Annotation]:
    """Returns the annotations of a task that an export carries, newest first.

    Args:
        task: The task.
        options: The export options (policy, annotator and date filters).
        keep_cancelled: Keep cancelled annotations (Label Studio's full JSON export lists them,
            marked ``was_cancelled``; every converted format drops them).

    Returns:
        The selected annotations; for ``"consensus"`` one synthetic annotation (no id, no
        annotator) holding the consensus result, or none when the task has no consensus.
    """
    if options.annotations == "consensus":
        assert options.consensus is not None  # checked in ExportOptions.__post_init__
        result = options.consensus(task)
        return [] if result is None else [Annotation(result=list(result))]
    kept = [a for a in task.annotations if _passes(a, options, keep_cancelled)]
    kept.sort(key=_newest_first_key)
    if options.annotations == "latest":
        return kept[:1]
    if options.annotations == "ground_truth":
        return [a for a in kept if a.ground_truth]
    return kept


def _passes(annotation: Annotation, options: ExportOptions, keep_cancelled: bool) -> bool:
    if annotation.was_cancelled and not keep_cancelled:
        return False
    if options.annotators is not None and annotation.completed_by not in options.annotators:
        return False
    if options.since is not None or options.until is not None:
        created = annotation.created_at
        if created is None:
            return False
        if options.since is not None and created < options.since:
            return False
        if options.until is not None and created >= options.until:
            return False
    return True


def _newest_first_key(annotation: Annotation) -> tuple[int, float, int]:
    # Undated annotations go last; ties broken by the higher (newer) id first.
    created = annotation.created_at
    stamp = -created.timestamp() if created is not None else 0.0
    return (0 if created is not None else 1, stamp, -(annotation.id or 0))
