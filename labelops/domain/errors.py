"""Errors raised by the domain layer; each names what was wrong and where."""


class LabelConfigError(ValueError):
    """A labeling config is not valid XML or uses tags/attributes wrongly.

    Attributes:
        tag: The tag the problem is on, when known.
        attribute: The attribute the problem is on, when known.
        line: The 1-based source line, when known.
        value: The offending value, when there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        tag: str | None = None,
        attribute: str | None = None,
        line: int | None = None,
        value: str | None = None,
    ) -> None:
        self.tag = tag
        self.attribute = attribute
        self.line = line
        self.value = value
        self.message = message
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{where}{message}")

    def to_dict(self) -> dict[str, object]:
        """Returns the error as a JSON-ready dict (message, tag, attribute, line, value)."""
        return {
            "message": str(self),
            "tag": self.tag,
            "attribute": self.attribute,
            "line": self.line,
            "value": self.value,
        }


class AnnotationError(ValueError):
    """An annotation result does not fit the labeling config or the task data.

    Attributes:
        index: Index of the offending result item, when the problem is in one item.
        field: The field of the item that is wrong (e.g. ``value.labels``), when known.
    """

    def __init__(self, message: str, *, index: int | None = None, field: str | None = None) -> None:
        self.index = index
        self.field = field
        self.message = message
        where = f"result[{index}]" if index is not None else ""
        if field:
            where = f"{where}.{field}" if where else field
        super().__init__(f"{where}: {message}" if where else message)


class UnknownFormatError(ValueError):
    """An import or export format name that no reader or writer is registered for."""


class TaskImportError(ValueError):
    """A row of an import file cannot become a task; nothing of the batch is written.

    Attributes:
        source: The file name (or "request body") the row came from.
        row: The 1-based row (or list item) number, when the problem is in one row.
        field: The data field that is missing or wrong, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.source = source
        self.row = row
        self.field = field
        self.message = message
        parts = [p for p in (source, f"row {row}" if row is not None else None) if p]
        if field:
            parts.append(f"field {field!r}")
        prefix = ", ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)

    def to_dict(self) -> dict[str, object]:
        """Returns the error as a JSON-ready dict (message, source, row, field)."""
        return {"message": str(self), "source": self.source, "row": self.row, "field": self.field}


class StateTransitionError(ValueError):
    """A task or annotation was asked to move to a state it cannot reach from its current one."""
