"""Time-series labeling in the browser: channels from a CSV URL, ranges marked by dragging."""

import math

from tests.browser.conftest import screenshot
from tests.browser.labeling_helpers import (
    annotations,
    assert_matches,
    create_project,
    drag,
    normalized,
    open_labeling,
    submit,
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
