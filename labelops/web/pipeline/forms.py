"""Forms of the pipeline blueprint (CSRF-protected by Flask-WTF)."""

from typing import Any

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import URL, Length, Optional, Regexp, ValidationError

from labelops.services.pipeline_storage import STORAGE_KINDS

ENV_NAME = Regexp(
    r"^[A-Za-z_][A-Za-z0-9_]*$", message="use an environment variable name like AWS_ACCESS_KEY_ID"
)
KIND_LABELS = {"s3": "S3 bucket (or S3-compatible)", "local": "Local folder"}
_S3_ONLY = ("bucket", "region", "endpoint_url", "access_key_id_env", "secret", "secret_env")


class StorageForm(FlaskForm):
    """A storage connection; the secret is write-only (never rendered back into the form)."""

    kind = SelectField("Kind", choices=[(k, KIND_LABELS[k]) for k in STORAGE_KINDS])
    bucket = StringField("Bucket", validators=[Length(max=255)])
    prefix = StringField("Prefix", validators=[Length(max=1024)])
    file_pattern = StringField("File pattern", validators=[Length(max=255)])
    region = StringField("Region", validators=[Length(max=64)])
    endpoint_url = StringField(
        "Endpoint URL",
        validators=[Optional(), Length(max=1024), URL(require_tld=False, message="not a URL")],
    )
    access_key_id_env = StringField(
        "Access key id variable", validators=[Optional(), Length(max=255), ENV_NAME]
    )
    secret = PasswordField("Secret access key", validators=[Length(max=1024)])
    secret_env = StringField(
        "Or the secret's variable", validators=[Optional(), Length(max=255), ENV_NAME]
    )

    def validate_prefix(self, field: Any) -> None:
        """A prefix stays inside the store: no ``..`` parts."""
        if ".." in (field.data or "").split("/"):
            raise ValidationError("a prefix cannot contain '..'")

    def validate_secret_env(self, field: Any) -> None:
        """The secret comes either typed in or from a variable, not both."""
        if field.data and self.secret.data:
            raise ValidationError("give the secret or the name of its variable, not both")

    def validate(self, extra_validators: Any = None) -> bool:
        """Also checks that a local folder has none of the S3 settings."""
        ok = super().validate(extra_validators)
        if self.kind.data == "local":
            for name in _S3_ONLY:
                field = self[name]
                if field.data:
                    field.errors = [*field.errors, "a local folder has no such setting"]
                    ok = False
        return ok

    def storage(self) -> dict[str, str]:
        """Returns the form's values as keyword arguments of ``create_storage``."""
        values = {
            name: (self[name].data or "").strip()
            for name in ("kind", "bucket", "prefix", "file_pattern", "region", "endpoint_url")
        }
        values["access_key_id_env"] = (self.access_key_id_env.data or "").strip()
        return values

    def secrets(self) -> dict[str, str | None]:
        """Returns the secret or its variable name (the secret is kept as typed)."""
        return {
            "secret": self.secret.data or None,
            "secret_env": (self.secret_env.data or "").strip() or None,
        }


class ActionForm(FlaskForm):
    """A button that posts (launch a job, delete a connection); only carries the CSRF token."""
