"""Feature flags: precedence, stable percentage rollout, who may change them, and storage."""

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AuditLogRow, FeatureFlagOverrideRow, FeatureFlagRow, UserRow
from labelops.domain import feature_flags as flag_rules
from labelops.domain.errors import InvalidInputError
from labelops.services import feature_flags as flags
from labelops.services.errors import ConflictError, NotFoundError, PermissionDeniedError
from tests.factories import make_project, make_user


@pytest.fixture
def admin(session: Session) -> UserRow:
    return make_user(session, "root@example.com", admin=True)


def test_precedence_user_then_project_then_rollout_then_default(
    session: Session, admin: UserRow
) -> None:
    alice = make_user(session, "alice@example.com")
    bob = make_user(session, "bob@example.com")
    project = make_project(session)
    other = make_project(session, title="Other")
    flags.create_flag(session, "new_queue", by=admin, default=False)
    # Only the default: off for everyone, anywhere.
    assert not flags.is_enabled(session, "new_queue", user=alice, project=project)

    # A rollout of 100 % beats the default for known users; anonymous callers get the default.
    flags.update_flag(session, "new_queue", by=admin, rollout=100)
    assert flags.is_enabled(session, "new_queue", user=alice)
    assert not flags.is_enabled(session, "new_queue", user=None)

    # A project override beats the rollout, in that project only.
    flags.set_override(session, "new_queue", by=admin, project=project, enabled=False)
    assert not flags.is_enabled(session, "new_queue", user=alice, project=project)
    assert flags.is_enabled(session, "new_queue", user=alice, project=other)

    # A user override beats the project override.
    flags.set_override(session, "new_queue", by=admin, user=alice, enabled=True)
    assert flags.is_enabled(session, "new_queue", user=alice, project=project)
    assert not flags.is_enabled(session, "new_queue", user=bob, project=project)

    # Removing an override hands the decision back to the next rule.
    flags.set_override(session, "new_queue", by=admin, user=alice, enabled=None)
    assert not flags.is_enabled(session, "new_queue", user=alice, project=project)
    flags.set_override(session, "new_queue", by=admin, project=project, enabled=None)
    assert flags.is_enabled(session, "new_queue", user=alice, project=project)
    assert flags.flags_for(session, alice, project)["new_queue"] is True


def test_rollout_is_stable_and_close_to_the_percentage(session: Session, admin: UserRow) -> None:
    flags.create_flag(session, "gradual", by=admin, rollout=30)
    session.commit()
    users = range(1, 1001)

    def enabled_users(key: str) -> set[int]:
        state = flags.get_flag(session, key)  # what is_enabled evaluates, read once
        return {u for u in users if flag_rules.evaluate(state, u, None)}

    first = enabled_users("gradual")
    assert 250 <= len(first) <= 350
    # Asked again through is_enabled (a later request, state read afresh): the same answers.
    session.expire_all()
    for user_id in range(1, 61):
        assert flags.is_enabled(session, "gradual", user=user_id) is (user_id in first)
    # Raising the percentage only adds users: nobody who had the feature loses it.
    flags.update_flag(session, "gradual", by=admin, rollout=60)
    wider = enabled_users("gradual")
    assert first < wider and 550 <= len(wider) <= 650
    # Another flag at the same percentage picks other users (the key is in the hash).
    flags.create_flag(session, "other_gradual", by=admin, rollout=30)
    assert enabled_users("other_gradual") != first


def test_unknown_key_is_an_error_not_silently_off(session: Session, admin: UserRow) -> None:
    with pytest.raises(NotFoundError, match="unknown feature flag 'no_such_flag'"):
        flags.is_enabled(session, "no_such_flag", user=1)
    with pytest.raises(NotFoundError, match="no_such_flag"):
        flags.update_flag(session, "no_such_flag", by=admin, default=True)
    with pytest.raises(NotFoundError, match="no_such_flag"):
        flags.delete_flag(session, "no_such_flag", by=admin)


def test_shipped_flag_exists_without_a_row_and_resets_on_delete(
    session: Session, admin: UserRow
) -> None:
    key = "labeling_shortcut_hint"
    user = make_user(session, "ann@example.com")
    assert session.scalar(sa.select(sa.func.count()).select_from(FeatureFlagRow)) == 0
    assert flags.flags_for(session, user) == {key: False}
    flags.update_flag(session, key, by=admin, default=True)
    assert flags.is_enabled(session, key, user=user)
    assert flags.get_flag(session, key).shipped
    flags.delete_flag(session, key, by=admin)
    assert not flags.is_enabled(session, key, user=user)
    with pytest.raises(ConflictError, match="already exists"):
        flags.create_flag(session, key, by=admin)


def test_only_administrators_change_flags(session: Session, admin: UserRow) -> None:
    annotator = make_user(session, "ann@example.com")
    flags.create_flag(session, "beta", by=admin)
    session.commit()
    for change in (
        lambda: flags.create_flag(session, "mine", by=annotator),
        lambda: flags.update_flag(session, "beta", by=annotator, default=True),
        lambda: flags.set_override(session, "beta", by=annotator, user=annotator, enabled=True),
        lambda: flags.delete_flag(session, "beta", by=annotator),
    ):
        with pytest.raises(PermissionDeniedError, match="only administrators"):
            change()
    session.rollback()
    assert not flags.is_enabled(session, "beta", user=annotator)
    assert [s.key for s in flags.list_flags(session)] == ["beta", "labeling_shortcut_hint"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key": "Bad Key"}, "key must be"),
        ({"key": "x"}, "key must be"),
        ({"key": "ok_key", "rollout": 101}, "rollout must be a whole percentage"),
        ({"key": "ok_key", "rollout": -1}, "rollout must be a whole percentage"),
        ({"key": "ok_key", "rollout": True}, "rollout must be a whole percentage"),
        ({"key": "ok_key", "default": "yes"}, "default must be true or false"),
        ({"key": "ok_key", "description": "x" * 501}, "at most 500 characters"),
    ],
)
def test_rejects_malformed_definitions(
    session: Session, admin: UserRow, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        flags.create_flag(session, by=admin, **kwargs)  # type: ignore[arg-type]
    assert session.scalar(sa.select(sa.func.count()).select_from(FeatureFlagRow)) == 0


def test_override_targets_must_exist_and_be_exactly_one(session: Session, admin: UserRow) -> None:
    project = make_project(session)
    flags.create_flag(session, "beta", by=admin)
    with pytest.raises(NotFoundError, match="user 999 not found"):
        flags.set_override(session, "beta", by=admin, user=999, enabled=True)
    with pytest.raises(NotFoundError, match="project 999 not found"):
        flags.set_override(session, "beta", by=admin, project=999, enabled=True)
    with pytest.raises(InvalidInputError, match="exactly one"):
        flags.set_override(session, "beta", by=admin, user=admin, project=project, enabled=True)
    with pytest.raises(InvalidInputError, match="exactly one"):
        flags.set_override(session, "beta", by=admin, enabled=True)


def test_overrides_go_with_their_flag_user_and_project(session: Session, admin: UserRow) -> None:
    user = make_user(session, "ann@example.com")
    project = make_project(session)
    flags.create_flag(session, "beta", by=admin)
    flags.set_override(session, "beta", by=admin, user=user, enabled=True)
    flags.set_override(session, "beta", by=admin, project=project, enabled=True)
    flags.set_override(session, "beta", by=admin, user=admin, enabled=True)
    session.commit()
    count = sa.select(sa.func.count()).select_from(FeatureFlagOverrideRow)
    session.execute(sa.delete(UserRow).where(UserRow.id == user.id))
    assert session.scalar(count) == 2
    session.execute(sa.text("DELETE FROM projects WHERE id = :id"), {"id": project.id})
    assert session.scalar(count) == 1
    flags.delete_flag(session, "beta", by=admin)
    session.commit()
    assert session.scalar(count) == 0
    actions = session.scalars(
        sa.select(AuditLogRow.action)
        .where(AuditLogRow.object_type == "feature_flag")
        .order_by(AuditLogRow.id)
    ).all()
    assert actions == ["feature_flag_created"] + ["feature_flag_override"] * 3 + [
        "feature_flag_deleted"
    ]
