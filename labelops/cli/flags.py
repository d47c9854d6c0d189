"""`labelops flags`: feature flags, their rollout and overrides."""

from typing import Any

import click
from sqlalchemy.orm import Session

from labelops.cli.context import _Context, _engine
from labelops.db.migrate import upgrade
from labelops.domain.errors import LabelopsError
from labelops.services import users as user_service
from labelops.services.errors import NotFoundError


def _on_off(value: bool) -> str:
    return "on" if value else "off"


@click.group()
def flags() -> None:
    """Feature flag commands (user override > project override > rollout > default)."""


@flags.command("list")
@click.pass_obj
def flags_list(obj: _Context) -> None:
    """List every flag with its default, rollout and overrides."""
    from labelops.services import feature_flags as flag_service

    settings = obj.settings
    upgrade(settings.database_url)
    with Session(_engine(settings)) as session:
        states = flag_service.list_flags(session)
        emails, titles = flag_service.override_targets(session, states)
        for state in states:
            rollout = "none" if state.rollout_percent is None else f"{state.rollout_percent}%"
            click.echo(
                f"{state.key}  default={_on_off(state.default)}  rollout={rollout}"
                f"{'  (shipped)' if state.shipped else ''}  {state.description}"
            )
            for user_id, enabled in sorted(state.user_overrides.items()):
                click.echo(f"  user {emails.get(user_id, user_id)}: {_on_off(enabled)}")
            for project_id, enabled in sorted(state.project_overrides.items()):
                title = titles.get(project_id, "")
                click.echo(f"  project {project_id} ({title}): {_on_off(enabled)}")


@flags.command("set")
@click.argument("key")
@click.option("--default", "default", type=click.Choice(["on", "off"]), help="The default.")
@click.option("--rollout", type=int, help="Share of users (0-100) who get the flag.")
@click.option("--no-rollout", is_flag=True, help="Remove the rollout percentage.")
@click.option("--user", "user_email", help="Override for the user with this email.")
@click.option("--project", "project_id", type=int, help="Override for the project with this id.")
@click.option("--on/--off", "enabled", default=None, help="The override's value.")
@click.option("--clear", is_flag=True, help="Remove the user's or project's override.")
@click.option("--create", is_flag=True, help="Define KEY as a new flag first.")
@click.option("--description", default=None, help="What the flag changes.")
@click.pass_obj
def flags_set(
    obj: _Context,
    key: str,
    default: str | None,
    rollout: int | None,
    no_rollout: bool,
    user_email: str | None,
    project_id: int | None,
    enabled: bool | None,
    clear: bool,
    create: bool,
    description: str | None,
) -> None:
    """Change a flag's default or rollout, or override it for one user or project."""
    from labelops.services import feature_flags as flag_service

    targeted = user_email is not None or project_id is not None
    if targeted and enabled is None and not clear:
        raise click.UsageError("--user/--project needs --on, --off or --clear")
    if not targeted and (enabled is not None or clear):
        raise click.UsageError("--on/--off/--clear need --user EMAIL or --project ID")
    if rollout is not None and no_rollout:
        raise click.UsageError("--rollout and --no-rollout exclude each other")
    changes: dict[str, Any] = {}
    if default is not None:
        changes["default"] = default == "on"
    if rollout is not None or no_rollout:
        changes["rollout"] = rollout
    if description is not None:
        changes["description"] = description
    if not (changes or targeted or create):
        raise click.UsageError("nothing to change: give --default, --rollout, --user or --project")
    settings = obj.settings
    upgrade(settings.database_url)
    with Session(_engine(settings)) as session:
        try:
            if create:
                flag_service.create_flag(session, key, by=None, **changes)
            elif changes:
                flag_service.update_flag(session, key, by=None, **changes)
            if targeted:
                target: dict[str, Any] = {"project": project_id}
                if user_email is not None:
                    user = user_service.get_user_by_email(session, user_email)
                    if user is None:
                        raise NotFoundError(f"no user with email {user_email!r}")
                    target = {"user": user}
                flag_service.set_override(
                    session, key, by=None, enabled=None if clear else enabled, **target
                )
            state = flag_service.get_flag(session, key)
        except LabelopsError as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
        click.echo(
            f"{key}: default={_on_off(state.default)} rollout="
            f"{'none' if state.rollout_percent is None else f'{state.rollout_percent}%'} "
            f"user overrides={len(state.user_overrides)} "
            f"project overrides={len(state.project_overrides)}"
        )


@flags.command("delete")
@click.argument("key")
@click.pass_obj
def flags_delete(obj: _Context, key: str) -> None:
    """Delete a flag and its overrides (a shipped flag returns to its defaults)."""
    from labelops.services import feature_flags as flag_service

    settings = obj.settings
    upgrade(settings.database_url)
    with Session(_engine(settings)) as session:
        try:
            flag_service.delete_flag(session, key, by=None)
        except NotFoundError as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
        click.echo(f"deleted feature flag {key}")
