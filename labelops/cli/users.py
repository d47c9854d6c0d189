"""`labelops user`: create and invite users, set or reset passwords, deactivate, list them."""

import click
from sqlalchemy.orm import Session

from labelops.cli.context import _Context, _engine, home_option
from labelops.db.migrate import upgrade
from labelops.db.models import UserRow
from labelops.domain.errors import LabelopsError
from labelops.services import user_admin
from labelops.services import users as user_service
from labelops.services.errors import NotFoundError
from labelops.services.user_links import IssuedLink


@click.group()
def user() -> None:
    """User commands."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option("--print-token", is_flag=True, help="Issue an API token and print it.")
@home_option
@click.option("--org", "org_id", type=int, default=None, help="Organization id (default: Default).")
@click.pass_obj
def user_create(
    obj: _Context, email: str, password: str, admin: bool, print_token: bool, org_id: int | None
) -> None:
    """Create a user in an organization (and optionally print a new API token)."""
    settings = obj.settings
    upgrade(settings.database_url)
    with Session(_engine(settings)) as session:
        try:
            created = user_service.create_user(
                session, email=email, password=password, is_admin=admin, organization_id=org_id
            )
        except LabelopsError as exc:
            raise click.ClickException(str(exc)) from exc
        token = user_service.issue_token(session, created) if print_token else None
        session.commit()
        click.echo(f"created user {created.id} <{created.email}>{' (admin)' if admin else ''}")
        if token:
            click.echo(token)


@user.command("set-password")
@click.option("--email", required=True)
@click.option(
    "--password",
    prompt="New password",
    hide_input=True,
    confirmation_prompt=True,
    help="At least 8 characters (asked for, hidden, when not given).",
)
@home_option
@click.pass_obj
def user_set_password(obj: _Context, email: str, password: str) -> None:
    """Set a user's password (for a lost one); ends their sessions and revokes their API tokens."""
    settings = obj.settings
    upgrade(settings.database_url)
    with Session(_engine(settings)) as session:
        try:
            changed = user_service.set_password(session, email, password)
        except LabelopsError as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
        click.echo(f"password of user {changed.id} <{changed.email}> changed")


@user.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include annotators made by imports.")
@home_option
@click.pass_obj
def user_list(obj: _Context, show_all: bool) -> None:
    """List users: id, email and flags (admin, inactive, imported), oldest first."""
    settings = obj.settings
    upgrade(settings.database_url)
    with Session(_engine(settings)) as session:
        for row in user_service.list_users(session):
            if row.is_imported and not show_all:
                continue
            flags = [
                name
                for name, on in (
                    ("admin", row.is_admin),
                    ("inactive", not row.is_active),
                    ("imported", row.is_imported),
                )
                if on
            ]
            click.echo(f"{row.id}\t{row.email}\t{','.join(flags)}".rstrip())


def _user_by_email(session: Session, email: str) -> UserRow:
    found = user_service.get_user_by_email(session, email)
    if found is None:
        raise NotFoundError(f"no user with email {email.strip().lower()!r}")
    return found


def _link_line(web_url: str, link: IssuedLink) -> str:
    until = f"{link.expires_at:%Y-%m-%d %H:%M} UTC"
    return f"{web_url.rstrip('/')}{link.path}  (works once, until {until})"


@user.command("invite")
@click.option("--email", required=True)
@home_option
@click.option("--org", "org_id", type=int, default=None, help="Organization id (default: Default).")
@click.pass_obj
def user_invite(obj: _Context, email: str, org_id: int | None) -> None:
    """Create an account without a password and print its one-time invitation link."""
    settings = obj.settings
    upgrade(settings.database_url)
    with Session(_engine(settings)) as session:
        try:
            invited, link = user_admin.invite_user(
                session, email=email, by=None, organization_id=org_id
            )
        except LabelopsError as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
        click.echo(f"invited user {invited.id} <{invited.email}>")
        click.echo(_link_line(settings.web_url, link))


@user.command("deactivate")
@click.option("--email", required=True)
@home_option
@click.pass_obj
def user_deactivate(obj: _Context, email: str) -> None:
    """Deactivate an account: it can't sign in and its API tokens are deleted."""
    _set_active(obj, email, active=False)


@user.command("reactivate")
@click.option("--email", required=True)
@home_option
@click.pass_obj
def user_reactivate(obj: _Context, email: str) -> None:
    """Reactivate a deactivated account."""
    _set_active(obj, email, active=True)


def _set_active(obj: _Context, email: str, *, active: bool) -> None:
    settings = obj.settings
    upgrade(settings.database_url)
    with Session(_engine(settings)) as session:
        try:
            changed = user_admin.set_active(
                session, _user_by_email(session, email), active, by=None
            )
        except LabelopsError as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
        click.echo(
            f"user {changed.id} <{changed.email}> {'reactivated' if active else 'deactivated'}"
        )


@user.command("reset-password")
@click.option("--email", required=True)
@click.option(
    "--password",
    default=None,
    help="A temporary password; without it a one-time reset link is printed.",
)
@home_option
@click.pass_obj
def user_reset_password(obj: _Context, email: str, password: str | None) -> None:
    """Reset a password (sessions and API tokens end): a temporary one, or a one-time link."""
    settings = obj.settings
    upgrade(settings.database_url)
    with Session(_engine(settings)) as session:
        try:
            target = _user_by_email(session, email)
            link = user_admin.reset_password(session, target, by=None, password=password)
        except LabelopsError as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
        click.echo(f"password of user {target.id} <{target.email}> reset")
        if link is not None:
            click.echo(_link_line(settings.web_url, link))


@user.command("grant-create")
@click.option("--email", required=True)
@click.option("--revoke", is_flag=True, help="Withdraw the right instead.")
@home_option
@click.pass_obj
def user_grant_create(obj: _Context, email: str, revoke: bool) -> None:
    """Grant (or with --revoke withdraw) the right to create projects."""
    settings = obj.settings
    upgrade(settings.database_url)
    with Session(_engine(settings)) as session:
        try:
            changed = user_service.grant_project_creation(
                session, _user_by_email(session, email), not revoke, by=None
            )
        except LabelopsError as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
        verb = "may now create" if changed.can_create_projects else "may no longer create"
        click.echo(f"user {changed.id} <{changed.email}> {verb} projects")
