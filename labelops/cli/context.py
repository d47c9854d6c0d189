"""What every command shares: the chosen home, its settings and database engine."""

import click
import sqlalchemy as sa

from labelops.db.engine import make_engine
from labelops.services.home import prepare_home
from labelops.settings import Settings

ADMIN_EMAIL = "admin@labelops.local"


class _Context:
    def __init__(self, home: str | None) -> None:
        self.home = home

    @property
    def settings(self) -> Settings:
        """Returns the settings of the chosen home, whose folders and SQLite files now exist."""
        settings = Settings.from_env(self.home)
        prepare_home(settings)
        return settings


def _set_home(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(_Context).home = value


home_option = click.option(
    "--home",
    default=None,
    expose_value=False,
    is_eager=True,
    callback=_set_home,
    type=click.Path(file_okay=False),
    help="Data folder (overrides LABELOPS_HOME and the --home given before the command).",
)


def _engine(settings: Settings) -> sa.Engine:
    return make_engine(settings.database_url)


def _redact(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)
