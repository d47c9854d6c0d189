"""Feature flags as pure logic: definitions, the state that decides a flag, and its evaluation.

A flag is on or off for a user in a project; the first rule that applies decides:
user override > project override > rollout percentage (a stable hash of key and user id) >
default. No I/O here: the feature flags service loads the state and calls ``evaluate``.
"""

import hashlib
import re
from dataclasses import dataclass, field

from labelops.domain.errors import InvalidInputError

KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{1,63}")
MAX_DESCRIPTION_LENGTH = 500


@dataclass(frozen=True)
class FlagDefinition:
    """A flag that ships with labelops: its key, what it changes, and its default."""

    key: str
    description: str
    default: bool = False


SHIPPED_FLAGS: dict[str, FlagDefinition] = {
    flag.key: flag
    for flag in (
        FlagDefinition(
            "labeling_shortcut_hint",
            "Show the keyboard shortcuts (submit, undo, redo) under the labeling page's toolbar.",
        ),
    )
}


@dataclass(frozen=True)
class FlagState:
    """Everything that decides a flag: default, rollout and overrides by user and project id."""

    key: str
    description: str
    default: bool
    rollout_percent: int | None = None
    user_overrides: dict[int, bool] = field(default_factory=dict)
    project_overrides: dict[int, bool] = field(default_factory=dict)
    shipped: bool = False


def rollout_bucket(key: str, user_id: int) -> int:
    """Returns the user's bucket 0..99 for this flag (stable across processes and releases)."""
    digest = hashlib.sha256(f"{key}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def evaluate(state: FlagState, user_id: int | None, project_id: int | None) -> bool:
    """Returns whether the flag is on: user override > project override > rollout > default."""
    if user_id is not None and user_id in state.user_overrides:
        return state.user_overrides[user_id]
    if project_id is not None and project_id in state.project_overrides:
        return state.project_overrides[project_id]
    if state.rollout_percent is not None and user_id is not None:
        return rollout_bucket(state.key, user_id) < state.rollout_percent
    return state.default


def check_key(key: object) -> str:
    """Returns the key if it is 2-64 lower-case letters, digits and '_' starting with a letter.

    Raises:
        InvalidInputError: It is not (the message shows the key).
    """
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise InvalidInputError(
            f"key must be 2-64 characters of lower-case letters, digits and '_', starting with "
            f"a letter, got {key!r}"
        )
    return key


def check_rollout(rollout: object) -> int | None:
    """Returns the rollout percentage (None: no rollout).

    Raises:
        InvalidInputError: It is not a whole number from 0 to 100.
    """
    if rollout is None:
        return None
    if isinstance(rollout, bool) or not isinstance(rollout, int) or not 0 <= rollout <= 100:
        raise InvalidInputError(
            f"rollout must be a whole percentage from 0 to 100, got {rollout!r}"
        )
    return rollout


def check_description(description: object) -> str:
    """Returns the description.

    Raises:
        InvalidInputError: It is not text or is longer than MAX_DESCRIPTION_LENGTH.
    """
    if not isinstance(description, str):
        raise InvalidInputError(f"description must be text, got {type(description).__name__}")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise InvalidInputError(
            f"description must have at most {MAX_DESCRIPTION_LENGTH} characters, "
            f"got {len(description)}"
        )
    return description


def check_bool(name: str, value: object) -> bool:
    """Returns the value if it is a boolean.

    Raises:
        InvalidInputError: It is not (the message names the field).
    """
    if not isinstance(value, bool):
        raise InvalidInputError(f"{name} must be true or false, got {value!r}")
    return value
