"""ORM rows of the labeling database (typed SQLAlchemy 2.0 mappings, one class a table)."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from labelops.clock import utcnow
from labelops.db.base import Base, JsonType
from labelops.domain.sampling import DEFAULT_SAMPLING

# SQLite reuses the largest rowid after a delete unless the table is AUTOINCREMENT; a reused id
# would hand a deleted project's or task's rows to the next one. PostgreSQL sequences never reuse.
SQLITE_AUTOINCREMENT = {"sqlite_autoincrement": True}


class UserRow(Base):
    """A person (or an annotator imported from another instance) who can sign in or annotate."""

    __tablename__ = "users"
    __table_args__ = SQLITE_AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    username: Mapped[str] = mapped_column(sa.String(150), default="")
    first_name: Mapped[str] = mapped_column(sa.String(150), default="")
    last_name: Mapped[str] = mapped_column(sa.String(150), default="")
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    is_imported: Mapped[bool] = mapped_column(default=False)
    external_id: Mapped[str | None] = mapped_column(sa.String(255))
    can_create_projects: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Bumped on sign-out and password change: sessions and remember cookies carrying an older
    # version stop working.
    session_version: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    # The organization the user acts in (pages, API tokens). Read it through
    # ``organizations.active_organization_id``, which checks it against the memberships.
    active_organization_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Flask-Login protocol, kept here so the web layer needs no wrapper class.
    @property
    def is_authenticated(self) -> bool:
        """Returns True: a loaded user row is always an authenticated user."""
        return True

    @property
    def is_anonymous(self) -> bool:
        """Returns False: anonymous visitors are not rows."""
        return False

    def get_id(self) -> str:
        """Returns ``"<id>:<session_version>"``, kept by Flask-Login in session/remember cookies.

        Bumping the version therefore invalidates every cookie issued before.
        """
        return f"{self.id}:{self.session_version or 0}"


class ApiTokenRow(Base):
    """An API token; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = SQLITE_AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(8))
    name: Mapped[str] = mapped_column(sa.String(100), default="api")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    user: Mapped[UserRow] = relationship()


class UserLinkRow(Base):
    """A one-time link that lets a user set their password: an invitation or a reset.

    Only the SHA-256 digest of the link's token is stored; the link works once, until
    ``expires_at``, and is refused after ``used_at`` is set.
    """

    __tablename__ = "user_links"
    __table_args__ = SQLITE_AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(20))
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[UserRow] = relationship(foreign_keys=[user_id])


class ProjectRow(Base):
    """A labeling project: its config, its queue settings and its instructions."""

    __tablename__ = "projects"
    __table_args__ = SQLITE_AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    label_config: Mapped[str] = mapped_column(sa.Text, default="<View></View>")
    expert_instruction: Mapped[str] = mapped_column(sa.Text, default="")
    show_instruction: Mapped[bool] = mapped_column(default=False)
    show_skip_button: Mapped[bool] = mapped_column(default=True)
    # Blind labeling by default: annotators see only their own annotations unless this is set.
    show_annotations_to_annotators: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false()
    )
    maximum_annotations: Mapped[int] = mapped_column(default=1)
    sampling: Mapped[str] = mapped_column(sa.String(40), default=DEFAULT_SAMPLING)
    model_version: Mapped[str] = mapped_column(sa.String(200), default="")
    color: Mapped[str] = mapped_column(sa.String(16), default="#FFFFFF")
    # The project's task workflow definition (labelops.domain.workflow); NULL is the built-in one.
    workflow: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    num_tasks: Mapped[int] = mapped_column(default=0)
    num_annotations: Mapped[int] = mapped_column(default=0)
    num_labeled_tasks: Mapped[int] = mapped_column(default=0)
    num_predictions: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    # Label Studio's settings that labelops keeps and returns but does not act on
    # (``labelops.services.project_settings``); NULL until one is set.
    ls_settings: Mapped[dict[str, Any] | None] = mapped_column(JsonType)


class ProjectMemberRow(Base):
    """A user's role in one project: manager, reviewer or annotator."""

    __tablename__ = "project_members"
    __table_args__ = (sa.UniqueConstraint("project_id", "user_id"), SQLITE_AUTOINCREMENT)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[UserRow] = relationship()


class ImportBatchRow(Base):
    """One import (a file, a request body or a storage object) and what it added."""

    __tablename__ = "import_batches"
    __table_args__ = SQLITE_AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(sa.String(1024), default="")
    format: Mapped[str] = mapped_column(sa.String(40), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    num_tasks: Mapped[int] = mapped_column(default=0)
    num_annotations: Mapped[int] = mapped_column(default=0)
    num_predictions: Mapped[int] = mapped_column(default=0)
    num_duplicates: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskRow(Base):
    """One task: its data, queue priority, state and counters."""

    __tablename__ = "tasks"
    __table_args__ = (
        sa.Index("ix_tasks_queue", "project_id", "is_labeled", sa.desc("priority"), "id"),
        sa.Index("ix_tasks_project_hash", "project_id", "content_hash"),
        sa.Index("ix_tasks_project_id_id", "project_id", "id"),
        SQLITE_AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    data: Mapped[dict[str, Any]] = mapped_column(JsonType)
    meta: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    priority: Mapped[float] = mapped_column(default=0.0)
    state: Mapped[str] = mapped_column(sa.String(20), default="new")
    is_labeled: Mapped[bool] = mapped_column(default=False)
    total_annotations: Mapped[int] = mapped_column(default=0)
    cancelled_annotations: Mapped[int] = mapped_column(default=0)
    total_predictions: Mapped[int] = mapped_column(default=0)
    prediction_score: Mapped[float | None]
    content_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    import_batch_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("import_batches.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TaskLockRow(Base):
    """A time-limited hold of one task by one annotator, so the queue does not hand it out twice."""

    __tablename__ = "task_locks"
    __table_args__ = (sa.UniqueConstraint("task_id", "user_id"), SQLITE_AUTOINCREMENT)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("tasks.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expire_at: Mapped[datetime] = mapped_column(index=True)


class AnnotationRow(Base):
    """One annotator's result on one task, with its review state."""

    __tablename__ = "annotations"
    __table_args__ = (
        sa.Index("ix_annotations_task_user", "task_id", "completed_by_id"),
        SQLITE_AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("tasks.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    completed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    result: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    was_cancelled: Mapped[bool] = mapped_column(default=False)
    ground_truth: Mapped[bool] = mapped_column(default=False)
    lead_time: Mapped[float | None]
    review_state: Mapped[str | None] = mapped_column(sa.String(20))
    review_comment: Mapped[str] = mapped_column(sa.Text, default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    import_batch_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("import_batches.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


class DraftRow(Base):
    """One user's unsaved work on a task (or on one of its annotations): Label Studio's draft."""

    __tablename__ = "annotation_drafts"
    __table_args__ = (
        sa.Index("ix_annotation_drafts_task_user", "task_id", "user_id"),
        SQLITE_AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("tasks.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    annotation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("annotations.id", ondelete="CASCADE")
    )
    result: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    lead_time: Mapped[float | None]
    was_postponed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CommentRow(Base):
    """A remark on an annotation (Label Studio's comments): written by a member, resolved later."""

    __tablename__ = "annotation_comments"
    __table_args__ = SQLITE_AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("annotations.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("tasks.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(sa.Text, default="")
    is_resolved: Mapped[bool] = mapped_column(default=False)
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    annotation: Mapped[AnnotationRow] = relationship()
    created_by: Mapped[UserRow | None] = relationship()


class AnnotationRevisionRow(Base):
    """One step of an annotation's history: who did what to it, when, and the result after."""

    __tablename__ = "annotation_revisions"
    __table_args__ = SQLITE_AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(index=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int]
    action: Mapped[str] = mapped_column(sa.String(20))
    result: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    changed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PredictionRow(Base):
    """A model's proposed result for a task, with the model version and a confidence score."""

    __tablename__ = "predictions"
    __table_args__ = (
        sa.Index("ix_predictions_task_version", "task_id", "model_version"),
        SQLITE_AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("tasks.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    model_version: Mapped[str] = mapped_column(sa.String(200), default="")
    score: Mapped[float | None]
    result: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    probabilities: Mapped[dict[str, Any] | None] = mapped_column(JsonType, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DatasetVersionRow(Base):
    """A versioned, content-addressed labeled dataset written to the object store."""

    __tablename__ = "dataset_versions"
    __table_args__ = (sa.UniqueConstraint("project_id", "version"), SQLITE_AUTOINCREMENT)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(sa.String(64))
    uri: Mapped[str] = mapped_column(sa.String(2048))
    num_tasks: Mapped[int] = mapped_column(default=0)
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgreementReportRow(Base):
    """Agreement figures computed by the pipeline for one project, kept for the dashboard."""

    __tablename__ = "agreement_reports"
    __table_args__ = SQLITE_AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    report: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StorageConnectionRow(Base):
    """Where a project's files live (an S3, GCS or Azure bucket/prefix, or a local folder)."""

    __tablename__ = "storage_connections"
    __table_args__ = SQLITE_AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(20), default="s3")
    bucket: Mapped[str] = mapped_column(sa.String(255), default="")
    prefix: Mapped[str] = mapped_column(sa.String(1024), default="")
    file_pattern: Mapped[str] = mapped_column(sa.String(255), default="")
    region: Mapped[str] = mapped_column(sa.String(64), default="")
    endpoint_url: Mapped[str] = mapped_column(sa.String(1024), default="")
    access_key_id_env: Mapped[str] = mapped_column(sa.String(255), default="")
    secret_encrypted: Mapped[str] = mapped_column(sa.Text, default="")
    # "import": the project's source files; "export": a target storage exports are written to.
    direction: Mapped[str] = mapped_column(sa.String(10), default="import", server_default="import")
    # Label Studio's fields labelops keeps and returns (title, description, use_blob_urls ...).
    ls_settings: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MLBackendRow(Base):
    """A Label Studio ML backend connected to a project (its URL, auth and last known state)."""

    __tablename__ = "ml_backends"
    __table_args__ = SQLITE_AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(sa.String(2048))
    title: Mapped[str] = mapped_column(sa.String(500), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    is_interactive: Mapped[bool] = mapped_column(default=False)
    # "NONE" or "BASIC_AUTH"; the password is stored as ``fernet:<token>``, never returned.
    auth_method: Mapped[str] = mapped_column(sa.String(20), default="NONE")
    basic_auth_user: Mapped[str] = mapped_column(sa.String(255), default="")
    basic_auth_pass_encrypted: Mapped[str] = mapped_column(sa.Text, default="")
    # CONNECTED, DISCONNECTED or ERROR, as of the last check; ``error_message`` says why.
    state: Mapped[str] = mapped_column(sa.String(20), default="DISCONNECTED")
    error_message: Mapped[str] = mapped_column(sa.Text, default="")
    model_version: Mapped[str] = mapped_column(sa.String(255), default="")
    timeout: Mapped[float] = mapped_column(default=100.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ImportedObjectRow(Base):
    """A storage object already imported (key + ETag), so no object is imported twice."""

    __tablename__ = "imported_objects"
    __table_args__ = (sa.UniqueConstraint("project_id", "key", "etag"), SQLITE_AUTOINCREMENT)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(1024))
    etag: Mapped[str] = mapped_column(sa.String(255))
    import_batch_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("import_batches.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportedRowRow(Base):
    """The task one row of a storage object became, so a changed object updates that task.

    ``task_id`` is empty once the task was deleted: the row stays known and is not imported again.
    """

    __tablename__ = "imported_rows"
    __table_args__ = (sa.UniqueConstraint("project_id", "key", "row"), SQLITE_AUTOINCREMENT)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(1024))
    row: Mapped[int]
    task_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tasks.id", ondelete="SET NULL"), index=True
    )


class PipelineRunRow(Base):
    """A pipeline run launched from the web app or API, and its last known status."""

    __tablename__ = "pipeline_runs"
    __table_args__ = SQLITE_AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    job_name: Mapped[str] = mapped_column(sa.String(100))
    run_id: Mapped[str] = mapped_column(sa.String(64), default="")
    status: Mapped[str] = mapped_column(sa.String(20), default="queued")
    error: Mapped[str] = mapped_column(sa.Text, default="")
    launched_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuditLogRow(Base):
    """Who did what to which object, when."""

    __tablename__ = "audit_log"
    __table_args__ = SQLITE_AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    project_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(sa.String(60))
    object_type: Mapped[str] = mapped_column(sa.String(40), default="")
    object_id: Mapped[int | None]
    detail: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeatureFlagRow(Base):
    """A feature flag's stored settings: its default and its percentage rollout."""

    __tablename__ = "feature_flags"
    __table_args__ = (
        sa.CheckConstraint(
            "rollout_percent IS NULL OR (rollout_percent >= 0 AND rollout_percent <= 100)",
            name="rollout_range",
        ),
        SQLITE_AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    default_enabled: Mapped[bool] = mapped_column(default=False)
    rollout_percent: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    overrides: Mapped[list["FeatureFlagOverrideRow"]] = relationship(
        back_populates="flag", cascade="all, delete-orphan", passive_deletes=True
    )


class FeatureFlagOverrideRow(Base):
    """A flag turned on or off for one user or for one project (exactly one of the two)."""

    __tablename__ = "feature_flag_overrides"
    __table_args__ = (
        sa.UniqueConstraint("flag_id", "user_id", name="uq_feature_flag_overrides_flag_user"),
        sa.UniqueConstraint("flag_id", "project_id", name="uq_feature_flag_overrides_flag_project"),
        sa.CheckConstraint("(user_id IS NULL) <> (project_id IS NULL)", name="one_target"),
        SQLITE_AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(
        sa.ForeignKey("feature_flags.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    enabled: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    flag: Mapped[FeatureFlagRow] = relationship(back_populates="overrides")
    user: Mapped[UserRow | None] = relationship()
    project: Mapped[ProjectRow | None] = relationship()


class OrganizationRow(Base):
    """A tenant: its members, their projects and their tokens never reach another one."""

    __tablename__ = "organizations"
    __table_args__ = SQLITE_AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrganizationMemberRow(Base):
    """A user's role in one organization: admin (manages its members) or member."""

    __tablename__ = "organization_members"
    __table_args__ = (sa.UniqueConstraint("organization_id", "user_id"), SQLITE_AUTOINCREMENT)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(20), default="member")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[UserRow] = relationship()


class BackgroundJobRow(Base):
    """Work the background worker does outside any request (a snapshot export, a large import).

    ``status`` goes created -> in_progress -> completed | failed. A worker holds a job it claimed
    until ``lease_until``; a job whose worker died is claimed again after that time.
    """

    __tablename__ = "background_jobs"
    __table_args__ = (
        sa.Index("ix_background_jobs_claim", "status", "lease_until", "id"),
        sa.Index("ix_background_jobs_project_kind", "project_id", "kind", "id"),
        SQLITE_AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    project_id: Mapped[int | None] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(sa.String(2048), default="")
    status: Mapped[str] = mapped_column(sa.String(20), default="created")
    params: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    progress: Mapped[int] = mapped_column(default=0)
    result: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    result_path: Mapped[str] = mapped_column(sa.String(1024), default="")
    error: Mapped[str] = mapped_column(sa.Text, default="")
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class WebhookRow(Base):
    """A URL told about changes in one project (or, with no project, in the whole organization)."""

    __tablename__ = "webhooks"
    __table_args__ = SQLITE_AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(sa.String(2048))
    send_payload: Mapped[bool] = mapped_column(default=True)
    send_for_all_actions: Mapped[bool] = mapped_column(default=True)
    actions: Mapped[list[str]] = mapped_column(JsonType, default=list)
    headers: Mapped[dict[str, str]] = mapped_column(JsonType, default=dict)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookDeliveryRow(Base):
    """The outbox: one event for one webhook, written in the transaction of the change itself.

    The background worker posts it, retrying with backoff: ``status`` is pending until it is
    delivered, or failed once the attempts are used up.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at", "id"),
        SQLITE_AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
