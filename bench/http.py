"""``python -m bench.http``: the benchmark through the front door, ``labelops serve`` over HTTP.

A fresh PostgreSQL database, ``labelops serve`` (gunicorn, several workers) in its own process
group, and this process as the client, measuring:

1. import of N tasks in one upload (JSON, JSONL, Parquet, and JSON with an annotation per task),
   timed until the project shows them: tasks/s and the server's peak RSS;
2. annotators doing next -> submit, with think time (open loop) and without (closed loop), on a
   project of overlap 1 and one of overlap 2: p50/p99 of next and submit, cycles/s, and the
   tasks over their overlap and the lost annotations (both must be 0);
3. a filtered data-manager page 90 % deep, by page number and by a sorted cursor: p95;
4. exports of N annotated tasks (JSON, JSON_MIN, CSV, PARQUET; COCO of N annotated images):
   seconds to the first byte, tasks/s in all, the server's peak RSS.

Results go to ``bench/results/http-postgres-<N>.json`` and ``.md`` and are printed as a table.
"""

import argparse
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import workloads as w
from bench.client import Client
from bench.harness import database
from bench.server import serve

EXPORTS = ("JSON", "JSON_MIN", "CSV", "PARQUET", "COCO")


@dataclass(frozen=True)
class Plan:
    """What to run: sizes, annotators, durations (seconds) and the server's shape."""

    tasks: int
    annotators: int
    open_seconds: float
    closed_seconds: float
    think_seconds: float
    page_repeats: int
    workers: int
    threads: int
    exports: tuple[str, ...] = EXPORTS


QUICK = Plan(10_000, 20, 20, 15, 1.0, 30, 4, 8)
FULL = Plan(100_000, 50, 60, 30, 1.0, 50, 4, 8)


def run(plan: Plan, pg_admin_url: str | None = None) -> dict[str, Any]:
    """Returns every figure of the plan, measured on a fresh database and server."""
    n = plan.tasks
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, database("postgres", Path(tmp), pg_admin_url) as url:
        accounts = w.create_accounts(url, plan.annotators)
        with serve(url, Path(tmp) / "home", workers=plan.workers, threads=plan.threads) as server:
            admin = Client(server.base_url, accounts.admin)
            projects: dict[str, int] = {}
            imports = (
                ("json", "json", False, False),
                ("jsonl", "jsonl", False, False),
                ("parquet", "parquet", False, False),
                ("json_annotated", "json", True, False),
                ("json_annotated_images", "json", True, True),
            )
            for name, fmt, annotated, image in imports:
                config = w.IMAGE_CONFIG if image else w.CONFIG
                projects[name] = w.create_project(admin, f"bench {name}", config)
                content = w.task_file(fmt, n, annotated=annotated, image=image)
                figures[f"import_{name}"] = w.import_tasks(
                    server, admin, projects[name], fmt, content, n
                )
                del content
            for overlap, name in ((1, "json"), (2, "jsonl")):
                figures.update(
                    _annotators(
                        plan, server.base_url, url, admin, accounts, projects[name], overlap
                    )
                )
            figures["data_manager"] = w.data_manager(admin, projects["json"], n, plan.page_repeats)
            for fmt in plan.exports:
                project = projects["json_annotated_images" if fmt == "COCO" else "json_annotated"]
                figures[f"export_{fmt.lower()}"] = w.export(server, admin, project, fmt, n)
            admin.close()
    return figures


def _annotators(
    plan: Plan,
    base_url: str,
    database_url: str,
    admin: Client,
    accounts: w.Accounts,
    project_id: int,
    overlap: int,
) -> dict[str, Any]:
    status, body = admin.call(
        "PATCH", f"/api/projects/{project_id}", {"maximum_annotations": overlap}
    )
    if status != 200:
        raise RuntimeError(f"setting overlap: {status} {body}")
    w.add_annotators(admin, project_id, [user_id for user_id, _ in accounts.annotators])
    tokens = [token for _, token in accounts.annotators]
    figures: dict[str, Any] = {}
    acked: list[int] = []
    for loop, seconds, think in (
        ("open", plan.open_seconds, plan.think_seconds),
        ("closed", plan.closed_seconds, 0.0),
    ):
        out, wall = w.annotate(base_url, tokens, project_id, seconds=seconds, think=think)
        acked += out.acked
        figures[f"annotators_overlap{overlap}_{loop}"] = {
            "annotators": len(tokens),
            "think_s": think,
            **w.loop_figures(out, wall),
            "first_errors": out.errors[:3],
        }
    figures[f"annotators_overlap{overlap}_invariants"] = w.invariants(
        database_url, project_id, acked
    )
    return figures


def markdown(result: dict[str, Any]) -> str:
    """Returns the figures as a markdown table."""
    f = result["figures"]
    rows = [("workload", "figure")]
    for name in (k for k in f if k.startswith("import_")):
        x = f[name]
        rows.append(
            (
                f"import {name[7:]}, one upload",
                f"{x['tasks_per_s']:,.0f} tasks/s "
                f"({x['seconds']:.1f} s), server peak RSS {x['server_peak_rss_mb']:,.0f} MB",
            )
        )
    for overlap in (1, 2):
        for loop in ("open", "closed"):
            x = f[f"annotators_overlap{overlap}_{loop}"]
            label = f"{x['annotators']} annotators, overlap {overlap}, " + (
                f"think {x['think_s']:g} s" if loop == "open" else "no think time"
            )
            rows.append(
                (
                    label,
                    f"next p50/p99 {x['next_p50_ms']:.1f}/{x['next_p99_ms']:.1f} ms, "
                    f"submit p50/p99 {x['submit_p50_ms']:.1f}/{x['submit_p99_ms']:.1f} ms, "
                    f"{x['cycles_per_s']:,.1f} cycles/s, {x['errors']} errors",
                )
            )
        inv = f[f"annotators_overlap{overlap}_invariants"]
        rows.append(
            (
                f"overlap {overlap}: over-overlap / lost / counter drift",
                f"{inv['over_overlap_tasks']} / {inv['lost_annotations']} / "
                f"{inv['counter_mismatches']}",
            )
        )
    dm = f["data_manager"]
    rows.append(
        (
            f"data manager, filtered page {dm['page']:,} (100 per page)",
            f"p50 {dm['page_p50_ms']:.1f} ms, p95 {dm['page_p95_ms']:.1f} ms",
        )
    )
    rows.append(
        (
            "data manager, filtered, sorted by updated_at, 90 % deep (cursor)",
            f"p50 {dm['sorted_p50_ms']:.1f} ms, p95 {dm['sorted_p95_ms']:.1f} ms",
        )
    )
    for name in (k for k in f if k.startswith("export_")):
        x = f[name]
        rows.append(
            (
                f"export {name[7:].upper()}",
                f"{x['tasks_per_s']:,.0f} tasks/s "
                f"({x['seconds']:.1f} s, first byte {x['first_byte_s']:.2f} s, "
                f"{x['mb']:,.1f} MB), server peak RSS {x['server_peak_rss_mb']:,.0f} MB",
            )
        )
    head = f"N = {result['tasks']:,} tasks, PostgreSQL, {result['machine']['cores']} cores"
    lines = [head, "", f"| {rows[0][0]} | {rows[0][1]} |", "| --- | --- |"]
    lines += [f"| {a} | {b} |" for a, b in rows[1:]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.http",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="N = 10,000, 20 annotators")
    parser.add_argument("--tasks", type=int, help="number of tasks N")
    parser.add_argument("--annotators", type=int, help="concurrent annotators")
    parser.add_argument("--open-seconds", type=float, help="length of the think-time run")
    parser.add_argument("--closed-seconds", type=float, help="length of the no-think-time run")
    parser.add_argument("--think", type=float, help="mean think time in seconds")
    parser.add_argument("--workers", type=int, help="gunicorn worker processes")
    parser.add_argument("--pg-url", help="PostgreSQL admin URL (default LABELOPS_BENCH_PG_URL)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument(
        "--against-label-studio",
        action="store_true",
        help="run the side-by-side rows against Label Studio too (python -m bench.side_by_side)",
    )
    args = parser.parse_args(argv)
    if args.against_label_studio:
        from bench import side_by_side

        forwarded = ["--quick"] if args.quick else ["--tasks", str(args.tasks or FULL.tasks)]
        forwarded += ["--out", str(args.out)] + (["--pg-url", args.pg_url] if args.pg_url else [])
        return side_by_side.main(forwarded)
    plan = plan_from(args)
    result = measure(plan, args.pg_url)
    w.write_results(args.out, f"http-postgres-{plan.tasks}", result, markdown(result))
    return 0


def plan_from(args: argparse.Namespace) -> Plan:
    """Returns the quick or full plan with the command line's overrides."""
    base = QUICK if args.quick else FULL
    changes = {
        "tasks": args.tasks,
        "annotators": args.annotators,
        "open_seconds": args.open_seconds,
        "closed_seconds": args.closed_seconds,
        "think_seconds": args.think,
        "workers": args.workers,
    }
    values = {**base.__dict__, **{k: v for k, v in changes.items() if v is not None}}
    return Plan(**values)


def measure(plan: Plan, pg_admin_url: str | None = None) -> dict[str, Any]:
    """Returns the plan's figures with the run's date, duration and machine."""
    started = time.time()
    figures = w.round_floats(run(plan, pg_admin_url))
    return {
        "tasks": plan.tasks,
        "plan": plan.__dict__,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "wall_seconds": round(time.time() - started, 1),
        "machine": w.machine(),
        "figures": figures,
    }


if __name__ == "__main__":
    raise SystemExit(main())
