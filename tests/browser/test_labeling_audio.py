"""Audio labeling in the browser: waveform decoded by the page, regions in seconds, transcripts."""

import io
import math
import struct
import wave

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
)

AUDIO_CONFIG = """
<View>
  <Labels name="speaker" toName="audio">
    <Label value="Speech"/><Label value="Noise"/>
  </Labels>
  <Audio name="audio" value="$audio"/>
  <Header value="Transcript of the selected region"/>
  <TextArea name="transcription" toName="audio" perRegion="true" rows="2"/>
  <Header value="Notes on the whole file"/>
  <TextArea name="notes" toName="audio" rows="2"/>
</View>
"""


def sine_wav(seconds: float = 2.0, rate: int = 8000) -> bytes:
    """A mono 16-bit WAV: 440 Hz in the first half, 880 Hz quieter in the second."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        frames = bytearray()
        for i in range(int(seconds * rate)):
            t = i / rate
            amplitude, freq = (0.8, 440) if t < seconds / 2 else (0.4, 880)
            frames += struct.pack("<h", int(amplitude * 32767 * math.sin(2 * math.pi * freq * t)))
        wav.writeframes(bytes(frames))
    return out.getvalue()


def test_marks_a_region_in_seconds_and_transcribes_it(live_server, page):
    project_id, (task_id,) = create_project(
        live_server, AUDIO_CONFIG, [{"audio": "media:tones.wav"}], media={"tones.wav": sine_wav()}
    )
    open_labeling(page, live_server, project_id)
    page.wait_for_selector(".lo-wave[data-duration]")
    box = page.locator(".lo-wave").bounding_box()

    def at(fraction):
        return box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2

    page.click(".lo-label[data-value=Speech]")
    drag(page, at(0.25), at(0.75))
    page.locator(".lo-band[data-region]").click()
    page.fill("[data-per-region=transcription] textarea", "hello world")
    page.keyboard.press("Enter")
    page.fill("[data-control=notes] textarea", "two tones")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Play region").click()
    page.wait_for_function("() => document.querySelector('audio').currentTime > 0.5")
    screenshot(page, "labeling-audio")
    submit(page)

    span = {"start": 0.5, "end": 1.5, "channel": 0}
    expected = [
        {
            "id": "r1",
            "from_name": "speaker",
            "to_name": "audio",
            "type": "labels",
            "value": {**span, "labels": ["Speech"]},
        },
        {
            "id": "r1",
            "from_name": "transcription",
            "to_name": "audio",
            "type": "textarea",
            "value": {**span, "text": ["hello world"]},
        },
        {
            "id": "r2",
            "from_name": "notes",
            "to_name": "audio",
            "type": "textarea",
            "value": {"text": ["two tones"]},
        },
    ]
    (annotation,) = annotations(live_server, task_id)
    result = normalized(annotation["result"])
    assert_matches(result, expected)
    assert abs(result[0]["value"]["start"] - 0.5) < 0.02
    assert abs(result[0]["value"]["end"] - 1.5) < 0.02


def test_keeps_each_regions_transcript_on_its_own_region(live_server, page):
    project_id, (task_id,) = create_project(
        live_server, AUDIO_CONFIG, [{"audio": "media:tones.wav"}], media={"tones.wav": sine_wav()}
    )
    open_labeling(page, live_server, project_id)
    page.wait_for_selector(".lo-wave[data-duration]")
    box = page.locator(".lo-wave").bounding_box()

    def at(fraction):
        return box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2

    transcript = page.locator("[data-per-region=transcription] textarea")
    page.click(".lo-label[data-value=Speech]")
    drag(page, at(0.1), at(0.3))
    assert transcript.is_visible()  # the new region is selected: its box shows at once
    drag(page, at(0.6), at(0.8))
    first, second = page.locator(".lo-band[data-region]").all()
    first.click()
    transcript.fill("first words")  # no Enter
    second.click()
    assert transcript.input_value() == ""
    assert page.locator("[data-per-region=transcription] .lo-texts li").count() == 0
    transcript.fill("second words")
    page.locator(".lo-region-list .lo-region").first.click()  # region 1 from the list
    texts = page.locator("[data-per-region=transcription] .lo-texts span")
    assert texts.all_inner_texts() == ["first words"]
    assert transcript.input_value() == ""
    submit(page)

    (annotation,) = annotations(live_server, task_id)
    result = normalized(annotation["result"])
    texts = {item["id"]: item["value"]["text"] for item in result if item["type"] == "textarea"}
    assert texts == {"r1": ["first words"], "r2": ["second words"]}
    starts = {item["id"]: item["value"]["start"] for item in result if item["type"] == "textarea"}
    assert starts["r1"] < starts["r2"]


def test_zooms_the_waveform_and_draws_regions_at_the_right_seconds(live_server, page):
    project_id, (task_id,) = create_project(
        live_server, AUDIO_CONFIG, [{"audio": "media:tones.wav"}], media={"tones.wav": sine_wav()}
    )
    open_labeling(page, live_server, project_id)
    page.wait_for_selector(".lo-wave[data-duration]")
    scroller = page.locator(".lo-wave-scroll")
    view = scroller.bounding_box()
    wave = page.locator(".lo-wave")

    zoom_in = page.get_by_role("button", name="Zoom in the waveform")
    zoom_in.click()
    zoom_in.click()
    expect(wave).to_have_attribute("data-zoom", "4")
    assert abs(wave.bounding_box()["width"] - 4 * view["width"]) < 2

    # Scroll sideways to the end (a horizontal wheel, as a trackpad does): 1.5-2 s in view.
    page.mouse.move(view["x"] + view["width"] / 2, view["y"] + view["height"] / 2)
    page.mouse.wheel(view["width"] * 4, 0)
    page.wait_for_function(
        "() => { const s = document.querySelector('.lo-wave-scroll');"
        " return s.scrollLeft >= s.scrollWidth - s.clientWidth - 1; }"
    )
    box = wave.bounding_box()

    def at(seconds):
        x = box["x"] + box["width"] * seconds / 2
        assert view["x"] <= x <= view["x"] + view["width"], f"{seconds} s is out of view"
        return x, box["y"] + box["height"] / 2

    page.click(".lo-label[data-value=Speech]")
    drag(page, at(1.6), at(1.8))
    band = page.locator(".lo-band[data-region]")
    expect(band).to_have_count(1)

    # ctrl+wheel zooms in around the pointer: the time under it stays put.
    pointer = at(1.7)
    page.mouse.move(*pointer)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -100)
    page.keyboard.up("Control")
    expect(wave).to_have_attribute("data-zoom", "8")
    box = wave.bounding_box()
    assert abs(box["x"] + box["width"] * 1.7 / 2 - pointer[0]) < 3
    band_box = band.bounding_box()
    assert abs(band_box["x"] - (box["x"] + box["width"] * 1.6 / 2)) < 3
    screenshot(page, "labeling-audio-zoom")

    page.get_by_role("button", name="Zoom out the waveform").click()
    expect(wave).to_have_attribute("data-zoom", "4")
    submit(page)

    (annotation,) = annotations(live_server, task_id)
    (region,) = annotation["result"]
    assert region["type"] == "labels" and region["value"]["labels"] == ["Speech"]
    assert abs(region["value"]["start"] - 1.6) < 0.005, region
    assert abs(region["value"]["end"] - 1.8) < 0.005, region
