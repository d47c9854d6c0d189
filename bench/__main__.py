"""``python -m bench``: generate N text tasks and measure import, next task and exports.

Each measured phase runs against a fresh database (SQLite file or a new PostgreSQL database on
127.0.0.1:5432). Exports run in a child process so that its peak RSS is the export's alone.
Results go to ``bench/results/<db>-<N>.json`` and are printed as a table.
"""

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from bench.harness import TARGETS, run_suite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000, help="number of tasks (default 100k)")
    parser.add_argument("--db", action="append", choices=["sqlite", "postgres"], help="repeatable")
    parser.add_argument("--next-calls", type=int, default=2_000, help="next-task requests to time")
    parser.add_argument("--formats", default="JSON,PARQUET", help="export formats to time")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for db in args.db or ["sqlite"]:
        started = time.time()
        result = run_suite(
            db, args.tasks, next_calls=args.next_calls, formats=args.formats.split(",")
        )
        result["machine"] = {"python": sys.version.split()[0], "platform": platform.platform()}
        result["wall_seconds"] = round(time.time() - started, 1)
        path = args.out / f"{db}-{args.tasks}.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        _print(result, path)
    return 0


def _print(result: dict, path: Path) -> None:
    sys.stdout.write(f"\n{result['db']} with {result['tasks']:,} tasks -> {path}\n")
    for name, value in result["figures"].items():
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            ok = value >= target[1] if target[0] == ">=" else value <= target[1]
            verdict = f"  target {target[0]} {target[1]:,}: {'met' if ok else 'NOT met'}"
        sys.stdout.write(f"  {name:<32} {value:>14,.2f}{verdict}\n")


if __name__ == "__main__":
    raise SystemExit(main())
