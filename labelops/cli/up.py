"""`labelops up`: a home with defaults, an admin and a demo project, the web app and Dagster."""

import dataclasses
import logging
import os
import secrets
import signal
import subprocess
import sys
from typing import Any

import click
import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.cli.context import ADMIN_EMAIL, _Context, _engine, home_option
from labelops.cli.serve import GunicornOptions, _client_host, _gunicorn
from labelops.db.migrate import upgrade
from labelops.db.models import ProjectRow, UserRow
from labelops.services import users as user_service
from labelops.services.demo import ensure_demo_project
from labelops.settings import Settings, current_limits

log = logging.getLogger(__name__)


@click.command("up")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address of the web app.")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--dagster-host",
    default="127.0.0.1",
    show_default=True,
    help="Address of the Dagster UI. It has no sign-in: widen it only on a trusted network.",
)
@click.option("--dagster-port", default=3000, show_default=True, type=int)
@click.option(
    "--no-dagster",
    is_flag=True,
    help="Serve only the web app; pipeline runs go to a local child process.",
)
@click.option("--no-demo", is_flag=True, help="Do not create the demo project.")
@click.option(
    "--workers",
    default=0,
    type=click.IntRange(min=0),
    help="Serve with gunicorn and this many workers, as `labelops serve` does "
    "(default 0: the embedded development server).",
)
@home_option
@click.pass_obj
def up(
    obj: _Context,
    host: str,
    port: int,
    dagster_host: str,
    dagster_port: int,
    no_dagster: bool,
    no_demo: bool,
    workers: int,
) -> None:
    """Create LABELOPS_HOME with embedded defaults, an admin and a demo project, and serve."""
    settings = obj.settings
    # The pipeline's child processes (Dagster, local runs) read the same home from the environment.
    os.environ["LABELOPS_HOME"] = str(settings.home)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    upgrade(settings.database_url)
    admin_password = _bootstrap(settings, demo=not no_demo)
    dagster = None if no_dagster else _start_dagster(settings, dagster_host, dagster_port)
    # Without our Dagster webserver, runs go through the local launcher only: an empty UI URL
    # means "no webserver", so whatever else answers on the Dagster port is never sent runs.
    ui_url = "" if dagster is None else f"http://{_client_host(dagster_host)}:{dagster_port}"
    settings = dataclasses.replace(settings, dagster_ui_url=ui_url)
    from labelops.web import create_app
    from labelops.web.server import request_handler

    app = create_app({"LABELOPS_SETTINGS": settings, "DAGSTER_UI_URL": ui_url})
    click.echo(f"labelops web app: http://{host}:{port}/  (data in {settings.home})")
    if admin_password:
        click.echo(f"admin login: {ADMIN_EMAIL} / {admin_password}")
    # SIGTERM ends the server like Ctrl+C does, so the Dagster process group is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if workers:
            _gunicorn(settings, ui_url, GunicornOptions(host, port, workers=workers))
            return
        app.run(
            host=host,
            port=port,
            debug=False,
            use_reloader=False,
            request_handler=request_handler(current_limits().write_timeout_seconds),
        )
    finally:
        if dagster is not None:
            os.killpg(dagster.pid, signal.SIGTERM)
            dagster.wait(timeout=30)


def _bootstrap(settings: Settings, *, demo: bool) -> str | None:
    """Returns the new admin's password when this call created the admin, else None."""
    with Session(_engine(settings)) as session:
        admin = session.scalar(sa.select(UserRow).where(UserRow.email == ADMIN_EMAIL))
        password = None
        if admin is None:
            password = os.environ.get("LABELOPS_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
            admin = user_service.create_user(
                session, email=ADMIN_EMAIL, password=password, is_admin=True
            )
            token = user_service.issue_token(session, admin, name="bootstrap")
            click.echo(f"admin API token: {token}")
        if demo:
            ensure_demo_project(session, admin)
        session.commit()
        num_projects = session.scalar(sa.select(sa.func.count(ProjectRow.id)))
        log.info("%s project(s) ready", num_projects)
        return password


def _start_dagster(settings: Settings, host: str, port: int) -> "subprocess.Popen[Any] | None":
    env = {
        **os.environ,
        "DAGSTER_HOME": str(settings.dagster_home),
        "LABELOPS_HOME": str(settings.home),
    }
    try:
        import labelops.definitions  # noqa: F401 - only start Dagster when the pipeline is installed
    except ImportError:
        click.echo("pipeline definitions not available; starting without Dagster")
        return None
    dagster_yaml = settings.dagster_home / "dagster.yaml"
    if not dagster_yaml.exists():
        dagster_yaml.write_text("telemetry:\n  enabled: false\n")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster",
            "dev",
            "-m",
            "labelops.definitions",
            "-h",
            host,
            "-p",
            str(port),
        ],
        env=env,
        cwd=settings.dagster_home,  # code is loaded from there, not from where `up` was started
        start_new_session=True,
    )
    click.echo(f"Dagster UI: http://{_client_host(host)}:{port}/")
    return process
