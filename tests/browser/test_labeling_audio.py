"""Audio labeling in the browser: waveform decoded by the page, regions in seconds, transcripts."""

import io
import math
import struct
import wave

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
