"""Launching and reading Dagster runs for the web app: through the webserver, or in this process.

In production (``LABELOPS_ENV=production``) the web app talks to Dagster only through the
webserver's GraphQL API at ``LABELOPS_DAGSTER_UI_URL``: it launches runs, adds and deletes the
project partitions, and reads run status, errors and outcomes there, so a web container needs no
Dagster instance and never runs a job itself; an unreachable webserver is a clear error.

In local mode ``launcher_for`` asks the webserver first (``labelops up`` runs one); when none
answers, the job runs in a child process against the Dagster instance in DAGSTER_HOME, so the run
is still recorded there and appears in the Dagster UI once one is started.
"""

import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import requests

from labelops.domain.pipeline_jobs import (
    IN_PROCESS_JOBS,
    PARTITION_TAG,
    PROJECT_PARTITIONS,
    SOURCE_TAG,
    run_tags,
)
from labelops.domain.pipeline_jobs import run_source as source_of
from labelops.services.runs import DagsterUnavailableError, RunInfo

logger = logging.getLogger(__name__)
LAUNCH_TAG = "labelops/launch_id"
WEB_APP = "web app"
_STATUS_NAMES = {
    "QUEUED": "queued",
    "NOT_STARTED": "queued",
    "MANAGED": "queued",
    "STARTING": "queued",
    "STARTED": "running",
    "SUSPENDED": "running",
    "CANCELING": "running",
    "SUCCESS": "succeeded",
    "FAILURE": "failed",
    "CANCELED": "failed",
}
_STATUS = {status: _STATUS_NAMES[status.value] for status in dg.DagsterRunStatus}
IN_PROCESS: dict[str, Any] = {"execution": {"config": {"in_process": {}}}}
OUTCOME_KEY = "outcome"  # text metadata an asset writes to say what its materialization did


def _naive_utc(timestamp: float | None) -> datetime | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None)


def _is_production() -> bool:
    return os.environ.get("LABELOPS_ENV", "local") == "production"


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


def run_outcome(instance: dg.DagsterInstance, run_id: str) -> str:
    """Returns the ``outcome`` texts of the run's materializations ("" when none wrote one)."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    texts = []
    for record in records:
        materialization = record.event_log_entry.asset_materialization
        value = materialization.metadata.get(OUTCOME_KEY) if materialization else None
        if value is not None and str(value.value):
            texts.append(str(value.value))
    return "; ".join(texts)


def _status_from_instance(instance: dg.DagsterInstance, run_id: str) -> tuple[str, str]:
    run = instance.get_run_by_id(run_id)
    if run is None:
        return "failed", f"run {run_id} is not in the Dagster instance"
    status = _STATUS.get(run.status, "running")
    return status, run_error(instance, run_id) if status == "failed" else ""


class LocalRunLauncher:
    """Runs jobs in child processes of this machine, recorded in the instance at ``dagster_home``.

    Only for local mode. Each run is ``dagster job execute`` in its own process (with the
    in-process executor), as Dagster's default run launcher does: Dagster keeps process-wide
    state about the definitions it loaded, and a run in the web app's own process would leave
    that state behind and could take the web worker down with it. The child inherits this
    process's environment, so it uses the same labeling database and resources.
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
        config_args: list[str] = []
        if job_name not in IN_PROCESS_JOBS:  # those have the in-process executor already
            config = logs / "in_process.yaml"
            config.write_text(json.dumps(IN_PROCESS))  # JSON is YAML
            config_args = ["-c", str(config)]
        tags = json.dumps(
            dict(run_tags(job_name, partition_key, **{LAUNCH_TAG: token, SOURCE_TAG: WEB_APP}))
        )
        log_path = logs / f"{token}.log"
        with log_path.open("wb") as log:
            # The child starts in the private Dagster home and loads code from there, never
            # from the server's working directory: a stray ``dagster/`` or ``labelops/`` folder
            # where the server was started is not imported. (Not ``python -P``: Dagster drops
            # ``sys.path[0]`` as the script's folder, which would then be PYTHONPATH's first.)
            process = subprocess.Popen(
                [sys.executable, "-m", "dagster", "job", "execute", "-m", self.module,
                 "-d", str(self.dagster_home), "-j", job_name, "--tags", tags, *config_args],
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

    def runs(self, partition_key: str, limit: int = 50) -> list[RunInfo]:
        """Returns the partition's runs in the instance, newest first, whatever started them."""
        with _instance(self.dagster_home) as instance:
            records = instance.get_run_records(
                dg.RunsFilter(tags={PARTITION_TAG: partition_key}), limit=limit
            )
            found = []
            for record in records:
                run = record.dagster_run
                status = _STATUS.get(run.status, "running")
                found.append(
                    RunInfo(
                        run_id=run.run_id,
                        job_name=run.job_name,
                        status=status,
                        error=run_error(instance, run.run_id) if status == "failed" else "",
                        outcome=run_outcome(instance, run.run_id) if status == "succeeded" else "",
                        source=source_of(run.tags),
                        created_at=record.create_timestamp.astimezone(UTC).replace(tzinfo=None),
                        updated_at=record.update_timestamp.astimezone(UTC).replace(tzinfo=None),
                    )
                )
            return found

    def wait(self, timeout: float = 120.0) -> None:
        """Waits for the child processes this launcher started."""
        for process in self._processes:
            process.wait(timeout)


_ERROR_FIELDS = "message causes { message }"
# Errors of failed runs already read, per (webserver, run id): pages poll every 2 s.
_FAILED_RUN_ERRORS: dict[tuple[str, str], str] = {}
_MAX_CACHED_ERRORS = 1000
_PARTITION_ADDED = ("AddDynamicPartitionSuccess", "DuplicateDynamicPartitionError")
_REPOSITORIES = """
query Repositories {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } pipelines { name } } }
    ... on PythonError { message }
  }
}"""
_ADD_PARTITION = """
mutation AddPartition($selector: RepositorySelector!, $name: String!, $key: String!) {
  addDynamicPartition(repositorySelector: $selector, partitionsDefName: $name, partitionKey: $key) {
    __typename
    ... on UnauthorizedError { message }
    ... on PythonError { message }
  }
}"""
_LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchPipelineExecution(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on Error { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}"""
_RUN_FIELDS = """
  runId jobName status creationTime startTime endTime updateTime
  tags { key value }
  assetMaterializations { metadataEntries { label ... on TextMetadataEntry { text } } }
"""
_RUNS = f"""
query Runs($filter: RunsFilter!, $limit: Int) {{
  runsOrError(filter: $filter, limit: $limit) {{
    __typename
    ... on Runs {{ results {{ {_RUN_FIELDS} }} }}
    ... on Error {{ message }}
  }}
}}"""
_LOGS = f"""
query Logs($runId: ID!) {{
  logsForRun(runId: $runId, limit: 5000) {{
    __typename
    ... on EventConnection {{
      events {{
        __typename
        ... on ExecutionStepFailureEvent {{ message error {{ {_ERROR_FIELDS} }} }}
        ... on RunFailureEvent {{ message error {{ {_ERROR_FIELDS} }} }}
      }}
    }}
    ... on Error {{ message }}
  }}
}}"""


class WebserverRunLauncher:
    """Launches and reads runs through the Dagster webserver's GraphQL API only (no instance)."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._selector: dict[str, str] | None = None

    def _query(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Returns the ``data`` of a GraphQL answer.

        Raises:
            DagsterUnavailableError: The webserver is unreachable or did not answer the query.
        """
        if not self.url:
            raise DagsterUnavailableError(
                "LABELOPS_DAGSTER_UI_URL is not set: the web app reaches Dagster only through "
                "its webserver"
            )
        try:
            response = requests.post(
                f"{self.url}/graphql",
                json={"query": query, "variables": dict(variables or {})},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise DagsterUnavailableError(
                f"the Dagster webserver at {self.url} (LABELOPS_DAGSTER_UI_URL) is unreachable: "
                f"{type(exc).__name__}"
            ) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if not response.ok or not isinstance(body, dict) or body.get("errors"):
            detail = body.get("errors") if isinstance(body, dict) else response.text[:200]
            raise DagsterUnavailableError(
                f"the Dagster webserver at {self.url} answered HTTP {response.status_code}: "
                f"{detail}"
            )
        return dict(body.get("data") or {})

    def _repository(self) -> dict[str, str]:
        """Returns the selector of the code location that defines the pipeline's jobs."""
        if self._selector is None:
            found = self._query(_REPOSITORIES)["repositoriesOrError"]
            if found["__typename"] != "RepositoryConnection":
                raise DagsterUnavailableError(f"Dagster could not list its code: {found}")
            for node in found["nodes"]:
                if any(job["name"] == "ingest_job" for job in node["pipelines"]):
                    self._selector = {
                        "repositoryName": node["name"],
                        "repositoryLocationName": node["location"]["name"],
                    }
                    break
            else:
                raise DagsterUnavailableError(
                    f"no code location at {self.url} defines the labelops jobs (is the "
                    "labelops code server loaded?)"
                )
        return self._selector

    def _add_partition(self, partition_key: str) -> None:
        answer = self._query(
            _ADD_PARTITION,
            {"selector": self._repository(), "name": PROJECT_PARTITIONS, "key": partition_key},
        )["addDynamicPartition"]
        if answer["__typename"] not in _PARTITION_ADDED:
            raise RuntimeError(f"could not add partition {partition_key}: {answer.get('message')}")

    def launch(self, job_name: str, partition_key: str) -> str:
        """Returns the id of the run the webserver queued (the partition is added if missing).

        Raises:
            DagsterUnavailableError: The webserver is unreachable.
            RuntimeError: The webserver refused the run (its message says why).
        """
        self._add_partition(partition_key)
        tags = run_tags(job_name, partition_key, **{SOURCE_TAG: WEB_APP})
        params = {
            "selector": {**self._repository(), "jobName": job_name},
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
            "runConfigData": {},
        }
        answer = self._query(_LAUNCH, {"params": params})["launchPipelineExecution"]
        if answer["__typename"] != "LaunchRunSuccess":
            errors = [e["message"] for e in answer.get("errors", [])]
            message = answer.get("message") or "; ".join(errors) or answer["__typename"]
            raise RuntimeError(f"Dagster refused {job_name}: {message}")
        return str(answer["run"]["runId"])

    def _error(self, run_id: str) -> str:
        """Returns the root cause of a failed run (cached: a finished run's logs do not change)."""
        key = (self.url, run_id)
        if key not in _FAILED_RUN_ERRORS:
            if len(_FAILED_RUN_ERRORS) >= _MAX_CACHED_ERRORS:
                _FAILED_RUN_ERRORS.pop(next(iter(_FAILED_RUN_ERRORS)))
            _FAILED_RUN_ERRORS[key] = self._read_error(run_id)
        return _FAILED_RUN_ERRORS[key]

    def _read_error(self, run_id: str) -> str:
        answer = self._query(_LOGS, {"runId": run_id})["logsForRun"]
        if answer["__typename"] != "EventConnection":
            return answer.get("message") or "the run failed"
        failures = [
            event
            for event in answer["events"]
            if event["__typename"] in ("ExecutionStepFailureEvent", "RunFailureEvent")
        ]
        failures.sort(key=lambda e: e["__typename"] != "ExecutionStepFailureEvent")
        for event in failures:
            error = event.get("error")
            if error:
                innermost = error["causes"][-1] if error["causes"] else error
                return str(innermost["message"]).strip() or "the run failed"
            return event["message"] or "the run failed"
        return ""

    def _runs(self, run_filter: Mapping[str, Any], limit: int) -> list[RunInfo]:
        answer = self._query(_RUNS, {"filter": dict(run_filter), "limit": limit})["runsOrError"]
        if answer["__typename"] != "Runs":
            raise DagsterUnavailableError(f"Dagster could not list runs: {answer.get('message')}")
        found = []
        for run in answer["results"]:
            status = _STATUS_NAMES.get(run["status"], "running")
            outcomes = [
                entry["text"]
                for event in run["assetMaterializations"]
                for entry in event["metadataEntries"]
                if entry["label"] == OUTCOME_KEY and entry.get("text")
            ]
            created = _naive_utc(run["creationTime"]) or datetime.now(UTC).replace(tzinfo=None)
            found.append(
                RunInfo(
                    run_id=run["runId"],
                    job_name=run["jobName"],
                    status=status,
                    error=self._error(run["runId"]) if status == "failed" else "",
                    outcome="; ".join(outcomes) if status == "succeeded" else "",
                    source=source_of({t["key"]: t["value"] for t in run["tags"]}),
                    created_at=created,
                    updated_at=_naive_utc(run["updateTime"] or run["endTime"] or run["startTime"]),
                )
            )
        return found

    def status(self, run_id: str) -> tuple[str, str]:
        """Returns the status and error the webserver reports for the run."""
        runs = self._runs({"runIds": [run_id]}, 1)
        if not runs:
            return "failed", f"run {run_id} is not known to the Dagster webserver at {self.url}"
        return runs[0].status, runs[0].error

    def runs(self, partition_key: str, limit: int = 50) -> list[RunInfo]:
        """Returns the partition's runs, newest first, whatever started them."""
        return self._runs({"tags": [{"key": PARTITION_TAG, "value": partition_key}]}, limit)


def webserver_answers(url: str, timeout: float = 1.0) -> bool:
    """Returns True when a Dagster webserver answers at ``url``."""
    try:
        return requests.get(url.rstrip("/") + "/server_info", timeout=timeout).ok
    except requests.RequestException:
        return False


def launcher_for(
    dagster_ui_url: str, dagster_home: Path, *, production: bool | None = None
) -> WebserverRunLauncher | LocalRunLauncher:
    """Returns the launcher the web app uses.

    In production (default: ``LABELOPS_ENV=production``) always the webserver's GraphQL API,
    never a local process; locally the webserver when it answers, else a local process.
    """
    if production is None:
        production = _is_production()
    if production:
        return WebserverRunLauncher(dagster_ui_url)
    if dagster_ui_url and webserver_answers(dagster_ui_url):
        return WebserverRunLauncher(dagster_ui_url)
    return LocalRunLauncher(dagster_home)
