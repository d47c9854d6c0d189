"""The web app's background worker: created with the app, started by its first request.

Starting on a request rather than in the factory means a process that only runs CLI commands, or
a pre-forking server's parent, starts no thread; each serving process runs its own worker (they
claim work safely side by side). ``LABELOPS_BACKGROUND_WORKER=0`` leaves the work to
``labelops worker``. A testing app starts none: tests drain the queue with ``Worker.drain`` (or
start the thread themselves).
"""

from flask import Flask, current_app

from labelops.db.engine import make_sessionmaker
from labelops.services.worker import Worker, jobs_folder
from labelops.web.extensions import db

_KEY = "labelops_worker"


def register_background_worker(app: Flask) -> None:
    """Creates the app's worker; the first request starts its thread unless disabled."""
    with app.app_context():
        engine = db.engine
    settings = app.config["LABELOPS_SETTINGS"]
    app.extensions[_KEY] = Worker(
        make_sessionmaker(engine),
        jobs_folder(settings.home),
        allowed_hosts=settings.outbound_host_allowlist,
    )

    @app.before_request
    def _start_worker() -> None:
        if app.config.get("LABELOPS_BACKGROUND_WORKER", True) and not app.testing:
            app.extensions[_KEY].start()


def worker() -> Worker:
    """Returns the current app's worker (its jobs folder; ``wake`` after queueing work)."""
    found: Worker = current_app.extensions[_KEY]
    return found
