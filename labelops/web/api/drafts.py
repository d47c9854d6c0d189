"""REST endpoints for drafts, on Label Studio's paths: a user's own unfinished work on a task.

``GET/POST /api/tasks/<id>/drafts``, ``POST /api/tasks/<id>/annotations/<aid>/drafts`` and
``GET/PATCH/DELETE /api/drafts/<id>``. Saving a draft needs the role that may annotate the task's
project; a draft is then its author's alone (``labelops.services.drafts``).
"""

from datetime import datetime
from typing import Any

from flask import Blueprint, g, jsonify

from labelops.clock import iso, utcnow
from labelops.db.models import DraftRow, UserRow
from labelops.services import drafts as draft_service
from labelops.services import tasks as task_service
from labelops.services.policies import Action, authorize_project
from labelops.web.api.auth import api_login_required
from labelops.web.api.schemas import DraftIn, DraftUpdateIn
from labelops.web.api.validation import accepts, read_body
from labelops.web.extensions import db

bp = Blueprint("api_drafts", __name__, url_prefix="/api")


def _ago(when: datetime, now: datetime) -> str:
    minutes = max(int((now - when).total_seconds() // 60), 0)
    return f"{minutes} minutes"


def draft_json(draft: DraftRow, author: UserRow) -> dict[str, Any]:
    """Returns a draft as Label Studio's draft JSON (``user`` is the author's email, as there)."""
    return {
        "id": draft.id,
        "user": author.email,
        "created_username": author.username or author.email,
        "created_ago": _ago(draft.created_at, utcnow()),
        "result": draft.result,
        "lead_time": draft.lead_time,
        "was_postponed": draft.was_postponed,
        "import_id": None,
        "task": draft.task_id,
        "annotation": draft.annotation_id,
        "created_at": iso(draft.created_at),
        "updated_at": iso(draft.updated_at),
    }


def _annotatable_task(task_id: int) -> Any:
    task = task_service.get_task(db.session, task_id)
    authorize_project(db.session, g.user, Action.ANNOTATE, task.project_id)
    return task


@bp.get("/tasks/<int:task_id>/drafts")
@api_login_required
def list_drafts(task_id: int) -> Any:
    """Lists the caller's drafts of the task."""
    task = _annotatable_task(task_id)
    rows = draft_service.user_drafts(db.session, task.id, g.user.id)
    return jsonify([draft_json(d, g.user) for d in rows])


@bp.post("/tasks/<int:task_id>/drafts")
@api_login_required
@accepts(DraftIn)
def create_task_draft(task_id: int) -> Any:
    """Saves the caller's draft of the task ``{result, lead_time?, was_postponed?}``."""
    return _save(task_id, None)


@bp.post("/tasks/<int:task_id>/annotations/<int:annotation_id>/drafts")
@api_login_required
@accepts(DraftIn)
def create_annotation_draft(task_id: int, annotation_id: int) -> Any:
    """Saves the caller's draft of one of the task's annotations."""
    return _save(task_id, annotation_id)


def _save(task_id: int, annotation_id: int | None) -> Any:
    task = _annotatable_task(task_id)
    body = read_body()
    draft = draft_service.save_draft(
        db.session,
        task,
        user=g.user,
        result=body.result,
        lead_time=body.lead_time,
        was_postponed=body.was_postponed,
        annotation_id=annotation_id,
        now=utcnow(),
    )
    db.session.commit()
    return jsonify(draft_json(draft, g.user)), 201


def _own(draft_id: int) -> DraftRow:
    draft = draft_service.own_draft(db.session, draft_id, g.user.id)
    _annotatable_task(draft.task_id)
    return draft


@bp.get("/drafts/<int:draft_id>")
@api_login_required
def get_draft(draft_id: int) -> Any:
    """Returns one of the caller's drafts."""
    return jsonify(draft_json(_own(draft_id), g.user))


@bp.patch("/drafts/<int:draft_id>")
@api_login_required
@accepts(DraftUpdateIn)
def update_draft(draft_id: int) -> Any:
    """Changes one of the caller's drafts."""
    draft = _own(draft_id)
    draft_service.update_draft(db.session, draft, read_body().fields_set(), now=utcnow())
    db.session.commit()
    return jsonify(draft_json(draft, g.user))


@bp.delete("/drafts/<int:draft_id>")
@api_login_required
def delete_draft(draft_id: int) -> Any:
    """Deletes one of the caller's drafts."""
    draft_service.delete_draft(db.session, _own(draft_id))
    db.session.commit()
    return "", 204
