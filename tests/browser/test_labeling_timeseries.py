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
