"""Request bodies of the comment endpoints, in Label Studio's shape."""

from pydantic import Field

from labelops.services.comments import MAX_COMMENT_CHARS
from labelops.web.api.schemas import Id, Schema

# What Label Studio's editor sends along (its temporary id, the task, the writer, the time):
# read-only here, so accepted and dropped.
_COMMENT_READ_ONLY = frozenset(
    {
        "id",
        "task",
        "project",
        "draft",
        "created_by",
        "created_at",
        "updated_at",
        "resolved_at",
        "region_ref",
        "classifications",
    }
)


class CommentIn(Schema):
    """A new comment on an annotation."""

    IGNORED = _COMMENT_READ_ONLY
    annotation: Id
    text: str = Field(min_length=1, max_length=MAX_COMMENT_CHARS)
    is_resolved: bool = False


class CommentUpdateIn(Schema):
    """Changes to a comment: its text, or whether it is resolved."""

    IGNORED = _COMMENT_READ_ONLY | {"annotation"}
    text: str | None = Field(None, min_length=1, max_length=MAX_COMMENT_CHARS)
    is_resolved: bool | None = None
