"""``GET /api/webhooks/info/``: the webhook event catalog in Label Studio's shape."""

from typing import Any

from flask import Blueprint, jsonify

from labelops.domain.webhook_events import WEBHOOK_EVENTS
from labelops.web.api.auth import api_login_required
from labelops.web.api.params import QueryParam, optional_bool_arg
from labelops.web.api.validation import accepts

bp = Blueprint("api_webhook_info", __name__, url_prefix="/api/webhooks")

_ORGANIZATION_ONLY = QueryParam(
    "organization-only",
    "boolean",
    "Only events that are (true) or are not (false) per organization.",
)


@bp.get("/info")
@api_login_required
@accepts(query=(_ORGANIZATION_ONLY,))
def webhook_info() -> Any:
    """Describes every webhook event: ``{ACTION: {name, description, key, organization-only}}``."""
    wanted = optional_bool_arg("organization-only")
    return jsonify(
        {
            e.action: {
                "name": e.name,
                "description": e.description,
                "key": e.key,
                "organization-only": e.organization_only,
            }
            for e in WEBHOOK_EVENTS
            if wanted is None or e.organization_only == wanted
        }
    )
