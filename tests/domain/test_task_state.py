import copy
from typing import Any

import pytest

from labelops.domain.errors import StateTransitionError
from labelops.domain.task_state import TaskEvent, TaskState, next_state
from labelops.domain.workflow import DEFAULT_WORKFLOW, Workflow, WorkflowError, workflow_with


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


def test_unknown_state_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="archived"):
        next_state("archived", "lock")


# --- per-project workflows -------------------------------------------------------------------

SECOND_REVIEW = workflow_with(
    ["needs_second_review"],
    ["request_second_review"],
    [
        ("completed", "request_second_review", "needs_second_review"),
        ("needs_second_review", "accept", "reviewed"),
        ("needs_second_review", "reject", "rejected"),
    ],
)


def _with(**changes: Any) -> dict[str, Any]:
    definition = copy.deepcopy(SECOND_REVIEW)
    definition.update(changes)
    return definition


def test_default_workflow_is_the_built_in_table() -> None:
    for state in TaskState:
        for event in TaskEvent:
            try:
                expected: str | None = next_state(state, event).value
            except StateTransitionError:
                expected = None
            try:
                actual: str | None = DEFAULT_WORKFLOW.next_state(state.value, event.value)
            except StateTransitionError:
                actual = None
            assert actual == expected, (state, event)


def test_default_definition_round_trips() -> None:
    assert Workflow.from_dict(DEFAULT_WORKFLOW.to_dict()) == DEFAULT_WORKFLOW


def test_custom_state_is_entered_by_its_event_and_left_by_review_events() -> None:
    workflow = Workflow.from_dict(SECOND_REVIEW)
    assert workflow.next_state("completed", "request_second_review") == "needs_second_review"
    assert workflow.next_state("needs_second_review", "accept") == "reviewed"
    assert workflow.next_state("needs_second_review", "reject") == "rejected"
    assert workflow.custom_states == ("needs_second_review",)
    assert workflow.reviewable_states == ("completed", "reviewed", "needs_second_review")
    # the built-in moves are unchanged
    assert workflow.next_state("new", "lock") == "in_progress"


@pytest.mark.parametrize(
    ("state", "event"),
    [
        ("new", "request_second_review"),  # nothing to review yet
        ("needs_second_review", "lock"),  # not handed out to annotators
        ("needs_second_review", "request_second_review"),  # already waiting
    ],
)
def test_custom_workflow_refuses_illegal_moves_naming_state_and_event(
    state: str, event: str
) -> None:
    with pytest.raises(StateTransitionError) as err:
        Workflow.from_dict(SECOND_REVIEW).next_state(state, event)
    assert repr(state) in str(err.value)
    assert repr(event) in str(err.value)


def test_unknown_event_or_state_in_a_workflow_is_a_transition_error() -> None:
    with pytest.raises(StateTransitionError, match="unknown event 'archive'"):
        DEFAULT_WORKFLOW.next_state("new", "archive")
    with pytest.raises(StateTransitionError, match="unknown state 'needs_second_review'"):
        DEFAULT_WORKFLOW.next_state("needs_second_review", "accept")


def _transition(source: str, event: str, target: str) -> dict[str, str]:
    return {"from": source, "event": event, "to": target}


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        # not an object
        (["new"], "must be an object"),
        # a key nobody reads
        (_with(initial="new"), "unknown key(s) 'initial'"),
        # a built-in state removed: the services move tasks into it
        (
            _with(states=[s for s in SECOND_REVIEW["states"] if s != "skipped"]),
            "states: built-in state 'skipped' is missing",
        ),
        # a built-in event removed: the services fire it
        (
            _with(events=[e for e in SECOND_REVIEW["events"] if e != "lock"]),
            "events: built-in event 'lock' is missing",
        ),
        # a name the tasks.state column cannot hold
        (
            _with(states=[*SECOND_REVIEW["states"], "Needs Review"]),
            "states[7]: 'Needs Review' is not a valid name",
        ),
        (
            _with(states=[*SECOND_REVIEW["states"], "x" * 21]),
            "at most 20 characters",
        ),
        # a state listed twice
        (_with(states=[*SECOND_REVIEW["states"], "new"]), "states[7]: 'new' is listed twice"),
        # a transition into a state that was never declared
        (
            _with(
                transitions=[
                    *SECOND_REVIEW["transitions"],
                    _transition("completed", "request_second_review", "archived"),
                ]
            ),
            "transitions[34].to: unknown state 'archived'",
        ),
        # a transition from a state that does not exist
        (
            _with(
                transitions=[
                    *SECOND_REVIEW["transitions"],
                    _transition("archived", "accept", "reviewed"),
                ]
            ),
            "transitions[34].from: unknown state 'archived'",
        ),
        # an event that was never declared
        (
            _with(
                transitions=[
                    *SECOND_REVIEW["transitions"],
                    _transition("reviewed", "escalate", "needs_second_review"),
                ]
            ),
            "transitions[34].event: unknown event 'escalate'",
        ),
        # two targets for one (state, event)
        (
            _with(
                transitions=[
                    *SECOND_REVIEW["transitions"],
                    _transition("completed", "request_second_review", "reviewed"),
                ]
            ),
            "state 'completed' already has a transition for event 'request_second_review'",
        ),
        # a built-in event may not lead into a custom state
        (
            workflow_with(
                ["needs_second_review"],
                [],
                [
                    ("new", "accept", "needs_second_review"),
                    ("needs_second_review", "accept", "reviewed"),
                ],
            ),
            "custom state 'needs_second_review' can only be entered by a custom event",
        ),
        # a built-in transition changed
        (
            _with(
                transitions=[
                    _transition("new", "lock", "skipped")
                    if t == _transition("new", "lock", "in_progress")
                    else t
                    for t in SECOND_REVIEW["transitions"]
                ]
            ),
            "new --lock--> skipped): built-in transitions cannot be changed",
        ),
        # a built-in event added where the built-in machine refuses it
        (
            _with(
                transitions=[
                    *SECOND_REVIEW["transitions"],
                    _transition("new", "accept", "reviewed"),
                ]
            ),
            "the built-in machine refuses that event in that state",
        ),
        # a built-in transition removed
        (
            _with(transitions=SECOND_REVIEW["transitions"][1:]),
            "built-in transition new --lock--> in_progress is missing",
        ),
        # a custom state no path from 'new' reaches
        (
            workflow_with(
                ["needs_second_review"],
                ["second_accept"],
                [("needs_second_review", "second_accept", "reviewed")],
            ),
            "state 'needs_second_review' is unreachable",
        ),
        # a custom state with no way out
        (
            workflow_with(["archived"], ["archive"], [("reviewed", "archive", "archived")]),
            "state 'archived' has no way out",
        ),
        # a custom event no transition uses
        (
            _with(events=[*SECOND_REVIEW["events"], "escalate"]),
            "event 'escalate' is declared but no transition uses it",
        ),
        # a malformed transition
        (
            _with(transitions=[*SECOND_REVIEW["transitions"], {"from": "new", "to": "skipped"}]),
            "transitions[34]: must be an object with exactly the keys",
        ),
    ],
)
def test_refuses_invalid_definitions_naming_the_problem(definition: Any, message: str) -> None:
    with pytest.raises(WorkflowError) as err:
        Workflow.from_dict(definition)
    assert message in str(err.value)
