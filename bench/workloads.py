"""The HTTP benchmark's workloads: each drives ``labelops serve`` through its REST API only.

The database is read directly only to set up accounts (users and API tokens, which the API does
not create) and to check the annotators' invariants afterwards (over-overlap, lost annotations).
"""

import io
import json
import os
import platform
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench.client import Client
from bench.harness import CONFIG, WORDS
from bench.server import Server, peak_rss
from labelops.db.engine import make_engine
from labelops.services.users import create_user, issue_token

IMAGE_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="Car"/><Label value="Person"/>
  </RectangleLabels>
</View>"""
CHOICE = {
    "from_name": "sentiment",
    "to_name": "text",
    "type": "choices",
    "value": {"choices": ["Positive"]},
}
BOX = {
    "from_name": "box",
    "to_name": "image",
    "type": "rectanglelabels",
    "original_width": 640,
    "original_height": 480,
    "value": {"x": 10.0, "y": 20.0, "width": 30.0, "height": 25.0, "rectanglelabels": ["Car"]},
}


@dataclass
class Accounts:
    """API tokens of the administrator and of the annotators (with their user ids)."""

    admin: str
    annotators: list[tuple[int, str]] = field(default_factory=list)


def create_accounts(database_url: str, annotators: int) -> Accounts:
    """Returns tokens of one administrator and of ``annotators`` plain users."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        admin = create_user(session, email="admin@bench.io", password="password123", is_admin=True)
        accounts = Accounts(admin=issue_token(session, admin))
        for i in range(annotators):
            user = create_user(session, email=f"annotator{i}@bench.io", password="password123")
            accounts.annotators.append((user.id, issue_token(session, user)))
        session.commit()
    engine.dispose()
    return accounts


def percentile(values: list[float], q: float) -> float:
    """Returns the q-th percentile (0-100, nearest rank) of the values, 0.0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def _text(rng: random.Random, i: int) -> str:
    return f"{i}: " + " ".join(rng.choice(WORDS) for _ in range(16))


def task_file(fmt: str, n: int, *, annotated: bool = False, image: bool = False) -> bytes:
    """Returns n tasks as one upload in ``fmt`` (json, jsonl or parquet)."""
    rng = random.Random(7)
    if image:
        rows: list[dict[str, Any]] = [
            {"data": {"image": f"https://example.com/images/{i}.jpg"}} for i in range(n)
        ]
    else:
        rows = [{"text": _text(rng, i), "source": "bench"} for i in range(n)]
    if annotated:
        result = [BOX] if image else [CHOICE]
        rows = [{"data": row.get("data", row), "annotations": [{"result": result}]} for row in rows]
    if fmt == "json":
        return json.dumps(rows).encode()
    if fmt == "jsonl":
        return "".join(json.dumps(row) + "\n" for row in rows).encode()
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), out)
    return out.getvalue()


def create_project(admin: Client, title: str, config: str = CONFIG, **settings: Any) -> int:
    """Returns the id of a new project made through the API."""
    status, body = admin.call(
        "POST", "/api/projects", {"title": title, "label_config": config, **settings}
    )
    if status != 201:
        raise RuntimeError(f"creating project {title!r}: {status} {body}")
    return int(body["id"])


def import_tasks(
    server: Server, admin: Client, project_id: int, fmt: str, content: bytes, n: int
) -> dict[str, float]:
    """Returns the figures of one upload of n tasks, timed until the project shows them."""
    with peak_rss(server) as peak:
        started = time.perf_counter()
        status, body = admin.upload(f"/api/projects/{project_id}/import", f"tasks.{fmt}", content)
        if status != 201:
            raise RuntimeError(f"import of {fmt}: {status} {str(body)[:500]}")
        while admin.call("GET", f"/api/projects/{project_id}")[1]["task_number"] < n:
            time.sleep(0.05)
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "tasks_per_s": n / seconds,
        "upload_mb": len(content) / 1e6,
        "server_peak_rss_mb": peak.total_mb,
        "worker_peak_rss_mb": peak.process_mb,
    }


@dataclass
class LoopResult:
    """What a run of annotators saw: latencies, acknowledged annotations, failures."""

    next_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    acked: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cycles: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _annotator(
    client: Client, project_id: int, deadline: float, think: float, out: LoopResult
) -> None:
    rng = random.Random(project_id)
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        status, task = client.call("GET", f"/api/projects/{project_id}/next")
        took = (time.perf_counter() - started) * 1000
        if status == 404:
            break
        if status != 200:
            with out.lock:
                out.errors.append(f"next: {status} {task}")
            break
        if think:
            time.sleep(rng.uniform(0.5, 1.5) * think)
        sent = time.perf_counter()
        status, annotation = client.call(
            "POST", f"/api/tasks/{task['id']}/annotations", {"result": [CHOICE], "lead_time": 1.0}
        )
        submit = (time.perf_counter() - sent) * 1000
        with out.lock:
            out.next_ms.append(took)
            if status == 201:
                out.submit_ms.append(submit)
                out.acked.append(int(annotation["id"]))
                out.cycles += 1
            else:
                out.errors.append(f"submit: {status} {annotation}")


def annotate(
    base_url: str, tokens: list[str], project_id: int, *, seconds: float, think: float
) -> tuple[LoopResult, float]:
    """Returns what the annotators saw in ``seconds`` of next -> submit, and the wall time."""
    out = LoopResult()
    clients = [Client(base_url, token) for token in tokens]
    started = time.perf_counter()
    deadline = started + seconds
    threads = [
        threading.Thread(target=_annotator, args=(c, project_id, deadline, think, out))
        for c in clients
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    for client in clients:
        client.close()
    return out, wall


def loop_figures(out: LoopResult, wall: float) -> dict[str, float]:
    """Returns latency percentiles and throughput of an annotators' run."""
    return {
        "cycles": out.cycles,
        "cycles_per_s": out.cycles / wall,
        "next_p50_ms": percentile(out.next_ms, 50),
        "next_p99_ms": percentile(out.next_ms, 99),
        "submit_p50_ms": percentile(out.submit_ms, 50),
        "submit_p99_ms": percentile(out.submit_ms, 99),
        "errors": len(out.errors),
    }


def invariants(database_url: str, project_id: int, acked: list[int]) -> dict[str, int]:
    """Returns the counts of what must be zero after a run of annotators on the project.

    Tasks past their overlap, acknowledged annotations the database lacks, and tasks whose
    finished-annotation counter disagrees with their annotations.
    """
    engine = make_engine(database_url)
    with engine.connect() as conn:
        over = conn.scalar(
            sa.text(
                "SELECT count(*) FROM (SELECT a.task_id FROM annotations a "
                "JOIN projects p ON p.id = a.project_id WHERE a.project_id = :p "
                "AND NOT a.was_cancelled GROUP BY a.task_id, p.maximum_annotations "
                "HAVING count(*) > p.maximum_annotations) t"
            ),
            {"p": project_id},
        )
        stored = set(
            conn.scalars(
                sa.text("SELECT id FROM annotations WHERE project_id = :p"), {"p": project_id}
            )
        )
        drift = conn.scalar(
            sa.text(
                "SELECT count(*) FROM tasks t WHERE t.project_id = :p AND t.total_annotations <> "
                "(SELECT count(*) FROM annotations a WHERE a.task_id = t.id "
                "AND NOT a.was_cancelled)"
            ),
            {"p": project_id},
        )
    engine.dispose()
    return {
        "over_overlap_tasks": int(over or 0),
        "lost_annotations": len(set(acked) - stored),
        "counter_mismatches": int(drift or 0),
    }


def timed(call: Callable[[], tuple[int, Any]], repeats: int, what: str) -> list[float]:
    """Returns the milliseconds of ``repeats`` calls, each of which must answer 200."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        status, body = call()
        timings.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"{what}: {status} {str(body)[:300]}")
    return timings


def data_manager(admin: Client, project_id: int, n: int, repeats: int) -> dict[str, float]:
    """Returns p50/p95 of a filtered page 90 % deep: by page number and by a sorted cursor."""
    page = max(1, int(n * 0.9) // 100)
    by_page = f"/api/tasks?project={project_id}&page={page}&page_size=100&has_annotations=false"
    paged = timed(lambda: admin.call("GET", by_page), repeats, "data manager page")
    keyset = (
        f"/api/projects/{project_id}/tasks?has_annotations=false&sort=updated_at&direction=desc"
    )
    cursor = None
    for _ in range(max(1, int(n * 0.9) // 1000)):  # walk to 90 % deep in pages of 1,000
        status, body = admin.call(
            "GET", f"{keyset}&limit=1000" + (f"&cursor={cursor}" if cursor else "")
        )
        if status != 200 or not body["next_cursor"]:
            break
        cursor = body["next_cursor"]
    deep = f"{keyset}&limit=100" + (f"&cursor={cursor}" if cursor else "")
    sorted_ = timed(lambda: admin.call("GET", deep), repeats, "data manager sorted page")
    return {
        "page": page,
        "page_p50_ms": percentile(paged, 50),
        "page_p95_ms": percentile(paged, 95),
        "sorted_p50_ms": percentile(sorted_, 50),
        "sorted_p95_ms": percentile(sorted_, 95),
    }


def export(server: Server, admin: Client, project_id: int, fmt: str, n: int) -> dict[str, float]:
    """Returns the figures of one streamed export of the project's n tasks in ``fmt``."""
    path = f"/api/projects/{project_id}/export?exportType={fmt}&download_all_tasks=true"
    with peak_rss(server) as peak:
        status, first, total, size = admin.download(path)
    if status != 200:
        raise RuntimeError(f"export {fmt}: {status}")
    return {
        "first_byte_s": first,
        "seconds": total,
        "tasks_per_s": n / total,
        "mb": size / 1e6,
        "server_peak_rss_mb": peak.total_mb,
        "worker_peak_rss_mb": peak.process_mb,
    }


def round_floats(value: Any) -> Any:
    """Returns the figures with every float rounded to two decimals."""
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, dict):
        return {k: round_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [round_floats(v) for v in value]
    return value


def add_annotators(admin: Client, project_id: int, user_ids: list[int]) -> None:
    """Makes the users annotators of the project through the API (labelops' project members)."""
    for user_id in user_ids:
        status, body = admin.call(
            "POST", f"/api/projects/{project_id}/members", {"user": user_id, "role": "annotator"}
        )
        if status not in (200, 201):
            raise RuntimeError(f"adding annotator {user_id}: {status} {body}")


def machine() -> dict[str, Any]:
    """Returns what a result records of the machine: cores, Python, platform and load."""
    return {
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def write_results(out: Path, name: str, result: dict[str, Any], table: str) -> None:
    """Writes ``<out>/<name>.json`` and ``.md`` and prints the table."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"{name}.md").write_text(table)
    sys.stdout.write(table)
