"""The task state machine: which events move a task from which state to which.

States: ``new`` (nobody has it), ``in_progress`` (held by an annotator or partly annotated),
``completed`` (it has the annotations its project's overlap asks for), ``skipped`` (its last
annotator skipped it), ``reviewed`` (a reviewer accepted it) and ``rejected`` (a reviewer sent it
back to the queue).

This is the built-in machine every project starts with; ``labelops.domain.workflow`` lets a project
extend it with states and events of its own.
"""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from labelops.domain.errors import StateTransitionError


class TaskState(StrEnum):
    """Where a task stands in the labeling workflow."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    SKIPPED = "skipped"
    REVIEWED = "reviewed"
    REJECTED = "rejected"


class TaskEvent(StrEnum):
    """What happened to a task."""

    LOCK = "lock"  # an annotator was handed the task
    RELEASE = "release"  # the hold expired or was given up with nothing saved
    ANNOTATE_PARTIAL = "annotate_partial"  # an annotation arrived; more are wanted
    ANNOTATE_FULL = "annotate_full"  # an annotation arrived; the task has all it needs
    SKIP = "skip"  # an annotator skipped it
    UNANNOTATE = "unannotate"  # an annotation was deleted; fewer than wanted remain
    ACCEPT = "accept"  # a reviewer accepted it
    REJECT = "reject"  # a reviewer rejected it


S, E = TaskState, TaskEvent

_TRANSITIONS: dict[tuple[TaskState, TaskEvent], TaskState] = {
    (S.NEW, E.LOCK): S.IN_PROGRESS,
    (S.NEW, E.ANNOTATE_PARTIAL): S.IN_PROGRESS,
    (S.NEW, E.ANNOTATE_FULL): S.COMPLETED,
    (S.NEW, E.SKIP): S.SKIPPED,
    (S.IN_PROGRESS, E.LOCK): S.IN_PROGRESS,
    (S.IN_PROGRESS, E.RELEASE): S.NEW,
    (S.IN_PROGRESS, E.ANNOTATE_PARTIAL): S.IN_PROGRESS,
    (S.IN_PROGRESS, E.ANNOTATE_FULL): S.COMPLETED,
    (S.IN_PROGRESS, E.SKIP): S.SKIPPED,
    (S.IN_PROGRESS, E.UNANNOTATE): S.IN_PROGRESS,
    (S.SKIPPED, E.LOCK): S.IN_PROGRESS,
    (S.SKIPPED, E.RELEASE): S.SKIPPED,
    (S.SKIPPED, E.ANNOTATE_PARTIAL): S.IN_PROGRESS,
    (S.SKIPPED, E.ANNOTATE_FULL): S.COMPLETED,
    (S.SKIPPED, E.SKIP): S.SKIPPED,
    (S.SKIPPED, E.UNANNOTATE): S.SKIPPED,
    (S.COMPLETED, E.ANNOTATE_FULL): S.COMPLETED,
    (S.COMPLETED, E.UNANNOTATE): S.IN_PROGRESS,
    (S.COMPLETED, E.ACCEPT): S.REVIEWED,
    (S.COMPLETED, E.REJECT): S.REJECTED,
    (S.REVIEWED, E.REJECT): S.REJECTED,
    (S.REVIEWED, E.ACCEPT): S.REVIEWED,
    (S.REVIEWED, E.ANNOTATE_FULL): S.REVIEWED,
    (S.REVIEWED, E.UNANNOTATE): S.IN_PROGRESS,
    (S.REJECTED, E.LOCK): S.IN_PROGRESS,
    (S.REJECTED, E.RELEASE): S.REJECTED,
    (S.REJECTED, E.ANNOTATE_PARTIAL): S.IN_PROGRESS,
    (S.REJECTED, E.ANNOTATE_FULL): S.COMPLETED,
    (S.REJECTED, E.SKIP): S.REJECTED,
    (S.REJECTED, E.ACCEPT): S.REVIEWED,
    (S.REJECTED, E.UNANNOTATE): S.REJECTED,
}

# The built-in table, read-only, for the configurable workflows built on it.
BUILTIN_TRANSITIONS: Mapping[tuple[TaskState, TaskEvent], TaskState] = MappingProxyType(
    _TRANSITIONS
)


def next_state(current: TaskState | str, event: TaskEvent | str) -> TaskState:
    """Returns the state a task moves to when ``event`` happens in state ``current``.

    Raises:
        StateTransitionError: The event is not allowed in that state (e.g. accepting a new task).
    """
    state, happened = TaskState(current), TaskEvent(event)
    try:
        return _TRANSITIONS[(state, happened)]
    except KeyError:
        raise StateTransitionError(
            f"a task in state {state.value!r} cannot {happened.value.replace('_', ' ')}"
        ) from None
