"""URL converters: ``<int:...>`` matches only ids the database can hold."""

from typing import Any

from werkzeug.routing import IntegerConverter, Map

from labelops.domain.json_limits import MAX_ID


class IdConverter(IntegerConverter):
    """An integer path segment from 0 to 2^63-1; larger numbers do not match (404, never a 500)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
