"""Feature flag rules: the precedence table, the rollout bucket and the input checks."""

import hashlib

import pytest

from labelops.domain.errors import InvalidInputError
from labelops.domain.feature_flags import (
    FlagState,
    check_bool,
    check_key,
    check_rollout,
    evaluate,
    rollout_bucket,
)


@pytest.mark.parametrize(
    ("state", "user_id", "project_id", "expected"),
    [
        # default only
        (FlagState("f", "", True), 1, 1, True),
        # rollout 0 % switches everyone off despite a default of on
        (FlagState("f", "", True, rollout_percent=0), 1, None, False),
        # rollout ignored without a user
        (FlagState("f", "", True, rollout_percent=0), None, None, True),
        # project override beats the rollout
        (FlagState("f", "", False, 0, project_overrides={7: True}), 1, 7, True),
        # user override beats the project override
        (FlagState("f", "", False, 100, {1: False}, {7: True}), 1, 7, False),
        # another user's override does not apply
        (FlagState("f", "", False, None, {2: True}), 1, None, False),
    ],
)
def test_evaluate_table(
    state: FlagState, user_id: int | None, project_id: int | None, expected: bool
) -> None:
    assert evaluate(state, user_id, project_id) is expected


def test_bucket_is_a_fixed_function_of_key_and_user() -> None:
    # The bucket is sha256(b"<key>:<user id>")'s first 8 bytes, big-endian, mod 100.
    expected = int.from_bytes(hashlib.sha256(b"labeling_shortcut_hint:1").digest()[:8], "big")
    assert rollout_bucket("labeling_shortcut_hint", 1) == expected % 100


@pytest.mark.parametrize("key", ["ab", "new_queue", "a" * 64, "x1_2"])
def test_accepts_snake_case_keys(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize("key", ["a", "A_flag", "1abc", "has space", "a" * 65, "dash-ed", 7])
def test_rejects_other_keys(key: object) -> None:
    with pytest.raises(InvalidInputError, match="key must be"):
        check_key(key)


@pytest.mark.parametrize("value", [-1, 101, 2.5, "30", True])
def test_rejects_rollouts_that_are_not_whole_percentages(value: object) -> None:
    with pytest.raises(InvalidInputError, match="rollout must be a whole percentage"):
        check_rollout(value)


def test_booleans_must_be_booleans() -> None:
    assert check_bool("default", False) is False
    with pytest.raises(InvalidInputError, match="default must be true or false, got 1"):
        check_bool("default", 1)
