"""Forms of the projects blueprint (CSRF-protected by Flask-WTF)."""

import json
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    EmailField,
    FloatField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from labelops.domain.errors import LabelConfigError
from labelops.domain.label_config import parse_label_config
from labelops.domain.permissions import Role
from labelops.domain.workflow import Workflow, WorkflowError
from labelops.services.ml_backends import MLBackendSpec
from labelops.services.projects import SAMPLING_MODES
from labelops.web.auth.validators import EmailAddress
from labelops.web.choices import options

ROLE_CHOICES = [(role.value, role.value.capitalize()) for role in Role]


class ProjectForm(FlaskForm):
    """A project's settings: title, labeling config, instructions, overlap and sampling."""

    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=5000)])
    label_config = TextAreaField("Labeling config", validators=[DataRequired()])
    expert_instruction = TextAreaField(
        "Instructions for annotators", validators=[Length(max=50000)]
    )
    show_instruction = BooleanField("Show the instructions before labeling")
    show_skip_button = BooleanField("Annotators may skip tasks", default=True)
    show_annotations_to_annotators = BooleanField(
        "Annotators see each other's annotations (off: blind labeling)", default=False
    )
    maximum_annotations = IntegerField(
        "Annotations per task (overlap)", default=1, validators=[NumberRange(min=1, max=100)]
    )
    sampling = SelectField("Task order", choices=options((m, m) for m in SAMPLING_MODES))
    color = StringField(
        "Color",
        default="#3056D3",
        validators=[Regexp(r"^#[0-9A-Fa-f]{6}$", message="use a #RRGGBB color")],
    )
    template = HiddenField()

    def validate_label_config(self, field: Any) -> None:
        """Checks the config with the real parser; the message names the line."""
        try:
            parse_label_config(field.data or "")
        except LabelConfigError as exc:
            raise ValidationError(str(exc)) from None

    def settings(self) -> dict[str, Any]:
        """Returns the form's values as project fields for the projects service."""
        return {
            "title": self.title.data or "",
            "description": self.description.data or "",
            "label_config": self.label_config.data or "",
            "expert_instruction": self.expert_instruction.data or "",
            "show_instruction": bool(self.show_instruction.data),
            "show_skip_button": bool(self.show_skip_button.data),
            "show_annotations_to_annotators": bool(self.show_annotations_to_annotators.data),
            "maximum_annotations": int(self.maximum_annotations.data or 1),
            "sampling": self.sampling.data,
            "color": self.color.data or "#3056D3",
        }


class WorkflowForm(FlaskForm):
    """A project's task workflow as its JSON definition; empty means the built-in workflow."""

    definition = TextAreaField("Workflow definition (JSON)", validators=[Length(max=100_000)])

    def validate_definition(self, field: Any) -> None:
        """Checks that the text is JSON and a valid workflow; the message names the problem."""
        text = (field.data or "").strip()
        if not text:
            return
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from None
        try:
            Workflow.from_dict(data)
        except WorkflowError as exc:
            raise ValidationError(str(exc)) from None

    def definition_dict(self) -> dict[str, Any] | None:
        """Returns the definition the form holds, or None for the built-in workflow."""
        text = (self.definition.data or "").strip()
        return json.loads(text) if text else None


class MLBackendForm(FlaskForm):
    """Connects a Label Studio ML backend to the project (the "Model" settings)."""

    url = StringField("Backend URL", validators=[DataRequired(), Length(max=2048)])
    title = StringField("Title", validators=[Length(max=500)])
    is_interactive = BooleanField("Interactive pre-annotation")
    auth_method = SelectField(
        "Authentication", choices=options([("NONE", "None"), ("BASIC_AUTH", "Basic auth")])
    )
    basic_auth_user = StringField("Basic auth user", validators=[Length(max=255)])
    basic_auth_pass = PasswordField("Basic auth password", validators=[Length(max=1024)])
    timeout = FloatField("Timeout (seconds)", default=100.0, validators=[NumberRange(0.1, 3600)])

    def spec(self) -> MLBackendSpec:
        """Returns the form's fields as the ML backend service takes them."""
        return MLBackendSpec(
            url=self.url.data,
            title=self.title.data or None,
            is_interactive=bool(self.is_interactive.data),
            auth_method=self.auth_method.data,
            basic_auth_user=self.basic_auth_user.data or None,
            basic_auth_pass=self.basic_auth_pass.data or None,
            timeout=self.timeout.data,
        )


class DeleteProjectForm(FlaskForm):
    """Deleting a project asks for its title, so that it is never a slip of the mouse."""

    confirm = StringField("Type the project's title to confirm", validators=[DataRequired()])


class MemberForm(FlaskForm):
    """Adds a user to a project by email with a role."""

    email = EmailField("Email", validators=[DataRequired(), EmailAddress(), Length(max=254)])
    role = SelectField("Role", choices=options(ROLE_CHOICES), default=Role.ANNOTATOR.value)


class RoleForm(FlaskForm):
    """Changes a member's role."""

    role = SelectField("Role", choices=options(ROLE_CHOICES))


class ImportForm(FlaskForm):
    """Uploads task files, Label Studio exports or data files (images, audio, CSV readings...)."""

    files = MultipleFileField(
        "Files", validators=[DataRequired(message="choose at least one file")]
    )
    dedupe = BooleanField("Skip tasks whose data is already in the project")
    strict = BooleanField("Refuse annotations that do not fit the labeling config")


class PasteImportForm(FlaskForm):
    """Tasks pasted as JSON, JSON lines, CSV or TSV text, or the URL of a file to import."""

    text = TextAreaField("Pasted tasks", validators=[Optional(), Length(max=10 * 1024 * 1024)])
    text_format = SelectField(
        "Format",
        choices=options(
            [
                ("auto", "Detect"),
                ("json", "JSON"),
                ("jsonl", "JSON lines"),
                ("csv", "CSV"),
                ("tsv", "TSV"),
            ]
        ),
        default="auto",
    )
    url = StringField("URL", validators=[Optional(), Length(max=2048)])
    dedupe = BooleanField("Skip tasks whose data is already in the project")
    strict = BooleanField("Refuse annotations that do not fit the labeling config")
