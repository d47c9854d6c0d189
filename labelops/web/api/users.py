"""REST endpoints for users and the caller's API token."""

from typing import Any

from flask import Blueprint, g, jsonify

from labelops.services import users as user_service
from labelops.web.api.auth import api_login_required, require_admin
from labelops.web.api.schemas import UserIn
from labelops.web.api.serializers import user_json
from labelops.web.api.validation import accepts, read_body
from labelops.web.extensions import db

bp = Blueprint("api_users", __name__, url_prefix="/api")


@bp.get("/users")
@api_login_required
def list_users() -> Any:
    """Lists users (administrators see everyone; others see themselves)."""
    users = user_service.list_users(db.session) if g.user.is_admin else [g.user]
    return jsonify([user_json(u) for u in users])


@bp.post("/users")
@api_login_required
@accepts(UserIn)
def create_user() -> Any:
    """Creates a user ``{email, password, username?, first_name?, last_name?, is_admin?}``."""
    require_admin()
    user = user_service.create_user(db.session, **read_body().model_dump())
    db.session.commit()
    return jsonify(user_json(user)), 201


@bp.get("/users/<int:user_id>")
@api_login_required
def get_user(user_id: int) -> Any:
    """Returns one user (administrators, or the user themselves)."""
    if user_id != g.user.id:
        require_admin()
    return jsonify(user_json(user_service.get_user(db.session, user_id)))


@bp.get("/current-user/whoami")
@api_login_required
def whoami() -> Any:
    """Returns the authenticated user."""
    return jsonify(user_json(g.user))


@bp.get("/current-user/token")
@api_login_required
def current_token() -> Any:
    """Issues a new API token for the caller (tokens are stored hashed, so none can be re-shown)."""
    key = user_service.issue_token(db.session, g.user)
    db.session.commit()
    return jsonify({"token": key})


@bp.post("/current-user/reset-token")
@api_login_required
def reset_token() -> Any:
    """Revokes all of the caller's tokens and issues a new one."""
    key = user_service.issue_token(db.session, g.user, revoke_others=True)
    db.session.commit()
    return jsonify({"token": key})
