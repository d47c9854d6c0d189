"""The `labelops` command: users, projects, import/export, migrations, and `up` as a real server."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests
from click.testing import CliRunner

from labelops.cli import main
from tests.factories import TEXT_CONFIG


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LABELOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABELOPS_DATABASE_URL", database_url)
    return CliRunner()


def _ok(result) -> str:
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_user_project_import_export_round_trip(cli: CliRunner, tmp_path: Path) -> None:
    _ok(cli.invoke(main, ["db", "upgrade"]))
    out = _ok(
        cli.invoke(
            main,
            [
                "user",
                "create",
                "--email",
                "Ops@Example.com",
                "--password",
                "password123",
                "--admin",
                "--print-token",
            ],
        )
    )
    assert "ops@example.com" in out and len(out.strip().splitlines()[-1]) == 40
    config = tmp_path / "config.xml"
    config.write_text(TEXT_CONFIG)
    out = _ok(
        cli.invoke(
            main,
            [
                "project",
                "create",
                "--title",
                "CLI",
                "--config",
                str(config),
                "--owner",
                "ops@example.com",
            ],
        )
    )
    project_id = out.strip().split()[-1]
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("\n".join(json.dumps({"text": f"line {i}"}) for i in range(50)) + "\n")
    csv_file = tmp_path / "more.csv"
    csv_file.write_text("text\nfrom csv\n")
    out = _ok(cli.invoke(main, ["import", project_id, str(tasks), str(csv_file)]))
    assert "imported 51 tasks" in out
    target = tmp_path / "export.json"
    _ok(
        cli.invoke(
            main, ["export", project_id, "--format", "JSON", "--out", str(target), "--all-tasks"]
        )
    )
    exported = json.loads(target.read_text())
    assert len(exported) == 51 and exported[-1]["data"] == {"text": "from csv"}


def test_import_with_a_bad_row_imports_nothing_and_says_where(
    cli: CliRunner, tmp_path: Path
) -> None:
    _ok(
        cli.invoke(
            main, ["user", "create", "--email", "a@b.io", "--password", "password123", "--admin"]
        )
    )
    config = tmp_path / "config.xml"
    config.write_text(TEXT_CONFIG)
    project_id = _ok(
        cli.invoke(
            main,
            ["project", "create", "--title", "P", "--config", str(config), "--owner", "a@b.io"],
        )
    ).split()[-1]
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"text": "fine"}]))
    bad = tmp_path / "bad.csv"
    bad.write_text("text,other\nok,1\n,2\nthird\n")
    result = cli.invoke(main, ["import", project_id, str(good), str(bad)])
    assert result.exit_code != 0
    assert "bad.csv" in result.output and "row 4" in result.output
    target = tmp_path / "out.json"
    _ok(cli.invoke(main, ["export", project_id, "--out", str(target), "--all-tasks"]))
    assert json.loads(target.read_text()) == []


def test_project_create_reports_the_config_line(cli: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "broken.xml"
    config.write_text("<View>\n<Text name='t' value='$t'/>\n<Labels name='l' toName='t'/>\n</View>")
    result = cli.invoke(main, ["project", "create", "--title", "x", "--config", str(config)])
    assert result.exit_code != 0
    assert "broken.xml" in result.output and "line 3" in result.output


def test_user_create_refuses_a_short_password(cli: CliRunner) -> None:
    result = cli.invoke(main, ["user", "create", "--email", "a@b.io", "--password", "short"])
    assert result.exit_code != 0 and "at least 8" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_up(home: Path, *args: str) -> tuple[subprocess.Popen, str, list[str]]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LABELOPS_", "DAGSTER_", "MLFLOW_"))
    }
    env["LABELOPS_ADMIN_PASSWORD"] = "demo-password"
    process = subprocess.Popen(
        [sys.executable, "-m", "labelops.cli", "--home", str(home), "up", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    token, lines = "", []
    deadline = time.time() + 90
    while time.time() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if line.startswith("admin API token:"):
            token = line.split(":", 1)[1].strip()
        if "web app:" in line:
            break
        assert process.poll() is None, "".join(lines)
    assert token, "".join(lines)
    return process, token, lines


def _get(url: str, **kwargs) -> requests.Response:
    for _ in range(300):
        try:
            return requests.get(url, timeout=5, **kwargs)
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url}")


@pytest.mark.slow
def test_up_serves_the_demo_project_on_embedded_defaults(tmp_path: Path) -> None:
    port = _free_port()
    process, token, _ = _start_up(tmp_path / "home", "--no-dagster", "--port", str(port))
    try:
        base = f"http://127.0.0.1:{port}"
        page = _get(f"{base}/auth/login")
        assert page.status_code == 200 and "Sign in" in page.text
        projects = _get(f"{base}/api/projects", headers={"Authorization": f"Token {token}"}).json()
        demo = projects["results"][0]
        assert demo["title"] == "Demo: product review sentiment" and demo["task_number"] == 50
        assert (tmp_path / "home" / "labelops.db").exists()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


@pytest.mark.slow
def test_up_starts_the_dagster_ui_with_the_pipeline_and_stops_it(tmp_path: Path) -> None:
    port, dagster_port = _free_port(), _free_port()
    process, _, _ = _start_up(
        tmp_path / "home", "--port", str(port), "--dagster-port", str(dagster_port)
    )
    children: list[psutil.Process] = []
    try:
        query = (
            "{ repositoriesOrError { ... on RepositoryConnection { nodes { jobs { name } } } } }"
        )
        jobs: set[str] = set()
        deadline = time.time() + 90
        while time.time() < deadline and "labeling_loop_job" not in jobs:
            try:
                answer = requests.post(
                    f"http://127.0.0.1:{dagster_port}/graphql", json={"query": query}, timeout=5
                ).json()
                nodes = answer["data"]["repositoriesOrError"].get("nodes", [])
                jobs = {job["name"] for node in nodes for job in node["jobs"]}
            except (requests.ConnectionError, KeyError, TypeError, ValueError):
                time.sleep(0.5)
        assert {"ingest_job", "labeling_loop_job"} <= jobs
        assert (tmp_path / "home" / "dagster").is_dir()
        children = psutil.Process(process.pid).children(recursive=True)
        assert any("dagster" in " ".join(c.cmdline()) for c in children)
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    _, alive = psutil.wait_procs(children, timeout=30)
    assert alive == [], f"processes outlived labelops up: {[p.cmdline() for p in alive]}"
