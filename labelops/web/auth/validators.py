"""WTForms validators that apply the services' rules, so a form accepts what the API accepts."""

from wtforms import Field, Form
from wtforms.validators import ValidationError

from labelops.domain.errors import InvalidInputError
from labelops.services.users import normalize_email


class EmailAddress:
    """Checks a field with the one email rule of :func:`labelops.services.users.normalize_email`.

    Use it instead of WTForms' ``Email()``: that one relies on email-validator, which refuses
    special-use domains such as ``.local`` that the API, the CLI and ``labelops up`` accept.
    """

    def __call__(self, form: Form, field: Field) -> None:
        """Returns nothing when the field holds a valid address.

        Raises:
            ValidationError: The rule's message naming what is wrong with the address.
        """
        try:
            normalize_email(field.data or "")
        except InvalidInputError as exc:
            raise ValidationError(str(exc)) from exc
