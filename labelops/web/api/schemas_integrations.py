"""Request bodies of the integration endpoints: webhooks and snapshot exports (Label Studio's)."""

from typing import Any

from pydantic import Field

from labelops.web.api.schemas import Id, Schema

_WEBHOOK_READ_ONLY = frozenset(
    {"id", "organization", "created_at", "updated_at", "consecutive_failures"}
)


class WebhookIn(Schema):
    """A new webhook: of a project, or organization-wide without one."""

    IGNORED = _WEBHOOK_READ_ONLY
    url: str = Field(max_length=2048)
    project: Id | None = None
    send_payload: bool = True
    send_for_all_actions: bool = True
    headers: dict[str, Any] | None = None
    actions: list[str] | None = Field(None, max_length=100)
    is_active: bool = True


class WebhookUpdateIn(Schema):
    """Changes to a webhook; its project cannot change (accepted and ignored, as Label Studio)."""

    IGNORED = _WEBHOOK_READ_ONLY | {"project"}
    url: str = Field(None, max_length=2048)  # type: ignore[assignment]
    send_payload: bool = None  # type: ignore[assignment]
    send_for_all_actions: bool = None  # type: ignore[assignment]
    headers: dict[str, Any] | None = None
    actions: list[str] | None = Field(None, max_length=100)
    is_active: bool = None  # type: ignore[assignment]


class TaskFilterOptionsIn(Schema):
    """Which tasks a snapshot holds (Label Studio's other filters are accepted and ignored)."""

    IGNORED = frozenset({"view", "skipped", "finished", "annotated"})
    only_with_annotations: bool = False


class ExportIn(Schema):
    """A new snapshot export; Label Studio's read-only and Enterprise fields are ignored."""

    IGNORED = frozenset(
        {
            "id",
            "created_at",
            "created_by",
            "finished_at",
            "status",
            "md5",
            "counters",
            "converted_formats",
            "annotation_filter_options",
            "serialization_options",
        }
    )
    title: str = Field("", max_length=2048)
    task_filter_options: TaskFilterOptionsIn | None = None


class ConvertIn(Schema):
    """A format to convert a snapshot to (``download_resources`` is accepted and ignored)."""

    IGNORED = frozenset({"download_resources"})
    export_type: str = Field(min_length=1, max_length=64)
