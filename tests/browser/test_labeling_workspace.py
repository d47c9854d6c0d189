"""The labeling workspace around the tools: their life cycle, shortcuts, history and regions."""

import re

from playwright.sync_api import expect

from tests.browser.labeling_helpers import (
    annotations,
    create_project,
    drag,
    open_labeling,
    select_text,
    submit,
    utf16_index,
    wait_ready,
)
from tests.browser.test_labeling_audio import sine_wav
from tests.browser.test_labeling_image import at, png
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


NER_CONFIG = """
<View>
  <Labels name="ner" toName="text">
    <Label value="PER" hotkey="p"/><Label value="ORG" hotkey="o"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>
"""
TEXT = "Ada met Bob at Acme."


def test_question_mark_lists_every_shortcut(live_server, page):
    project_id, _ = create_project(live_server, NER_CONFIG, [{"text": TEXT}])
    open_labeling(page, live_server, project_id)
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_hidden()
    page.keyboard.press("?")
    expect(help_dialog).to_be_visible()
    rows = dict(
        zip(
            help_dialog.locator("dt").all_inner_texts(),
            help_dialog.locator("dd").all_inner_texts(),
            strict=True,
        )
    )
    assert rows["P"] == "Use the label “PER” (ner)"
    assert rows["Ctrl+Enter"] == "Submit"
    assert rows["Ctrl+Z"] == "Undo"
    assert rows["Ctrl+A"] == "Select all regions"
    assert rows["?"] == "Show or hide these shortcuts"
    page.keyboard.press("?")
    expect(help_dialog).to_be_hidden()


CHOICE_CONFIG = """
<View>
  <Text name="text" value="$text"/>
  <Choices name="mood" toName="text"><Choice value="Good"/><Choice value="Bad"/></Choices>
</View>
"""


def test_goes_back_to_the_previous_task_and_counts_progress(live_server, page):
    project_id, task_ids = create_project(
        live_server, CHOICE_CONFIG, [{"text": f"review {i}"} for i in range(3)]
    )
    open_labeling(page, live_server, project_id)
    progress = page.locator("#lo-progress")
    expect(progress).to_have_text("0 of 3 done")
    expect(page.locator("#lo-prev")).to_be_hidden()  # the first task of this tab
    page.check("input[value=Good]")
    submit(page)
    expect(progress).to_have_text("1 of 3 done")
    page.check("input[value=Bad]")
    submit(page)
    expect(progress).to_have_text("2 of 3 done")
    third = page.locator(".lo-task-id").inner_text()

    with page.expect_navigation():
        page.click("#lo-prev")
    wait_ready(page)
    assert page.url.endswith(f"?task={task_ids[1]}")
    expect(page.locator("input[value=Bad]")).to_be_checked()  # the annotation made there
    expect(page.locator("#lo-submit")).to_have_text("Update")
    with page.expect_navigation():
        page.keyboard.press("Control+ArrowLeft")
    wait_ready(page)
    assert page.url.endswith(f"?task={task_ids[0]}")
    expect(page.locator("input[value=Good]")).to_be_checked()
    expect(page.locator("#lo-prev")).to_be_hidden()

    with page.expect_navigation():
        page.click("#lo-next")
    wait_ready(page)
    with page.expect_navigation():
        page.click("#lo-next")
    wait_ready(page)
    assert page.locator(".lo-task-id").inner_text() == third
    expect(page.locator("#lo-next")).to_be_hidden()


def test_hides_locks_selects_all_and_groups_regions_by_label(live_server, page):
    project_id, (task_id,) = create_project(live_server, NER_CONFIG, [{"text": TEXT}])
    open_labeling(page, live_server, project_id)
    page.keyboard.press("p")
    select_text(page, ".lo-text", *utf16_index(TEXT, "Ada"))
    page.keyboard.press("o")
    select_text(page, ".lo-text", *utf16_index(TEXT, "Acme"))
    page.keyboard.press("p")
    select_text(page, ".lo-text", *utf16_index(TEXT, "Bob"))
    rows = page.locator(".lo-region")
    expect(rows).to_have_count(3)

    # The outliner groups the regions under their labels.
    page.get_by_label("By label").check()
    groups = page.locator(".lo-region-group")
    expect(groups).to_have_text([re.compile(r"PER\s*2"), re.compile(r"ORG\s*1")])
    assert [t.split("\n")[0] for t in rows.locator(".lo-region-desc").all_inner_texts()] == [
        "“Ada”",
        "“Bob”",
        "“Acme”",
    ]
    page.get_by_label("By label").uncheck()

    # Hidden: not drawn on the text, still in the result.
    spans = page.locator(".lo-text .lo-span")
    expect(spans).to_have_count(3)
    rows.nth(0).get_by_role("button", name="Hide region").click()
    expect(spans).to_have_count(2)
    expect(rows.nth(0)).to_have_class(re.compile("is-hidden"))
    rows.nth(0).get_by_role("button", name="Show region").click()
    expect(spans).to_have_count(3)
    page.get_by_role("button", name="Show or hide all regions").click()
    expect(spans).to_have_count(0)
    page.get_by_role("button", name="Show or hide all regions").click()
    expect(spans).to_have_count(3)

    # Locked: cannot be deleted, neither from its row nor with the Delete key.
    rows.nth(1).get_by_role("button", name="Lock region").click()
    expect(rows.nth(1).get_by_role("button", name="Delete region")).to_have_count(0)
    rows.nth(1).click()
    page.keyboard.press("Delete")
    expect(page.locator(".lo-notice")).to_contain_text("Region 2 is locked")
    expect(rows).to_have_count(3)

    # Select all, then Delete: every unlocked region goes; undo brings them back.
    page.locator(".lo-text").click()
    page.keyboard.press("Control+a")
    expect(page.locator(".lo-region.selected")).to_have_count(3)
    page.keyboard.press("Delete")
    expect(rows).to_have_count(1)
    page.keyboard.press("Control+z")
    expect(rows).to_have_count(3)
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    expect(rows).to_have_count(1)
    submit(page)

    (annotation,) = annotations(live_server, task_id)
    assert [item["value"]["text"] for item in annotation["result"]] == ["Acme"]


BOX_CONFIG = """
<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="Car"/></RectangleLabels>
</View>
"""


def test_a_locked_box_does_not_move(live_server, page):
    project_id, (task_id,) = create_project(
        live_server, BOX_CONFIG, [{"image": "media:a.png"}], media={"a.png": png(300, 300)}
    )
    open_labeling(page, live_server, project_id)
    page.wait_for_selector(".lo-stage svg[viewBox]")
    page.click(".lo-label[data-value=Car]")
    drag(page, at(page, 10, 10), at(page, 30, 30))
    page.locator(".lo-region").get_by_role("button", name="Lock region").click()
    drag(page, at(page, 20, 20), at(page, 60, 60))  # try to move it
    page.locator(".lo-region").get_by_role("button", name="Unlock region").wait_for()
    submit(page)
    (annotation,) = annotations(live_server, task_id)
    (box,) = annotation["result"]
    assert abs(box["value"]["x"] - 10) < 1 and abs(box["value"]["y"] - 10) < 1
