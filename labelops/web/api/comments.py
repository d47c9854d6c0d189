"""REST endpoints for comments on annotations, on Label Studio's paths and in its JSON.

``GET /api/comments?annotation=<id>``, ``POST /api/comments``, ``GET/PATCH/DELETE
/api/comments/<id>``. Who may read, write, resolve or delete is decided by
``labelops.services.comments`` through the policies.
"""

from typing import Any

from flask import Blueprint, g, jsonify

from labelops.clock import iso, utcnow
from labelops.db.models import CommentRow
from labelops.services import comments as comment_service
from labelops.web.api.auth import api_login_required
from labelops.web.api.params import QueryParam
from labelops.web.api.schemas_comments import CommentIn, CommentUpdateIn
from labelops.web.api.validation import accepts, read_body
from labelops.web.errors import invalid
from labelops.web.extensions import db

bp = Blueprint("api_comments", __name__, url_prefix="/api/comments")

_ANNOTATION = QueryParam(
    "annotation", "integer", "The annotation whose comments are listed.", None, 1
)


def comment_json(comment: CommentRow) -> dict[str, Any]:
    """Returns a comment as Label Studio's comment JSON (``created_by`` is the writer's id)."""
    writer = comment.created_by
    return {
        "id": comment.id,
        "text": comment.text,
        "annotation": comment.annotation_id,
        "task": comment.task_id,
        "project": comment.project_id,
        "draft": None,
        "created_by": comment.created_by_id,
        "created_username": (writer.username or writer.email) if writer is not None else None,
        "is_resolved": comment.is_resolved,
        "resolved_at": iso(comment.resolved_at),
        "created_at": iso(comment.created_at),
        "updated_at": iso(comment.updated_at),
    }


@bp.get("")
@api_login_required
@accepts(query=[_ANNOTATION])
def list_comments() -> Any:
    """Lists the comments on an annotation (``?annotation=<id>``), oldest first."""
    annotation_id = _ANNOTATION.get()
    if annotation_id is None:
        raise invalid("annotation", "query parameter 'annotation' is required")
    rows = comment_service.annotation_comments(db.session, g.user, annotation_id)
    return jsonify([comment_json(c) for c in rows])


@bp.post("")
@api_login_required
@accepts(CommentIn)
def create_comment() -> Any:
    """Adds the caller's comment ``{annotation, text}`` to an annotation."""
    body = read_body()
    now = utcnow()
    comment = comment_service.add_comment(db.session, g.user, body.annotation, body.text, now=now)
    if body.is_resolved:
        comment_service.update_comment(db.session, g.user, comment, is_resolved=True, now=now)
    db.session.commit()
    return jsonify(comment_json(comment)), 201


@bp.get("/<int:comment_id>")
@api_login_required
def get_comment(comment_id: int) -> Any:
    """Returns one comment."""
    return jsonify(comment_json(comment_service.get_comment(db.session, g.user, comment_id)))


@bp.patch("/<int:comment_id>")
@api_login_required
@accepts(CommentUpdateIn)
def update_comment(comment_id: int) -> Any:
    """Changes a comment's text (its writer) or resolves/reopens it (``is_resolved``)."""
    comment = comment_service.get_comment(db.session, g.user, comment_id)
    changes = read_body().fields_set()
    comment_service.update_comment(
        db.session,
        g.user,
        comment,
        text=changes.get("text"),
        is_resolved=changes.get("is_resolved"),
        now=utcnow(),
    )
    db.session.commit()
    return jsonify(comment_json(comment))


@bp.delete("/<int:comment_id>")
@api_login_required
def delete_comment(comment_id: int) -> Any:
    """Deletes a comment (its writer, or a manager)."""
    comment = comment_service.get_comment(db.session, g.user, comment_id)
    comment_service.delete_comment(db.session, g.user, comment)
    db.session.commit()
    return "", 204
