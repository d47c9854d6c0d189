"""The ``<Chat>`` object tag: its attributes, and the checks on the messages it stores.

A Chat shows a conversation held in the task data (a list of ``{"role", "content"}`` objects) and
lets the annotator add messages. Each added message is a result item of type ``chatmessage``
whose ``from_name`` and ``to_name`` are both the Chat's name, as Label Studio stores them::

    {"id": "m1", "from_name": "chat", "to_name": "chat", "type": "chatmessage",
     "value": {"chatmessage": {"role": "user", "content": "Hi", "createdAt": 1757612212681}}}

Controls with ``perRegion="true"`` and ``toName`` the Chat describe one added message: their
items carry the message's ``id`` and its ``value`` next to their own keys (``choices``,
``rating``, ``text``...). Messages from the task data are shown but are not results.

Attributes (case-insensitive, as Label Studio reads them):
    messageroles: Roles the annotator may write as, comma-separated (default ``user,assistant``).
        Label Studio defaults to ``user`` alone when ``llm`` is set because its model writes the
        replies; labelops calls no model, so the annotator can always write both sides.
    editable: ``true``/``false`` or the roles whose added messages may be edited (default none).
    minMessages / maxMessages: The fewest messages a submitted annotation has and the most a
        conversation may hold, task data included; a number or a ``$field`` of the task data
        (optional there: a task without the field has no such limit).
    llm: ``<provider>/<model>``, accepted and kept; labelops requests no automatic replies.
"""

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from labelops.domain.errors import AnnotationError, LabelConfigError

CHAT_TAG = "Chat"
CHAT_RESULT_TYPE = "chatmessage"
CHAT_ROLES: tuple[str, ...] = ("user", "assistant", "system", "tool", "developer")
DEFAULT_MESSAGE_ROLES: tuple[str, ...] = ("user", "assistant")
_FIELD = re.compile(r"^\$([A-Za-z_][\w.\-]*)$")
_COUNT = re.compile(r"^\s*\d+\s*$")
_LLM = re.compile(r"^[\w.\-]+/[\w.:\-/]+$")
_TRUE, _FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no", ""})


@dataclass(frozen=True)
class ChatSettings:
    """What a ``<Chat>`` lets the annotator do; counts are a number or a task data field."""

    message_roles: tuple[str, ...]
    editable_roles: tuple[str, ...]
    min_messages: int | str | None
    max_messages: int | str | None
    llm: str | None


def chat_settings(attrs: Mapping[str, str], line: int | None = None) -> ChatSettings:
    """Returns a ``<Chat>``'s settings read from its attributes.

    Args:
        attrs: The tag's attributes as written (names are matched case-insensitively).
        line: The tag's source line, for errors.

    Raises:
        LabelConfigError: An attribute has a value Label Studio would not take; the error names
            the tag, the attribute and the value.
    """
    lower = {k.lower(): v for k, v in attrs.items()}

    def fail(name: str, value: str, problem: str) -> NoReturn:
        raise LabelConfigError(
            f"<Chat> attribute {name}={value!r}: {problem}",
            tag=CHAT_TAG,
            attribute=name,
            line=line,
            value=value,
        )

    def roles(name: str, value: str) -> tuple[str, ...]:
        found = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
        unknown = [role for role in found if role not in CHAT_ROLES]
        if unknown or not found:
            fail(name, value, f"roles must be among {', '.join(CHAT_ROLES)}")
        return found

    raw_roles = lower.get("messageroles")
    message_roles = roles("messageroles", raw_roles) if raw_roles else DEFAULT_MESSAGE_ROLES
    editable = lower.get("editable", "false").strip()
    if editable.lower() in _TRUE:
        editable_roles = CHAT_ROLES
    elif editable.lower() in _FALSE:
        editable_roles = ()
    else:
        editable_roles = roles("editable", editable)

    def count(name: str) -> int | str | None:
        value = lower.get(name.lower())
        if value is None:
            return None
        field = _FIELD.match(value.strip())
        if field:
            return field.group(1)
        if not _COUNT.match(value):
            fail(name, value, "must be a whole number or a $field of the task data")
        return int(value)

    low, high = count("minMessages"), count("maxMessages")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        fail("maxMessages", str(high), f"is below minMessages={low}")
    if isinstance(high, int) and high < 1:
        fail("maxMessages", str(high), "must be at least 1")
    llm = lower.get("llm")
    if llm is not None and not _LLM.match(llm):
        fail("llm", llm, "must be <provider>/<model>, e.g. openai/gpt-4.1-nano")
    return ChatSettings(message_roles, editable_roles, low, high, llm)


def check_chat_message(value: Mapping[str, Any], index: int) -> None:
    """Returns None when a ``chatmessage`` result value holds one well-formed message.

    Raises:
        AnnotationError: The message is missing, has an unknown role, non-text content or a
            ``createdAt`` that is not a number of milliseconds.
    """
    message = value.get("chatmessage")
    if not isinstance(message, Mapping):
        _fail(index, "value.chatmessage", "chatmessage must be an object with role and content")
    role = message.get("role")
    if role not in CHAT_ROLES:
        _fail(
            index,
            "value.chatmessage.role",
            f"role {role!r} must be one of {', '.join(CHAT_ROLES)}",
        )
    if not isinstance(message.get("content"), str):
        _fail(index, "value.chatmessage.content", "content must be a string")
    created = message.get("createdAt")
    is_number = isinstance(created, int | float) and not isinstance(created, bool)
    if created is not None and not (is_number and math.isfinite(created)):
        _fail(index, "value.chatmessage.createdAt", f"createdAt must be a number, got {created!r}")


def check_chat_counts(
    chats: Mapping[str, Mapping[str, str]],
    result: Sequence[Mapping[str, Any]],
    data: Mapping[str, Any] | None,
    *,
    submitting: bool,
) -> None:
    """Returns None when each Chat's conversation stays within its minMessages/maxMessages.

    A conversation is the task data's messages plus the ``chatmessage`` items of the result. The
    limits are only checked when the task data is known; the minimum only on submission.

    Args:
        chats: ``{chat name: its attributes}``.
        result: The result items.
        data: The task's data, or None when unknown.
        submitting: Whether the result is submitted (drafts may hold fewer messages).

    Raises:
        AnnotationError: A conversation has too many messages, or too few on submission.
    """
    if data is None:
        return
    for name, attrs in chats.items():
        settings = chat_settings(attrs)
        source = attrs.get("value", "")
        match = _FIELD.match(source)
        given = data.get(match.group(1)) if match else None
        total = len(given) if isinstance(given, list) else 0
        total += sum(
            1
            for item in result
            if isinstance(item, Mapping)
            and item.get("type") == CHAT_RESULT_TYPE
            and item.get("to_name") == name
        )
        high = _resolve(settings.max_messages, data)
        if high is not None and total > high:
            _fail(None, name, f"chat {name!r} holds {total} messages; at most {high} are allowed")
        low = _resolve(settings.min_messages, data)
        if submitting and low is not None and total < low:
            _fail(None, name, f"chat {name!r} holds {total} messages; it needs at least {low}")


def chat_sample_data(attrs: Mapping[str, str]) -> dict[str, Any]:
    """Returns example task data for a ``<Chat>``: a short conversation and its count fields."""
    settings = chat_settings(attrs)
    sample: dict[str, Any] = {}
    if isinstance(settings.min_messages, str):
        sample[settings.min_messages] = 2
    if isinstance(settings.max_messages, str):
        sample[settings.max_messages] = 10
    return sample


SAMPLE_CONVERSATION: tuple[Mapping[str, str], ...] = (
    {"role": "user", "content": "How do I reset my password?"},
    {
        "role": "assistant",
        "content": "Open Settings, choose Security, then click 'Reset password' and follow the "
        "link we email you.",
    },
)


def _resolve(limit: int | str | None, data: Mapping[str, Any]) -> int | None:
    if limit is None or isinstance(limit, int):
        return limit
    value = data.get(limit)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _COUNT.match(value):
        return int(value)
    return None


def _fail(index: int | None, field: str, message: str) -> NoReturn:
    raise AnnotationError(message, index=index, field=field)
