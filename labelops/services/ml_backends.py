"""ML backends connected to a project, as Label Studio connects them: every rule, every entry point.

The REST API (``/api/ml``), the project's settings page ("Model"), the pre-annotation asset and
annotation events all go through this module:

- Only the project's managers (and administrators) list, connect, change, check, train or
  remove a backend; others get the project's usual 404 (not a member) or 403 (a role below).
- A backend URL passes the outbound-URL rule (``labelops.services.outbound``) when it is saved
  and again on every call (``labelops.services.ml_client``): loopback, private, link-local and
  metadata addresses are refused unless ``LABELOPS_OUTBOUND_HOST_ALLOWLIST`` names the host.
- Saving a connection checks it (``GET /health``, then ``POST /setup`` with the project's
  labeling config, within the connection's timeout): ``state`` becomes CONNECTED with the
  backend's ``model_version``, or ERROR with ``error_message`` saying what failed.
- A basic-auth password is encrypted like storage secrets (Fernet, ``LABELOPS_STORAGE_SECRET_KEY``)
  and never returned.
- A project with a backend gets its predictions from it (the first one connected); others from
  the deployment's predictor (the MLflow champion, or ``LABELOPS_ML_BACKEND_URL``).

Training, annotation events and interactive suggestions are in ``ml_backend_events``.
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.fernet import InvalidToken
from sqlalchemy.orm import Session

from labelops.clock import utcnow
from labelops.db.models import MLBackendRow, ProjectRow, UserRow
from labelops.domain.errors import InvalidInputError
from labelops.domain.permissions import can_manage
from labelops.services import projects as project_service
from labelops.services.errors import NotFoundError, PermissionDeniedError
from labelops.services.ml_client import (
    MLBackendCallError,
    MLBackendClient,
    MLBackendConnection,
    project_ref,
)
from labelops.services.outbound import OutboundURLError, check_outbound_url
from labelops.services.storages import StorageError, decrypt_secret, encrypt_secret

STATES = ("CONNECTED", "DISCONNECTED", "ERROR")
AUTH_METHODS = ("NONE", "BASIC_AUTH")
MAX_TIMEOUT = 3600.0
Policy = Callable[..., bool]
_TEXT_LIMITS = {"url": 2048, "title": 500, "description": 10_000, "basic_auth_user": 255}


class MLBackendError(InvalidInputError):
    """A backend connection that may not be saved as given; ``field`` names the bad field."""

    def __init__(self, field_name: str, message: str) -> None:
        self.field = field_name
        self.message = message
        super().__init__(f"{field_name}: {message}")

    def details(self) -> dict[str, object]:
        """Returns the bad field."""
        return {"field": self.field}


@dataclass(frozen=True)
class MLBackendSpec:
    """The fields of a connection as a manager gives them (None: keep / default)."""

    url: str | None = None
    title: str | None = None
    description: str | None = None
    is_interactive: bool | None = None
    auth_method: str | None = None
    basic_auth_user: str | None = None
    basic_auth_pass: str | None = None
    timeout: float | None = None


def managed_project(
    session: Session, user: UserRow, project_id: int, policy: Policy = can_manage
) -> ProjectRow:
    """Returns the project if the user may manage its ML backends (or pass ``policy``).

    Raises:
        NotFoundError: No such project, or one the user may not see.
        PermissionDeniedError: The user's role in it does not pass the policy.
    """
    project, role = project_service.project_for_user(session, user, project_id)
    if not policy(role, is_admin=user.is_admin):
        what = "manage ML backends" if policy is can_manage else "ask ML backends"
        raise PermissionDeniedError(
            f"your role ({role.value if role else 'none'}) does not allow you to {what} in "
            f"project {project_id}"
        )
    return project


def list_ml_backends(session: Session, user: UserRow, project_id: int) -> list[MLBackendRow]:
    """Returns the project's backend connections, oldest first."""
    managed_project(session, user, project_id)
    return list(
        session.scalars(
            sa.select(MLBackendRow)
            .where(MLBackendRow.project_id == project_id)
            .order_by(MLBackendRow.id)
        )
    )


def get_ml_backend(
    session: Session, user: UserRow, backend_id: int, policy: Policy = can_manage
) -> MLBackendRow:
    """Returns a backend connection of a project the user manages (or passes ``policy`` in).

    Raises:
        NotFoundError: No such connection, or one of a project the user may not see.
        PermissionDeniedError: The user's role in its project is below manager.
    """
    row = session.get(MLBackendRow, backend_id) if 0 < backend_id < 2**63 else None
    if row is None:
        raise NotFoundError(f"ML backend {backend_id} not found")
    try:
        managed_project(session, user, row.project_id, policy)
    except NotFoundError:
        raise NotFoundError(f"ML backend {backend_id} not found") from None
    return row


def _clean(spec: MLBackendSpec, row: MLBackendRow, allowed_hosts: list[str]) -> None:
    """Applies the given fields to the row after checking each (MLBackendError names the field)."""
    for name, limit in _TEXT_LIMITS.items():
        value = getattr(spec, name)
        if value is not None and len(value) > limit:
            raise MLBackendError(name, f"must have at most {limit} characters")
    if spec.timeout is not None:
        if not 0 < spec.timeout <= MAX_TIMEOUT:
            raise MLBackendError("timeout", f"must be more than 0 and at most {MAX_TIMEOUT:g} s")
        row.timeout = float(spec.timeout)
    if spec.auth_method is not None:
        if spec.auth_method not in AUTH_METHODS:
            raise MLBackendError(
                "auth_method", f"must be one of {', '.join(AUTH_METHODS)}, not {spec.auth_method!r}"
            )
        row.auth_method = spec.auth_method
    if spec.url is not None:
        url = spec.url.strip()
        if not url:
            raise MLBackendError("url", "the backend's URL is required")
        try:
            check_outbound_url(url, allowed_hosts, what="ML backend URL")
        except OutboundURLError as exc:
            raise MLBackendError("url", str(exc)) from None
        row.url = url.rstrip("/")
    for name in ("title", "description", "basic_auth_user"):
        if getattr(spec, name) is not None:
            setattr(row, name, getattr(spec, name).strip())
    if spec.is_interactive is not None:
        row.is_interactive = spec.is_interactive
    if spec.basic_auth_pass is not None:
        row.basic_auth_pass_encrypted = _encrypt(spec.basic_auth_pass)
    if row.auth_method == "BASIC_AUTH":
        if not row.basic_auth_user:
            raise MLBackendError("basic_auth_user", "basic auth needs a user name")
        if not row.basic_auth_pass_encrypted:
            raise MLBackendError("basic_auth_pass", "basic auth needs a password")


def _encrypt(password: str) -> str:
    if not password:
        return ""
    try:
        return encrypt_secret(password)
    except StorageError as exc:
        raise MLBackendError("basic_auth_pass", exc.message) from None


def connection_of(row: MLBackendRow) -> MLBackendConnection:
    """Returns the row as a connection, its password decrypted.

    Raises:
        MLBackendError: The password does not decrypt with the deployment's key.
    """
    password = ""
    stored = row.basic_auth_pass_encrypted or ""
    if row.auth_method == "BASIC_AUTH" and stored.startswith("fernet:"):
        try:
            password = decrypt_secret(stored)
        except (InvalidToken, StorageError) as exc:
            raise MLBackendError(
                "basic_auth_pass", f"ML backend {row.id}: the password does not decrypt ({exc})"
            ) from None
    return MLBackendConnection(
        url=row.url,
        title=row.title,
        basic_auth_user=row.basic_auth_user if row.auth_method == "BASIC_AUTH" else "",
        basic_auth_pass=password,
        timeout=row.timeout,
    )


def client_of(row: MLBackendRow, allowed_hosts: Collection[str]) -> MLBackendClient:
    """Returns the protocol client of a stored connection (the outbound allowlist: settings)."""
    return MLBackendClient(connection_of(row), allowed_hosts)


def check_ml_backend(
    session: Session, row: MLBackendRow, *, allowed_hosts: Collection[str]
) -> MLBackendRow:
    """Checks the connection (``/health``, then ``/setup`` with the project's config); stores it.

    ``state`` becomes CONNECTED (with the backend's model version) or ERROR (with the reason).
    """
    project = session.get_one(ProjectRow, row.project_id)
    try:
        client = client_of(row, allowed_hosts)
        client.health()
        row.model_version = client.setup(project_ref(project.id), project.label_config)
    except (MLBackendCallError, MLBackendError) as exc:
        row.state, row.error_message = "ERROR", str(exc)
    else:
        row.state, row.error_message = "CONNECTED", ""
    row.updated_at = utcnow()
    session.flush()
    return row


def create_ml_backend(
    session: Session,
    user: UserRow,
    project_id: int,
    spec: MLBackendSpec,
    *,
    allowed_hosts: Collection[str],
) -> MLBackendRow:
    """Connects a backend to the project and checks it (its state says how that went).

    Raises:
        MLBackendError: A field is missing or breaks a rule (URL refused, bad timeout, ...).
    """
    project = managed_project(session, user, project_id)
    if spec.url is None:
        raise MLBackendError("url", "the backend's URL is required")
    hosts = list(allowed_hosts)
    row = MLBackendRow(
        project_id=project.id,
        title="",
        description="",
        is_interactive=False,
        auth_method="NONE",
        basic_auth_user="",
        basic_auth_pass_encrypted="",
        state="DISCONNECTED",
        error_message="",
        model_version="",
        timeout=100.0,
    )
    _clean(spec, row, hosts)
    row.title = row.title or "ML backend"
    session.add(row)
    session.flush()
    return check_ml_backend(session, row, allowed_hosts=hosts)


def update_ml_backend(
    session: Session,
    user: UserRow,
    backend_id: int,
    spec: MLBackendSpec,
    *,
    allowed_hosts: Collection[str],
) -> MLBackendRow:
    """Changes the given fields of a connection and checks it again."""
    row = get_ml_backend(session, user, backend_id)
    hosts = list(allowed_hosts)
    _clean(spec, row, hosts)
    return check_ml_backend(session, row, allowed_hosts=hosts)


def delete_ml_backend(session: Session, user: UserRow, backend_id: int) -> None:
    """Disconnects a backend from its project (its predictions stay)."""
    session.delete(get_ml_backend(session, user, backend_id))
    session.flush()


def project_ml_backend(session: Session, project_id: int) -> MLBackendConnection | None:
    """Returns the connection that predicts for the project (its first), or None without one."""
    row = session.scalars(
        sa.select(MLBackendRow)
        .where(MLBackendRow.project_id == project_id)
        .order_by(MLBackendRow.id)
        .limit(1)
    ).first()
    return connection_of(row) if row is not None else None


def interactive_ml_backend_id(session: Session, project_id: int) -> int | None:
    """Returns the id of the project's first interactive backend (the labeling page asks it)."""
    return session.scalar(
        sa.select(MLBackendRow.id)
        .where(MLBackendRow.project_id == project_id, MLBackendRow.is_interactive.is_(True))
        .order_by(MLBackendRow.id)
        .limit(1)
    )
