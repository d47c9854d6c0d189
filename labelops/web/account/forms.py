"""Forms of the account blueprint (CSRF-protected by Flask-WTF)."""

from flask_wtf import FlaskForm


class NewTokenForm(FlaskForm):
    """Issues a new personal API token, revoking the previous ones."""
