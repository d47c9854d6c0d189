"""The files in deploy/ are checked without Docker: they parse, name real commands, and load.

CI cannot run Docker, so the compose file is checked for the services and fields the production
shape needs, every command the image runs is asked for its ``--help`` (each option used must be
there), and every ``dagster.yaml`` is loaded by Dagster itself against PostgreSQL and an S3
endpoint (moto).
"""

import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from tests.conftest import fresh_pg_database

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
PROCESSES = {"web", "code-server", "dagster-webserver", "dagster-daemon", "mlflow"}
SERVICES = PROCESSES | {"postgres", "minio"}


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _dockerfile_cmd() -> list[str]:
    lines = (DEPLOY / "Dockerfile").read_text().splitlines()
    cmd = [line for line in lines if line.startswith("CMD ")]
    assert len(cmd) == 1, "the Dockerfile has one CMD"
    return json.loads(cmd[0][4:])


def _commands() -> dict[str, list[str]]:
    """Returns each labelops-image command: the compose services', health checks' and CMD."""
    services = _compose()["services"]
    commands = {name: services[name]["command"] for name in sorted(PROCESSES)}
    commands["code-server healthcheck"] = services["code-server"]["healthcheck"]["test"][1:]
    commands["Dockerfile CMD"] = _dockerfile_cmd()
    return commands


def _subcommand(argv: list[str]) -> tuple[list[str], list[str]]:
    """Returns the command words (program and subcommands) and the options of an argv."""
    words = []
    for arg in argv:
        if arg.startswith("-"):
            break
        words.append(arg)
    return words, argv[len(words) :]


def test_compose_runs_every_process_of_the_production_shape() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) >= SERVICES
    networks = set(compose["networks"])
    volumes = set(compose.get("volumes") or {})
    for name, service in services.items():
        assert "image" in service or "build" in service, f"{name} has no image"
        for dependency in service.get("depends_on") or {}:
            assert dependency in services, f"{name} depends on unknown service {dependency}"
        for network in service.get("networks") or []:
            assert network in networks, f"{name} uses undefined network {network}"
        for mount in service.get("volumes") or []:
            source = mount.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
            elif not source.startswith("/"):
                assert source in volumes, f"{name} uses undefined volume {source}"
    image = services["code-server"]["image"]
    for name in PROCESSES:
        assert services[name]["image"] == image, f"{name} runs another image than the code"
    build = services["code-server"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"


def test_the_web_app_reaches_dagster_only_through_the_webserver() -> None:
    services = _compose()["services"]
    web = services["web"]
    assert web["command"][:2] == ["labelops", "serve"]
    assert web["environment"]["LABELOPS_DAGSTER_UI_URL"] == "http://dagster-webserver:3000"
    assert "--port=3000" in services["dagster-webserver"]["command"]
    assert "/var/run/docker.sock:/var/run/docker.sock" not in (web.get("volumes") or [])
    workspace = yaml.safe_load((DEPLOY / "dagster" / "workspace.yaml").read_text())
    (location,) = workspace["load_from"]
    grpc = location["grpc_server"]
    assert grpc["host"] == "code-server"
    assert f"--port={grpc['port']}" in services["code-server"]["command"]
    for name in ("dagster-webserver", "dagster-daemon"):
        assert "--workspace=/opt/dagster/home/workspace.yaml" in services[name]["command"]


def test_every_variable_the_instance_and_the_code_read_is_set_for_each_process() -> None:
    compose = _compose()
    shared = compose["x-labelops-env"]
    instance_vars = set()
    for path in (DEPLOY / "dagster" / "dagster.yaml", ROOT / "dagster.yaml"):
        instance_vars |= set(re.findall(r"env: (\w+)", path.read_text()))
    code_vars = {
        "LABELOPS_ENV",
        "LABELOPS_DATABASE_URL",
        "LABELOPS_S3_BUCKET",
        "LABELOPS_S3_ENDPOINT_URL",
        "LABELOPS_STORAGE_SECRET_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "MLFLOW_TRACKING_URI",
        "DAGSTER_HOME",
    }
    assert not (instance_vars | code_vars) - set(shared)
    launcher = yaml.safe_load((DEPLOY / "dagster" / "dagster.yaml").read_text())["run_launcher"]
    passed = set(launcher["config"]["env_vars"])
    assert not (instance_vars | code_vars) - passed - {"DAGSTER_HOME"}, "run containers miss some"
    for name in ("code-server", "dagster-webserver", "dagster-daemon", "web"):
        env = compose["services"][name]["environment"]
        assert set(shared) <= set(env), f"{name} lacks the shared settings"
    required = set(re.findall(r"\$\{(\w+):\?", (DEPLOY / "compose.yaml").read_text()))
    example = (DEPLOY / ".env.example").read_text()
    assert required, "secrets come from the environment"
    for variable in required:
        assert re.search(rf"^{variable}=", example, re.M), f".env.example lacks {variable}"


def test_the_instance_files_keep_the_repository_run_queue() -> None:
    root = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    for path in (DEPLOY / "dagster" / "dagster.yaml", DEPLOY / "k8s" / "dagster.yaml"):
        deployed = yaml.safe_load(path.read_text())
        assert deployed["run_coordinator"] == root["run_coordinator"], path
        assert deployed["storage"] == root["storage"], path


def test_the_image_installs_the_deploy_extra_and_copies_what_exists() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert '".[deploy]"' in text
    for requirement in ("dagster-docker", "dagster-k8s", "dagster-aws"):
        assert any(r.startswith(requirement) for r in extras["deploy"])
    for line in text.splitlines():
        if line.startswith("COPY") and "--from" not in line:
            *sources, _dest = line.split()[1:]
            for source in sources:
                assert (ROOT / source).exists(), f"COPY of missing {source}"


@pytest.mark.parametrize(
    "process", sorted(PROCESSES | {"Dockerfile CMD", "code-server healthcheck"})
)
def test_each_command_of_the_image_exists_with_its_options(process: str) -> None:
    argv = _commands()[process]
    words, options = _subcommand(argv)
    program = BIN / words[0]
    assert program.exists(), f"{process}: {words[0]} is not a console script of the install"
    result = subprocess.run(
        [str(program), *words[1:], "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, f"{process}: {' '.join(words)} --help: {result.stderr[-2000:]}"
    for option in options:
        if not option.startswith("-"):
            continue  # the value of the option before
        flag = option.split("=", 1)[0]
        assert re.search(rf"(^|[\s,/]){re.escape(flag)}\b", result.stdout), (
            f"{process}: {' '.join(words)} has no option {flag}"
        )
        if flag == "--module-name":
            module = option.split("=", 1)[1]
            assert importlib.util.find_spec(module) is not None, f"{process}: no module {module}"


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def dagster_pg(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Sets DAGSTER_PG_* to a fresh PostgreSQL database and yields its URL."""
    with fresh_pg_database("labelops_dagster_yaml") as url:
        parsed = sa.engine.make_url(url)
        monkeypatch.setenv("DAGSTER_PG_HOST", parsed.host or "127.0.0.1")
        monkeypatch.setenv("DAGSTER_PG_PORT", str(parsed.port or 5432))
        monkeypatch.setenv("DAGSTER_PG_USERNAME", parsed.username or "postgres")
        monkeypatch.setenv("DAGSTER_PG_PASSWORD", parsed.password or "")
        monkeypatch.setenv("DAGSTER_PG_DB", parsed.database or "")
        yield url


KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


@pytest.mark.postgres
@pytest.mark.integration
@pytest.mark.parametrize(
    "path", ["dagster.yaml", "deploy/dagster/dagster.yaml", "deploy/k8s/dagster.yaml"]
)
def test_each_dagster_yaml_loads_as_a_dagster_instance(
    path: str,
    tmp_path: Path,
    dagster_pg: str,
    s3_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3

    text = (ROOT / path).read_text()
    if "K8sRunLauncher" in text:
        # Outside a cluster the launcher reads a kubeconfig file instead (no request is made).
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(KUBECONFIG)
        assert "load_incluster_config: true" in text
        text = text.replace(
            "load_incluster_config: true",
            f"load_incluster_config: false\n    kubeconfig_file: {kubeconfig}",
        )
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(text)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_COMPUTE_LOGS_BUCKET", "dagster-logs")
    monkeypatch.setenv("DAGSTER_COMPUTE_LOGS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)  # the Kubernetes file's S3 (no endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("NAMESPACE", "INSTANCE_CONFIG_MAP", "ENV_CONFIG_MAP", "ENV_SECRET"):
        monkeypatch.setenv(f"DAGSTER_K8S_{name}", f"labelops-{name.lower()}")
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket="dagster-logs")
    config = yaml.safe_load(text)

    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert instance.get_runs() == []
        assert type(instance.run_coordinator).__name__ == config["run_coordinator"]["class"]
        assert instance.run_coordinator.inst_data.config_dict == config["run_coordinator"]["config"]
        if "run_launcher" in config:
            launcher = instance.run_launcher
            assert type(launcher).__name__ == config["run_launcher"]["class"]
        if "compute_logs" in config:
            manager = instance.compute_log_manager
            assert type(manager).__name__ == config["compute_logs"]["class"]
            assert manager._s3_bucket == "dagster-logs"
    finally:
        instance.dispose()
    with sa.create_engine(dagster_pg).connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert {"runs", "event_logs"} <= tables
    if "K8sRunLauncher" in text:
        assert launcher.job_namespace == "labelops-namespace"
        assert launcher.env_secrets == ["labelops-env_secret"]
        dockerfile = (DEPLOY / "Dockerfile").read_text()
        assert f"DAGSTER_HOME={launcher.dagster_home}" in dockerfile
