"""Delivering the webhook outbox: claimed by the background worker, posted, retried with backoff.

Each due row is claimed (leased for one attempt's timeout) in a short transaction, posted with
no transaction open, and its outcome recorded in another: delivered on a 2xx answer; otherwise
tried again after the retry policy's backoff until its attempts are used up, then failed. The URL
passes the outbound-URL rule before every attempt (a host may resolve elsewhere since the webhook
was saved); a refused URL fails the delivery at once. Redirects are not followed.
"""

import logging
import os
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

import requests
import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import WebhookDeliveryRow, WebhookRow
from labelops.domain.outbound import OutboundURLError
from labelops.domain.webhooks import RetryPolicy
from labelops.services.jobs import claim_rows
from labelops.services.outbound import check_outbound_url

log = logging.getLogger(__name__)
BATCH = 20
_ERROR_CHARS = 500


def retry_policy() -> RetryPolicy:
    """Returns the retry policy from LABELOPS_WEBHOOK_* variables (defaults otherwise).

    Raises:
        ValueError: A variable is not a positive number (the message names it).
    """
    values: dict[str, float | int] = {}
    for field, variable, kind in (
        ("max_attempts", "LABELOPS_WEBHOOK_MAX_ATTEMPTS", int),
        ("backoff_seconds", "LABELOPS_WEBHOOK_BACKOFF", float),
        ("timeout_seconds", "LABELOPS_WEBHOOK_TIMEOUT", float),
    ):
        raw = os.environ.get(variable, "").strip()
        if not raw:
            continue
        try:
            value = kind(raw)
        except ValueError:
            raise ValueError(f"{variable} must be a number, got {raw!r}") from None
        if value <= 0:
            raise ValueError(f"{variable} must be positive, got {raw!r}")
        values[field] = value
    return RetryPolicy(**values)  # type: ignore[arg-type]


def deliver_due(
    session_factory: Callable[[], Session],
    *,
    now: datetime,
    policy: RetryPolicy,
    allowed_hosts: Collection[str],
    limit: int = BATCH,
) -> int:
    """Posts up to ``limit`` deliveries that are due at ``now``; returns how many were tried."""
    with session_factory() as session:
        ids = claim_rows(
            session,
            WebhookDeliveryRow,
            claimable=[
                WebhookDeliveryRow.status == "pending",
                WebhookDeliveryRow.next_attempt_at <= now,
                sa.or_(
                    WebhookDeliveryRow.lease_until.is_(None),
                    WebhookDeliveryRow.lease_until < now,
                ),
            ],
            values={"lease_until": now + timedelta(seconds=policy.timeout_seconds + 60)},
            limit=limit,
        )
        session.commit()
    for delivery_id in ids:
        _deliver(session_factory, delivery_id, now=now, policy=policy, allowed_hosts=allowed_hosts)
    return len(ids)


def _deliver(
    session_factory: Callable[[], Session],
    delivery_id: int,
    *,
    now: datetime,
    policy: RetryPolicy,
    allowed_hosts: Collection[str],
) -> None:
    with session_factory() as session:
        delivery = session.get(WebhookDeliveryRow, delivery_id)
        webhook = session.get(WebhookRow, delivery.webhook_id) if delivery else None
        if delivery is None or webhook is None:  # the webhook was deleted meanwhile
            return
        if not webhook.is_active:
            _record(session, delivery, now, policy, error="the webhook was deactivated", final=True)
            return
        url, headers, payload = webhook.url, dict(webhook.headers or {}), delivery.payload
        session.rollback()  # no transaction stays open while the receiver answers
        status: int | None = None
        try:
            check_outbound_url(url, allowed_hosts, what="webhook url")
            response = requests.post(
                url,
                json=payload,
                headers=headers,
                timeout=policy.timeout_seconds,
                allow_redirects=False,
            )
            status = response.status_code
            error = "" if 200 <= status < 300 else f"answered {status}: {response.text[:200]}"
        except OutboundURLError as exc:
            _record(session, delivery, now, policy, error=str(exc), final=True)
            return
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        _record(session, delivery, now, policy, error=error, status=status)


def _record(
    session: Session,
    delivery: WebhookDeliveryRow,
    now: datetime,
    policy: RetryPolicy,
    *,
    error: str,
    status: int | None = None,
    final: bool = False,
) -> None:
    """Stores an attempt's outcome: delivered, due again after the backoff, or failed."""
    delivery.attempts += 1
    delivery.last_status_code = status
    delivery.last_error = error[:_ERROR_CHARS]
    delivery.lease_until = None
    if not error:
        delivery.status = "delivered"
        delivery.delivered_at = now
    else:
        retry_at = None if final else policy.next_attempt(delivery.attempts, now)
        if retry_at is None:
            delivery.status = "failed"
            log.warning("webhook delivery %s failed for good: %s", delivery.id, error)
        else:
            delivery.next_attempt_at = retry_at
    session.commit()


def deliveries(session: Session, webhook_id: int) -> list[WebhookDeliveryRow]:
    """Returns the webhook's deliveries, oldest first."""
    return list(
        session.scalars(
            sa.select(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.webhook_id == webhook_id)
            .order_by(WebhookDeliveryRow.id)
        )
    )
