"""`labelops user`: create users, set passwords, list them."""

import click
from sqlalchemy.orm import Session

from labelops.cli.context import _Context, _engine, home_option
from labelops.db.migrate import upgrade
from labelops.domain.errors import LabelopsError
from labelops.services import users as user_service


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
