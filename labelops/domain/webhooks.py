"""Webhook rules in Label Studio's vocabulary: actions, headers and the retry schedule.

Pure: the clock and the settings are parameters.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from labelops.domain.errors import InvalidInputError


@dataclass(frozen=True)
class Action:
    """One event a webhook can be told about.

    Attributes:
        name: Label Studio's action name (``ANNOTATION_CREATED``).
        title: What the event is, for people.
        key: The payload key holding the changed object(s).
        organization_only: Only organization-wide webhooks receive it (the project is gone, or
            did not exist, when it happens).
    """

    name: str
    title: str
    key: str
    organization_only: bool = False


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("PROJECT_CREATED", "Project created", "project", organization_only=True),
        Action("PROJECT_UPDATED", "Project updated", "project"),
        Action("PROJECT_DELETED", "Project deleted", "project", organization_only=True),
        Action("TASKS_CREATED", "Task created", "tasks"),
        Action("TASKS_DELETED", "Task deleted", "tasks"),
        Action("ANNOTATION_CREATED", "Annotation created", "annotation"),
        Action("ANNOTATION_UPDATED", "Annotation updated", "annotation"),
        Action("ANNOTATIONS_DELETED", "Annotation deleted", "annotations"),
        Action("REVIEW_CREATED", "Review created", "review"),
        Action("REVIEW_UPDATED", "Review updated", "review"),
    )
}

MAX_HEADERS = 10
MAX_HEADER_VALUE = 2048
_HEADER_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")
# Headers the HTTP client sets itself: a webhook overriding them would corrupt the request.
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


class WebhookError(InvalidInputError):
    """A webhook setting is not valid; the message names the field and the value."""

    def __init__(self, message: str, *, field: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")

    def details(self) -> dict[str, object]:
        """Returns the bad field."""
        return {"field": self.field}


def check_actions(actions: Iterable[Any], *, project_scoped: bool) -> list[str]:
    """Returns the actions, deduplicated in their order, once each is a known one.

    Raises:
        WebhookError: An action is unknown, or organization-only on a project webhook.
    """
    out: list[str] = []
    for index, action in enumerate(actions):
        if not isinstance(action, str) or action not in ACTIONS:
            raise WebhookError(
                f"unknown action {action!r}; known: {', '.join(ACTIONS)}",
                field=f"actions[{index}]",
            )
        if project_scoped and ACTIONS[action].organization_only:
            raise WebhookError(
                f"{action} is sent to organization-wide webhooks only (leave 'project' empty)",
                field=f"actions[{index}]",
            )
        if action not in out:
            out.append(action)
    return out


def check_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    """Returns the extra request headers once they are at most ten ``name: text`` pairs.

    Raises:
        WebhookError: Too many headers, a bad name, a reserved name, or a value that is not
            one line of text.
    """
    if len(headers) > MAX_HEADERS:
        raise WebhookError(f"at most {MAX_HEADERS} headers, got {len(headers)}", field="headers")
    out: dict[str, str] = {}
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name):
            raise WebhookError(
                "a header name has 1 to 100 letters, digits, '-' or '_'", field=f"headers.{name}"
            )
        if name.lower() in _RESERVED_HEADERS:
            raise WebhookError("this header is set by the server", field=f"headers.{name}")
        if not isinstance(value, str) or len(value) > MAX_HEADER_VALUE:
            raise WebhookError(
                f"a header value is text of at most {MAX_HEADER_VALUE} characters",
                field=f"headers.{name}",
            )
        if any(c in value for c in "\r\n\x00"):
            raise WebhookError("a header value is one line of text", field=f"headers.{name}")
        out[name] = value
    return out


def wants(
    *, send_for_all_actions: bool, actions: Iterable[str], project_scoped: bool, action: str
) -> bool:
    """Returns True when a webhook with these settings receives the action."""
    if project_scoped and ACTIONS[action].organization_only:
        return False
    return send_for_all_actions or action in actions


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a delivery is tried.

    Attributes:
        max_attempts: Attempts before a delivery is given up as failed.
        backoff_seconds: Wait after the first failed attempt; it doubles after each one.
        max_backoff_seconds: The longest wait between two attempts.
        timeout_seconds: How long one attempt waits for the receiver's answer.
    """

    max_attempts: int = 6
    backoff_seconds: float = 10.0
    max_backoff_seconds: float = 3600.0
    timeout_seconds: float = 5.0

    def next_attempt(self, attempts: int, now: datetime) -> datetime | None:
        """Returns when to try again after ``attempts`` failed attempts, or None to give up."""
        if attempts >= self.max_attempts:
            return None
        delay = min(self.backoff_seconds * 2 ** (attempts - 1), self.max_backoff_seconds)
        return now + timedelta(seconds=delay)
