"""Forms of the account blueprint (CSRF-protected by Flask-WTF)."""

from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from labelops.services.users import MIN_PASSWORD_LENGTH


class NewTokenForm(FlaskForm):
    """Issues a new personal API token, revoking the previous ones."""


class PasswordForm(FlaskForm):
    """Changes the signed-in user's password: the current one, then the new one twice."""

    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=256)]
    )
    new_password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256)],
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="the passwords differ")],
    )
