"""The side-by-side table: each ratio says how far labelops is ahead, whichever way is better."""

from typing import Any

from bench.side_by_side import compare, markdown


def _figures(rate: float, ms: float, errors: int) -> dict[str, Any]:
    loop = {"next_p50_ms": ms, "next_p99_ms": ms, "submit_p99_ms": ms, "submits_per_s": rate}
    return {
        "import": {"tasks_per_s": rate},
        "import_annotated": {"tasks_per_s": rate},
        "annotate_1": {**loop, "errors": 0},
        "annotate_8": {**loop, "errors": errors},
        "deepest_page": {"p95_ms": ms},
        "export_json": {"tasks_per_s": rate, "server_peak_rss_mb": ms},
    }


def test_rates_divide_ours_by_theirs_and_times_theirs_by_ours() -> None:
    rows = {r["row"]: r for r in compare(_figures(200.0, 10.0, 0), _figures(50.0, 40.0, 3))}
    assert rows["import, one POST (tasks/s)"]["ahead"] == 4.0  # 200 vs 50 per second
    assert rows["next task p99 (ms)"]["ahead"] == 4.0  # 10 ms vs 40 ms
    assert rows["submit, 8 threads (per s)"]["ahead"] == 4.0
    assert rows["failed requests, 8 threads"]["ahead"] == 0.0  # no ratio with a zero
    behind = {r["row"]: r for r in compare(_figures(50.0, 40.0, 0), _figures(200.0, 10.0, 0))}
    assert behind["JSON export (tasks/s)"]["ahead"] == 0.25


def test_the_table_shows_both_figures_and_a_dash_where_no_ratio_exists() -> None:
    result = {
        "tasks": 1000,
        "date": "2026-11-29",
        "label_studio": {"version": "1.23.2"},
        "machine": {"cores": 2, "load_average_1m": 0.5},
        "rows": compare(_figures(200.0, 10.0, 0), _figures(50.0, 40.0, 3)),
    }
    table = markdown(result)
    assert "| import, one POST (tasks/s) | 50.0 | 200.0 | 4.0x |" in table
    assert "| failed requests, 8 threads | 3.0 | 0.0 | — |" in table
