"""``python -m bench.browser``: the speed an annotator feels, in Chromium, keyboard only.

A fresh PostgreSQL database with the demo project (50 reviews to classify), ``labelops serve``
in its own process group, and Debian's Chromium driven by Playwright from this process:

1. first load: the labeling page in a new browser context (an empty cache), from the start of
   the navigation until the interface is ready for input;
2. submit -> next: for each task, the annotator presses a choice's hotkey and Ctrl+Enter; the
   time from that key press until the next task's interface is ready for input.

"Ready for input" is the moment the page marks ``body[data-labeling-ready]``, seen by a mutation
observer installed before the page's own scripts; both ends are read from the browser's clock.
Results go to ``bench/results/browser-postgres-<N>.json`` and ``.md`` and are printed.
"""

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy.orm import Session

from bench.harness import database
from bench.server import serve
from bench.workloads import machine, percentile, write_results
from labelops.db.engine import make_engine
from labelops.services.demo import ensure_demo_project
from labelops.services.users import create_user

CHROMIUM = os.environ.get("LABELOPS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
EMAIL = "annotator@bench.io"
PASSWORD = "password-bench-1"
# name -> (comparison, target), issue targets for this machine
TARGETS = {"submit_to_next_p95_ms": ("<=", 150), "first_load_ms": ("<=", 1000)}

# Records, on the browser's clock, when the page marks itself ready for input.
READY_WATCH = """
(() => {
  const seen = () => {
    if (document.body && document.body.dataset.labelingReady && !window.__readyAt) {
      window.__readyAt = performance.timeOrigin + performance.now();
    }
  };
  new MutationObserver(seen).observe(document, {
    subtree: true, attributes: true, attributeFilter: ["data-labeling-ready"], childList: true,
  });
})();
"""


def seed(database_url: str) -> int:
    """Creates the annotator (an administrator, as ``labelops up`` makes) and the demo project."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        user = create_user(session, email=EMAIL, password=PASSWORD, is_admin=True)
        project = ensure_demo_project(session, user)
        session.commit()
        project_id = project.id
    engine.dispose()
    return project_id


def _ready(page: Page, timeout_ms: float = 30_000) -> None:
    page.wait_for_function("() => window.__readyAt !== undefined", timeout=timeout_ms)


def _sign_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/auth/login")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")


def first_load(browser: Browser, base_url: str, project_id: int) -> float:
    """Milliseconds from navigation start to ready, in a context with an empty cache."""
    context = browser.new_context()
    try:
        page = context.new_page()
        _sign_in(page, base_url)
        page.add_init_script(READY_WATCH)
        page.goto(f"{base_url}/projects/{project_id}/label", wait_until="commit")
        _ready(page)
        started = page.evaluate("() => performance.timeOrigin")
        return float(page.evaluate("() => window.__readyAt")) - float(started)
    finally:
        context.close()


# Where the time goes on the next page: the document's navigation timing (ms from its start).
PHASES = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  return { origin: performance.timeOrigin, response_end: nav.responseEnd,
           dom_interactive: nav.domInteractive, ready: window.__readyAt - performance.timeOrigin };
}"""


def submit_to_next(
    browser: Browser, base_url: str, project_id: int, tasks: int
) -> tuple[list[float], dict[str, list[float]]]:
    """Milliseconds from Ctrl+Enter to the next task being ready, for each of ``tasks`` tasks.

    Also returns each sample's phases: until the next page's navigation starts (the annotation's
    POST and the unload), until its document arrived, and from there until ready for input.
    """
    context = browser.new_context()
    samples: list[float] = []
    phases: dict[str, list[float]] = {"submit": [], "document": [], "render": []}
    try:
        page = context.new_page()
        _sign_in(page, base_url)
        page.add_init_script(READY_WATCH)
        page.goto(f"{base_url}/projects/{project_id}/label")
        _ready(page)
        for i in range(tasks):
            if page.query_selector(".lo-done"):
                break
            page.keyboard.press(str(1 + i % 3))
            page.wait_for_function(
                "() => window.labeling && window.labeling.result().length > 0", timeout=10_000
            )
            pressed = page.evaluate(
                "() => { const t = performance.timeOrigin + performance.now();"
                " sessionStorage.setItem('benchPressedAt', String(t)); return t; }"
            )
            with page.expect_navigation(wait_until="commit", timeout=30_000):
                page.keyboard.press("Control+Enter")
            page.wait_for_function(
                "() => window.__readyAt !== undefined"
                " || document.querySelector('.lo-done') !== null",
                timeout=30_000,
            )
            ready = page.evaluate("() => window.__readyAt")
            if ready is None:
                break
            samples.append(float(ready) - float(pressed))
            timing = page.evaluate(PHASES)
            phases["submit"].append(float(timing["origin"]) - float(pressed))
            phases["document"].append(float(timing["response_end"]))
            phases["render"].append(float(timing["ready"]) - float(timing["response_end"]))
    finally:
        context.close()
    return samples, phases


def run(
    tasks: int,
    workers: int,
    threads: int,
    pg_admin_url: str | None = None,
    browser: Browser | None = None,
) -> dict[str, Any]:
    """Returns the first-load time and the submit -> next latencies over ``tasks`` tasks.

    Uses ``browser`` when given (a test's shared Chromium), else starts Chromium and stops it.
    """
    with tempfile.TemporaryDirectory() as tmp, database("postgres", Path(tmp), pg_admin_url) as url:
        project_id = seed(url)
        with serve(url, Path(tmp) / "home", workers=workers, threads=threads) as server:
            if browser is not None:
                loads, samples, phases = _drive(browser, server.base_url, project_id, tasks)
            else:
                with sync_playwright() as playwright:
                    own = playwright.chromium.launch(
                        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
                    )
                    try:
                        loads, samples, phases = _drive(own, server.base_url, project_id, tasks)
                    finally:
                        own.close()
    return {
        "first_load_ms": round(sorted(loads)[1], 1),
        "first_load_runs_ms": [round(v, 1) for v in loads],
        "submit_to_next_n": len(samples),
        "submit_to_next_p50_ms": round(percentile(samples, 50), 1),
        "submit_to_next_p95_ms": round(percentile(samples, 95), 1),
        "submit_to_next_max_ms": round(max(samples, default=0.0), 1),
        **{f"phase_{name}_p50_ms": round(percentile(v, 50), 1) for name, v in phases.items()},
    }


def _drive(
    browser: Browser, base_url: str, project_id: int, tasks: int
) -> tuple[list[float], list[float], dict[str, list[float]]]:
    loads = [first_load(browser, base_url, project_id) for _ in range(3)]
    samples, phases = submit_to_next(browser, base_url, project_id, tasks)
    return loads, samples, phases


def measure(
    tasks: int,
    workers: int = 2,
    threads: int = 4,
    pg_admin_url: str | None = None,
    browser: Browser | None = None,
) -> dict[str, Any]:
    """Returns the figures with the run's date, duration and machine."""
    started = time.time()
    figures = run(tasks, workers, threads, pg_admin_url, browser)
    return {
        "tasks": tasks,
        "server": {"workers": workers, "threads": threads, "database": "postgresql"},
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "wall_seconds": round(time.time() - started, 1),
        "machine": machine(),
        "figures": figures,
    }


def markdown(result: dict[str, Any]) -> str:
    """Returns the figures as a markdown table beside the targets."""
    figures = result["figures"]
    head = (
        f"Browser benchmark: demo project, {figures['submit_to_next_n']} tasks, keyboard only, "
        f"PostgreSQL, `labelops serve` ({result['server']['workers']} workers), "
        f"{result['date']}, {result['machine']['cores']} cores, "
        f"load average {result['machine']['load_average_1m']}"
    )
    lines = [head, "", "| figure | value | target |", "| --- | --- | --- |"]
    names = ["first_load_ms", "submit_to_next_p50_ms", "submit_to_next_p95_ms"]
    names += [name for name in figures if name.startswith("phase_")]
    for name in names:
        target = TARGETS.get(name)
        shown = f"{target[0]} {target[1]}" if target else ""
        lines.append(f"| {name} | {figures[name]} | {shown} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.browser",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--tasks", type=int, default=50, help="tasks to submit (the demo has 50)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--pg-url", help="PostgreSQL admin URL (default LABELOPS_BENCH_PG_URL)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    result = measure(args.tasks, args.workers, pg_admin_url=args.pg_url)
    write_results(args.out, f"browser-postgres-{args.tasks}", result, markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
