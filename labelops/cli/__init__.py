"""The ``labelops`` command: start everything, import, export, users and migrations.

One module per noun; this one builds the group and adds each noun's commands to it.
"""

import logging

import click

from labelops.cli.context import _Context
from labelops.cli.database import db
from labelops.cli.exports import export_command
from labelops.cli.flags import flags
from labelops.cli.organizations import org
from labelops.cli.projects import project
from labelops.cli.serve import serve
from labelops.cli.tasks import import_command
from labelops.cli.up import up
from labelops.cli.users import user
from labelops.cli.worker import worker_command


@click.group()
@click.option(
    "--home",
    envvar="LABELOPS_HOME",
    default=None,
    type=click.Path(file_okay=False),
    help="Data folder (LABELOPS_HOME).",
)
@click.version_option(package_name="labelops")
@click.pass_context
def main(ctx: click.Context, home: str | None) -> None:
    """labelops: label data in the browser, run the ML loop as a Dagster pipeline.

    These are operator commands: whoever runs them holds the database and the data folder, so
    they act as the local administrator, not as a signed-in user, and no project role is
    checked. Where a command acts for a named user (``project create --owner``), that user's
    rights are checked by the same rules as on the pages and in the API.
    """
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ctx.obj = _Context(home)


for _command in (
    db,
    user,
    project,
    import_command,
    export_command,
    up,
    flags,
    org,
    serve,
    worker_command,
):
    main.add_command(_command)
