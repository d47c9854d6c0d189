"""Forms of the pipeline blueprint (CSRF-protected by Flask-WTF).

The storage form only carries values: every storage rule (allowed variables and endpoints,
prefixes, confinement, credentials) is checked by ``labelops.services.storages``, which names the
field it refuses; the view shows that message next to the field.
"""

from typing import Any, TypedDict, cast

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField

from labelops.services.storages import STORAGE_KINDS, StoragePolicy
from labelops.web.choices import options

KIND_LABELS = {
    "s3": "S3 bucket (or S3-compatible)",
    "gcs": "Google Cloud Storage bucket",
    "azure": "Azure Blob Storage container",
    "local": "Local folder",
}
DIRECTION_LABELS = {"import": "Import tasks from it", "export": "Export to it (target storage)"}
_TEXT_FIELDS = ("kind", "direction", "bucket", "prefix", "file_pattern", "region", "endpoint_url")


class StorageValues(TypedDict):
    """The form's plain values, as keyword arguments of ``create_storage``."""

    kind: str
    direction: str
    bucket: str
    prefix: str
    file_pattern: str
    region: str
    endpoint_url: str
    access_key_id_env: str


class StorageSecrets(TypedDict):
    """The form's literal credentials or their variables, as keyword arguments."""

    access_key_id: str | None
    secret: str | None
    secret_env: str | None


class StorageForm(FlaskForm):
    """A storage connection; secrets are write-only (never rendered back into the form).

    Variables and endpoints are picked from what the administrator allowed (the policy).
    """

    kind = SelectField("Kind", choices=options((k, KIND_LABELS[k]) for k in STORAGE_KINDS))
    direction = SelectField(
        "Direction", choices=options(DIRECTION_LABELS.items()), default="import"
    )
    bucket = StringField("Bucket")
    prefix = StringField("Prefix")
    file_pattern = StringField("File pattern")
    region = StringField("Region")
    endpoint_url = SelectField("Endpoint", validate_choice=False)
    access_key_id = StringField("Access key id")
    access_key_id_env = SelectField("Or the key id's variable", validate_choice=False)
    secret = PasswordField("Secret access key")
    secret_env = SelectField("Or the secret's variable", validate_choice=False)

    def __init__(self, *args: Any, policy: StoragePolicy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.endpoint_url.choices = options(
            [("", "AWS (default)")] + [(u, u) for u in policy.endpoint_allowlist]
        )
        variables = [("", "—")] + [(n, n) for n in policy.env_choices()]
        self.access_key_id_env.choices = options(variables)
        self.secret_env.choices = options(variables)

    def storage(self) -> StorageValues:
        """Returns the form's values as keyword arguments of ``create_storage``."""
        values = {name: (self[name].data or "").strip() for name in _TEXT_FIELDS}
        values["access_key_id_env"] = (self.access_key_id_env.data or "").strip()
        return cast(StorageValues, values)  # mypy cannot follow the names of _TEXT_FIELDS

    def secrets(self) -> StorageSecrets:
        """Returns the literal credentials or their variables (the secret is kept as typed)."""
        return {
            "access_key_id": (self.access_key_id.data or "").strip() or None,
            "secret": self.secret.data or None,
            "secret_env": (self.secret_env.data or "").strip() or None,
        }


class ActionForm(FlaskForm):
    """A button that posts (launch a job, delete a connection); only carries the CSRF token."""
