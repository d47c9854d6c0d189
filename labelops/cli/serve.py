"""`labelops serve`: the web app under gunicorn, as production runs it."""

import dataclasses
import os
from typing import Any

import click

from labelops.cli.context import _Context, _redact, home_option
from labelops.db.migrate import upgrade
from labelops.settings import Settings, current_limits


def _client_host(bind_host: str) -> str:
    """Returns the address to reach a server bound to ``bind_host`` from this machine."""
    if bind_host in ("0.0.0.0", "", "*"):
        return "127.0.0.1"
    if bind_host == "::":
        return "[::1]"
    return f"[{bind_host}]" if ":" in bind_host else bind_host


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


@click.command("serve")
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
