"""Forms of the tasks blueprint: the data manager's filter (GET, no CSRF) and bulk delete."""

from collections.abc import Sequence

from flask_wtf import FlaskForm
from wtforms import FloatField, Form, IntegerField, SelectField, StringField
from wtforms.validators import NumberRange, Optional, ValidationError

from labelops.services.tasks import SORT_COLUMNS, STATES, TaskFilter
from labelops.web.choices import options

SORT_LABELS = {
    "id": "ID",
    "priority": "Priority",
    "prediction_score": "Prediction score",
    "total_annotations": "Annotations",
    "updated_at": "Last change",
}


class TaskFilterForm(Form):
    """What the data manager shows: filters, sort order and page size (query arguments)."""

    state = SelectField(
        "State",
        choices=options([("", "Any")] + [(s, s.replace("_", " ")) for s in STATES]),
        default="",
    )
    annotator = SelectField(
        "Annotator", choices=options([("", "Anyone")]), default="", validate_choice=False
    )
    has_predictions = SelectField(
        "Predictions", choices=options([("", "Any"), ("1", "With"), ("0", "Without")]), default=""
    )
    min_score = FloatField("Min score", validators=[Optional()])
    max_score = FloatField("Max score", validators=[Optional()])
    field = SelectField("Field", choices=[], default="")
    search = StringField("Contains", validators=[Optional()])
    sort = SelectField(
        "Sort by", choices=options((k, SORT_LABELS[k]) for k in SORT_COLUMNS), default="id"
    )
    direction = SelectField(
        "Order", choices=options([("asc", "Ascending"), ("desc", "Descending")]), default="asc"
    )
    limit = IntegerField("Rows", default=50, validators=[Optional(), NumberRange(min=1, max=500)])

    def set_options(
        self,
        data_fields: Sequence[str],
        annotators: Sequence[tuple[int, str]],
        states: Sequence[str] = STATES,
    ) -> None:
        """Fills the choices that depend on the project: fields, members and workflow states."""
        self.state.choices = options([("", "Any")] + [(s, s.replace("_", " ")) for s in states])
        self.field.choices = options((f, f) for f in data_fields)
        self.annotator.choices = options(
            [("", "Anyone")] + [(str(i), email) for i, email in annotators]
        )
        if not self.field.data and data_fields:
            self.field.data = data_fields[0]

    def validate_annotator(self, field: SelectField) -> None:
        """Any user id is accepted (former members too), as long as it is a number."""
        if field.data and not str(field.data).isdigit():
            raise ValidationError("choose an annotator from the list")

    def task_filter(self) -> TaskFilter:
        """Returns the task filter the form describes."""
        return TaskFilter(
            state=self.state.data or None,
            annotator_id=int(self.annotator.data) if self.annotator.data else None,
            has_predictions={"1": True, "0": False}.get(self.has_predictions.data or ""),
            min_score=self.min_score.data,
            max_score=self.max_score.data,
            field=self.field.data or None,
            contains=(self.search.data or "").strip() or None,
        )


class DeleteTasksForm(FlaskForm):
    """Deletes the selected tasks (their ids come as repeated ``task`` values)."""
