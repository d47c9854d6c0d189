"""Feature flags: defined in code or by an administrator, evaluated per user and per project.

A flag is on or off for a user in a project. The answer is decided by the first rule that applies
(the same order everywhere: the page, the API, the pipeline):

1. the flag's override for this user;
2. the flag's override for this project;
3. the flag's rollout percentage, when one is set and the user is known: the user is in the
   rollout when a stable hash of ``"<flag key>:<user id>"`` falls below the percentage, so a
   user's answer never flips between requests or processes, and raising the percentage only adds
   users;
4. the flag's default.

Flags shipped with labelops are defined in ``SHIPPED_FLAGS`` and exist without a row; the row
appears when an administrator changes one. Administrators may also define flags of their own.
Only administrators (or the operator at the command line, ``by=None``) may change flags.
"""

from enum import Enum

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import FeatureFlagOverrideRow, FeatureFlagRow, ProjectRow, UserRow
from labelops.domain.errors import InvalidInputError
from labelops.domain.feature_flags import (
    SHIPPED_FLAGS,
    FlagState,
    check_bool,
    check_description,
    check_key,
    check_rollout,
    evaluate,
)
from labelops.domain.json_limits import is_stored_id
from labelops.services.errors import ConflictError, NotFoundError, PermissionDeniedError
from labelops.services.projects import audit


class _Unset(Enum):
    UNSET = "unset"


UNSET = _Unset.UNSET


def _id(obj: UserRow | ProjectRow | int | None) -> int | None:
    return obj if obj is None or isinstance(obj, int) else obj.id


def _scope_filter(scope: tuple[int | None, int | None] | None) -> sa.ColumnElement[bool]:
    """Returns the condition on overrides: all, or those of the scope's user and project."""
    if scope is None:
        return sa.true()
    user_id, project_id = scope
    conditions = []
    if user_id is not None:
        conditions.append(FeatureFlagOverrideRow.user_id == user_id)
    if project_id is not None:
        conditions.append(FeatureFlagOverrideRow.project_id == project_id)
    return sa.or_(sa.false(), *conditions)


def _load(
    session: Session,
    keys: list[str] | None = None,
    scope: tuple[int | None, int | None] | None = None,
) -> dict[str, FlagState]:
    """Returns flags by key; with a ``(user id, project id)`` scope, only overrides for those."""
    rows = session.scalars(
        sa.select(FeatureFlagRow).where(FeatureFlagRow.key.in_(keys) if keys else sa.true())
    ).all()
    overrides: dict[int, list[FeatureFlagOverrideRow]] = {}
    if rows:
        for override in session.scalars(
            sa.select(FeatureFlagOverrideRow).where(
                FeatureFlagOverrideRow.flag_id.in_([row.id for row in rows]),
                _scope_filter(scope),
            )
        ):
            overrides.setdefault(override.flag_id, []).append(override)
    states = {
        key: FlagState(key, flag.description, flag.default, shipped=True)
        for key, flag in SHIPPED_FLAGS.items()
        if keys is None or key in keys
    }
    for row in rows:
        mine = overrides.get(row.id, [])
        states[row.key] = FlagState(
            key=row.key,
            description=row.description,
            default=row.default_enabled,
            rollout_percent=row.rollout_percent,
            user_overrides={o.user_id: o.enabled for o in mine if o.user_id is not None},
            project_overrides={o.project_id: o.enabled for o in mine if o.project_id is not None},
            shipped=row.key in SHIPPED_FLAGS,
        )
    return states


def list_flags(session: Session) -> list[FlagState]:
    """Returns every flag (shipped and defined by administrators), sorted by key."""
    return sorted(_load(session).values(), key=lambda state: state.key)


def get_flag(
    session: Session, key: str, scope: tuple[int | None, int | None] | None = None
) -> FlagState:
    """Returns one flag (with a ``(user id, project id)`` scope: only the overrides for those).

    Raises:
        NotFoundError: No flag has this key.
    """
    state = _load(session, [key], scope).get(key)
    if state is None:
        raise NotFoundError(f"unknown feature flag {key!r}")
    return state


def is_enabled(
    session: Session,
    key: str,
    *,
    user: UserRow | int | None = None,
    project: ProjectRow | int | None = None,
) -> bool:
    """Returns whether the flag is on for this user in this project (see the module docstring).

    Raises:
        NotFoundError: No flag has this key (a misspelt key is an error, never silently off).
    """
    scope = (_id(user), _id(project))
    return evaluate(get_flag(session, key, scope), *scope)


def flags_for(
    session: Session, user: UserRow | int | None, project: ProjectRow | int | None = None
) -> dict[str, bool]:
    """Returns every flag's value for this user (and project): what the page and API get."""
    scope = (_id(user), _id(project))
    return {
        key: evaluate(state, *scope) for key, state in sorted(_load(session, None, scope).items())
    }


def _require_admin(by: UserRow | None) -> None:
    if by is not None and not by.is_admin:
        raise PermissionDeniedError("only administrators may change feature flags")


def _flush(session: Session, key: str) -> None:
    """Flushes; a unique key broken by a simultaneous change becomes a ConflictError."""
    try:
        session.flush()
    except sa.exc.IntegrityError as exc:
        raise ConflictError(
            f"feature flag {key!r} was changed by someone else at the same time; try again"
        ) from exc


def _row(session: Session, key: str) -> FeatureFlagRow:
    """Returns the flag's row, creating it for a shipped flag that has none yet."""
    row = session.scalar(sa.select(FeatureFlagRow).where(FeatureFlagRow.key == key))
    if row is not None:
        return row
    shipped = SHIPPED_FLAGS.get(key)
    if shipped is None:
        raise NotFoundError(f"unknown feature flag {key!r}")
    row = FeatureFlagRow(key=key, description=shipped.description, default_enabled=shipped.default)
    session.add(row)
    _flush(session, key)
    return row


def create_flag(
    session: Session,
    key: str,
    *,
    by: UserRow | None,
    description: str = "",
    default: bool = False,
    rollout: int | None = None,
) -> FlagState:
    """Returns a new flag defined by an administrator.

    Raises:
        PermissionDeniedError: ``by`` is not an administrator.
        InvalidInputError: The key, description, default or rollout is malformed (message names it).
        ConflictError: A flag with this key exists.
    """
    _require_admin(by)
    row = FeatureFlagRow(
        key=check_key(key),
        description=check_description(description),
        default_enabled=check_bool("default", default),
        rollout_percent=check_rollout(rollout),
    )
    exists = session.scalar(sa.select(FeatureFlagRow.id).where(FeatureFlagRow.key == key))
    if key in SHIPPED_FLAGS or exists is not None:
        raise ConflictError(f"feature flag {key!r} already exists")
    session.add(row)
    _flush(session, key)
    audit(session, by, "feature_flag_created", None, "feature_flag", row.id, key)
    return get_flag(session, key)


def update_flag(
    session: Session,
    key: str,
    *,
    by: UserRow | None,
    description: str | _Unset = UNSET,
    default: bool | _Unset = UNSET,
    rollout: int | _Unset | None = UNSET,
) -> FlagState:
    """Returns the flag after changing the given settings (``rollout=None`` removes the rollout).

    Raises:
        PermissionDeniedError: ``by`` is not an administrator.
        NotFoundError: No flag has this key.
        InvalidInputError: A value is malformed (message names it); nothing is changed then.
    """
    _require_admin(by)
    changes: dict[str, object] = {}
    if description is not UNSET:
        changes["description"] = check_description(description)
    if default is not UNSET:
        changes["default_enabled"] = check_bool("default", default)
    if rollout is not UNSET:
        changes["rollout_percent"] = check_rollout(rollout)
    row = _row(session, key)
    for name, value in changes.items():
        setattr(row, name, value)
    audit(session, by, "feature_flag_changed", None, "feature_flag", row.id, key)
    session.flush()
    return get_flag(session, key)


def set_override(
    session: Session,
    key: str,
    *,
    by: UserRow | None,
    enabled: bool | None,
    user: UserRow | int | None = None,
    project: ProjectRow | int | None = None,
) -> FlagState:
    """Returns the flag after turning it on or off for one user or one project.

    ``enabled=None`` removes the override, so the next rule decides again.

    Raises:
        PermissionDeniedError: ``by`` is not an administrator.
        NotFoundError: No such flag, user or project.
        InvalidInputError: Not exactly one of ``user`` and ``project`` is given, or ``enabled``
            is not a boolean or None.
    """
    _require_admin(by)
    if (user is None) == (project is None):
        raise InvalidInputError("an override names exactly one user or one project")
    if enabled is not None:
        check_bool("enabled", enabled)
    user_id, project_id = _id(user), _id(project)
    if user_id is not None and (not is_stored_id(user_id) or session.get(UserRow, user_id) is None):
        raise NotFoundError(f"user {user_id} not found")
    if project_id is not None and (
        not is_stored_id(project_id) or session.get(ProjectRow, project_id) is None
    ):
        raise NotFoundError(f"project {project_id} not found")
    row = _row(session, key)
    target = (
        FeatureFlagOverrideRow.user_id == user_id
        if user_id is not None
        else FeatureFlagOverrideRow.project_id == project_id
    )
    override = session.scalar(
        sa.select(FeatureFlagOverrideRow).where(FeatureFlagOverrideRow.flag_id == row.id, target)
    )
    if enabled is None:
        if override is not None:
            session.delete(override)
    elif override is None:
        session.add(
            FeatureFlagOverrideRow(
                flag_id=row.id, user_id=user_id, project_id=project_id, enabled=enabled
            )
        )
    else:
        override.enabled = enabled
    detail = {"user_id": user_id, "project_id": project_id, "enabled": enabled}
    audit(session, by, "feature_flag_override", project_id, "feature_flag", row.id, detail)
    _flush(session, key)
    return get_flag(session, key)


def delete_flag(session: Session, key: str, *, by: UserRow | None) -> None:
    """Deletes the flag with its overrides; a shipped flag falls back to its definition.

    Raises:
        PermissionDeniedError: ``by`` is not an administrator.
        NotFoundError: No flag has this key.
    """
    _require_admin(by)
    row = session.scalar(sa.select(FeatureFlagRow).where(FeatureFlagRow.key == key))
    if row is None:
        if key in SHIPPED_FLAGS:
            return
        raise NotFoundError(f"unknown feature flag {key!r}")
    audit(session, by, "feature_flag_deleted", None, "feature_flag", row.id, key)
    session.delete(row)
    session.flush()


def override_targets(
    session: Session, states: list[FlagState]
) -> tuple[dict[int, str], dict[int, str]]:
    """Returns the emails of the overridden users and the titles of the overridden projects."""
    user_ids = {uid for state in states for uid in state.user_overrides}
    project_ids = {pid for state in states for pid in state.project_overrides}
    emails: dict[int, str] = {
        user_id: email
        for user_id, email in session.execute(
            sa.select(UserRow.id, UserRow.email).where(UserRow.id.in_(user_ids))
        )
    }
    titles: dict[int, str] = {
        project_id: title
        for project_id, title in session.execute(
            sa.select(ProjectRow.id, ProjectRow.title).where(ProjectRow.id.in_(project_ids))
        )
    }
    return emails, titles
