"""What an administrator does to accounts: invite links, deactivation, resets, paging.

Every test runs on SQLite and PostgreSQL.
"""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.clock import utcnow
from labelops.db.models import UserLinkRow
from labelops.domain.errors import InvalidInputError
from labelops.services import user_admin, user_links
from labelops.services import users as user_service
from labelops.services.errors import PermissionDeniedError
from labelops.services.user_links import LinkRefusedError
from tests.factories import make_user


def test_invite_stores_only_a_digest_and_the_link_works_once(session: Session) -> None:
    admin = make_user(session, "root@example.com", admin=True)
    invited, link = user_admin.invite_user(session, email="New@Example.com", by=admin)
    assert invited.email == "new@example.com"
    assert user_admin.account_state(invited) == "invited"
    assert user_service.authenticate(session, "new@example.com", "") is None
    stored = session.scalars(sa.select(UserLinkRow.token_digest)).all()
    assert link.token not in stored and len(stored) == 1 and len(stored[0]) == 64
    assert user_links.open_link(session, link.token).user_id == invited.id

    user_admin.set_password_by_link(session, link.token, "chosen-password")
    assert user_service.authenticate(session, "new@example.com", "chosen-password") is not None
    assert user_admin.account_state(invited) == "active"
    with pytest.raises(LinkRefusedError, match="already used") as refused:
        user_admin.set_password_by_link(session, link.token, "another-password")
    assert refused.value.status == 410
    assert user_service.authenticate(session, "new@example.com", "chosen-password") is not None


def test_expired_guessed_and_superseded_links_are_refused(session: Session) -> None:
    admin = make_user(session, "root@example.com", admin=True)
    ann = make_user(session, "ann@example.com")
    old = user_links.issue_link(session, ann, user_links.RESET, by=admin)
    with pytest.raises(LinkRefusedError, match="expired"):
        user_links.open_link(session, old.token, now=utcnow() + timedelta(hours=25))
    with pytest.raises(LinkRefusedError, match="not valid"):
        user_links.open_link(session, old.token[:-1] + ("A" if old.token[-1] != "A" else "B"))
    with pytest.raises(LinkRefusedError, match="not valid"):
        user_links.open_link(session, "")
    newer = user_links.issue_link(session, ann, user_links.RESET, by=admin)
    with pytest.raises(LinkRefusedError, match="already used"):
        user_links.open_link(session, old.token)
    assert user_links.open_link(session, newer.token).purpose == "reset"


def test_a_short_password_leaves_the_link_usable(session: Session) -> None:
    admin = make_user(session, "root@example.com", admin=True)
    _, link = user_admin.invite_user(session, email="new@example.com", by=admin)
    with pytest.raises(InvalidInputError, match="at least 8"):
        user_admin.set_password_by_link(session, link.token, "short")
    assert user_admin.set_password_by_link(session, link.token, "long-enough").email == (
        "new@example.com"
    )


def test_deactivation_ends_sign_in_tokens_and_links(session: Session) -> None:
    admin = make_user(session, "root@example.com", admin=True)
    ann = make_user(session, "ann@example.com")
    key = user_service.issue_token(session, ann)
    link = user_links.issue_link(session, ann, user_links.RESET, by=admin)
    version = ann.session_version
    user_admin.set_active(session, ann, False, by=admin)
    assert user_service.authenticate(session, "ann@example.com", "password123") is None
    assert user_service.user_for_token(session, key) is None
    assert user_service.session_user(session, ann.get_id()) is None
    assert ann.session_version == version + 1
    with pytest.raises(LinkRefusedError):
        user_links.open_link(session, link.token)
    with pytest.raises(PermissionDeniedError, match="deactivated"):
        user_admin.reset_password(session, ann, by=admin)

    user_admin.set_active(session, ann, True, by=admin)
    assert user_service.authenticate(session, "ann@example.com", "password123") is not None
    assert user_service.user_for_token(session, key) is None  # old tokens stay deleted


def test_reset_revokes_sessions_and_tokens(session: Session) -> None:
    admin = make_user(session, "root@example.com", admin=True)
    ann = make_user(session, "ann@example.com")
    key = user_service.issue_token(session, ann)
    cookie = ann.get_id()
    assert user_admin.reset_password(session, ann, by=admin, password="temporary1") is None
    assert user_service.user_for_token(session, key) is None
    assert user_service.session_user(session, cookie) is None
    assert user_service.authenticate(session, "ann@example.com", "temporary1") is not None

    key = user_service.issue_token(session, ann)
    link = user_admin.reset_password(session, ann, by=admin)
    assert link is not None and link.purpose == "reset"
    assert user_service.user_for_token(session, key) is None
    user_admin.set_password_by_link(session, link.token, "my-own-password")
    assert user_service.authenticate(session, "ann@example.com", "my-own-password") is not None


def test_non_admins_and_bad_requests_are_refused(session: Session) -> None:
    admin = make_user(session, "root@example.com", admin=True)
    ann = make_user(session, "ann@example.com")
    other = make_user(session, "other@example.com")
    refused = [
        lambda: user_admin.invite_user(session, email="x@example.com", by=ann),
        lambda: user_admin.set_active(session, other, False, by=ann),
        lambda: user_admin.reset_password(session, other, by=ann, password="temporary1"),
        lambda: user_admin.page_users(session, by=ann),
        lambda: user_links.issue_link(session, other, user_links.RESET, by=ann),
    ]
    for attempt in refused:
        with pytest.raises(PermissionDeniedError, match="only administrators"):
            attempt()
    with pytest.raises(InvalidInputError, match="your own account"):
        user_admin.set_active(session, admin, False, by=admin)
    with pytest.raises(InvalidInputError, match="your own password"):
        user_admin.reset_password(session, admin, by=admin)
    with pytest.raises(InvalidInputError, match="at least 8"):
        user_admin.reset_password(session, other, by=admin, password="short")
    with pytest.raises(InvalidInputError, match="page must be"):
        user_admin.page_users(session, by=admin, page=0)
    with pytest.raises(InvalidInputError, match="page_size"):
        user_admin.page_users(session, by=admin, per_page=1000)


def test_pages_list_the_organization_without_imported_annotators(session: Session) -> None:
    admin = make_user(session, "root@example.com", admin=True)
    for n in range(4):
        make_user(session, f"user{n}@example.com")
    user_service.imported_annotator(session, email="far@example.org", external_id=None, cache={})
    first = user_admin.page_users(session, by=admin, page=1, per_page=2)
    last = user_admin.page_users(session, by=admin, page=3, per_page=2)
    assert first.total == 5 and first.pages == 3
    assert [u.email for u in first.users] == ["root@example.com", "user0@example.com"]
    assert [u.email for u in last.users] == ["user3@example.com"]
