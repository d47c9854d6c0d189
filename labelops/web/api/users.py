"""REST endpoints for users and the caller's API token."""

from typing import Any

from flask import Blueprint, g, jsonify, url_for

from labelops.clock import iso
from labelops.services import organizations as organization_service
from labelops.services import user_admin
from labelops.services import users as user_service
from labelops.services.user_links import IssuedLink
from labelops.web.api.auth import api_login_required, require_admin
from labelops.web.api.schemas import PasswordResetIn, UserIn, UserInviteIn, UserPatchIn
from labelops.web.api.serializers import initials, user_json
from labelops.web.api.validation import accepts, read_body
from labelops.web.extensions import db

bp = Blueprint("api_users", __name__, url_prefix="/api")


@bp.get("/users")
@api_login_required
def list_users() -> Any:
    """Lists the members of the caller's active organization (administrators only)."""
    return jsonify([user_json(u) for u in user_service.list_users(db.session, by=g.user)])


@bp.post("/users")
@api_login_required
@accepts(UserIn)
def create_user() -> Any:
    """Creates a user ``{email, password, username?, first_name?, last_name?, is_admin?}``.

    The new user joins the creator's active organization.
    """
    require_admin()
    user = user_service.create_user(
        db.session,
        **read_body().model_dump(),
        organization_id=organization_service.active_organization_id(db.session, g.user),
    )
    db.session.commit()
    return jsonify(user_json(user)), 201


@bp.get("/users/<int:user_id>")
@api_login_required
def get_user(user_id: int) -> Any:
    """Returns one user (the user themselves, or an administrator of their organization)."""
    return jsonify(user_json(user_service.visible_user(db.session, user_id, by=g.user)))


@bp.patch("/users/<int:user_id>")
@api_login_required
@accepts(UserPatchIn)
def update_user(user_id: int) -> Any:
    """Changes ``{"can_create_projects": bool, "is_active": bool}`` (administrators).

    ``is_active: false`` deactivates the account: it can't sign in, its API tokens are deleted.
    """
    require_admin()
    body = read_body().fields_set()
    user = user_service.visible_user(db.session, user_id, by=g.user)
    if body.get("can_create_projects") is not None:
        user_service.grant_project_creation(
            db.session, user, body["can_create_projects"], by=g.user
        )
    if body.get("is_active") is not None:
        user_admin.set_active(db.session, user, body["is_active"], by=g.user)
    db.session.commit()
    return jsonify(user_json(user))


def _link_json(link: IssuedLink) -> dict[str, Any]:
    return {
        "url": url_for("auth.link", token=link.token, _external=True),
        "purpose": link.purpose,
        "expires_at": iso(link.expires_at),
    }


@bp.post("/users/invite")
@api_login_required
@accepts(UserInviteIn)
def invite_user() -> Any:
    """Creates an account without a password; answers its one-time invitation link (shown once).

    The body is ``{email, username?, first_name?, last_name?}``; the answer is
    ``{"user": {...}, "link": {"url", "purpose": "invite", "expires_at"}}``.
    """
    require_admin()
    user, link = user_admin.invite_user(
        db.session,
        **read_body().model_dump(),
        by=g.user,
        organization_id=organization_service.active_organization_id(db.session, g.user),
    )
    db.session.commit()
    return jsonify({"user": user_json(user), "link": _link_json(link)}), 201


@bp.post("/users/<int:user_id>/reset-password")
@api_login_required
@accepts(PasswordResetIn)
def reset_password(user_id: int) -> Any:
    """Resets a password: ``{"password": "..."}`` sets a temporary one, ``{}`` issues a link.

    Either way the user's sessions end and their API tokens are deleted. The answer is the user
    and, for a link, ``"link": {"url", "purpose": "reset", "expires_at"}`` (shown once).
    """
    require_admin()
    user = user_service.visible_user(db.session, user_id, by=g.user)
    link = user_admin.reset_password(
        db.session, user, by=g.user, password=read_body().model_dump()["password"]
    )
    db.session.commit()
    return jsonify({"user": user_json(user), "link": _link_json(link) if link else None})


@bp.get("/current-user/whoami")
@api_login_required
def whoami() -> Any:
    """Returns the authenticated user in Label Studio's shape, with their active organization."""
    user = g.user
    active = organization_service.active_organization_id(db.session, user)
    last_used = user_service.last_activity(db.session, user)
    return jsonify(
        {
            **user_json(user),
            "avatar": None,
            "initials": initials(user),
            "phone": "",
            "active_organization": active,
            "allow_newsletters": False,
            "last_activity": iso(last_used),
        }
    )


@bp.get("/current-user/token")
@api_login_required
def current_token() -> Any:
    """Describes the caller's tokens without minting one (they are stored hashed, never re-shown).

    ``POST /api/current-user/reset-token`` issues a new token and revokes the old ones.
    """
    tokens = user_service.token_state(db.session, g.user)
    return jsonify(
        {
            "token": None,
            "detail": (
                "API tokens are stored hashed and cannot be shown again; "
                "POST /api/current-user/reset-token to issue a new one (the old ones stop working)"
            ),
            "tokens": [
                {
                    "prefix": t.prefix,
                    "name": t.name,
                    "created_at": iso(t.created_at),
                    "last_used_at": iso(t.last_used_at),
                }
                for t in tokens
            ],
        }
    )


@bp.post("/current-user/reset-token")
@api_login_required
def reset_token() -> Any:
    """Revokes all of the caller's tokens and issues a new one."""
    key = user_service.issue_token(db.session, g.user, revoke_others=True)
    db.session.commit()
    return jsonify({"token": key})
