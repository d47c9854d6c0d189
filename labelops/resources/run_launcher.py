"""Launching Dagster runs for the web app: through the webserver, or in this process.

``launcher_for`` asks the Dagster webserver first (``labelops up`` and deployments run one) and
submits through its GraphQL API; when no webserver answers, the job runs in a child process
against the Dagster instance in DAGSTER_HOME, so the run is still recorded there and appears in
the Dagster UI once one is started.
"""

import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import dagster as dg
import requests
from dagster_graphql import DagsterGraphQLClient

logger = logging.getLogger(__name__)
LAUNCH_TAG = "labelops/launch_id"
PROJECT_PARTITIONS = "projects"  # the name of labelops.assets.partitions.project_partitions
_STATUS = {
    dg.DagsterRunStatus.QUEUED: "queued",
    dg.DagsterRunStatus.NOT_STARTED: "queued",
    dg.DagsterRunStatus.MANAGED: "queued",
    dg.DagsterRunStatus.STARTING: "queued",
    dg.DagsterRunStatus.STARTED: "running",
    dg.DagsterRunStatus.SUSPENDED: "running",
    dg.DagsterRunStatus.CANCELING: "running",
    dg.DagsterRunStatus.SUCCESS: "succeeded",
    dg.DagsterRunStatus.FAILURE: "failed",
    dg.DagsterRunStatus.CANCELED: "failed",
}
IN_PROCESS = {"execution": {"config": {"in_process": {}}}}


@contextmanager
def _instance(dagster_home: Path) -> Iterator[dg.DagsterInstance]:
    """Yields the instance, disposed afterwards.

    Not ``with instance:``: in Dagster 1.13 leaving that block disposes the instance but leaves
    it set as the process's current definitions-state storage, which breaks later loads.
    """
    dagster_home.mkdir(parents=True, exist_ok=True)
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    try:
        yield instance
    finally:
        instance.dispose()


def _ensure_partition(instance: dg.DagsterInstance, key: str) -> None:
    if not instance.has_dynamic_partition(PROJECT_PARTITIONS, key):
        instance.add_dynamic_partitions(PROJECT_PARTITIONS, [key])


def run_error(instance: dg.DagsterInstance, run_id: str) -> str:
    """Returns the root cause of the first step failure of a run (else of the run failure).

    The message is the innermost exception (``ValueError: ...``), without its stack; the whole
    error stays in the Dagster instance and its UI.
    """
    kinds = {dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE}
    for entry in instance.all_logs(run_id, of_type=kinds):
        event = entry.dagster_event
        data = event.event_specific_data if event else None
        error = getattr(data, "error", None)
        if error is not None:
            while error.cause is not None:
                error = error.cause
            return str(error.message).strip() or "the run failed"
        return entry.message or "the run failed"
    return ""


def _status_from_instance(instance: dg.DagsterInstance, run_id: str) -> tuple[str, str]:
    run = instance.get_run_by_id(run_id)
    if run is None:
        return "failed", f"run {run_id} is not in the Dagster instance"
    status = _STATUS.get(run.status, "running")
    return status, run_error(instance, run_id) if status == "failed" else ""


class LocalRunLauncher:
    """Runs jobs in child processes of this machine, recorded in the instance at ``dagster_home``.

    Each run is ``dagster job execute`` in its own process (with the in-process executor), as
    Dagster's default run launcher does: Dagster keeps process-wide state about the definitions
    it loaded, and a run in the web app's own process would leave that state behind and could
    take the web worker down with it. The child inherits this process's environment, so it uses
    the same labeling database and resources.
    """

    def __init__(
        self,
        dagster_home: Path,
        *,
        module: str = "labelops.definitions",
        start_timeout: float = 120.0,
    ) -> None:
        self.dagster_home = dagster_home
        self.module = module
        self.start_timeout = start_timeout
        self._processes: list[subprocess.Popen[bytes]] = []

    def launch(self, job_name: str, partition_key: str) -> str:
        """Returns the run id once the child process has created the run in the instance.

        Raises:
            RuntimeError: The child exited before creating a run (its log's tail says why).
        """
        token = uuid.uuid4().hex
        with _instance(self.dagster_home) as instance:
            _ensure_partition(instance, partition_key)
        logs = self.dagster_home / "labelops_runs"
        logs.mkdir(exist_ok=True)
        config = logs / "in_process.yaml"
        config.write_text(json.dumps(IN_PROCESS))  # JSON is YAML
        tags = json.dumps({"dagster/partition": partition_key, LAUNCH_TAG: token})
        log_path = logs / f"{token}.log"
        with log_path.open("wb") as log:
            # The child starts in the private Dagster home and loads code from there, never
            # from the server's working directory: a stray ``dagster/`` or ``labelops/`` folder
            # where the server was started is not imported. (Not ``python -P``: Dagster drops
            # ``sys.path[0]`` as the script's folder, which would then be PYTHONPATH's first.)
            process = subprocess.Popen(
                [sys.executable, "-m", "dagster", "job", "execute", "-m", self.module,
                 "-d", str(self.dagster_home), "-j", job_name, "--tags", tags, "-c", str(config)],
                env={**os.environ, "DAGSTER_HOME": str(self.dagster_home)},
                cwd=self.dagster_home,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        self._processes.append(process)
        threading.Thread(target=process.wait, daemon=True).start()  # reaps the child
        deadline = time.monotonic() + self.start_timeout
        with _instance(self.dagster_home) as instance:
            while time.monotonic() < deadline:
                records = instance.get_run_records(dg.RunsFilter(tags={LAUNCH_TAG: token}), limit=1)
                if records:
                    return records[0].dagster_run.run_id
                if process.poll() is not None:
                    tail = log_path.read_text(errors="replace")[-4000:]
                    logger.warning("%s exited early, see %s:\n%s", job_name, log_path, tail)
                    last = next((ln for ln in reversed(tail.splitlines()) if ln.strip()), "")
                    raise RuntimeError(f"{job_name} exited before starting a run: {last.strip()}")
                time.sleep(0.1)
        raise RuntimeError(f"{job_name} did not start within {self.start_timeout:.0f} s")

    def status(self, run_id: str) -> tuple[str, str]:
        """Returns the run's status and error from the instance."""
        with _instance(self.dagster_home) as instance:
            return _status_from_instance(instance, run_id)

    def wait(self, timeout: float = 120.0) -> None:
        """Waits for the child processes this launcher started."""
        for process in self._processes:
            process.wait(timeout)


class WebserverRunLauncher:
    """Submits runs through the Dagster webserver's GraphQL API (its run queue and launcher)."""

    def __init__(self, url: str, dagster_home: Path) -> None:
        parsed = urlparse(url)
        self.client = DagsterGraphQLClient(
            parsed.hostname or "127.0.0.1",
            port_number=parsed.port,
            use_https=parsed.scheme == "https",
            path_prefix=parsed.path.rstrip("/"),
        )
        self.dagster_home = dagster_home

    def launch(self, job_name: str, partition_key: str) -> str:
        """Returns the id of the run the webserver queued."""
        with _instance(self.dagster_home) as instance:
            _ensure_partition(instance, partition_key)
        return self.client.submit_job_execution(job_name, tags={"dagster/partition": partition_key})

    def status(self, run_id: str) -> tuple[str, str]:
        """Returns the status the webserver reports, with the error from the shared instance."""
        status = _STATUS.get(self.client.get_run_status(run_id), "running")
        if status != "failed":
            return status, ""
        with _instance(self.dagster_home) as instance:
            return status, run_error(instance, run_id)


def webserver_answers(url: str, timeout: float = 1.0) -> bool:
    """Returns True when a Dagster webserver answers at ``url``."""
    try:
        return requests.get(url.rstrip("/") + "/server_info", timeout=timeout).ok
    except requests.RequestException:
        return False


def launcher_for(
    dagster_ui_url: str, dagster_home: Path
) -> WebserverRunLauncher | LocalRunLauncher:
    """Returns the webserver launcher when the webserver answers, else the local one."""
    if dagster_ui_url and webserver_answers(dagster_ui_url):
        return WebserverRunLauncher(dagster_ui_url, dagster_home)
    return LocalRunLauncher(dagster_home)
