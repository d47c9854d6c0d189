"""`labelops worker`: background jobs (snapshot exports, large imports) and webhook delivery."""

import signal

import click

from labelops.cli.context import _Context, _engine, home_option
from labelops.db.engine import make_sessionmaker
from labelops.services.worker import Worker, jobs_folder


@click.command("worker")
@click.option(
    "--poll",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.05),
    help="Seconds to wait when there is nothing to do.",
)
@click.option("--once", is_flag=True, help="Work until the queue is empty, then exit.")
@home_option
@click.pass_obj
def worker_command(obj: _Context, poll: float, once: bool) -> None:
    """Run background jobs (snapshot exports, large imports) and deliver webhooks.

    The web app runs the same worker in a thread unless LABELOPS_BACKGROUND_WORKER=0; run this
    with the same LABELOPS_HOME (the jobs folder is shared) and database. Stops on Ctrl+C.
    """
    settings = obj.settings
    worker = Worker(
        make_sessionmaker(_engine(settings)),
        jobs_folder(settings.home),
        allowed_hosts=settings.outbound_host_allowlist,
        poll_seconds=poll,
    )
    if once:
        worker.drain()
        return
    signal.signal(signal.SIGTERM, lambda *_: worker.stop(timeout=0))
    click.echo(f"worker running on {settings.home} (Ctrl+C stops it)")
    try:
        worker.run_forever()
    except KeyboardInterrupt:
        click.echo("worker stopped")
