"""Forms of the review blueprint (CSRF-protected by Flask-WTF)."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import AnyOf, Length, ValidationError


class ReviewForm(FlaskForm):
    """A reviewer's decision on one annotation; a rejection needs a comment for the annotator."""

    decision = HiddenField(validators=[AnyOf(["accepted", "rejected"])])
    comment = TextAreaField("Comment for the annotator", validators=[Length(max=5000)])

    def validate_comment(self, field: TextAreaField) -> None:
        """Rejections must say why."""
        if self.decision.data == "rejected" and not (field.data or "").strip():
            raise ValidationError("say what is wrong so the annotator can fix it")
