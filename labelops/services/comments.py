"""Comments on annotations (Label Studio's comments): remarks between reviewers and annotators.

Any member of the project who may see an annotation may comment on it and read its comments;
anyone else is told the annotation does not exist. Resolving (or reopening) a comment is for its
writer, the annotation's author and managers; changing its text for its writer; deleting it for
its writer and managers. The rules live in :mod:`labelops.services.policies`.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AnnotationRow, CommentRow, UserRow
from labelops.domain.errors import InvalidInputError
from labelops.services import visibility
from labelops.services.annotations import get_annotation
from labelops.services.errors import NotFoundError
from labelops.services.policies import Action, authorize
from labelops.services.rows import get_row

MAX_COMMENT_CHARS = 10_000


def _visible_annotation(
    session: Session, user: UserRow, annotation_id: int, action: Action
) -> AnnotationRow:
    annotation = get_annotation(session, annotation_id)
    project = authorize(session, user, action, annotation).project
    if not visibility.can_see_annotation(session, user, project, annotation):
        raise NotFoundError(f"annotation {annotation_id} not found")
    return annotation


def _checked_text(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInputError("text: a comment needs some text")
    if len(cleaned) > MAX_COMMENT_CHARS:
        raise InvalidInputError(f"text: a comment has at most {MAX_COMMENT_CHARS} characters")
    return cleaned


def annotation_comments(session: Session, user: UserRow, annotation_id: int) -> list[CommentRow]:
    """Returns the comments on the annotation, oldest first.

    Raises:
        NotFoundError: No such annotation, or one the user may not see.
    """
    _visible_annotation(session, user, annotation_id, Action.VIEW)
    return list(
        session.scalars(
            sa.select(CommentRow)
            .where(CommentRow.annotation_id == annotation_id)
            .order_by(CommentRow.id)
        )
    )


def add_comment(
    session: Session, user: UserRow, annotation_id: int, text: str, *, now: datetime
) -> CommentRow:
    """Returns the user's new comment on the annotation.

    Raises:
        NotFoundError: No such annotation, or one the user may not see.
        InvalidInputError: The text is blank or too long.
    """
    annotation = _visible_annotation(session, user, annotation_id, Action.COMMENT)
    comment = CommentRow(
        annotation_id=annotation.id,
        task_id=annotation.task_id,
        project_id=annotation.project_id,
        created_by_id=user.id,
        text=_checked_text(text),
        is_resolved=False,
        created_at=now,
        updated_at=now,
    )
    session.add(comment)
    session.flush()
    return comment


def get_comment(session: Session, user: UserRow, comment_id: int) -> CommentRow:
    """Returns a comment on an annotation the user may see.

    Raises:
        NotFoundError: No such comment, or one on an annotation the user may not see.
    """
    comment = get_row(session, CommentRow, comment_id, "comment")
    try:
        _visible_annotation(session, user, comment.annotation_id, Action.VIEW)
    except NotFoundError:
        raise NotFoundError(f"comment {comment_id} not found") from None
    return comment


def update_comment(
    session: Session,
    user: UserRow,
    comment: CommentRow,
    *,
    text: str | None = None,
    is_resolved: bool | None = None,
    now: datetime,
) -> CommentRow:
    """Returns the comment with its text changed and/or resolved (or reopened).

    Raises:
        PermissionDeniedError: The user may not make this change (see the policies).
        InvalidInputError: The new text is blank or too long.
    """
    if text is not None:
        authorize(session, user, Action.EDIT_COMMENT, comment)
        comment.text = _checked_text(text)
        comment.updated_at = now
    if is_resolved is not None:
        authorize(session, user, Action.RESOLVE_COMMENT, comment)
        if is_resolved != comment.is_resolved:
            comment.is_resolved = is_resolved
            comment.resolved_at = now if is_resolved else None
            comment.updated_at = now
    session.flush()
    return comment


def delete_comment(session: Session, user: UserRow, comment: CommentRow) -> None:
    """Deletes the comment.

    Raises:
        PermissionDeniedError: The user is neither its writer nor a manager of the project.
    """
    authorize(session, user, Action.DELETE_COMMENT, comment)
    session.delete(comment)
    session.flush()
