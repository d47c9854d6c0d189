"""Forms of the organizations blueprint (CSRF-protected by Flask-WTF)."""

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField
from wtforms.validators import DataRequired, Length

from labelops.services.organizations import ROLES
from labelops.web.choices import options

ROLE_CHOICES = [(role, role) for role in ROLES]


class AddMemberForm(FlaskForm):
    """Adds an existing account to the organization by email, with a role."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=options(ROLE_CHOICES), default="member")


class RoleForm(FlaskForm):
    """Changes one member's role."""

    role = SelectField("Role", choices=options(ROLE_CHOICES))


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (remove a member, switch organization)."""
