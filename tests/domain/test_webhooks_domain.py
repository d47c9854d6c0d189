"""Webhook rules (actions, headers, retry schedule) and the snapshot line format."""

from datetime import datetime, timedelta

import pytest

from labelops.domain.records import Annotation, Prediction, Task
from labelops.domain.snapshot import task_from_line, task_line
from labelops.domain.webhooks import RetryPolicy, WebhookError, check_actions, check_headers, wants

NOW = datetime(2026, 1, 1, 12, 0, 0)


@pytest.mark.parametrize(
    ("attempts", "wait"),
    [
        (1, 10),  # first retry after the base wait
        (2, 20),  # then doubling
        (3, 40),
        (9, 2560),
        (12, 3600),  # capped at an hour
    ],
)
def test_retry_waits_double_up_to_the_cap(attempts: int, wait: float) -> None:
    policy = RetryPolicy(max_attempts=20, backoff_seconds=10, max_backoff_seconds=3600)
    assert policy.next_attempt(attempts, NOW) == NOW + timedelta(seconds=wait)


def test_retry_gives_up_after_the_last_attempt() -> None:
    assert RetryPolicy(max_attempts=3).next_attempt(3, NOW) is None


def test_actions_are_checked_and_organization_only_ones_refused_on_a_project() -> None:
    assert check_actions(["ANNOTATION_CREATED", "ANNOTATION_CREATED"], project_scoped=True) == [
        "ANNOTATION_CREATED"
    ]
    assert check_actions(["PROJECT_CREATED"], project_scoped=False) == ["PROJECT_CREATED"]
    with pytest.raises(WebhookError, match=r"actions\[0\]"):
        check_actions(["PROJECT_DELETED"], project_scoped=True)
    with pytest.raises(WebhookError, match="unknown action"):
        check_actions([3], project_scoped=False)


def test_a_project_webhook_never_wants_an_organization_only_action() -> None:
    assert not wants(
        send_for_all_actions=True, actions=[], project_scoped=True, action="PROJECT_CREATED"
    )
    assert wants(
        send_for_all_actions=False,
        actions=["TASKS_CREATED"],
        project_scoped=True,
        action="TASKS_CREATED",
    )
    assert not wants(
        send_for_all_actions=False, actions=[], project_scoped=False, action="TASKS_CREATED"
    )


def test_headers_are_names_and_one_line_values() -> None:
    assert check_headers({"Authorization": "Token x", "X_Id": "1"}) == {
        "Authorization": "Token x",
        "X_Id": "1",
    }
    for bad in ({"Content-Length": "1"}, {"X": "a\nb"}, {"X:Y": "v"}, {"X": "v" * 3000}):
        with pytest.raises(WebhookError):
            check_headers(bad)


def test_a_snapshot_line_round_trips_a_task_record() -> None:
    task = Task(
        data={"text": "ü", "n": [1, 2]},
        id=7,
        meta={"m": True},
        created_at=NOW,
        updated_at=NOW + timedelta(microseconds=5),
        annotations=(
            Annotation(
                result=[{"id": "r", "value": {"choices": ["A"]}}],
                id=3,
                completed_by=2,
                completed_by_email="a@b.c",
                lead_time=1.5,
                review_state="accepted",
                created_at=NOW,
                updated_at=None,
            ),
        ),
        predictions=(Prediction(result=[], model_version="v1", score=0.25, id=9, created_at=NOW),),
    )
    assert task_from_line(task_line(task)) == task
