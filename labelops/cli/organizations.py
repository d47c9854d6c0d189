"""`labelops org`: organizations and their members."""

import click
from sqlalchemy.orm import Session

from labelops.cli.context import _Context, _engine
from labelops.db.migrate import upgrade
from labelops.domain.errors import LabelopsError
from labelops.services import organizations as organization_service
from labelops.services import users as user_service
from labelops.services.errors import NotFoundError


@click.group()
def org() -> None:
    """Organization commands (the tenant users and projects belong to)."""


@org.command("create")
@click.option("--title", required=True)
@click.option("--admin", "admin_email", default=None, help="Email of its first admin.")
@click.pass_obj
def org_create(obj: _Context, title: str, admin_email: str | None) -> None:
    """Create an organization, optionally with a first admin."""
    settings = obj.settings
    upgrade(settings.database_url)
    with Session(_engine(settings)) as session:
        try:
            admin = None
            if admin_email is not None:
                admin = user_service.get_user_by_email(session, admin_email)
                if admin is None:
                    raise NotFoundError(f"no user with email {admin_email!r}")
            created = organization_service.create_organization(session, title, by=None, admin=admin)
        except LabelopsError as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
        click.echo(f"created organization {created.id} {created.title!r}")


@org.command("add-member")
@click.argument("org_id", type=int)
@click.option("--email", required=True)
@click.option(
    "--role",
    type=click.Choice(organization_service.ROLES),
    default=organization_service.MEMBER,
    show_default=True,
)
@click.pass_obj
def org_add_member(obj: _Context, org_id: int, email: str, role: str) -> None:
    """Add an existing user to an organization."""
    settings = obj.settings
    upgrade(settings.database_url)
    with Session(_engine(settings)) as session:
        try:
            organization = organization_service.get_organization(session, org_id)
            member = organization_service.add_member(
                session, organization, email=email, role=role, by=None
            )
        except LabelopsError as exc:
            raise click.ClickException(str(exc)) from exc
        if member is None:  # only callers other than the system get None
            raise click.ClickException(f"no user with email {email!r}")
        session.commit()
        click.echo(f"{member.user.email} is {member.role} of organization {organization.id}")


@org.command("list")
@click.pass_obj
def org_list(obj: _Context) -> None:
    """List the organizations with their member counts."""
    settings = obj.settings
    upgrade(settings.database_url)
    with Session(_engine(settings)) as session:
        for organization in organization_service.list_organizations(session, by=None):
            total = organization_service.members(session, organization, page_size=1).total
            click.echo(f"{organization.id}\t{organization.title}\t{total} member(s)")
