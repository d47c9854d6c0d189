"""`labelops project`: create projects from a labeling config."""

from pathlib import Path

import click
from sqlalchemy.orm import Session

from labelops.cli.context import ADMIN_EMAIL, _Context, _engine, home_option
from labelops.db.migrate import upgrade
from labelops.domain.errors import InvalidInputError, LabelopsError
from labelops.services import users as user_service
from labelops.services.errors import PermissionDeniedError
from labelops.services.projects import create_project


@click.group()
def project() -> None:
    """Project commands."""


@project.command("create")
@click.option("--title", required=True)
@click.option(
    "--config", "config_path", type=click.Path(exists=True, dir_okay=False), required=True
)
@click.option("--owner", "owner_email", default=ADMIN_EMAIL, show_default=True)
@home_option
@click.pass_obj
def project_create(obj: _Context, title: str, config_path: str, owner_email: str) -> None:
    """Create a project from a labeling config file, owned by --owner.

    The owner must be allowed to create projects (an administrator, or granted the right), as
    on the page and in the API.
    """
    settings = obj.settings
    upgrade(settings.database_url)
    with Session(_engine(settings)) as session:
        try:
            owner = user_service.get_user_by_email(session, owner_email)
        except InvalidInputError as exc:
            raise click.ClickException(f"--owner: {exc}") from exc
        try:
            created = create_project(
                session, created_by=owner, title=title, label_config=Path(config_path).read_text()
            )
        except PermissionDeniedError as exc:
            raise click.ClickException(f"{owner_email}: {exc}") from exc
        except LabelopsError as exc:
            raise click.ClickException(f"{config_path}: {exc}") from exc
        session.commit()
        click.echo(f"created project {created.id}")
