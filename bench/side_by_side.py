"""``python -m bench.side_by_side``: labelops and Label Studio, same client, same N, one run.

Installs ``label-studio`` (``LABEL_STUDIO_VERSION``, from PyPI) once into its own virtualenv under
the ignored ``build/`` folder, starts it on 127.0.0.1 with its defaults (SQLite in a fresh data
folder), starts ``labelops serve`` on a fresh PostgreSQL database, and runs on each, through the
same keep-alive client (``bench.client``) and the same workload code (``bench.workloads``):

1. import of N text tasks in one JSON upload, timed until the project shows them;
2. import of N tasks each carrying an annotation;
3. one annotator doing next -> submit for a while: next p50/p99, submits per second;
4. eight threads of the same annotator doing next -> submit: submits per second and p99;
5. the deepest page of the task list (``/api/tasks?project=&page=&page_size=100``): p50/p95;
6. export of the N annotated tasks as JSON: tasks/s and the server's peak RSS.

Both servers get one administrator and its API token. Prints labelops : Label Studio per row
and writes ``bench/results/side-by-side-<N>.json`` and ``.md``.
"""

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import venv
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench import workloads as w
from bench.client import Client
from bench.harness import database
from bench.server import free_port, serve

LABEL_STUDIO_VERSION = "1.23.2"
ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "build" / "label-studio-venv"
ADMIN_EMAIL = "admin@bench.io"
ANNOTATORS = 8


def label_studio_venv(folder: Path = VENV) -> Path:
    """Returns the ``label-studio`` command of its own virtualenv, installing it the first time."""
    command = folder / "bin" / "label-studio"
    marker = folder / f".installed-{LABEL_STUDIO_VERSION}"
    if marker.exists() and command.exists():
        return command
    venv.EnvBuilder(with_pip=True, clear=True).create(folder)
    pip = [str(folder / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, f"label-studio=={LABEL_STUDIO_VERSION}"], check=True)
    marker.touch()
    return command


# Run by Label Studio's own Python: annotators in its organization, each with an API token.
_ANNOTATORS = """
import os, sys
import label_studio
sys.path.insert(0, os.path.dirname(label_studio.__file__))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings.label_studio")
import django
django.setup()
from organizations.models import Organization
from rest_framework.authtoken.models import Token
from users.models import User
organization = Organization.objects.order_by("id").first()
for i in range(int(sys.argv[1])):
    user = User.objects.create_user(email=f"annotator{i}@bench.io", password=sys.argv[2])
    organization.add_user(user)
    user.active_organization = organization
    user.save()
    print(Token.objects.get_or_create(user=user)[0].key)
"""


@dataclass
class LabelStudio:
    """A running Label Studio: its process (for memory), address and log."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    home: Path
    env: dict[str, str]

    def processes(self) -> list[psutil.Process]:
        """Returns Label Studio's process and its children."""
        root = psutil.Process(self.process.pid)
        return [root, *root.children(recursive=True)]

    def annotators(self, count: int, password: str) -> list[str]:
        """Returns the API tokens of ``count`` new users of the administrator's organization."""
        python = str(VENV / "bin" / "python")
        done = subprocess.run(
            [python, "-c", _ANNOTATORS, str(count), password],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        tokens = [line for line in done.stdout.split() if len(line) == 40]
        if len(tokens) != count:
            raise RuntimeError(f"Label Studio users: {done.stdout[-500:]} {done.stderr[-2000:]}")
        return tokens


@contextmanager
def label_studio(home: Path, token: str, password: str) -> Iterator[LabelStudio]:
    """Yields Label Studio on a free port of 127.0.0.1, with an administrator holding ``token``."""
    command = label_studio_venv()
    port = free_port()
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO", "DJANGO"))}
    env.update(
        LABEL_STUDIO_BASE_DATA_DIR=str(home),
        LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK="true",
        # Label Studio refuses a request body over 2.5 MB by default: an upload of N tasks is more.
        DATA_UPLOAD_MAX_MEMORY_SIZE=str(2**31 - 1),
        PATH=f"{command.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    args = [str(command), "start", "--no-browser", "--internal-host", "127.0.0.1"]
    args += ["--port", str(port), "--data-dir", str(home), "--username", ADMIN_EMAIL]
    args += ["--password", password, "--user-token", token, "--enable-legacy-api-token"]
    log = home / "label-studio.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = LabelStudio(process, f"http://127.0.0.1:{port}", log, home, env)
    try:
        _wait_for(server, token)
        yield server
    finally:
        _stop(process)


def _wait_for(server: LabelStudio, token: str, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(
        f"{server.base_url}/api/projects", headers={"Authorization": f"Token {token}"}
    )
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"Label Studio exited: {server.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Label Studio did not answer in {timeout:.0f} s: {server.log}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def workloads(
    server: Any,
    token: str,
    annotators: list[str],
    n: int,
    seconds: float,
    add_member: Callable[[Client, int], None] = lambda admin, project: None,
) -> dict[str, Any]:
    """Runs rows 1-6 against one server; returns their figures.

    ``token`` is the administrator's, ``annotators`` eight annotators' tokens; ``add_member``
    gives them the project where the server needs that (labelops' project members).
    """
    admin = Client(server.base_url, token)
    figures: dict[str, Any] = {}
    plain = w.create_project(admin, "side by side")
    add_member(admin, plain)
    figures["import"] = w.import_tasks(server, admin, plain, "json", w.task_file("json", n), n)
    annotated = w.create_project(admin, "side by side, annotated")
    content = w.task_file("json", n, annotated=True)
    figures["import_annotated"] = w.import_tasks(server, admin, annotated, "json", content, n)
    del content
    for threads in (1, 8):
        tokens = annotators[:threads]
        out, wall = w.annotate(server.base_url, tokens, plain, seconds=seconds, think=0)
        figures[f"annotate_{threads}"] = {
            "errors": len(out.errors),
            "first_errors": out.errors[:3],
            "next_p50_ms": w.percentile(out.next_ms, 50),
            "next_p99_ms": w.percentile(out.next_ms, 99),
            "submit_p50_ms": w.percentile(out.submit_ms, 50),
            "submit_p99_ms": w.percentile(out.submit_ms, 99),
            "submits_per_s": out.cycles / wall,
        }
    last = -(-n // 100)
    deepest = f"/api/tasks?project={plain}&page={last}&page_size=100"
    pages = w.timed(lambda: admin.call("GET", deepest), 20, "deepest task-list page")
    figures["deepest_page"] = {
        "p50_ms": w.percentile(pages, 50),
        "p95_ms": w.percentile(pages, 95),
    }
    figures["export_json"] = w.export(server, admin, annotated, "JSON", n)
    admin.close()
    return figures


# row name, how to read it from the figures, True when higher is better
ROWS: list[tuple[str, Callable[[dict[str, Any]], float], bool]] = [
    ("import, one POST (tasks/s)", lambda f: f["import"]["tasks_per_s"], True),
    ("import with annotations (tasks/s)", lambda f: f["import_annotated"]["tasks_per_s"], True),
    ("next task p50 (ms)", lambda f: f["annotate_1"]["next_p50_ms"], False),
    ("next task p99 (ms)", lambda f: f["annotate_1"]["next_p99_ms"], False),
    ("submit, sequential (per s)", lambda f: f["annotate_1"]["submits_per_s"], True),
    ("submit, 8 threads (per s)", lambda f: f["annotate_8"]["submits_per_s"], True),
    ("submit p99 at 8 threads (ms)", lambda f: f["annotate_8"]["submit_p99_ms"], False),
    ("failed requests, 8 threads", lambda f: f["annotate_8"]["errors"], False),
    ("deepest task-list page p95 (ms)", lambda f: f["deepest_page"]["p95_ms"], False),
    ("JSON export (tasks/s)", lambda f: f["export_json"]["tasks_per_s"], True),
    ("JSON export, server peak RSS (MB)", lambda f: f["export_json"]["server_peak_rss_mb"], False),
]


def compare(ours: dict[str, Any], theirs: dict[str, Any]) -> list[dict[str, Any]]:
    """Returns each row with both figures and how many times labelops is ahead."""
    rows = []
    for name, read, higher_is_better in ROWS:
        a, b = float(read(ours)), float(read(theirs))
        ahead = (a / b if higher_is_better else b / a) if a > 0 and b > 0 else 0.0
        rows.append({"row": name, "labelops": a, "label_studio": b, "ahead": ahead})
    return rows


def run(n: int, seconds: float, pg_admin_url: str | None = None) -> dict[str, Any]:
    """Measures both servers, Label Studio first, and returns the rows and raw figures."""
    token = secrets.token_hex(20)
    password = secrets.token_urlsafe(12)
    with tempfile.TemporaryDirectory() as tmp:
        with label_studio(Path(tmp) / "label-studio", token, password) as server:
            annotators = server.annotators(ANNOTATORS, password)
            theirs = workloads(server, token, annotators, n, seconds)
        with database("postgres", Path(tmp), pg_admin_url) as url:
            accounts = w.create_accounts(url, ANNOTATORS)

            def add_member(admin: Client, project: int) -> None:
                w.add_annotators(admin, project, [user_id for user_id, _ in accounts.annotators])

            with serve(url, Path(tmp) / "home", workers=4, threads=8) as ours_server:
                tokens = [t for _, t in accounts.annotators]
                ours = workloads(ours_server, accounts.admin, tokens, n, seconds, add_member)
    return {
        "tasks": n,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "label_studio": {"version": LABEL_STUDIO_VERSION, "database": "sqlite (its default)"},
        "labelops": {"database": "postgresql", "server": "labelops serve, 4 workers x 8 threads"},
        "machine": w.machine(),
        "rows": w.round_floats(compare(ours, theirs)),
        "figures": {"labelops": w.round_floats(ours), "label_studio": w.round_floats(theirs)},
    }


def markdown(result: dict[str, Any]) -> str:
    """Returns the rows as a markdown table."""
    head = (
        f"labelops vs Label Studio {result['label_studio']['version']}, N = {result['tasks']:,}, "
        f"{result['date']}, {result['machine']['cores']} cores "
        f"(load average {result['machine']['load_average_1m']}); labelops on PostgreSQL behind "
        "`labelops serve`, Label Studio on its default SQLite"
    )
    lines = [head, "", "| workload | Label Studio | labelops | labelops ahead by |"]
    lines.append("| --- | --- | --- | --- |")
    for row in result["rows"]:
        ahead = f"{row['ahead']}x" if row["ahead"] else "—"  # no ratio of a zero
        lines.append(f"| {row['row']} | {row['label_studio']:,} | {row['labelops']:,} | {ahead} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.side_by_side",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--tasks", type=int, default=100_000, help="number of tasks N")
    parser.add_argument("--quick", action="store_true", help="N = 10,000 and short loops")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each loop")
    parser.add_argument("--pg-url", help="PostgreSQL admin URL (default LABELOPS_BENCH_PG_URL)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    n, seconds = (10_000, 8.0) if args.quick else (args.tasks, args.seconds)
    result = run(n, seconds, args.pg_url)
    w.write_results(args.out, f"side-by-side-{n}", result, markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
