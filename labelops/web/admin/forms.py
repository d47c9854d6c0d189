"""Forms of the admin blueprint (CSRF-protected by Flask-WTF)."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from labelops.web.auth.validators import EmailAddress
from labelops.web.choices import options

ON_OFF = (("off", "Off"), ("on", "On"))


class FlagSettingsForm(FlaskForm):
    """A flag's description, default and rollout percentage (empty: no rollout)."""

    description = StringField("Description", validators=[Length(max=500)])
    default = SelectField("Default", choices=options(ON_OFF))
    rollout = IntegerField("Rollout %", validators=[Optional(), NumberRange(min=0, max=100)])


class NewFlagForm(FlagSettingsForm):
    """A new flag: its key plus its settings."""

    key = StringField("Key", validators=[DataRequired(), Length(max=64)])


class OverrideForm(FlaskForm):
    """Turns a flag on or off for one user (by email) or one project (by id), or clears that."""

    target = SelectField("For", choices=options([("user", "User"), ("project", "Project")]))
    who = StringField("User email or project id", validators=[DataRequired(), Length(max=254)])
    state = SelectField(
        "State", choices=options([("on", "On"), ("off", "Off"), ("clear", "Remove")])
    )


class DeleteFlagForm(FlaskForm):
    """Deletes a flag (a shipped flag returns to its defaults)."""


class NewUserForm(FlaskForm):
    """A new account with a password the administrator gives them."""

    email = EmailField("Email", validators=[DataRequired(), EmailAddress()])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    can_create_projects = BooleanField("May create projects")


class InviteForm(FlaskForm):
    """A new account that sets its own password through a one-time link."""

    email = EmailField("Email", validators=[DataRequired(), EmailAddress()])


class ActiveForm(FlaskForm):
    """Deactivates (``off``) or reactivates (``on``) an account."""

    active = SelectField("Active", choices=options(ON_OFF))


class ResetPasswordForm(FlaskForm):
    """A temporary password, or nothing for a one-time reset link."""

    password = PasswordField("Temporary password", validators=[Optional(), Length(max=256)])


class ProjectCreationForm(FlaskForm):
    """Grants (``on``) or withdraws (``off``) the right to create projects."""

    allowed = SelectField("May create projects", choices=options(ON_OFF))
