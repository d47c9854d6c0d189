"""Launching Dagster runs for the web app: through the webserver, or in this process.

``launcher_for`` asks the Dagster webserver first (``labelops up`` and deployments run one) and
submits through its GraphQL API; when no webserver answers, the job runs in a background thread
of this process against the Dagster instance in DAGSTER_HOME, so the run is still recorded there
and appears in the Dagster UI once one is started.
"""

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import dagster as dg
import requests
from dagster_graphql import DagsterGraphQLClient

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


def _instance(dagster_home: Path) -> dg.DagsterInstance:
    dagster_home.mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.from_config(str(dagster_home))


def _ensure_partition(instance: dg.DagsterInstance, key: str) -> None:
    if not instance.has_dynamic_partition(PROJECT_PARTITIONS, key):
        instance.add_dynamic_partitions(PROJECT_PARTITIONS, [key])


def run_error(instance: dg.DagsterInstance, run_id: str) -> str:
    """Returns the message of the first step failure of a run (else of the run failure)."""
    kinds = {dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE}
    for entry in instance.all_logs(run_id, of_type=kinds):
        event = entry.dagster_event
        data = event.event_specific_data if event else None
        error = getattr(data, "error", None)
        if error is not None:
            cause = error.cause.message.strip() if error.cause else ""
            return f"{error.message.strip()} {cause}".strip()
        return entry.message or "the run failed"
    return ""


def _status_from_instance(instance: dg.DagsterInstance, run_id: str) -> tuple[str, str]:
    run = instance.get_run_by_id(run_id)
    if run is None:
        return "failed", f"run {run_id} is not in the Dagster instance"
    status = _STATUS.get(run.status, "running")
    return status, run_error(instance, run_id) if status == "failed" else ""


class InProcessRunLauncher:
    """Runs jobs in a background thread here, recorded in the instance at ``dagster_home``."""

    def __init__(
        self,
        dagster_home: Path,
        *,
        module: str = "labelops.definitions",
        reconstructor: str = "job_named",
        start_timeout: float = 60.0,
    ) -> None:
        self.dagster_home = dagster_home
        self.module = module
        self.reconstructor = reconstructor
        self.start_timeout = start_timeout
        self._threads: list[threading.Thread] = []

    def launch(self, job_name: str, partition_key: str) -> str:
        """Returns the run id once the background run has been created in the instance.

        Raises:
            RuntimeError: The run could not be created (the error of the job's loading).
        """
        token = uuid.uuid4().hex
        failure: list[BaseException] = []
        with _instance(self.dagster_home) as instance:
            _ensure_partition(instance, partition_key)
        thread = threading.Thread(
            target=self._execute,
            args=(job_name, partition_key, token, failure.append),
            name=f"dagster-run-{job_name}-{partition_key}",
            daemon=True,
        )
        thread.start()
        self._threads.append(thread)
        deadline = time.monotonic() + self.start_timeout
        with _instance(self.dagster_home) as instance:
            while time.monotonic() < deadline:
                records = instance.get_run_records(dg.RunsFilter(tags={LAUNCH_TAG: token}), limit=1)
                if records:
                    return records[0].dagster_run.run_id
                if failure:
                    raise RuntimeError(str(failure[0])) from failure[0]
                time.sleep(0.05)
        raise RuntimeError(f"{job_name} did not start within {self.start_timeout:.0f} s")

    def _execute(
        self,
        job_name: str,
        partition_key: str,
        token: str,
        on_error: Callable[[BaseException], None],
    ) -> None:
        try:
            job = dg.build_reconstructable_job(
                self.module, self.reconstructor, reconstructable_args=(job_name,)
            )
            with _instance(self.dagster_home) as instance:
                dg.execute_job(
                    job,
                    instance=instance,
                    run_config=IN_PROCESS,
                    tags={"dagster/partition": partition_key, LAUNCH_TAG: token},
                )
        except BaseException as exc:  # reported to launch(); the run itself records step errors
            on_error(exc)

    def status(self, run_id: str) -> tuple[str, str]:
        """Returns the run's status and error from the instance."""
        with _instance(self.dagster_home) as instance:
            return _status_from_instance(instance, run_id)

    def wait(self, timeout: float = 120.0) -> None:
        """Waits for the runs this launcher started (for tests and clean shutdowns)."""
        for thread in self._threads:
            thread.join(timeout)


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
) -> WebserverRunLauncher | InProcessRunLauncher:
    """Returns the webserver launcher when the webserver answers, else the in-process one."""
    if dagster_ui_url and webserver_answers(dagster_ui_url):
        return WebserverRunLauncher(dagster_ui_url, dagster_home)
    return InProcessRunLauncher(dagster_home)
