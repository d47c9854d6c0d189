"""Forms of the auth blueprint (CSRF-protected by Flask-WTF)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from labelops.web.auth.validators import EmailAddress


class LoginForm(FlaskForm):
    """Email and password sign-in; the email follows the same rule as the API and the CLI."""

    email = EmailField("Email", validators=[DataRequired(), EmailAddress()])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    remember = BooleanField("Keep me signed in")
