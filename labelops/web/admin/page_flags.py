"""Puts the evaluated feature flags into every page: ``feature_flags`` and ``flag_enabled()``.

``base.html`` hands ``feature_flags`` to the browser as the ``data-feature-flags`` attribute of
``<body>`` (read by ``static/js/feature_flags.js``); templates gate server-rendered parts with
``flag_enabled("key")``. A project's overrides apply on its pages (``project_id`` in the URL)
when the signed-in user may see that project, so the flags never reveal a project to outsiders.
"""

from typing import Any

from flask import Blueprint, g, has_request_context, request
from flask_login import current_user

from labelops.services import feature_flags as flag_service
from labelops.services import projects as project_service
from labelops.web.extensions import db


def _scope() -> tuple[int | None, int | None]:
    """Returns the (user id, project id) the current page's flags are evaluated for."""
    if not has_request_context() or not current_user.is_authenticated:
        return None, None
    user = current_user._get_current_object()  # noqa: SLF001 - Flask-Login proxy unwrapping
    project_id = (request.view_args or {}).get("project_id")
    if not isinstance(project_id, int):
        return user.id, None
    visible = user.is_admin or project_service.role_of(db.session, user, project_id) is not None
    return user.id, project_id if visible else None


def page_flags() -> dict[str, bool]:
    """Returns every flag's value for the current user and page (computed once a request)."""
    if has_request_context() and "feature_flags" in g:
        cached: dict[str, bool] = g.feature_flags
        return cached
    user_id, project_id = _scope()
    values = flag_service.flags_for(db.session, user_id, project_id)
    if has_request_context():
        g.feature_flags = values
    return values


def flag_enabled(key: str) -> bool:
    """Returns whether the flag is on for the current user and page (unknown keys raise)."""
    values = page_flags()  # every flag, read once a request
    if key in values:
        return values[key]
    user_id, project_id = _scope()
    return flag_service.is_enabled(db.session, key, user=user_id, project=project_id)


def register_page_flags(blueprint: Blueprint) -> None:
    """Makes ``feature_flags`` and ``flag_enabled`` available to every template of the app."""

    @blueprint.app_context_processor
    def _inject() -> dict[str, Any]:
        return {"feature_flags": page_flags(), "flag_enabled": flag_enabled}
