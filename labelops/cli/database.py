"""`labelops db`: the labeling database's schema."""

import click

from labelops.cli.context import _Context, _redact, home_option
from labelops.db.migrate import upgrade


@click.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@home_option
@click.pass_obj
def db_upgrade(obj: _Context) -> None:
    """Migrate the labeling database to the latest schema."""
    settings = obj.settings
    upgrade(settings.database_url)
    click.echo(f"database at {_redact(settings.database_url)} is up to date")
