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


class ProjectIn(Schema):
    """A project's settings (create: missing fields take defaults; update: only those given)."""

    IGNORED = frozenset(
        {"id", "created_by", "created_at", "updated_at", "parsed_label_config", "task_number"}
    )
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
    """What an administrator may change on an account: the project-creation grant."""

    can_create_projects: bool | None = None


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
