"""REST endpoints for feature flags: the caller's evaluated flags, and their administration."""

from typing import Any

from flask import Blueprint, g, jsonify, request

from labelops.domain.feature_flags import FlagState
from labelops.services import feature_flags as flag_service
from labelops.services.policies import Action, authorize_project
from labelops.web.api.auth import api_login_required, require_admin
from labelops.web.api.params import int_arg
from labelops.web.api.schemas import FlagIn, FlagPatchIn
from labelops.web.api.validation import accepts, read_body
from labelops.web.extensions import db

bp = Blueprint("api_feature_flags", __name__, url_prefix="/api")

_SETTINGS = ("description", "default", "rollout")


def flag_json(state: FlagState, emails: dict[int, str], titles: dict[int, str]) -> dict[str, Any]:
    """Returns a flag as JSON, its overrides named by id plus email or title."""
    return {
        "key": state.key,
        "description": state.description,
        "default": state.default,
        "rollout": state.rollout_percent,
        "shipped": state.shipped,
        "user_overrides": [
            {"user_id": uid, "email": emails.get(uid, ""), "enabled": enabled}
            for uid, enabled in sorted(state.user_overrides.items())
        ],
        "project_overrides": [
            {"project_id": pid, "title": titles.get(pid, ""), "enabled": enabled}
            for pid, enabled in sorted(state.project_overrides.items())
        ],
    }


def _one_json(state: FlagState) -> dict[str, Any]:
    emails, titles = flag_service.override_targets(db.session, [state])
    return flag_json(state, emails, titles)


@bp.get("/feature-flags")
@api_login_required
def evaluated_flags() -> Any:
    """Returns every feature flag's value for the caller (in the project given by ``?project=``)."""
    project_id = int_arg("project", 0, minimum=1) if "project" in request.args else None
    project = (
        authorize_project(db.session, g.user, Action.VIEW, project_id).project
        if project_id is not None
        else None
    )
    values = flag_service.flags_for(db.session, g.user, project)
    return jsonify({"feature_flags": values, "project": project_id})


@bp.get("/admin/feature-flags")
@api_login_required
def list_flags() -> Any:
    """Lists every feature flag with its default, rollout and overrides (administrators)."""
    require_admin()
    states = flag_service.list_flags(db.session)
    emails, titles = flag_service.override_targets(db.session, states)
    return jsonify([flag_json(state, emails, titles) for state in states])


@bp.post("/admin/feature-flags")
@api_login_required
@accepts(FlagIn)
def create_flag() -> Any:
    """Defines a flag ``{key, description?, default?, rollout?}`` (administrators)."""
    require_admin()
    body = read_body()
    state = flag_service.create_flag(
        db.session,
        body.key,
        by=g.user,
        description=body.description,
        default=body.default,
        rollout=body.rollout,
    )
    db.session.commit()
    return jsonify(_one_json(state)), 201


@bp.get("/admin/feature-flags/<key>")
@api_login_required
def get_flag(key: str) -> Any:
    """Returns one flag with its overrides (administrators)."""
    require_admin()
    return jsonify(_one_json(flag_service.get_flag(db.session, key)))


@bp.patch("/admin/feature-flags/<key>")
@api_login_required
@accepts(FlagPatchIn)
def update_flag(key: str) -> Any:
    """Changes a flag's settings and overrides; ``enabled: null`` removes one (administrators).

    The body may hold ``description``, ``default``, ``rollout`` (null removes it),
    ``user_overrides: [{user_id, enabled}]`` and ``project_overrides: [{project_id, enabled}]``.
    Every part is checked before any is stored: a bad part changes nothing.
    """
    require_admin()
    patch = read_body()
    body = patch.fields_set()
    users = [(o.user_id, o.enabled) for o in patch.user_overrides]
    projects = [(o.project_id, o.enabled) for o in patch.project_overrides]
    settings = {name: body[name] for name in _SETTINGS if name in body}
    state = (
        flag_service.update_flag(db.session, key, by=g.user, **settings)
        if settings
        else flag_service.get_flag(db.session, key)
    )
    for user_id, enabled in users:
        state = flag_service.set_override(db.session, key, by=g.user, user=user_id, enabled=enabled)
    for project_id, enabled in projects:
        state = flag_service.set_override(
            db.session, key, by=g.user, project=project_id, enabled=enabled
        )
    db.session.commit()
    return jsonify(_one_json(state))


@bp.delete("/admin/feature-flags/<key>")
@api_login_required
def delete_flag(key: str) -> Any:
    """Deletes a flag and its overrides; a shipped flag returns to its defaults (administrators)."""
    require_admin()
    flag_service.delete_flag(db.session, key, by=g.user)
    db.session.commit()
    return "", 204
