"""The options of a form's select field, in the shape WTForms wants them."""

from collections.abc import Iterable

from wtforms.fields.choices import SelectChoice


def options(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """Returns ``(value, label)`` pairs as select choices (WTForms no longer takes tuples)."""
    return [SelectChoice(value, label) for value, label in pairs]
