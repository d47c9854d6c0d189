"""The `labelops` command: users, projects, import/export, migrations, and `up` as a real server."""

import json
import os
import signal
import time
import zipfile
from pathlib import Path

import psutil
import pytest
import requests
from click.testing import CliRunner
from sqlalchemy.orm import Session

from labelops.cli import main
from labelops.db.engine import make_engine
from labelops.services.users import authenticate, imported_annotator
from tests.factories import TEXT_CONFIG
from tests.up_process import free_port, get, start_up


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


@pytest.mark.slow
def test_up_serves_the_demo_project_on_embedded_defaults(tmp_path: Path) -> None:
    port = free_port()
    up = start_up(tmp_path / "home", "--no-dagster", "--port", str(port))
    try:
        base = f"http://127.0.0.1:{port}"
        page = get(f"{base}/auth/login")
        assert page.status_code == 200 and "Sign in" in page.text
        projects = get(
            f"{base}/api/projects", headers={"Authorization": f"Token {up.token}"}
        ).json()
        demo = projects["results"][0]
        assert demo["title"] == "Demo: product review sentiment" and demo["task_number"] == 50
        assert (tmp_path / "home" / "labelops.db").exists()
    finally:
        up.stop()


@pytest.mark.slow
def test_up_starts_the_dagster_ui_with_the_pipeline_and_stops_it(tmp_path: Path) -> None:
    port, dagster_port = free_port(), free_port()
    up = start_up(tmp_path / "home", "--port", str(port), "--dagster-port", str(dagster_port))
    process = up.process
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
        if process.stdout is not None:
            process.stdout.close()
    _, alive = psutil.wait_procs(children, timeout=30)
    assert alive == [], f"processes outlived labelops up: {[p.cmdline() for p in alive]}"


@pytest.fixture
def bare_cli(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose data lives wherever --home says (no LABELOPS_* in the environment)."""
    for name in ("LABELOPS_HOME", "LABELOPS_DATABASE_URL", "DAGSTER_HOME", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("LABELOPS_OBJECT_STORE_ROOT", raising=False)
    return CliRunner()


def test_home_is_accepted_before_and_after_every_data_command(
    bare_cli: CliRunner, tmp_path: Path
) -> None:
    before, after = tmp_path / "before", tmp_path / "after"
    config = tmp_path / "config.xml"
    config.write_text(TEXT_CONFIG)
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps([{"text": "one"}, {"text": "two"}]))

    def run(home: Path, spelled_after: bool, *command: str) -> str:
        home_args = ["--home", str(home)]
        args = [*command, *home_args] if spelled_after else [*home_args, *command]
        return _ok(bare_cli.invoke(main, args))

    for home, spelled_after in ((before, False), (after, True)):
        run(home, spelled_after, "db", "upgrade")
        email = f"{home.name}@example.com"
        run(
            home, spelled_after, "user", "create", "--email", email, "--password", "password123",
            "--admin",
        )  # fmt: skip
        project_id = run(
            home, spelled_after, "project", "create", "--title", home.name,
            "--config", str(config), "--owner", email,
        ).split()[-1]  # fmt: skip
        run(home, spelled_after, "import", project_id, str(tasks))
        out = tmp_path / f"{home.name}.json"
        run(home, spelled_after, "export", project_id, "--out", str(out), "--all-tasks")
        assert len(json.loads(out.read_text())) == 2
        run(home, spelled_after, "user", "set-password", "--email", email, "--password", "x" * 9)
        assert (home / "labelops.db").is_file()

    assert "before@example.com" in run(before, True, "user", "list")
    assert "after@example.com" not in run(before, True, "user", "list")
    # The option after the command wins over the one before it.
    listed = _ok(
        bare_cli.invoke(main, ["--home", str(before), "user", "list", "--home", str(after)])
    )
    assert "after@example.com" in listed and "before@example.com" not in listed


def test_user_set_password_lets_the_user_sign_in_with_the_new_one_only(
    cli: CliRunner, database_url: str
) -> None:
    _ok(
        cli.invoke(
            main, ["user", "create", "--email", "lost@example.com", "--password", "old-pass1"]
        )
    )
    out = _ok(
        cli.invoke(
            main,
            ["user", "set-password", "--email", "Lost@Example.com"],
            input="new-password\nnew-password\n",
        )
    )
    assert "lost@example.com" in out and "new-password" not in out

    engine = make_engine(database_url)
    with Session(engine) as session:
        assert authenticate(session, "lost@example.com", "new-password") is not None
        assert authenticate(session, "lost@example.com", "old-pass1") is None
    engine.dispose()


def test_user_set_password_refuses_unknown_users_and_short_passwords(cli: CliRunner) -> None:
    _ok(cli.invoke(main, ["user", "create", "--email", "a@b.io", "--password", "password123"]))
    unknown = cli.invoke(
        main, ["user", "set-password", "--email", "nobody@b.io", "--password", "password123"]
    )
    short = cli.invoke(main, ["user", "set-password", "--email", "a@b.io", "--password", "short"])
    mismatch = cli.invoke(
        main, ["user", "set-password", "--email", "a@b.io"], input="password123\nother-one1\n"
    )
    assert unknown.exit_code != 0 and "no user with email 'nobody@b.io'" in unknown.output
    assert short.exit_code != 0 and "at least 8" in short.output
    assert mismatch.exit_code != 0


def test_user_list_shows_accounts_with_their_flags(cli: CliRunner, database_url: str) -> None:
    _ok(
        cli.invoke(
            main, ["user", "create", "--email", "boss@b.io", "--password", "p" * 8, "--admin"]
        )
    )
    _ok(cli.invoke(main, ["user", "create", "--email", "ann@b.io", "--password", "p" * 8]))
    engine = make_engine(database_url)
    with Session(engine) as session:
        imported_annotator(session, email=None, external_id=7, cache={})
        session.commit()
    engine.dispose()

    lines = _ok(cli.invoke(main, ["user", "list"])).splitlines()
    everyone = _ok(cli.invoke(main, ["user", "list", "--all"])).splitlines()

    assert [line.split("\t")[1:] for line in lines] == [["boss@b.io", "admin"], ["ann@b.io"]]
    assert everyone[:2] == lines
    assert everyone[2].split("\t")[1:] == ["imported-7@labelops.invalid", "imported"]


def test_export_includes_uploaded_images_in_a_yolo_zip(cli: CliRunner, tmp_path: Path) -> None:
    _ok(cli.invoke(main, ["db", "upgrade"]))
    config = tmp_path / "config.xml"
    config.write_text(
        '<View><Image name="image" value="$image"/><RectangleLabels name="label" toName="image">'
        '<Label value="Cat"/></RectangleLabels></View>'
    )
    project_id = _ok(
        cli.invoke(main, ["project", "create", "--title", "Boxes", "--config", str(config)])
    ).split()[-1]
    upload = tmp_path / "home" / "objects" / "uploads" / project_id / "cat.png"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"\x89PNG cat")
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps({"image": f"/projects/{project_id}/media/cat.png"}) + "\n")
    _ok(cli.invoke(main, ["import", project_id, str(tasks)]))
    out = tmp_path / "yolo.zip"
    args = ["export", project_id, "--format", "YOLO", "--out", str(out), "--all-tasks"]
    _ok(cli.invoke(main, [*args, "--include-images"]))
    with zipfile.ZipFile(out) as z:
        assert z.read("images.txt").decode().splitlines() == ["./images/cat.png"]
        assert z.read("images/cat.png") == b"\x89PNG cat"
    # Label Studio's YOLO_WITH_IMAGES name holds the images without the flag
    with_images = ["export", project_id, "--format", "YOLO_WITH_IMAGES", "--all-tasks"]
    _ok(cli.invoke(main, [*with_images, "--out", str(out)]))
    with zipfile.ZipFile(out) as z:
        assert z.read("images/cat.png") == b"\x89PNG cat"
    refused = cli.invoke(main, ["export", project_id, "--out", str(out), "--include-images"])
    assert refused.exit_code != 0 and "include_images applies to COCO" in refused.output
