"""Flask CLI commands registered by the app factory (shown in ``flask --help``)."""

import click
from flask import Flask, current_app

from labelops.db.migrate import upgrade
from labelops.services.demo import ensure_demo_project
from labelops.services.users import create_user, get_user_by_email
from labelops.web.extensions import db


def register_commands(app: Flask) -> None:
    """Adds init-db and seed-demo to the app's CLI."""
    app.cli.add_command(init_db)
    app.cli.add_command(seed_demo)


@click.command("init-db")
def init_db() -> None:
    """Migrate the labeling database to the latest schema."""
    upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])
    click.echo("database is up to date")


@click.command("seed-demo")
@click.option("--email", default="admin@labelops.local", show_default=True)
@click.option("--password", required=True, help="Password for the owner if they do not exist yet.")
def seed_demo(email: str, password: str) -> None:
    """Create the demo project (and its owner) if missing."""
    owner = get_user_by_email(db.session, email) or create_user(
        db.session, email=email, password=password, is_admin=True
    )
    project = ensure_demo_project(db.session, owner)
    db.session.commit()
    click.echo(f"demo project {project.id} ready")
