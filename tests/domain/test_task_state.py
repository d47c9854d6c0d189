import pytest

from labelops.domain.errors import StateTransitionError
from labelops.domain.task_state import TaskEvent, TaskState, allowed_events, next_state


@pytest.mark.parametrize(
    ("state", "event", "expected"),
    [
        ("new", "lock", "in_progress"),  # handed to an annotator
        ("in_progress", "annotate_full", "completed"),  # the last wanted annotation arrived
        ("in_progress", "annotate_partial", "in_progress"),  # overlap 2, first annotation
        ("in_progress", "skip", "skipped"),
        ("in_progress", "release", "new"),  # lock given up with nothing saved
        ("completed", "accept", "reviewed"),
        ("completed", "reject", "rejected"),
        ("rejected", "lock", "in_progress"),  # rejected tasks return to the queue
        ("reviewed", "reject", "rejected"),  # a reviewer changes their mind
        ("completed", "unannotate", "in_progress"),  # an annotation was deleted
    ],
)
def test_moves_along_legal_transitions(state: str, event: str, expected: str) -> None:
    assert next_state(state, event) is TaskState(expected)


@pytest.mark.parametrize(
    ("state", "event"),
    [
        ("new", "accept"),  # nothing to review yet
        ("new", "reject"),
        ("in_progress", "accept"),
        ("skipped", "accept"),
        ("completed", "lock"),  # a finished task is not handed out
        ("reviewed", "lock"),
    ],
)
def test_refuses_illegal_transitions_with_a_message_naming_both(state: str, event: str) -> None:
    with pytest.raises(StateTransitionError) as err:
        next_state(state, event)
    assert state in str(err.value)
    assert event.replace("_", " ") in str(err.value)


def test_allowed_events_of_new_task() -> None:
    assert allowed_events("new") == {
        TaskEvent.LOCK,
        TaskEvent.ANNOTATE_PARTIAL,
        TaskEvent.ANNOTATE_FULL,
        TaskEvent.SKIP,
    }


def test_unknown_state_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="archived"):
        next_state("archived", "lock")
