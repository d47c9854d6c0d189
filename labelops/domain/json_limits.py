"""Limits every stored JSON value keeps: bounded nesting, no NUL characters, finite numbers.

PostgreSQL cannot store a NUL character in text or ``jsonb``; the JSON serializer refuses more than
255 levels of nesting and integers beyond 64 bits; JSON has no NaN or Infinity. A value that passes
:func:`check_json` can be stored and exported on both databases.
"""

import math
from collections.abc import Mapping
from typing import Any

from labelops.domain.errors import LabelopsError

MAX_JSON_DEPTH = 64
"""Deepest nesting of objects and lists accepted anywhere (a request body, task data, a result)."""
MIN_JSON_INT = -(2**63)
MAX_JSON_INT = 2**64 - 1
MAX_ID = 2**63 - 1
"""Largest id a row can have (a signed 64-bit integer on both databases)."""
MAX_LEAD_TIME = 10**9
"""Seconds an annotation may record, about 31 years: lead times never reach Infinity."""


class JsonLimitError(LabelopsError):
    """A JSON value breaks a storage limit; ``path`` names where (``data.text``, ``result[0]``).

    Attributes:
        path: Where the offending value is, in ``a.b[0].c`` notation ("" for the whole value).
        message: What is wrong there.
    """

    code = "json_limit"

    def __init__(self, message: str, *, path: str = "") -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)

    def details(self) -> dict[str, object]:
        """Returns the message under ``validation_errors``, keyed by the path."""
        return {"validation_errors": {self.path or "body": [self.message]}}


def join_path(path: str, key: str | int) -> str:
    """Returns ``path`` extended by an object key (``a.key``) or a list index (``a[0]``).

    A NUL character in a key is written as its JSON escape (backslash, u0000), so an error naming
    the path never carries the character it refuses.
    """
    if isinstance(key, int):
        return f"{path}[{key}]"
    key = key.replace("\x00", "\\u0000")
    return f"{path}.{key}" if path else key


def check_text(value: str, path: str) -> None:
    """Checks that a string holds no NUL character.

    Raises:
        JsonLimitError: It does (the path is named).
    """
    if "\x00" in value:
        raise JsonLimitError("must not contain NUL characters (\\u0000)", path=path)


def check_json(value: Any, path: str = "", *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Checks a parsed JSON value (and everything inside it) against the storage limits.

    Iterative, so a value nested far deeper than the limit costs no recursion.

    Args:
        value: A value made of dicts, lists, strings, numbers, booleans and None.
        path: Where the value sits, for messages (``data``, ``annotations[0].result``).
        max_depth: The deepest nesting of dicts and lists allowed.

    Raises:
        JsonLimitError: Too deeply nested, a NUL character in a string or key, a number that is
            NaN or infinite, or an integer outside the 64-bit range (the path is named).
    """
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            check_text(item, where)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not MIN_JSON_INT <= item <= MAX_JSON_INT:
                raise JsonLimitError("integer is outside the 64-bit range", path=where)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise JsonLimitError("number must be finite (no NaN or Infinity)", path=where)
        elif isinstance(item, Mapping | list | tuple):
            if depth >= max_depth:
                raise JsonLimitError(f"nested deeper than {max_depth} levels", path=where)
            if isinstance(item, Mapping):
                for key, child in item.items():
                    if not isinstance(key, str):
                        key = str(key)
                    check_text(key, join_path(where, key))
                    stack.append((child, join_path(where, key), depth + 1))
            else:
                stack.extend(
                    (child, join_path(where, i), depth + 1) for i, child in enumerate(item)
                )


def is_stored_id(value: object) -> bool:
    """Returns True when the value could be a row id: an integer from 1 to 2^63-1.

    Getters answer "not found" for anything else (a query string's ``?task=`` can hold any
    number) instead of handing the database a value it cannot compare.
    """
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID
