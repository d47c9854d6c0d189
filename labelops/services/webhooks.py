"""Webhooks, as Label Studio's ``/api/webhooks/``: their settings and who may manage them.

Events are written by ``webhook_events`` and delivered by ``webhook_delivery``.

Who may do what: a project's webhooks are managed by its managers (and administrators) and seen
by its members; organization-wide ones are managed by the organization's admins and seen by its
members. Header values are shown only to those who manage the webhook.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.clock import utcnow
from labelops.db.models import UserRow, WebhookRow
from labelops.domain.errors import InvalidInputError
from labelops.domain.json_limits import is_stored_id
from labelops.domain.permissions import can_manage, can_view
from labelops.domain.webhooks import check_actions, check_headers
from labelops.services import organizations as organization_service
from labelops.services import projects as project_service
from labelops.services.errors import NotFoundError, PermissionDeniedError
from labelops.services.outbound import check_outbound_url

EDITABLE = ("url", "send_payload", "send_for_all_actions", "actions", "headers", "is_active")


@dataclass(frozen=True)
class Visible:
    """A webhook the user may see, and whether they may manage it (and see its headers)."""

    webhook: WebhookRow
    manages: bool


def _access(session: Session, user: UserRow, webhook: WebhookRow) -> bool | None:
    """Returns True (manages), False (sees) or None (may not see) for the user."""
    if webhook.organization_id != organization_service.active_organization_id(session, user):
        return None
    if webhook.project_id is None:
        return organization_service.can_administer(session, user, webhook.organization_id)
    try:
        _, role = project_service.project_for_user(session, user, webhook.project_id)
    except NotFoundError:
        return None
    if can_manage(role, is_admin=user.is_admin):
        return True
    return False if can_view(role, is_admin=user.is_admin) else None


def list_webhooks(
    session: Session, user: UserRow, *, project_id: int | None = None
) -> list[Visible]:
    """Returns the webhooks of the user's active organization they may see, oldest first.

    Args:
        session: The database session.
        user: Who asks.
        project_id: Only this project's webhooks (Label Studio's ``?project=`` filter).
    """
    active = organization_service.active_organization_id(session, user)
    query = sa.select(WebhookRow).where(WebhookRow.organization_id == active)
    if project_id is not None:
        query = query.where(WebhookRow.project_id == project_id)
    out = []
    for webhook in session.scalars(query.order_by(WebhookRow.id)):
        access = _access(session, user, webhook)
        if access is not None:
            out.append(Visible(webhook, access))
    return out


def get_webhook(session: Session, user: UserRow, webhook_id: int) -> Visible:
    """Returns a webhook the user may see.

    Raises:
        NotFoundError: No such webhook, or one the user may not see.
    """
    webhook = session.get(WebhookRow, webhook_id) if is_stored_id(webhook_id) else None
    access = _access(session, user, webhook) if webhook is not None else None
    if webhook is None or access is None:
        raise NotFoundError(f"webhook {webhook_id} not found")
    return Visible(webhook, access)


def _check_manages(visible: Visible, verb: str) -> WebhookRow:
    if not visible.manages:
        where = (
            f"project {visible.webhook.project_id}"
            if visible.webhook.project_id is not None
            else f"organization {visible.webhook.organization_id}"
        )
        raise PermissionDeniedError(f"only managers of {where} may {verb} its webhooks")
    return visible.webhook


def create_webhook(
    session: Session,
    user: UserRow,
    *,
    project_id: int | None,
    allowed_hosts: Collection[str],
    **fields: Any,
) -> WebhookRow:
    """Returns a new webhook of a project (or, without one, of the user's organization).

    ``allowed_hosts`` is the settings' outbound host allowlist (``Settings``).

    Raises:
        NotFoundError: The project is not one the user may see.
        PermissionDeniedError: The user does not manage the project (or the organization).
        WebhookError: Bad actions or headers (the field is named).
        OutboundURLError: The URL is not one the server may call.
    """
    organization_id = organization_service.active_organization_id(session, user)
    if organization_id is None:
        raise PermissionDeniedError("you belong to no organization")
    if project_id is not None:
        project, _ = project_service.project_for_user(session, user, project_id)
        organization_id = project.organization_id
    webhook = WebhookRow(
        organization_id=organization_id, project_id=project_id, created_by_id=user.id
    )
    _check_manages(Visible(webhook, bool(_access(session, user, webhook))), "create")
    _apply(webhook, {"actions": [], "headers": {}, **fields}, allowed_hosts)
    session.add(webhook)
    session.flush()
    return webhook


def update_webhook(
    session: Session,
    user: UserRow,
    webhook_id: int,
    changes: Mapping[str, Any],
    *,
    allowed_hosts: Collection[str],
) -> WebhookRow:
    """Returns the webhook with the given settings changed (its project stays).

    Raises:
        NotFoundError: No such webhook the user may see.
        PermissionDeniedError: The user may see it but not manage it.
        WebhookError: Bad actions or headers.
        OutboundURLError: The URL is not one the server may call.
    """
    webhook = _check_manages(get_webhook(session, user, webhook_id), "change")
    _apply(webhook, changes, allowed_hosts)
    webhook.updated_at = utcnow()
    session.flush()
    return webhook


def delete_webhook(session: Session, user: UserRow, webhook_id: int) -> None:
    """Deletes the webhook and its undelivered events.

    Raises:
        NotFoundError: No such webhook the user may see.
        PermissionDeniedError: The user may see it but not manage it.
    """
    session.delete(_check_manages(get_webhook(session, user, webhook_id), "delete"))
    session.flush()


def _apply(webhook: WebhookRow, fields: Mapping[str, Any], allowed_hosts: Collection[str]) -> None:
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise InvalidInputError(f"unknown webhook field(s): {', '.join(unknown)}")
    if "url" in fields:
        check_outbound_url(fields["url"], allowed_hosts, what="url")
    if "actions" in fields:
        fields = {
            **fields,
            "actions": check_actions(
                fields["actions"] or [], project_scoped=webhook.project_id is not None
            ),
        }
    if "headers" in fields:
        fields = {**fields, "headers": check_headers(fields["headers"] or {})}
    for name, value in fields.items():
        setattr(webhook, name, value)
