"""Per-project task workflows: the built-in state machine extended with a project's own states.

A project may extend the built-in machine (:data:`DEFAULT_WORKFLOW`, equal to the table in
``labelops.domain.task_state``) with a :class:`Workflow` of its own: extra states entered by custom
events (``completed --request_second_review--> needs_second_review``) and left by custom or
built-in events (``needs_second_review --accept--> reviewed``). The built-in states, events and
transitions always stay, because the services fire the built-in events; a definition that drops or
changes them is refused, and so is one where a built-in event would enter a custom state.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from labelops.domain.errors import LabelopsError, StateTransitionError
from labelops.domain.task_state import BUILTIN_TRANSITIONS, TaskEvent, TaskState

S, E = TaskState, TaskEvent

BUILTIN_STATES = tuple(s.value for s in TaskState)
BUILTIN_EVENTS = tuple(e.value for e in TaskEvent)
# The states the review stream shows in every workflow; a custom state joins them when a review
# event (accept or reject) leaves it.
BUILTIN_REVIEWABLE_STATES = (S.COMPLETED.value, S.REVIEWED.value)
REVIEW_EVENTS = (E.ACCEPT.value, E.REJECT.value)

# tasks.state is a VARCHAR(20); events are only kept in definitions.
MAX_STATE_LENGTH = 20
MAX_EVENT_LENGTH = 40
MAX_STATES = 50
MAX_EVENTS = 50
MAXBUILTIN_TRANSITIONS = 500
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_KEYS = ("states", "events", "transitions")
_TRANSITION_KEYS = ("from", "event", "to")


class WorkflowError(LabelopsError):
    """A workflow definition is malformed or breaks a rule of the state machine.

    Attributes:
        where: The part of the definition the problem is in (e.g. ``transitions[2].to``).
    """

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class Transition:
    """One allowed move: in state ``source``, event ``event`` leads to state ``target``."""

    source: str
    event: str
    target: str

    def to_dict(self) -> dict[str, str]:
        """Returns the transition as it is written in a definition (from, event, to)."""
        return {"from": self.source, "event": self.event, "to": self.target}


@dataclass(frozen=True)
class Workflow:
    """A project's task state machine: its states, events and allowed transitions.

    Build one with :meth:`from_dict` (which validates) or use :data:`DEFAULT_WORKFLOW`.
    """

    states: tuple[str, ...]
    events: tuple[str, ...]
    transitions: tuple[Transition, ...]
    _table: Mapping[tuple[str, str], str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Builds the lookup table of (state, event) -> state."""
        table = {(t.source, t.event): t.target for t in self.transitions}
        object.__setattr__(self, "_table", table)

    @classmethod
    def from_dict(cls, definition: Any) -> "Workflow":
        """Returns the workflow a project's JSON definition describes, after checking it.

        The definition is ``{"states": [...], "events": [...], "transitions": [{"from": ...,
        "event": ..., "to": ...}, ...]}`` and lists the built-in states, events and transitions
        too (start from :meth:`to_dict` of :data:`DEFAULT_WORKFLOW`).

        Raises:
            WorkflowError: The definition is malformed, names an unknown state or event, drops
                or changes a built-in state, event or transition, lets a built-in event enter a
                custom state, or has a custom state that no path from ``new`` reaches or that
                has no way out. The message names the state, event or transition.
        """
        if not isinstance(definition, Mapping):
            raise WorkflowError(
                f"a workflow must be an object with {', '.join(_KEYS)}, "
                f"got {type(definition).__name__}"
            )
        unknown = sorted(set(map(str, definition)) - set(_KEYS))
        if unknown:
            raise WorkflowError(
                f"unknown key(s) {', '.join(map(repr, unknown))}; expected {', '.join(_KEYS)}"
            )
        states = _names(definition, "states", MAX_STATES, MAX_STATE_LENGTH)
        events = _names(definition, "events", MAX_EVENTS, MAX_EVENT_LENGTH)
        for kind, names, builtins in (
            ("state", states, BUILTIN_STATES),
            ("event", events, BUILTIN_EVENTS),
        ):
            missing = [b for b in builtins if b not in names]
            if missing:
                raise WorkflowError(
                    f"built-in {kind} {missing[0]!r} is missing: the services use every built-in "
                    f"{kind} ({', '.join(builtins)})",
                    where=f"{kind}s",
                )
        transitions = _transitions(definition, states, events)
        workflow = cls(states=states, events=events, transitions=transitions)
        workflow._check_graph()
        return workflow

    def to_dict(self) -> dict[str, Any]:
        """Returns the JSON definition of this workflow (what :meth:`from_dict` reads)."""
        return {
            "states": list(self.states),
            "events": list(self.events),
            "transitions": [t.to_dict() for t in self.transitions],
        }

    @property
    def custom_states(self) -> tuple[str, ...]:
        """Returns the states this workflow adds to the built-in ones."""
        return tuple(s for s in self.states if s not in BUILTIN_STATES)

    @property
    def custom_events(self) -> tuple[str, ...]:
        """Returns the events this workflow adds to the built-in ones."""
        return tuple(e for e in self.events if e not in BUILTIN_EVENTS)

    @property
    def reviewable_states(self) -> tuple[str, ...]:
        """Returns the states the review stream shows.

        These are the built-in ones (completed, reviewed) plus every custom state that a review
        event (accept or reject) leaves.
        """
        custom = [
            s
            for s in self.custom_states
            if any((s, event) in self._table for event in REVIEW_EVENTS)
        ]
        return (*BUILTIN_REVIEWABLE_STATES, *custom)

    def next_state(self, current: str, event: str) -> str:
        """Returns the state a task moves to when ``event`` happens in state ``current``.

        Raises:
            StateTransitionError: The state or event is not part of this workflow, or the event
                is not allowed in that state. The message names both.
        """
        current, event = str(current), str(event)
        if current not in self.states:
            raise StateTransitionError(
                f"unknown state {current!r}; this workflow has {', '.join(self.states)}"
            )
        if event not in self.events:
            raise StateTransitionError(
                f"unknown event {event!r}; this workflow has {', '.join(self.events)}"
            )
        try:
            return self._table[(current, event)]
        except KeyError:
            raise StateTransitionError(
                f"a task in state {current!r} cannot {event.replace('_', ' ')} "
                f"(event {event!r} is not allowed in state {current!r})"
            ) from None

    def allowed_events(self, current: str) -> tuple[str, ...]:
        """Returns the events a task in state ``current`` accepts, in definition order."""
        return tuple(t.event for t in self.transitions if t.source == str(current))

    def _check_graph(self) -> None:
        """Raises WorkflowError when a custom state is unreachable from ``new`` or a dead end."""
        reached = {S.NEW.value}
        frontier = [S.NEW.value]
        while frontier:
            state = frontier.pop()
            for t in self.transitions:
                if t.source == state and t.target not in reached:
                    reached.add(t.target)
                    frontier.append(t.target)
        for state in self.custom_states:
            if state not in reached:
                raise WorkflowError(
                    f"state {state!r} is unreachable: no transition path from 'new' leads to it",
                    where="states",
                )
            if not any(t.source == state and t.target != state for t in self.transitions):
                raise WorkflowError(
                    f"state {state!r} has no way out: add a transition from it to another state, "
                    "or tasks that enter it are stuck",
                    where="states",
                )
        used = {t.event for t in self.transitions}
        for event in self.custom_events:
            if event not in used:
                raise WorkflowError(
                    f"event {event!r} is declared but no transition uses it", where="events"
                )


def _names(definition: Mapping[str, Any], key: str, limit: int, length: int) -> tuple[str, ...]:
    """Returns the list under ``key`` as a tuple of unique, well-formed names."""
    if key not in definition:
        raise WorkflowError(f"{key!r} is required", where=key)
    values = definition[key]
    if not isinstance(values, list):
        raise WorkflowError(f"must be a list of names, got {type(values).__name__}", where=key)
    if len(values) > limit:
        raise WorkflowError(f"at most {limit} are allowed, got {len(values)}", where=key)
    seen: list[str] = []
    for i, value in enumerate(values):
        where = f"{key}[{i}]"
        if not isinstance(value, str) or not _NAME.match(value) or len(value) > length:
            raise WorkflowError(
                f"{value!r} is not a valid name: use lower-case letters, digits and '_' "
                f"(starting with a letter, at most {length} characters)",
                where=where,
            )
        if value in seen:
            raise WorkflowError(f"{value!r} is listed twice", where=where)
        seen.append(value)
    return tuple(seen)


def _transitions(
    definition: Mapping[str, Any], states: tuple[str, ...], events: tuple[str, ...]
) -> tuple[Transition, ...]:
    """Returns the checked transitions of a definition (built-in ones unchanged and present)."""
    values = definition.get("transitions")
    if not isinstance(values, list):
        raise WorkflowError(
            f"must be a list of {{from, event, to}} objects, got {type(values).__name__}",
            where="transitions",
        )
    if len(values) > MAXBUILTIN_TRANSITIONS:
        raise WorkflowError(
            f"at most {MAXBUILTIN_TRANSITIONS} are allowed, got {len(values)}", where="transitions"
        )
    found: dict[tuple[str, str], str] = {}
    result: list[Transition] = []
    for i, value in enumerate(values):
        transition = _transition(value, f"transitions[{i}]", states, events)
        key = (transition.source, transition.event)
        name = f"{transition.source} --{transition.event}--> {transition.target}"
        where = f"transitions[{i}] ({name})"
        if key in found:
            raise WorkflowError(
                f"state {transition.source!r} already has a transition for event "
                f"{transition.event!r} (to {found[key]!r})",
                where=where,
            )
        builtin = transition.source in BUILTIN_STATES and transition.event in BUILTIN_EVENTS
        builtin_target = (
            BUILTIN_TRANSITIONS.get((S(transition.source), E(transition.event)))
            if builtin
            else None
        )
        if transition.event in BUILTIN_EVENTS and transition.target not in BUILTIN_STATES:
            raise WorkflowError(
                f"custom state {transition.target!r} can only be entered by a custom event, "
                f"not by the built-in event {transition.event!r}",
                where=where,
            )
        if builtin and builtin_target != transition.target:
            expected = (
                f"the built-in machine sends it to {builtin_target.value!r}"
                if builtin_target is not None
                else "the built-in machine refuses that event in that state"
            )
            raise WorkflowError(f"built-in transitions cannot be changed: {expected}", where=where)
        found[key] = transition.target
        result.append(transition)
    for (source, event), target in BUILTIN_TRANSITIONS.items():
        if found.get((source.value, event.value)) != target.value:
            raise WorkflowError(
                f"built-in transition {source.value} --{event.value}--> {target.value} is "
                "missing: the services rely on every built-in transition",
                where="transitions",
            )
    return tuple(result)


def _transition(
    value: Any, where: str, states: tuple[str, ...], events: tuple[str, ...]
) -> Transition:
    """Returns one transition of a definition, its states and event checked to be declared."""
    if not isinstance(value, Mapping) or set(map(str, value)) != set(_TRANSITION_KEYS):
        raise WorkflowError(
            "must be an object with exactly the keys 'from', 'event' and 'to'", where=where
        )
    for key, declared, kind in (
        ("from", states, "state"),
        ("event", events, "event"),
        ("to", states, "state"),
    ):
        if value[key] not in declared:
            raise WorkflowError(
                f"unknown {kind} {value[key]!r}: declare it under '{kind}s' first",
                where=f"{where}.{key}",
            )
    return Transition(source=value["from"], event=value["event"], target=value["to"])


DEFAULT_WORKFLOW = Workflow(
    states=BUILTIN_STATES,
    events=BUILTIN_EVENTS,
    transitions=tuple(
        Transition(source.value, event.value, target.value)
        for (source, event), target in BUILTIN_TRANSITIONS.items()
    ),
)


def workflow_with(
    states: Iterable[str] = (),
    events: Iterable[str] = (),
    transitions: Iterable[tuple[str, str, str]] = (),
) -> dict[str, Any]:
    """Returns the definition of the built-in workflow plus extra states, events and transitions.

    A convenience for writing a project's definition: ``workflow_with(["needs_second_review"],
    ["request_second_review"], [("completed", "request_second_review", "needs_second_review"),
    ...])``. The result is a plain dict to pass to :meth:`Workflow.from_dict`.
    """
    base = DEFAULT_WORKFLOW.to_dict()
    base["states"] += list(states)
    base["events"] += list(events)
    base["transitions"] += [{"from": s, "event": e, "to": t} for s, e, t in transitions]
    return base
