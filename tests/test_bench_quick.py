"""The HTTP benchmark, end to end at a tiny size: every workload runs and the invariants hold.

This checks the benchmark and the server's correctness under concurrent annotators, never
timings: ``labelops serve`` on a fresh PostgreSQL database (a uniquely named one, dropped at
the end), five annotators through the REST API with and without think time, at overlap 1 and 2.
"""

from pathlib import Path

import pytest

from bench.http import EXPORTS, Plan, markdown, measure
from tests.conftest import pg_admin_engine, pg_admin_url

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

TINY = Plan(
    tasks=500,
    annotators=5,
    open_seconds=3,
    closed_seconds=3,
    think_seconds=0.2,
    page_repeats=5,
    workers=2,
    threads=4,
)


def test_quick_http_bench_produces_every_figure_with_no_overlap_or_loss(tmp_path: Path) -> None:
    pg_admin_engine()  # fails with a message naming the server when PostgreSQL is absent
    result = measure(TINY, pg_admin_url())
    figures = result["figures"]

    for fmt in ("json", "jsonl", "parquet", "json_annotated", "json_annotated_images"):
        assert figures[f"import_{fmt}"]["tasks_per_s"] > 0
        assert figures[f"import_{fmt}"]["server_peak_rss_mb"] > 0
    for overlap in (1, 2):
        for loop in ("open", "closed"):
            run = figures[f"annotators_overlap{overlap}_{loop}"]
            assert run["errors"] == 0, run["first_errors"]
            assert run["cycles"] > 0
            assert 0 < run["next_p50_ms"] <= run["next_p99_ms"]
            assert 0 < run["submit_p50_ms"] <= run["submit_p99_ms"]
        assert figures[f"annotators_overlap{overlap}_invariants"] == {
            "over_overlap_tasks": 0,
            "lost_annotations": 0,
            "counter_mismatches": 0,
        }
    assert figures["data_manager"]["page_p95_ms"] > 0
    assert figures["data_manager"]["sorted_p95_ms"] > 0
    for fmt in EXPORTS:
        export = figures[f"export_{fmt.lower()}"]
        assert export["mb"] > 0
        assert 0 < export["first_byte_s"] <= export["seconds"]
    assert "| export COCO |" in markdown(result)


def test_browser_bench_times_first_load_and_submit_to_next_over_real_pages() -> None:
    from bench.browser import markdown
    from bench.browser import measure as measure_browser
    from tests.browser.chromium import acquire, release

    pg_admin_engine()
    browser = acquire()  # the test process's one Chromium (Playwright allows one per thread)
    try:
        result = measure_browser(3, workers=1, pg_admin_url=pg_admin_url(), browser=browser)
    finally:
        release()
    figures = result["figures"]
    assert figures["submit_to_next_n"] == 3  # three tasks submitted, each followed by the next
    assert len(figures["first_load_runs_ms"]) == 3
    assert 0 < figures["submit_to_next_p50_ms"] <= figures["submit_to_next_max_ms"]
    assert figures["phase_document_p50_ms"] > 0 and figures["phase_render_p50_ms"] > 0
    assert "submit_to_next_p95_ms" in markdown(result)
