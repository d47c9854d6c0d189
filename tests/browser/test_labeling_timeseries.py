"""Time-series labeling in the browser: channels from a CSV URL, ranges marked by dragging."""

import math
import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.labeling_helpers import (
    annotations,
    assert_matches,
    create_project,
    drag,
    normalized,
    open_labeling,
    submit,
    wait_ready,
)

TS_CONFIG = """
<View>
  <TimeSeriesLabels name="event" toName="ts">
    <Label value="Spike"/><Label value="Drop"/>
  </TimeSeriesLabels>
  <TimeSeries name="ts" value="$csv" valueType="url" timeColumn="time">
    <Channel column="temperature" legend="Temperature" strokeColor="#d4380d"/>
    <Channel column="pressure" legend="Pressure"/>
  </TimeSeries>
</View>
"""


def csv_series(points: int = 101) -> bytes:
    rows = ["time,temperature,pressure"]
    for t in range(points):
        temp = 20 + 5 * math.sin(t / 8) + (15 if 40 <= t <= 60 else 0)
        rows.append(f"{t},{temp:.3f},{1000 + 10 * math.cos(t / 11):.3f}")
    return ("\n".join(rows) + "\n").encode()


def test_marks_a_time_range_on_the_chart(live_server, page):
    project_id, (task_id,) = create_project(
        live_server, TS_CONFIG, [{"csv": "media:sensor.csv"}], media={"sensor.csv": csv_series()}
    )
    open_labeling(page, live_server, project_id)
    chart = page.locator(".lo-chart svg[data-channel=temperature]")
    chart.wait_for()
    box = chart.bounding_box()
    left, width = box["x"] + 48, box["width"] - 48 - 12  # the plot area inside the axes

    def at(t):
        return left + width * t / 100, box["y"] + box["height"] / 2

    page.click(".lo-label[data-value=Spike]")
    drag(page, at(40), at(60))
    screenshot(page, "labeling-timeseries")
    submit(page)

    expected = [
        {
            "id": "r1",
            "from_name": "event",
            "to_name": "ts",
            "type": "timeserieslabels",
            "value": {"start": 40, "end": 60, "instant": False, "timeserieslabels": ["Spike"]},
        },
    ]
    (annotation,) = annotations(live_server, task_id)
    assert_matches(normalized(annotation["result"]), expected)


def _plot(page):
    """The temperature chart's plot area: a function from a time value to a screen point."""
    chart = page.locator(".lo-chart svg[data-channel=temperature]")
    chart.wait_for()
    box = chart.bounding_box()
    left, width = box["x"] + 48, box["width"] - 48 - 12

    def at(t, start=0, end=100):
        return left + width * (t - start) / (end - start), box["y"] + box["height"] / 2

    return at


def test_marks_instants_with_a_click_selects_deletes_and_undoes_them(live_server, page):
    project_id, (task_id,) = create_project(
        live_server, TS_CONFIG, [{"csv": "media:sensor.csv"}], media={"sensor.csv": csv_series()}
    )
    open_labeling(page, live_server, project_id)
    at = _plot(page)

    page.click(".lo-label[data-value=Drop]")
    page.mouse.click(*at(30))
    page.mouse.click(*at(75))
    markers = page.locator(".lo-band.lo-instant[data-region]")
    expect(markers).to_have_count(2)
    page.click(".lo-label[data-value=Spike]")
    drag(page, at(40), at(60))
    expect(page.locator(".lo-band[data-region]")).to_have_count(3)
    expect(page.locator(".lo-region-desc").first).to_have_text("at 30")

    # The marker at 75 is selected by a click on it, deleted, then brought back by undo.
    page.keyboard.press("Escape")
    marker = page.locator(".lo-band.lo-instant[data-region]").nth(1)
    marker.click()
    expect(marker).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("Delete")
    expect(markers).to_have_count(1)
    page.keyboard.press("Control+z")
    expect(markers).to_have_count(2)
    screenshot(page, "labeling-timeseries-instants")
    submit(page)

    instant = {"instant": True, "timeserieslabels": ["Drop"]}
    expected = [
        {
            "id": "r1",
            "from_name": "event",
            "to_name": "ts",
            "type": "timeserieslabels",
            "value": {"start": 30, "end": 30, **instant},
        },
        {
            "id": "r2",
            "from_name": "event",
            "to_name": "ts",
            "type": "timeserieslabels",
            "value": {"start": 75, "end": 75, **instant},
        },
        {
            "id": "r3",
            "from_name": "event",
            "to_name": "ts",
            "type": "timeserieslabels",
            "value": {"start": 40, "end": 60, "instant": False, "timeserieslabels": ["Spike"]},
        },
    ]
    (annotation,) = annotations(live_server, task_id)
    assert_matches(normalized(annotation["result"]), expected)

    # The stored instants show as markers when the task is opened again.
    page.goto(f"{live_server.url}/projects/{project_id}/label?task={task_id}")
    wait_ready(page)
    expect(page.locator(".lo-band.lo-instant[data-region]")).to_have_count(2)


def _view(page):
    return [float(v) for v in page.get_attribute(".lo-timeseries", "data-view").split(",")]


def _wait_view(page, start, end):
    """Waits until the chart shows [start, end] (within a tenth of a time unit)."""
    page.wait_for_function(
        """([start, end]) => {
          const view = document.querySelector('.lo-timeseries').dataset.view;
          const [a, b] = view.split(',').map(Number);
          return Math.abs(a - start) < 0.1 && Math.abs(b - end) < 0.1;
        }""",
        arg=[start, end],
    )


def test_zooms_with_an_overview_and_places_regions_at_their_timestamps(live_server, page):
    project_id, (task_id,) = create_project(
        live_server, TS_CONFIG, [{"csv": "media:sensor.csv"}], media={"sensor.csv": csv_series()}
    )
    open_labeling(page, live_server, project_id)
    at = _plot(page)
    expect(page.locator(".lo-timeseries")).to_have_attribute("data-view", "0,100")
    overview = page.locator(".lo-ts-overview").bounding_box()

    def on_overview(t):
        plot = overview["width"] - 48 - 12
        return overview["x"] + 48 + plot * t / 100, overview["y"] + overview["height"] / 2

    # Dragging across the overview picks the window [20, 40].
    drag(page, on_overview(20), on_overview(40))
    _wait_view(page, 20, 40)
    page.click(".lo-label[data-value=Spike]")
    drag(page, at(25, 20, 40), at(35, 20, 40))
    page.click(".lo-label[data-value=Drop]")
    page.mouse.click(*at(22, 20, 40))
    expect(page.locator(".lo-band[data-region]")).to_have_count(2)

    # Dragging the window moves it to [40, 60]; the regions before 40 leave the plot.
    drag(page, on_overview(30), on_overview(50))
    _wait_view(page, 40, 60)
    expect(page.locator(".lo-band[data-region]")).to_have_count(0)
    page.mouse.click(*at(50, 40, 60))
    expect(page.locator(".lo-band.lo-instant[data-region]")).to_have_count(1)

    # ctrl+wheel zooms in around the pointer.
    page.mouse.move(*at(50, 40, 60))
    page.keyboard.down("Control")
    page.mouse.wheel(0, -100)
    page.keyboard.up("Control")
    page.wait_for_function(
        "() => { const [a, b] = document.querySelector('.lo-timeseries').dataset.view"
        ".split(',').map(Number); return b - a < 20 && a < 50 && b > 50; }"
    )
    screenshot(page, "labeling-timeseries-zoom")
    page.get_by_role("button", name="Show the whole series").click()
    page.get_by_role("button", name="Zoom in").click()
    assert_matches(_view(page), [50 - 100 / 3, 50 + 100 / 3])
    page.get_by_role("button", name="Zoom out").click()

    # The whole series again: each marker sits at its timestamp.
    page.get_by_role("button", name="Show the whole series").click()
    expect(page.locator(".lo-timeseries")).to_have_attribute("data-view", "0,100")
    markers = page.locator(".lo-band.lo-instant[data-region]")
    expect(markers).to_have_count(2)
    for i, t in enumerate((22, 50)):
        box = markers.nth(i).bounding_box()
        assert abs(box["x"] - at(t)[0]) < 4, (t, box)
    submit(page)

    def item(start, end, label, instant):
        value = {"start": start, "end": end, "instant": instant, "timeserieslabels": [label]}
        return {
            "id": f"r{len(expected) + 1}",
            "from_name": "event",
            "to_name": "ts",
            "type": "timeserieslabels",
            "value": value,
        }

    expected: list[dict] = []
    for args in ((25, 35, "Spike", False), (22, 22, "Drop", True), (50, 50, "Drop", True)):
        expected.append(item(*args))
    (annotation,) = annotations(live_server, task_id)
    assert_matches(normalized(annotation["result"]), expected)
