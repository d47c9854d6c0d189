"""The labeling workspace around the tools: their life cycle, shortcuts, history and regions."""

from tests.browser.labeling_helpers import create_project, open_labeling
from tests.browser.test_labeling_audio import sine_wav
from tests.browser.test_labeling_image import png
from tests.browser.test_labeling_timeseries import csv_series

MEDIA_CONFIG = """
<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="Car"/></RectangleLabels>
  <Audio name="audio" value="$audio"/>
  <Labels name="speaker" toName="audio"><Label value="Speech"/></Labels>
  <TimeSeries name="ts" value="$csv" valueType="url" timeColumn="time">
    <Channel column="temperature"/>
  </TimeSeries>
  <TimeSeriesLabels name="event" toName="ts"><Label value="Spike"/></TimeSeriesLabels>
</View>
"""

# Keeps the listeners added to the window and the document that have not been removed.
COUNT_GLOBAL_LISTENERS = """(() => {
  const live = [];
  const targets = new Set([window, document]);
  const capture = (options) => Boolean(typeof options === "boolean" ? options : options?.capture);
  const same = (e, target, type, fn, options) =>
    e.target === target && e.type === type && e.fn === fn && e.capture === capture(options);
  const { addEventListener: add, removeEventListener: remove } = EventTarget.prototype;
  EventTarget.prototype.addEventListener = function (type, fn, options) {
    if (targets.has(this) && !live.some((e) => same(e, this, type, fn, options))) {
      live.push({ target: this, type, fn, capture: capture(options) });
    }
    return add.call(this, type, fn, options);
  };
  EventTarget.prototype.removeEventListener = function (type, fn, options) {
    const i = live.findIndex((e) => same(e, this, type, fn, options));
    if (i >= 0) live.splice(i, 1);
    return remove.call(this, type, fn, options);
  };
  const name = (e) => `${e.target === window ? "window" : "document"}:${e.type}`;
  window.globalListeners = () => live.map(name);
})();"""

MOUNT_AND_DESTROY = """async () => {
  const { renderInterface } = await import("/static/labeling/render.js");
  const payload = JSON.parse(document.getElementById("lo-payload").textContent);
  const before = window.globalListeners();
  const host = document.createElement("div");
  document.body.append(host);
  const controller = await renderInterface(host, payload.description, payload.task.data, {});
  const mounted = window.globalListeners();
  controller.destroy();
  return { before, mounted, after: window.globalListeners() };
}"""


def test_destroying_the_interface_removes_every_global_listener(live_server, page):
    project_id, _ = create_project(
        live_server,
        MEDIA_CONFIG,
        [{"image": "media:a.png", "audio": "media:a.wav", "csv": "media:a.csv"}],
        media={"a.png": png(), "a.wav": sine_wav(), "a.csv": csv_series()},
    )
    page.add_init_script(COUNT_GLOBAL_LISTENERS)
    open_labeling(page, live_server, project_id)
    seen = page.evaluate(MOUNT_AND_DESTROY)
    added = sorted(seen["mounted"][len(seen["before"]) :])
    # The tools listen for resizes and keys: hotkeys, the image's pan key, two redraws on resize.
    assert added == sorted(
        ["document:keydown", "document:keydown", "document:keyup", "window:resize", "window:resize"]
    )
    assert seen["after"] == seen["before"]
