"""URL converters: ``<int:...>`` matches only ids the database can hold."""

from typing import Any

from werkzeug.routing import IntegerConverter, Map

from labelops.domain.json_limits import MAX_ID


def _at_most(limit: int) -> str:
    """Returns a regular expression for the decimal numbers from 0 to ``limit``.

    The bound lives in the pattern, not in ``to_python``: werkzeug's matcher takes a path that
    matches a rule's pattern as a match for that rule, so a rule for another method on the same
    path would turn an out-of-range id into a 405 instead of a 404.
    """
    digits = str(limit)
    options = [rf"\d{{1,{len(digits) - 1}}}"]
    for i, digit in enumerate(digits):
        if digit != "0":
            rest = len(digits) - i - 1
            lower = f"[0-{int(digit) - 1}]" if i else f"[1-{int(digit) - 1}]"
            if i == 0 and digit == "1":
                continue
            options.append(digits[:i] + lower + (rf"\d{{{rest}}}" if rest else ""))
    options.append(digits)
    return "(?:" + "|".join(options) + ")"


class IdConverter(IntegerConverter):
    """An integer path segment from 0 to 2^63-1; larger numbers do not match (404, never a 500)."""

    regex = _at_most(MAX_ID)

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
