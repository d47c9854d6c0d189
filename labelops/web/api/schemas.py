"""Request body schemas of the REST API: what each endpoint accepts, checked strictly.

One schema serves twice: :func:`labelops.web.api.validation.read_body` validates a request with
it and ``/api/openapi.json`` publishes it as the endpoint's request body. Types are strict (a
boolean is not a number, ``"5"`` is not an id), numbers are finite, ids fit the database's 64-bit
range, strings and lists are bounded, and a field unknown both here and to Label Studio is refused.
Fields Label Studio's clients send that mean nothing here are accepted and ignored (``IGNORED``).
"""

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from labelops.domain.json_limits import MAX_ID, MAX_LEAD_TIME

MAX_ITEMS = 100_000
"""Most items in one list body (tasks, predictions) or one result."""

Id = Annotated[int, Field(ge=1, le=MAX_ID, description="A database id, 1 to 2^63-1.")]
ShortText = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=1_000_000)]
JsonObject = dict[str, Any]
Result = Annotated[list[JsonObject], Field(max_length=MAX_ITEMS)]


class Schema(BaseModel):
    """Base of every request schema: strict types, finite numbers, unknown fields refused."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)
    IGNORED: ClassVar[frozenset[str]] = frozenset()
    """Label Studio fields accepted for compatibility and dropped before validation."""

    @model_validator(mode="before")
    @classmethod
    def _drop_ignored(cls, value: Any) -> Any:
        if isinstance(value, dict) and cls.IGNORED:
            return {k: v for k, v in value.items() if k not in cls.IGNORED}
        return value

    def fields_set(self) -> dict[str, Any]:
        """Returns the fields the request gave, as plain JSON values."""
        return self.model_dump(exclude_unset=True)


_PROJECT_READ_ONLY = frozenset(
    {
        "id",
        "organization",
        "created_by",
        "created_at",
        "updated_at",
        "parsed_label_config",
        "config_has_control_tags",
        "config_suitable_for_bulk_annotation",
        "task_number",
        "num_tasks_with_annotations",
        "useful_annotation_number",
        "ground_truth_number",
        "skipped_annotations_number",
        "total_annotations_number",
        "total_predictions_number",
        "finished_task_number",
        "queue_total",
        "queue_done",
        "state",
    }
)
_PROJECT_NOT_KEPT = frozenset(
    {
        # Credentials Label Studio uses to fetch task data: never stored here.
        "task_data_login",
        "task_data_password",
        # Label Studio Enterprise's settings (its SDK may send them).
        "workspace",
        "collection_mode",
        "custom_interface_code",
        "custom_interface_compiled",
        "custom_interface_params",
        "dm_column_defaults",
        "input_schema",
        "internal_description",
        "output_schema",
        "source_interface_id",
        "source_interface_version",
        "use_custom_interface",
    }
)


class ProjectIn(Schema):
    """A project's settings (create: missing fields take defaults; update: only those given).

    Label Studio's read-only fields and the settings listed in ``_PROJECT_NOT_KEPT`` are accepted
    and ignored; its other settings are kept and returned (``services.project_settings``).
    """

    IGNORED = _PROJECT_READ_ONLY | _PROJECT_NOT_KEPT
    title: ShortText = None  # type: ignore[assignment]
    description: LongText = None  # type: ignore[assignment]
    # No length here: the config parser's own limit (LABELOPS_MAX_CONFIG_BYTES) names itself.
    label_config: str = None  # type: ignore[assignment]
    expert_instruction: LongText = None  # type: ignore[assignment]
    show_instruction: bool = None  # type: ignore[assignment]
    show_skip_button: bool = None  # type: ignore[assignment]
    show_annotations_to_annotators: bool = None  # type: ignore[assignment]
    maximum_annotations: int = Field(None, ge=1, le=100)  # type: ignore[assignment]
    sampling: str = Field(None, max_length=40)  # type: ignore[assignment]
    model_version: ShortText = None  # type: ignore[assignment]
    color: str = Field(None, max_length=16)  # type: ignore[assignment]
    is_published: bool = None  # type: ignore[assignment]
    is_draft: bool = None  # type: ignore[assignment]
    enable_empty_annotation: bool = None  # type: ignore[assignment]
    show_annotation_history: bool = None  # type: ignore[assignment]
    show_collab_predictions: bool = None  # type: ignore[assignment]
    show_ground_truth_first: bool = None  # type: ignore[assignment]
    show_overlap_first: bool = None  # type: ignore[assignment]
    annotator_evaluation_enabled: bool = None  # type: ignore[assignment]
    evaluate_predictions_automatically: bool = None  # type: ignore[assignment]
    reveal_preannotations_interactively: bool = None  # type: ignore[assignment]
    start_training_on_annotation_update: bool = None  # type: ignore[assignment]
    min_annotations_to_start_training: int = Field(None, ge=0, le=1_000_000_000)  # type: ignore[assignment]
    overlap_cohort_percentage: int = Field(None, ge=0, le=100)  # type: ignore[assignment]
    control_weights: JsonObject = Field(None, max_length=1000)  # type: ignore[arg-type]
    skip_queue: Literal["REQUEUE_FOR_ME", "REQUEUE_FOR_OTHERS", "IGNORE_SKIPPED"] = None  # type: ignore[assignment]
    pinned_at: str | None = Field(None, max_length=64, description="ISO 8601 date-time or null.")


class LabelConfigIn(Schema):
    """A labeling config to check (a project body is accepted; its other fields are ignored)."""

    IGNORED = ProjectIn.IGNORED | frozenset(ProjectIn.model_fields) - {"label_config"}
    label_config: str


class OptionalLabelConfigIn(LabelConfigIn):
    """A labeling config to check; the project's own when none is given."""

    label_config: str = None  # type: ignore[assignment]


_ANNOTATION_IGNORED = frozenset(
    {
        "id",
        "task",
        "tasks",
        "project",
        "completed_by",
        "created_at",
        "updated_at",
        "created_username",
        "created_ago",
        "bulk_created",
        "draft_created_at",
        "draft_id",
        "import_id",
        "last_action",
        "last_created_by",
        "parent_annotation",
        "parent_prediction",
        "selected_items",
        "started_at",
        "unique_id",
        "updated_by",
    }
)


class AnnotationIn(Schema):
    """A submitted annotation (``was_cancelled`` marks a skip)."""

    IGNORED = _ANNOTATION_IGNORED
    result: Result = Field(default_factory=list)
    was_cancelled: bool = False
    ground_truth: bool = False
    lead_time: float | None = Field(None, ge=0, le=MAX_LEAD_TIME, description="Seconds spent.")


class AnnotationUpdateIn(Schema):
    """Changes to an annotation; a field left out (or null) stays as it is."""

    IGNORED = _ANNOTATION_IGNORED
    result: Result | None = None
    was_cancelled: bool | None = None
    ground_truth: bool | None = None
    lead_time: float | None = Field(None, ge=0, le=MAX_LEAD_TIME, description="Seconds spent.")


_DRAFT_IGNORED = frozenset(
    {
        "id",
        "task",
        "user",
        "annotation",
        "project",
        "created_at",
        "updated_at",
        "created_ago",
        "created_username",
        "draft_id",
        "import_id",
        "started_at",
    }
)


class DraftIn(Schema):
    """Unfinished work on a task, saved as the caller's draft (not checked against the config)."""

    IGNORED = _DRAFT_IGNORED
    result: Result = Field(default_factory=list)
    lead_time: float | None = Field(None, ge=0, le=MAX_LEAD_TIME, description="Seconds spent.")
    was_postponed: bool = False


class DraftUpdateIn(Schema):
    """Changes to a draft; a field left out stays as it is."""

    IGNORED = _DRAFT_IGNORED
    result: Result = None  # type: ignore[assignment]
    lead_time: float | None = Field(None, ge=0, le=MAX_LEAD_TIME, description="Seconds spent.")
    was_postponed: bool = None  # type: ignore[assignment]


class ReviewIn(Schema):
    """A review decision, optionally fixing the annotation's result first."""

    decision: Literal["accepted", "rejected"]
    comment: str = Field("", max_length=10_000)
    result: Result | None = None


_TASK_IGNORED = frozenset(
    {
        "id",
        "created_at",
        "updated_at",
        "allow_skip",
        "cancelled_annotations",
        "comment_authors",
        "comment_count",
        "file_upload",
        "inner_id",
        "is_labeled",
        "last_comment_updated_at",
        "overlap",
        "total_annotations",
        "total_predictions",
        "unresolved_comment_count",
        "updated_by",
    }
)


class TaskIn(Schema):
    """One new task of a project, optionally with annotations and predictions."""

    IGNORED = _TASK_IGNORED
    project: Id
    data: JsonObject
    meta: JsonObject = Field(default_factory=dict)
    annotations: Annotated[list[JsonObject], Field(max_length=MAX_ITEMS)] = Field(
        default_factory=list
    )
    predictions: Annotated[list[JsonObject], Field(max_length=MAX_ITEMS)] = Field(
        default_factory=list
    )


class ProjectTaskIn(Schema):
    """One new task of the project named in the path (``project`` in the body is ignored)."""

    IGNORED = _TASK_IGNORED | {"project"}
    data: JsonObject
    meta: JsonObject = Field(default_factory=dict)
    annotations: Annotated[list[JsonObject], Field(max_length=MAX_ITEMS)] = Field(
        default_factory=list
    )
    predictions: Annotated[list[JsonObject], Field(max_length=MAX_ITEMS)] = Field(
        default_factory=list
    )


class TaskUpdateIn(Schema):
    """Changes to a task (``project`` and ``id`` are accepted and ignored)."""

    IGNORED = frozenset({"id", "project"})
    data: JsonObject = None  # type: ignore[assignment]
    meta: JsonObject = None  # type: ignore[assignment]
    priority: float = Field(None, ge=-1e15, le=1e15)  # type: ignore[assignment]


class PredictionIn(Schema):
    """One model prediction for a task."""

    IGNORED = frozenset(
        {
            "id",
            "project",
            "created_at",
            "updated_at",
            "created_ago",
            "cluster",
            "neighbors",
            "mislabeling",
            "model",
            "model_run",
        }
    )
    task: Id
    result: Result
    score: float | None = Field(None, ge=-1e15, le=1e15)
    model_version: str | None = Field(None, max_length=200)
    probabilities: JsonObject | list[Any] | None = None


class MemberIn(Schema):
    """A user to add to a project, by id or by email, with a role."""

    user: Id | None = None
    email: str | None = Field(None, max_length=320)
    role: Literal["annotator", "reviewer", "manager"] = "annotator"

    @model_validator(mode="after")
    def _one_of(self) -> "MemberIn":
        if (self.user is None) == (self.email is None):
            raise ValueError("give exactly one of 'user' (an id) or 'email'")
        return self


class UserIn(Schema):
    """A new account (administrators only)."""

    IGNORED = frozenset(
        {
            "id",
            "avatar",
            "initials",
            "phone",
            "active_organization",
            "allow_newsletters",
            "date_joined",
            "last_activity",
            "is_superuser",
            "is_active",
            "is_imported",
        }
    )
    email: str = Field(max_length=320)
    password: str | None = Field(None, max_length=1024)
    username: str = Field("", max_length=150)
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)
    is_admin: bool = False


class FlagIn(Schema):
    """A new feature flag (administrators)."""

    key: str = Field(max_length=64)
    description: str = Field("", max_length=2000)
    default: bool = False
    rollout: int | None = Field(None, description="Share of users, in percent (0 to 100).")


class UserOverrideIn(Schema):
    """A flag turned on or off for one user (``enabled: null`` removes the override)."""

    user_id: int  # an id past the database's range is a 404 from the service, like any unknown one
    enabled: bool | None


class ProjectOverrideIn(Schema):
    """A flag turned on or off for one project (``enabled: null`` removes the override)."""

    project_id: int
    enabled: bool | None


class FlagPatchIn(Schema):
    """Changes to a flag's settings and overrides; ``rollout: null`` removes the rollout."""

    description: str = Field(None, max_length=2000)  # type: ignore[assignment]
    default: bool = None  # type: ignore[assignment]
    rollout: int | None = None
    user_overrides: list[UserOverrideIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    project_overrides: list[ProjectOverrideIn] = Field(default_factory=list, max_length=MAX_ITEMS)


class OrganizationIn(Schema):
    """A new organization (instance administrators)."""

    IGNORED = frozenset({"id", "created_at", "created_by", "token", "contact_info"})
    title: str = Field(max_length=200)


class MembershipIn(Schema):
    """A user to add to an organization, by email."""

    email: str = Field(max_length=320)
    role: Literal["admin", "member"] = "member"


class MembershipRoleIn(Schema):
    """A member's new role in the organization."""

    user_id: Id
    role: Literal["admin", "member"]


class MemberRoleIn(Schema):
    """A member's new role."""

    role: Literal["annotator", "reviewer", "manager"]


class UserPatchIn(Schema):
    """What an administrator may change on an account: project creation and whether it is active.

    ``is_active: false`` deactivates the account (its sessions and API tokens end).
    """

    can_create_projects: bool | None = None
    is_active: bool | None = None


class UserInviteIn(Schema):
    """An account to invite: it sets its own password through a one-time link."""

    email: str = Field(max_length=320)
    username: str = Field("", max_length=150)
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)


class PasswordResetIn(Schema):
    """A temporary password, or none (``{}``) for a one-time reset link."""

    password: str | None = Field(None, max_length=1024)


class StorageExportIn(Schema):
    """An export written to a target storage connection."""

    exportType: str = Field("JSON", min_length=1, max_length=64)
    download_all_tasks: bool = False


class StorageIn(Schema):
    """A storage connection (a secret is encrypted before it is stored, never shown again)."""

    kind: str = Field("s3", max_length=20)
    direction: str = Field("import", max_length=10)
    bucket: str | None = Field(None, max_length=255)
    prefix: str | None = Field(None, max_length=1024)
    file_pattern: str | None = Field(None, max_length=1024)
    region: str | None = Field(None, max_length=64)
    endpoint_url: str | None = Field(None, max_length=2048)
    access_key_id_env: str | None = Field(None, max_length=255)
    access_key_id: str | None = Field(None, max_length=255)
    secret: str | None = Field(None, max_length=4096)
    secret_env: str | None = Field(None, max_length=255)


class LsStorageIn(Schema):
    """A storage connection in Label Studio's API (``/api/storages/<type>``): its common fields.

    ``project`` is required to create one. ``title``, ``description``, ``regex_filter``,
    ``use_blob_urls``, ``presign``, ``presign_ttl``, ``recursive_scan``, ``synchronizable`` and
    ``can_delete_objects`` are kept and returned; of them only ``synchronizable: false`` acts
    (sync is refused). labelops' own ``file_pattern``, ``access_key_id_env`` and ``secret_env``
    are accepted too.
    """

    IGNORED = frozenset(
        {
            "id",
            "type",
            "created_at",
            "last_sync",
            "last_sync_count",
            "last_sync_job",
            "status",
            "traceback",
            "meta",
            "aws_session_token",
            "aws_sse_kms_key_id",
        }
    )
    project: Id = None  # type: ignore[assignment]
    title: str | None = Field(None, max_length=2048)
    description: str | None = Field(None, max_length=10_000)
    prefix: str | None = Field(None, max_length=1024)
    regex_filter: str | None = Field(None, max_length=1024)
    use_blob_urls: bool = None  # type: ignore[assignment]
    presign: bool = None  # type: ignore[assignment]
    presign_ttl: int = Field(None, ge=1, le=10_080)  # type: ignore[assignment]
    recursive_scan: bool = None  # type: ignore[assignment]
    synchronizable: bool = None  # type: ignore[assignment]
    can_delete_objects: bool | None = None
    file_pattern: str | None = Field(None, max_length=255)
    access_key_id_env: str | None = Field(None, max_length=255)
    secret_env: str | None = Field(None, max_length=255)


class S3StorageIn(LsStorageIn):
    """An Amazon S3 (or S3-compatible) connection in Label Studio's API."""

    bucket: str | None = Field(None, max_length=255)
    aws_access_key_id: str | None = Field(None, max_length=255)
    aws_secret_access_key: str | None = Field(None, max_length=4096)
    region_name: str | None = Field(None, max_length=64)
    s3_endpoint: str | None = Field(None, max_length=2048)


class GcsStorageIn(LsStorageIn):
    """A Google Cloud Storage connection in Label Studio's API."""

    bucket: str | None = Field(None, max_length=255)
    google_application_credentials: str | None = Field(None, max_length=20_000)
    google_project_id: str | None = Field(None, max_length=255)


class AzureStorageIn(LsStorageIn):
    """An Azure Blob Storage connection in Label Studio's API."""

    container: str | None = Field(None, max_length=255)
    account_name: str | None = Field(None, max_length=255)
    account_key: str | None = Field(None, max_length=4096)


class LocalFilesStorageIn(LsStorageIn):
    """A folder connection in Label Studio's API (here: a folder of the deployment's store)."""

    path: str | None = Field(None, max_length=1024)
