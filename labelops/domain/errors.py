"""The one error hierarchy: every error a request can cause, with its status and a stable code.

Each error names what was wrong and where. ``status`` is the HTTP-style answer (400 bad input, 403
refused, 404 unknown, 409 conflicting state, 422 an annotation that does not fit); ``code`` is a
stable machine-readable name. The web layer answers any :class:`LabelopsError` from these two
fields, so a service raises the right subclass and never a bare ``ValueError``: an error outside
this hierarchy is a bug and is answered as a logged 500.
"""


class LabelopsError(Exception):
    """Base of every error a user can cause; the message says what was wrong and where.

    Attributes:
        status: The HTTP status that answers it.
        code: A stable name for the kind of error (``not_found``, ``invalid_label_config``).
    """

    status: int = 400
    code: str = "invalid_input"
    retry_after: int | None = None  # seconds after which trying again may work (a 503)

    def details(self) -> dict[str, object]:
        """Returns the fields that locate the problem, JSON-ready (none by default)."""
        return {}


class InvalidInputError(LabelopsError):
    """A value a user gave is not acceptable (an unknown sort key, a too short password)."""


class LabelConfigError(LabelopsError):
    """A labeling config is not valid XML or uses tags/attributes wrongly.

    Attributes:
        tag: The tag the problem is on, when known.
        attribute: The attribute the problem is on, when known.
        line: The 1-based source line, when known.
        value: The offending value, when there is one.
    """

    code = "invalid_label_config"

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

    def details(self) -> dict[str, object]:
        """Returns the error under ``validation_errors.label_config``."""
        return {"validation_errors": {"label_config": [self.to_dict()]}}


class AnnotationError(LabelopsError):
    """An annotation result does not fit the labeling config or the task data.

    Attributes:
        index: Index of the offending result item, when the problem is in one item.
        field: The field of the item that is wrong (e.g. ``value.labels``), when known.
    """

    status = 422
    code = "invalid_annotation"

    def __init__(self, message: str, *, index: int | None = None, field: str | None = None) -> None:
        self.index = index
        self.field = field
        self.message = message
        where = f"result[{index}]" if index is not None else ""
        if field:
            where = f"{where}.{field}" if where else field
        super().__init__(f"{where}: {message}" if where else message)

    def details(self) -> dict[str, object]:
        """Returns the index of the result item and the field that are wrong."""
        return {"index": self.index, "field": self.field}


class UnknownFormatError(LabelopsError):
    """An import or export format name that no reader or writer is registered for."""

    code = "unknown_format"


class TaskImportError(LabelopsError):
    """A row of an import file cannot become a task; nothing of the batch is written.

    Attributes:
        source: The file name (or "request body") the row came from.
        row: The 1-based row (or list item) number, when the problem is in one row.
        field: The data field that is missing or wrong, when known.
    """

    code = "invalid_import"

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

    def details(self) -> dict[str, object]:
        """Returns the file, row and field, and the message under ``validation_errors``."""
        return {
            "validation_errors": {self.field or "body": [self.message]},
            "source": self.source,
            "row": self.row,
            "field": self.field,
        }


class StateTransitionError(LabelopsError):
    """A task or annotation was asked to move to a state it cannot reach from its current one."""

    status = 409
    code = "invalid_transition"
