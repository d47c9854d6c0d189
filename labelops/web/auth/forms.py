"""Forms of the auth blueprint (CSRF-protected by Flask-WTF)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from labelops.web.auth.validators import EmailAddress


class LoginForm(FlaskForm):
    """Email and password sign-in; the email follows the same rule as the API and the CLI."""

    email = EmailField("Email", validators=[DataRequired(), EmailAddress()])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    remember = BooleanField("Keep me signed in")


class SetPasswordForm(FlaskForm):
    """The password an invited user chooses, or a new one after a reset link."""

    password = PasswordField("New password", validators=[DataRequired(), Length(min=8, max=256)])
    confirm = PasswordField(
        "Repeat it", validators=[DataRequired(), EqualTo("password", "the passwords differ")]
    )
