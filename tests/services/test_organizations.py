"""Organizations service: members, admins, the active organization, and migration 0006.

Every test runs on SQLite and PostgreSQL.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from labelops.db.engine import make_engine
from labelops.db.migrate import alembic_config, upgrade
from labelops.db.models import (
    OrganizationMemberRow,
    OrganizationRow,
    ProjectMemberRow,
    UserRow,
)
from labelops.domain.errors import InvalidInputError
from labelops.services import organizations as orgs
from labelops.services import projects as project_service
from labelops.services.errors import ConflictError, NotFoundError, PermissionDeniedError
from labelops.services.policies import Action, authorize
from labelops.services.users import list_users
from tests.conftest import fresh_pg_database
from tests.factories import add_member, make_org, make_project, make_user

BEFORE = "0006_imported_rows"  # the revision before organizations


def test_new_users_join_the_default_organization_and_admins_administer_it(
    session: Session,
) -> None:
    admin = make_user(session, "root@example.com", admin=True)
    ann = make_user(session, "ann@example.com")
    default = orgs.default_organization(session)
    assert default.title == "Default"
    assert orgs.active_organization_id(session, admin) == default.id
    assert orgs.active_organization_id(session, ann) == default.id
    assert orgs.membership(session, default.id, admin.id).role == "admin"
    assert orgs.membership(session, default.id, ann.id).role == "member"
    assert session.scalar(sa.select(sa.func.count(OrganizationRow.id))) == 1


def test_only_instance_administrators_create_organizations(session: Session) -> None:
    admin = make_user(session, "root@example.com", admin=True)
    ann = make_user(session, "ann@example.com")
    with pytest.raises(PermissionDeniedError, match="instance administrators"):
        orgs.create_organization(session, "Mine", by=ann)
    with pytest.raises(InvalidInputError, match="1 to 200 characters"):
        orgs.create_organization(session, "  ", by=admin)
    acme = orgs.create_organization(session, "Acme", by=admin, admin=ann)
    assert orgs.membership(session, acme.id, ann.id).role == "admin"
    assert [o.title for o in orgs.organizations_of(session, ann)] == ["Default", "Acme"]


def test_organization_admin_manages_members_and_plain_members_cannot(session: Session) -> None:
    boss = make_user(session, "boss@example.com")
    acme = make_org(session, "Acme", admin=boss)
    make_user(session, "new@example.com")
    plain = make_user(session, "plain@example.com", org=acme)

    added = orgs.add_member(session, acme, email="New@Example.com ", role="member", by=boss)
    assert added is not None and added.user.email == "new@example.com"
    # An org admin gets the same answer for an unknown email as for a known one: nothing.
    assert orgs.add_member(session, acme, email="ghost@example.com", by=boss) is None
    with pytest.raises(PermissionDeniedError, match=f"admins of organization {acme.id}"):
        orgs.add_member(session, acme, email="new@example.com", by=plain)
    with pytest.raises(PermissionDeniedError):
        orgs.change_role(session, acme, plain.id, "admin", by=plain)
    with pytest.raises(InvalidInputError, match="admin, member"):
        orgs.change_role(session, acme, plain.id, "owner", by=boss)

    page = orgs.members(session, acme, page=1, page_size=2)
    assert page.total == 3
    assert [m.user.email for m in page.members] == ["boss@example.com", "new@example.com"]
    assert [m.user.email for m in orgs.members(session, acme, page=2, page_size=2).members] == [
        "plain@example.com"
    ]


def test_instance_admin_learns_that_an_email_is_unknown(session: Session) -> None:
    root = make_user(session, "root@example.com", admin=True)
    acme = make_org(session, "Acme")
    with pytest.raises(NotFoundError, match=r"ghost@example\.com"):
        orgs.add_member(session, acme, email="ghost@example.com", by=root)


def test_the_last_admin_cannot_leave_or_be_demoted(session: Session) -> None:
    boss = make_user(session, "boss@example.com")
    acme = make_org(session, "Acme", admin=boss)
    with pytest.raises(ConflictError, match="last admin of organization"):
        orgs.change_role(session, acme, boss.id, "member", by=boss)
    with pytest.raises(ConflictError, match="last admin of organization"):
        orgs.remove_member(session, acme, boss.id, by=boss)
    deputy = make_user(session, "deputy@example.com", org=acme)
    orgs.change_role(session, acme, deputy.id, "admin", by=boss)
    orgs.change_role(session, acme, boss.id, "member", by=deputy)
    assert orgs.membership(session, acme.id, boss.id).role == "member"
    with pytest.raises(ConflictError):
        orgs.remove_member(session, acme, deputy.id, by=deputy)


def test_removing_a_member_takes_them_out_of_the_organizations_projects(
    session: Session,
) -> None:
    boss = make_user(session, "boss@example.com")
    acme = make_org(session, "Acme", admin=boss)
    orgs.switch_organization(session, boss, acme.id)
    worker = make_user(session, "worker@example.com", org=acme)
    orgs.join(session, orgs.default_organization(session), worker)
    acme_project = make_project(session, boss, title="Acme work")
    default_project = make_project(session, None, title="Default work")
    add_member(session, acme_project, worker, "annotator")
    add_member(session, default_project, worker, "annotator")

    orgs.remove_member(session, acme, worker.id, by=boss)

    memberships = session.scalars(
        sa.select(ProjectMemberRow.project_id).where(ProjectMemberRow.user_id == worker.id)
    ).all()
    assert memberships == [default_project.id]
    with pytest.raises(NotFoundError):
        orgs.remove_member(session, acme, worker.id, by=boss)


def test_users_switch_only_to_their_organizations(session: Session) -> None:
    ann = make_user(session, "ann@example.com")
    root = make_user(session, "root@example.com", admin=True)
    acme = make_org(session, "Acme")
    with pytest.raises(NotFoundError, match=f"organization {acme.id} not found"):
        orgs.switch_organization(session, ann, acme.id)
    orgs.switch_organization(session, root, acme.id)
    assert orgs.active_organization_id(session, root) == acme.id
    orgs.join(session, acme, ann)
    orgs.switch_organization(session, ann, acme.id)
    assert orgs.active_organization_id(session, ann) == acme.id
    # Leaving the active organization falls back to the oldest remaining membership.
    orgs.remove_member(session, acme, ann.id, by=ann)
    assert orgs.active_organization_id(session, ann) == orgs.default_organization(session).id


def test_projects_belong_to_the_creators_active_organization(session: Session) -> None:
    root = make_user(session, "root@example.com", admin=True)
    boss = make_user(session, "boss@example.com")
    acme = make_org(session, "Acme", admin=boss)
    orgs.switch_organization(session, boss, acme.id)
    acme_project = make_project(session, boss, title="Acme")
    default_project = make_project(session, root, title="Default")
    assert orgs.organization_of(session, acme_project).id == acme.id
    assert orgs.organization_of(session, default_project).title == "Default"
    with pytest.raises(PermissionDeniedError, match="your active organization"):
        project_service.create_project(
            session, created_by=boss, organization_id=default_project.organization_id, title="x"
        )

    assert project_service.visible_projects(session, boss) == [acme_project]
    # Instance administrators too see only their active organization's projects.
    assert project_service.visible_projects(session, root) == [default_project]
    with pytest.raises(NotFoundError, match=f"project {acme_project.id} not found"):
        authorize(session, root, Action.VIEW, acme_project)
    orgs.switch_organization(session, root, acme.id)
    assert project_service.visible_projects(session, root) == [acme_project]
    access = authorize(session, root, Action.VIEW, acme_project)
    assert (access.project, access.role) == (acme_project, None)


def test_only_members_of_the_projects_organization_can_join_it(session: Session) -> None:
    root = make_user(session, "root@example.com", admin=True)
    manager = make_user(session, "manager@example.com")
    project = make_project(session, manager)
    acme = make_org(session, "Acme")
    outsider = make_user(session, "outsider@example.com", org=acme)
    # A manager gets the same answer for a user of another organization as for nobody.
    known = project_service.add_member(
        session, project, role="annotator", by=manager, email=outsider.email
    )
    unknown = project_service.add_member(
        session, project, role="annotator", by=manager, email="ghost@example.com"
    )
    assert known is None and unknown is None
    with pytest.raises(NotFoundError, match="in the organization of project"):
        project_service.add_member(
            session, project, role="annotator", by=root, email=outsider.email
        )
    with pytest.raises(NotFoundError, match=f"no user with id {outsider.id}"):
        project_service.add_member(session, project, role="annotator", by=root, user_id=outsider.id)
    with pytest.raises(NotFoundError, match="add them to the organization first"):
        project_service.set_member(session, project, outsider, "annotator", by=None)
    assert project_service.role_of(session, outsider, project.id) is None


def test_administrators_list_only_their_organizations_users(session: Session) -> None:
    root = make_user(session, "root@example.com", admin=True)
    make_user(session, "ann@example.com")
    acme = make_org(session, "Acme")
    make_user(session, "outsider@example.com", org=acme)
    assert [u.email for u in list_users(session, by=root)] == [
        "root@example.com",
        "ann@example.com",
    ]
    assert len(list_users(session, by=None)) == 3


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database at the revision before organizations, with users and projects in it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        _fill_old(url)
        yield url
        return
    with fresh_pg_database("labelops_orgs") as url:
        _fill_old(url)
        yield url


def _fill_old(url: str) -> None:
    upgrade(url, BEFORE)
    engine = make_engine(url)
    with engine.begin() as conn:
        for user_id, email, admin, imported in (
            (1, "root@example.com", True, False),
            (2, "ann@example.com", False, False),
            (3, "imported-7@labelops.invalid", False, True),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, email, username, first_name, last_name, is_admin, "
                    "is_active, is_imported, created_at) VALUES (:id, :email, '', '', '', "
                    ":admin, true, :imported, '2026-01-01')"
                ),
                {"id": user_id, "email": email, "admin": admin, "imported": imported},
            )
        for project_id in (1, 2):
            conn.execute(
                sa.text(
                    "INSERT INTO projects (id, title, description, label_config, "
                    "expert_instruction, show_instruction, show_skip_button, maximum_annotations, "
                    "sampling, model_version, color, num_tasks, num_annotations, "
                    "num_labeled_tasks, num_predictions, created_by_id, created_at, updated_at) "
                    "VALUES (:id, 'p', '', '<View/>', '', false, true, 1, '', '', '#fff', 0, 0, "
                    "0, 0, 1, '2026-01-01', '2026-01-01')"
                ),
                {"id": project_id},
            )
        if engine.dialect.name == "sqlite":
            # Project 3 was deleted: its id must not be handed out again after the upgrade.
            conn.execute(sa.text("UPDATE sqlite_sequence SET seq = 3 WHERE name = 'projects'"))
    engine.dispose()


def test_migration_puts_existing_users_and_projects_in_default(old_database: str) -> None:
    upgrade(old_database)
    engine = make_engine(old_database)
    with Session(engine) as session:
        (default,) = session.scalars(sa.select(OrganizationRow)).all()
        assert default.title == "Default"
        roles = dict(
            session.execute(
                sa.select(OrganizationMemberRow.user_id, OrganizationMemberRow.role)
            ).all()
        )
        assert roles == {1: "admin", 2: "member"}  # imported annotators sign in nowhere
        organizations = session.scalars(sa.text("SELECT organization_id FROM projects")).all()
        assert organizations == [default.id, default.id]
        root = session.get_one(UserRow, 1)
        assert [p.id for p in project_service.visible_projects(session, root)] == [2, 1]
        if engine.dialect.name == "sqlite":
            # The rebuild of ``projects`` kept its AUTOINCREMENT counter: id 3 stays retired.
            assert make_project(session, root, title="after the upgrade").id == 4
        session.rollback()
    engine.dispose()


def test_migration_downgrades_and_upgrades_again(old_database: str) -> None:
    upgrade(old_database)
    command.downgrade(alembic_config(old_database), BEFORE)
    engine = make_engine(old_database)
    inspector = sa.inspect(engine)
    assert "organizations" not in inspector.get_table_names()
    assert "organization_id" not in {c["name"] for c in inspector.get_columns("projects")}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT id FROM projects ORDER BY id")).scalars().all() == [
            1,
            2,
        ]
        if engine.dialect.name == "sqlite":
            seq = conn.execute(
                sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'projects'")
            ).scalar()
            assert seq == 3
    engine.dispose()
    upgrade(old_database)
    engine = make_engine(old_database)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM organizations")).scalar() == 1
    engine.dispose()
