"""The background worker: runs queued jobs and delivers the webhook outbox, outside requests.

One :class:`Worker` serves the web app (a daemon thread it starts on its first request) and
``labelops worker`` (in the foreground); several may run at once, in one process or many, since
every job and delivery is claimed before it is worked on. Tests call :meth:`Worker.drain`, which
works until nothing is left, deterministically, in the calling thread.
"""

import logging
import threading
from collections.abc import Callable, Collection
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from labelops.clock import utcnow
from labelops.db.models import BackgroundJobRow
from labelops.domain.errors import LabelopsError
from labelops.domain.webhooks import RetryPolicy
from labelops.services import background_imports, jobs, ml_backend_jobs, ml_backend_queue, snapshots
from labelops.services.webhook_delivery import deliver_due, retry_policy

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
SessionFactory = Callable[[], Session]
Handler = Callable[[SessionFactory, BackgroundJobRow, jobs.JobEnv], tuple[dict[str, Any], str]]
HANDLERS: dict[str, Handler] = {
    snapshots.KIND: snapshots.build_snapshot,
    background_imports.KIND: background_imports.run_import,
    ml_backend_queue.KIND: ml_backend_jobs.send_annotation_event,
}
# Errors whose message is meant for the user (they name the file, row, field or format).
_USER_ERRORS = (LabelopsError,)


def jobs_folder(home: Path) -> Path:
    """Returns the folder of job files (uploads waiting, snapshots) under a LABELOPS_HOME."""
    return home / "jobs"


class Worker:
    """Claims and runs background jobs and webhook deliveries.

    Args:
        session_factory: Makes a new session; each step uses its own short transaction.
        root: The jobs folder (see :func:`jobs_folder`).
        clock: Returns the current time (tests pass their own).
        policy: The webhook retry policy (default: from the environment).
        allowed_hosts: The settings' outbound host allowlist (webhooks, ML backend events).
        poll_seconds: How long the thread waits when there was nothing to do.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        root: Path,
        *,
        clock: Clock = utcnow,
        policy: RetryPolicy | None = None,
        allowed_hosts: Collection[str] = (),
        poll_seconds: float = 1.0,
    ) -> None:
        self.session_factory = session_factory
        self.root = root
        self.clock = clock
        self.policy = policy
        self.allowed_hosts = tuple(allowed_hosts)
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    def run_once(self) -> bool:
        """Runs one job (if any is waiting) and one batch of due deliveries; True if it worked."""
        ran = self._run_job()
        delivered = deliver_due(
            self.session_factory,
            now=self.clock(),
            policy=self.policy or retry_policy(),
            allowed_hosts=self.allowed_hosts,
        )
        return ran or delivered > 0

    def drain(self, max_rounds: int = 10_000) -> None:
        """Works until no job waits and no delivery is due (at the clock's time)."""
        for _ in range(max_rounds):
            if not self.run_once():
                return
        raise RuntimeError(f"the queue was not empty after {max_rounds} rounds")

    def _run_job(self) -> bool:
        with self.session_factory() as session:
            job = jobs.claim_next(session, now=self.clock())
            if job is None:
                return False
            session.expunge(job)
        try:
            result, path = HANDLERS[job.kind](
                self.session_factory, job, jobs.JobEnv(self.root, self.clock, self.allowed_hosts)
            )
        except Exception as exc:
            if isinstance(exc, _USER_ERRORS):
                message = str(exc)
            else:
                log.exception("background job %s (%s) failed", job.id, job.kind)
                message = f"internal error ({type(exc).__name__}); see the worker's log"
            details = exc.to_dict() if hasattr(exc, "to_dict") else {"message": message}
            self._finish(job.id, error=message, result={"errors": [details]})
        else:
            self._finish(job.id, result=result, result_path=path)
        return True

    def _finish(self, job_id: int, **outcome: Any) -> None:
        with self.session_factory() as session:
            job = session.get(BackgroundJobRow, job_id)
            if job is not None:  # its project may have been deleted meanwhile
                jobs.finish(session, job, now=self.clock(), **outcome)

    def wake(self) -> None:
        """Makes a waiting thread look for work now (a request has just queued some)."""
        self._wake.set()

    def start(self) -> None:
        """Starts the worker in a daemon thread (once)."""
        with self._starting:
            if self._thread is not None:
                return
            self._stop.clear()
            self._thread = threading.Thread(
                target=self.run_forever, name="labelops-worker", daemon=True
            )
            self._thread.start()

    def run_forever(self) -> None:
        """Works until :meth:`stop`; a failing round is logged and the loop goes on."""
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:
                log.exception("background worker round failed")
                busy = False
            if not busy:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def stop(self, timeout: float = 10.0) -> None:
        """Stops the thread after its current round."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
