"""``/api/webhooks/``: Label Studio's webhook API (list, create, get, update, delete, info).

The rules (who may see or manage which webhook, valid actions, headers and URLs) live in
``services.webhooks``; header values are shown only to those who manage the webhook.
"""

from typing import Any

from flask import Blueprint, g, jsonify, request

from labelops.clock import iso
from labelops.domain.webhooks import ACTIONS
from labelops.services import webhooks as webhook_service
from labelops.web.api.auth import api_login_required
from labelops.web.api.params import QueryParam, optional_bool_arg
from labelops.web.api.schemas_integrations import WebhookIn, WebhookUpdateIn
from labelops.web.api.validation import accepts, read_body
from labelops.web.config import outbound_hosts
from labelops.web.errors import invalid
from labelops.web.extensions import db

bp = Blueprint("api_webhooks", __name__, url_prefix="/api/webhooks")
HIDDEN = "********"


def webhook_json(visible: webhook_service.Visible) -> dict[str, Any]:
    """Returns a webhook in Label Studio's JSON (header values masked for non-managers)."""
    webhook = visible.webhook
    headers = dict(webhook.headers or {})
    if not visible.manages:
        headers = dict.fromkeys(headers, HIDDEN)
    return {
        "id": webhook.id,
        "organization": webhook.organization_id,
        "project": webhook.project_id,
        "url": webhook.url,
        "send_payload": webhook.send_payload,
        "send_for_all_actions": webhook.send_for_all_actions,
        "headers": headers,
        "is_active": webhook.is_active,
        "actions": list(webhook.actions or []),
        "created_at": iso(webhook.created_at),
        "updated_at": iso(webhook.updated_at),
    }


_LIST_QUERY = (QueryParam("project", "string", "Only this project's webhooks (a project id)."),)


@bp.get("")
@api_login_required
@accepts(query=_LIST_QUERY)
def list_webhooks() -> Any:
    """Lists the webhooks of your organization that you may see (``?project=`` filters)."""
    raw = request.args.get("project")
    project_id = None
    if raw:
        if not raw.isdigit() or not 1 <= int(raw) < 2**63:
            raise invalid("project", f"query parameter 'project' must be a project id, got {raw!r}")
        project_id = int(raw)
    visible = webhook_service.list_webhooks(db.session, g.user, project_id=project_id)
    return jsonify([webhook_json(v) for v in visible])


@bp.post("")
@api_login_required
@accepts(WebhookIn)
def create_webhook() -> Any:
    """Creates a webhook of a project (managers) or of the organization (its admins)."""
    fields = read_body().fields_set()
    project_id = fields.pop("project", None)
    webhook = webhook_service.create_webhook(
        db.session, g.user, project_id=project_id, allowed_hosts=outbound_hosts(), **fields
    )
    db.session.commit()
    return jsonify(webhook_json(webhook_service.Visible(webhook, True))), 201


_INFO_QUERY = (
    QueryParam(
        "organization-only",
        "boolean",
        "Only events that are (true) or are not (false) per organization.",
    ),
)


@bp.get("/info")
@api_login_required
@accepts(query=_INFO_QUERY)
def info() -> Any:
    """Describes every webhook action: ``{ACTION: {name, description, key, organization-only}}``."""
    only = optional_bool_arg("organization-only")
    return jsonify(
        {
            name: {
                "name": action.title,
                "description": action.title,
                "key": action.key,
                "organization-only": action.organization_only,
            }
            for name, action in ACTIONS.items()
            if only is None or action.organization_only == only
        }
    )


@bp.get("/<int:webhook_id>")
@api_login_required
def get_webhook(webhook_id: int) -> Any:
    """Returns one webhook."""
    return jsonify(webhook_json(webhook_service.get_webhook(db.session, g.user, webhook_id)))


@bp.route("/<int:webhook_id>", methods=["PATCH", "PUT"])
@api_login_required
@accepts(WebhookUpdateIn)
def update_webhook(webhook_id: int) -> Any:
    """Changes a webhook's URL, actions, headers or switches (its project stays)."""
    changes = read_body().fields_set()
    webhook = webhook_service.update_webhook(
        db.session, g.user, webhook_id, changes, allowed_hosts=outbound_hosts()
    )
    db.session.commit()
    return jsonify(webhook_json(webhook_service.Visible(webhook, True)))


@bp.delete("/<int:webhook_id>")
@api_login_required
def delete_webhook(webhook_id: int) -> Any:
    """Deletes a webhook and its undelivered events."""
    webhook_service.delete_webhook(db.session, g.user, webhook_id)
    db.session.commit()
    return "", 204
