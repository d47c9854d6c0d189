"""The ``labelops`` command: start everything, import, export, users and migrations."""

import dataclasses
import logging
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from sqlalchemy.orm import Session
from tqdm import tqdm

from labelops.db.engine import make_engine
from labelops.db.migrate import upgrade
from labelops.db.models import ProjectRow, UserRow
from labelops.domain.errors import LabelConfigError, TaskImportError, UnknownFormatError
from labelops.services import organizations as organization_service
from labelops.services import users as user_service
from labelops.services.demo import ensure_demo_project
from labelops.services.errors import ConflictError, NotFoundError, PermissionDeniedError
from labelops.services.exports import export_project
from labelops.services.home import prepare_home
from labelops.services.imports import ImportOptions, ImportSource, import_source
from labelops.services.media import UploadStore
from labelops.services.projects import create_project, get_project
from labelops.settings import Settings, current_limits

log = logging.getLogger(__name__)
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
    """labelops: label data in the browser, run the ML loop as a Dagster pipeline."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ctx.obj = _Context(home)


@main.group()
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


@main.group()
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
        except (ValueError, ConflictError, NotFoundError) as exc:
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
    """Set a user's password (for a lost one, such as the admin's printed by `up`)."""
    settings = obj.settings
    upgrade(settings.database_url)
    with Session(_engine(settings)) as session:
        try:
            changed = user_service.set_password(session, email, password)
        except (ValueError, NotFoundError) as exc:
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


@main.group()
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
    """Create a project from a labeling config file."""
    settings = obj.settings
    upgrade(settings.database_url)
    with Session(_engine(settings)) as session:
        try:
            owner = user_service.get_user_by_email(session, owner_email)
        except ValueError as exc:
            raise click.ClickException(f"--owner: {exc}") from exc
        try:
            created = create_project(
                session, created_by=owner, title=title, label_config=Path(config_path).read_text()
            )
        except PermissionDeniedError as exc:
            raise click.ClickException(f"{owner_email}: {exc}") from exc
        except (LabelConfigError, ValueError) as exc:
            raise click.ClickException(f"{config_path}: {exc}") from exc
        session.commit()
        click.echo(f"created project {created.id}")


@main.command("import")
@click.argument("project_id", type=int)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--dedupe", is_flag=True, help="Skip tasks whose data is already in the project.")
@click.option(
    "--format",
    "fmt",
    default=None,
    help="json, jsonl, csv, tsv, txt, parquet, JSON_MIN, COCO, VOC, YOLO, CONLL2003 or ZIP "
    "(default: from the file name; images, audio, video and other data files become one "
    "task each).",
)
@click.option(
    "--as",
    "as_",
    type=click.Choice(["annotations", "predictions"]),
    default="annotations",
    show_default=True,
    help="What the results in an annotated file become.",
)
@click.option(
    "--map-annotators-by-email",
    is_flag=True,
    help="Attribute imported annotations whose email belongs to a project member to that "
    "member (default: each annotator in the file becomes a separate import user).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse annotations and predictions that do not fit the labeling config (default: "
    "keep them, as Label Studio does, and list them).",
)
@home_option
@click.pass_obj
def import_command(
    obj: _Context,
    project_id: int,
    files: tuple[str, ...],
    dedupe: bool,
    fmt: str | None,
    as_: str,
    map_annotators_by_email: bool,
    strict: bool,
) -> None:
    """Import task files into a project: all rows of all files, or nothing."""
    settings = obj.settings
    store = UploadStore.for_settings(settings)
    with Session(_engine(settings)) as session:
        try:
            target = get_project(session, project_id)
            total = 0
            for path in files:
                name = Path(path).name
                with (
                    open(path, "rb") as source,
                    tqdm(
                        total=os.path.getsize(path),
                        desc=name,
                        unit="B",
                        unit_scale=True,
                        disable=not sys.stderr.isatty(),
                    ) as bar,
                ):
                    options = ImportOptions(
                        format_name=fmt,
                        as_=as_,  # type: ignore[arg-type]
                        dedupe=dedupe,
                        strict=strict,
                        map_annotators_by_email=map_annotators_by_email,
                        store=store,
                        progress=lambda _rows, f=source, b=bar: b.update(f.tell() - b.n),
                    )
                    report = import_source(
                        session, target, ImportSource.of_stream(name, source), options
                    )
                total += report.num_tasks
                click.echo(
                    f"{path}: {report.num_tasks} tasks, {report.num_annotations} annotations, "
                    f"{report.num_predictions} predictions, "
                    f"{report.num_duplicates} duplicates skipped"
                )
                for problem in report.problems:
                    click.echo(
                        f"{path}: row {problem['row']}, {problem['field']}: kept although "
                        f"{problem['message']}",
                        err=True,
                    )
            session.commit()
        except (TaskImportError, UnknownFormatError, NotFoundError) as exc:
            session.rollback()
            store.discard()
            raise click.ClickException(f"nothing imported: {exc}") from exc
    click.echo(f"imported {total} tasks into project {project_id}")


@main.command("export")
@click.argument("project_id", type=int)
@click.option("--format", "fmt", default="JSON", show_default=True)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False))
@click.option("--all-tasks", is_flag=True, help="Include tasks without annotations.")
@home_option
@click.pass_obj
def export_command(
    obj: _Context, project_id: int, fmt: str, out_path: str, all_tasks: bool
) -> None:
    """Export a project in a Label Studio format, streamed to a file."""
    settings = obj.settings
    with Session(_engine(settings)) as session:
        try:
            target = get_project(session, project_id)
            export_format, chunks = export_project(
                session, target, fmt, download_all_tasks=all_tasks
            )
        except (UnknownFormatError, NotFoundError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
        tmp = Path(out_path + ".part")
        with (
            tmp.open("wb") as out,
            tqdm(
                unit="B", unit_scale=True, desc=export_format.name, disable=not sys.stderr.isatty()
            ) as bar,
        ):
            for chunk in chunks:
                out.write(chunk)
                bar.update(len(chunk))
        tmp.replace(out_path)
    click.echo(f"wrote {out_path} ({export_format.name})")


@main.command("up")
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


def _client_host(bind_host: str) -> str:
    """Returns the address to reach a server bound to ``bind_host`` from this machine."""
    if bind_host in ("0.0.0.0", "", "*"):
        return "127.0.0.1"
    if bind_host == "::":
        return "[::1]"
    return f"[{bind_host}]" if ":" in bind_host else bind_host


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


def _redact(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


# --- feature flags (services imported where used, so this block stands alone) -----------------


def _on_off(value: bool) -> str:
    return "on" if value else "off"


@main.group()
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
        except (ValueError, NotFoundError, ConflictError) as exc:
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


# --- organizations -------------------------------------------------------------------------


@main.group()
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
        except (ValueError, NotFoundError) as exc:
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
        except (ValueError, NotFoundError) as exc:
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


# --- production web server (gunicorn; imported where used, so this block stands alone) --------


@dataclasses.dataclass(frozen=True)
class GunicornOptions:
    """How gunicorn serves the web app: address, processes, threads and timeouts (seconds)."""

    host: str
    port: int
    workers: int = 2
    threads: int = 8
    timeout: int = 120
    graceful_timeout: int = 30
    keepalive: int = 5
    max_requests: int = 0

    def config(self) -> dict[str, Any]:
        """Returns gunicorn's settings for these options (gthread workers, logs on stderr)."""
        return {
            "bind": [
                f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
            ],
            "workers": self.workers,
            "worker_class": "gthread",
            "threads": self.threads,
            "timeout": self.timeout,
            "graceful_timeout": self.graceful_timeout,
            "keepalive": self.keepalive,
            "max_requests": self.max_requests,
            "max_requests_jitter": self.max_requests // 10,
            "accesslog": "-",
            "errorlog": "-",
            "proc_name": "labelops-web",
            # gunicorn >= 25 opens a control socket under $HOME; several servers would share it.
            "control_socket_disable": True,
            # Behind a proxy on another host, set FORWARDED_ALLOW_IPS to the proxy's address.
            "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
        }


def _with_socket_timeout(wsgi_app: Any, timeout_seconds: float) -> Any:
    """Returns a WSGI app that gives each request's socket a read/write timeout.

    The embedded server's request handler does the same: a client that stops reading a
    streamed export lets its thread (and export slot) go when the timeout expires.
    """

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        sock = environ.get("gunicorn.socket")
        if sock is not None:
            sock.settimeout(timeout_seconds)
        return wsgi_app(environ, start_response)

    return app


def _gunicorn(settings: Settings, ui_url: str, options: GunicornOptions) -> None:
    """Serves the web app under gunicorn until it is stopped (SIGTERM/SIGINT: graceful)."""
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.config().items():
                if key in self.cfg.settings:  # older gunicorn lacks some settings
                    self.cfg.set(key, value)

        def load(self) -> Any:
            # Each worker builds its own app (and database pool) after the fork.
            from labelops.web import create_app

            app = create_app({"LABELOPS_SETTINGS": settings, "DAGSTER_UI_URL": ui_url})
            timeout = current_limits().write_timeout_seconds
            app.wsgi_app = _with_socket_timeout(app.wsgi_app, timeout)  # type: ignore[method-assign]
            return app

    # Imported once in the master, so each forked worker only builds the app (no pool is shared).
    import labelops.web  # noqa: F401

    _Server().run()


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="LABELOPS_WEB_HOST")
@click.option("--port", default=8080, show_default=True, type=int, envvar="LABELOPS_WEB_PORT")
@click.option(
    "--workers",
    default=lambda: max(2, min(2 * (os.cpu_count() or 1), 8)),
    show_default="2 per core, 2 to 8",
    type=click.IntRange(min=1),
    envvar="LABELOPS_WEB_WORKERS",
    help="Worker processes (LABELOPS_WEB_WORKERS).",
)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(min=1),
    envvar="LABELOPS_WEB_THREADS",
    help="Threads per worker (LABELOPS_WEB_THREADS).",
)
@click.option(
    "--timeout",
    default=120,
    show_default=True,
    type=click.IntRange(min=1),
    envvar="LABELOPS_WEB_TIMEOUT",
    help="Seconds before a silent worker is restarted (LABELOPS_WEB_TIMEOUT).",
)
@click.option(
    "--max-requests",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    envvar="LABELOPS_WEB_MAX_REQUESTS",
    help="Restart a worker after this many requests, 0 never (LABELOPS_WEB_MAX_REQUESTS).",
)
@click.option(
    "--migrate/--no-migrate",
    default=True,
    show_default=True,
    help="Upgrade the database schema before serving.",
)
@home_option
@click.pass_obj
def serve(
    obj: _Context,
    host: str,
    port: int,
    workers: int,
    threads: int,
    timeout: int,
    max_requests: int,
    migrate: bool,
) -> None:
    """Serve the web app under gunicorn (production): no Dagster, no demo, no admin bootstrap.

    Settings come from the same LABELOPS_* variables and home as `up`; pipeline runs go to the
    Dagster webserver at LABELOPS_DAGSTER_UI_URL. Create users with `labelops user create`.
    """
    settings = obj.settings
    os.environ["LABELOPS_HOME"] = str(settings.home)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    if migrate:
        upgrade(settings.database_url)
    options = GunicornOptions(
        host, port, workers=workers, threads=threads, timeout=timeout, max_requests=max_requests
    )
    click.echo(
        f"labelops web app: http://{_client_host(host)}:{port}/  ({workers} workers x "
        f"{threads} threads, database {_redact(settings.database_url)}, "
        f"Dagster {settings.dagster_ui_url or 'none'})"
    )
    _gunicorn(settings, settings.dagster_ui_url, options)


if __name__ == "__main__":
    main()
