"""The webhook events of Label Studio's API: what each is called and the payload key it carries.

``GET /api/webhooks/info/`` lists this catalog in Label Studio's shape, so clients that build
webhook forms from it (its SDK's ``webhooks.info()``) work unchanged.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class WebhookEvent:
    """One webhook event: its action name, title, description and payload key."""

    action: str
    name: str
    description: str
    key: str
    organization_only: bool = False


WEBHOOK_EVENTS: tuple[WebhookEvent, ...] = (
    WebhookEvent("PROJECT_CREATED", "Project created", "A project was created.", "project", True),
    WebhookEvent("PROJECT_UPDATED", "Project updated", "A project's settings changed.", "project"),
    WebhookEvent("PROJECT_DELETED", "Project deleted", "A project was deleted.", "project", True),
    WebhookEvent("TASKS_CREATED", "Task created", "Tasks were added to a project.", "tasks"),
    WebhookEvent("TASKS_DELETED", "Task deleted", "Tasks were deleted.", "tasks"),
    WebhookEvent(
        "ANNOTATION_CREATED", "Annotation created", "An annotation was submitted.", "annotation"
    ),
    WebhookEvent(
        "ANNOTATIONS_CREATED", "Annotations created", "Annotations were imported.", "annotation"
    ),
    WebhookEvent(
        "ANNOTATION_UPDATED", "Annotation updated", "An annotation was changed.", "annotation"
    ),
    WebhookEvent(
        "ANNOTATIONS_DELETED", "Annotation deleted", "Annotations were deleted.", "annotations"
    ),
    WebhookEvent(
        "LABEL_LINK_CREATED", "Label link created", "A label was linked to a project.", "label_link"
    ),
    WebhookEvent(
        "LABEL_LINK_UPDATED", "Label link updated", "A label's link changed.", "label_link"
    ),
    WebhookEvent("LABEL_LINK_DELETED", "Label link deleted", "A label was unlinked.", "label_link"),
    WebhookEvent("REVIEW_CREATED", "Review created", "An annotation was reviewed.", "review"),
    WebhookEvent("REVIEW_UPDATED", "Review updated", "A review decision changed.", "review"),
    WebhookEvent("REVIEWS_DELETED", "Review deleted", "Reviews were deleted.", "review"),
)
