"""Flask's JSON provider with bounded parsing: every ``request.get_json`` in the app uses it.

The standard library's parser recurses, so a body nested 5,000 levels deep raised RecursionError (a
500) even with ``get_json(silent=True)``. Here orjson parses (no recursion, no NaN or Infinity) and
the result is checked against the storage limits; a failure is a ValueError, which Flask turns into
a 400 (or None when silent).
"""

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

from labelops.domain.json_limits import MAX_JSON_DEPTH, JsonLimitError, check_json

MAX_BODY_DEPTH = MAX_JSON_DEPTH + 4
"""A body wraps task data or a result in at most a few levels (list, task, annotation)."""


class LimitedJSONProvider(DefaultJSONProvider):
    """Parses JSON with orjson and refuses deep nesting, NUL characters and non-finite numbers."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Returns the parsed JSON.

        Raises:
            ValueError: Not valid JSON, or it breaks a limit of ``check_json`` (path named).
        """
        value = orjson.loads(s)
        try:
            check_json(value, max_depth=MAX_BODY_DEPTH)
        except JsonLimitError as exc:  # Flask's contract: a body it cannot take is a ValueError
            raise ValueError(str(exc)) from exc
        return value
