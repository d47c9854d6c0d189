"""Video labeling in the browser: a class for the clip and timeline segments as frame ranges."""

import base64

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

VIDEO_CONFIG = """
<View>
  <Video name="video" value="$video" frameRate="10"/>
  <TimelineLabels name="events" toName="video">
    <Label value="Movement"/><Label value="Still"/>
  </TimelineLabels>
  <Choices name="scene" toName="video" showInline="true">
    <Choice value="Indoor"/><Choice value="Outdoor"/>
  </Choices>
</View>
"""
# Records two seconds of a moving square with the browser's own MediaRecorder (WebM/VP8).
RECORD = """async () => {
  const canvas = Object.assign(document.createElement('canvas'), {width: 160, height: 90});
  const g = canvas.getContext('2d');
  const recorder = new MediaRecorder(canvas.captureStream(10), {mimeType: 'video/webm'});
  const chunks = [];
  recorder.ondataavailable = (e) => chunks.push(e.data);
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start();
  const t0 = performance.now();
  await new Promise((resolve) => {
    const frame = () => {
      const t = (performance.now() - t0) / 2000;
      g.fillStyle = '#203040'; g.fillRect(0, 0, 160, 90);
      g.fillStyle = '#ffb020'; g.fillRect(10 + 120 * Math.min(t, 1), 30, 30, 30);
      if (t < 1) requestAnimationFrame(frame); else resolve();
    };
    frame();
  });
  recorder.stop();
  await stopped;
  const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}"""


def test_marks_a_timeline_segment_in_frames_and_classifies_the_clip(live_server, page):
    clip = base64.b64decode(page.evaluate(RECORD))
    project_id, (task_id,) = create_project(
        live_server, VIDEO_CONFIG, [{"video": "media:clip.webm"}], media={"clip.webm": clip}
    )
    open_labeling(page, live_server, project_id)
    timeline = page.locator(".lo-timeline[data-frames]")
    timeline.wait_for()
    frames = int(timeline.get_attribute("data-frames"))
    assert 15 <= frames <= 25
    box = timeline.bounding_box()

    def at(frame):  # the middle of a frame's cell on the timeline
        return box["x"] + box["width"] * (frame - 0.5) / frames, box["y"] + box["height"] * 0.7

    page.click(".lo-label[data-value=Movement]")
    drag(page, at(3), at(8))
    page.click("label:has-text('Outdoor')")
    screenshot(page, "labeling-video")
    submit(page)

    expected = [
        {
            "id": "r1",
            "from_name": "events",
            "to_name": "video",
            "type": "timelinelabels",
            "value": {"ranges": [{"start": 3, "end": 8}], "timelinelabels": ["Movement"]},
        },
        {
            "id": "r2",
            "from_name": "scene",
            "to_name": "video",
            "type": "choices",
            "value": {"choices": ["Outdoor"]},
        },
    ]
    (annotation,) = annotations(live_server, task_id)
    assert_matches(normalized(annotation["result"]), expected)


BOXES_CONFIG = """
<View>
  <Labels name="kind" toName="video"><Label value="Car"/><Label value="Person"/></Labels>
  <Video name="video" value="$video" frameRate="10"/>
  <VideoRectangle name="box" toName="video"/>
</View>
"""


def test_tracks_a_box_over_keyframes(live_server, page):
    clip = base64.b64decode(page.evaluate(RECORD))
    project_id, (task_id,) = create_project(
        live_server, BOXES_CONFIG, [{"video": "media:track.webm"}], media={"track.webm": clip}
    )
    open_labeling(page, live_server, project_id)
    timeline = page.locator(".lo-timeline[data-frames]")
    timeline.wait_for()
    frames = int(timeline.get_attribute("data-frames"))
    duration = page.evaluate("document.querySelector('video').duration")
    line = timeline.bounding_box()

    def at(x, y):
        box = page.locator(".lo-video-boxes").bounding_box()
        return box["x"] + box["width"] * x / 100, box["y"] + box["height"] * y / 100

    page.click(".lo-label[data-value=Car]")
    drag(page, at(10, 20), at(40, 60))
    page.mouse.click(line["x"] + line["width"] * 9.5 / frames, line["y"] + 10)  # frame 10
    page.wait_for_function(
        "() => document.querySelector('.lo-media-row').textContent.includes('Frame 10 ')"
    )
    drag(page, at(25, 40), at(45, 50))  # move the box: a keyframe on frame 10
    page.get_by_role("button", name="Previous frame").click()
    page.wait_for_function(
        "() => document.querySelector('.lo-media-row').textContent.includes('Frame 9 ')"
    )
    shown = page.locator(".lo-video-boxes rect.lo-shape").first
    assert abs(float(shown.get_attribute("x")) - (10 + 20 * 8 / 9)) < 0.5  # interpolated
    screenshot(page, "labeling-video-boxes")
    submit(page)

    box = {"width": 30.0, "height": 40.0, "rotation": 0, "enabled": True}
    expected = [
        {
            "id": "r1",
            "from_name": "box",
            "to_name": "video",
            "type": "videorectangle",
            "value": {
                "framesCount": frames,
                "duration": duration,
                "labels": ["Car"],
                "sequence": [
                    {"frame": 1, "time": 0, "x": 10.0, "y": 20.0, **box},
                    {"frame": 10, "time": 0.9, "x": 30.0, "y": 30.0, **box},
                ],
            },
        },
    ]
    (annotation,) = annotations(live_server, task_id)
    assert_matches(normalized(annotation["result"]), expected)


NO_RATE_CONFIG = VIDEO_CONFIG.replace(' frameRate="10"', "")


def test_reads_the_frame_rate_of_a_clip_whose_config_sets_none(live_server, page):
    clip = base64.b64decode(page.evaluate(RECORD))  # ten frames a second
    project_id, (task_id,) = create_project(
        live_server, NO_RATE_CONFIG, [{"video": "media:clip.webm"}], media={"clip.webm": clip}
    )
    open_labeling(page, live_server, project_id)
    timeline = page.locator(".lo-timeline[data-frames]")
    timeline.wait_for()
    video = page.locator(".lo-video")
    assert video.get_attribute("data-frame-rate") == "10"
    assert video.get_attribute("data-frame-rate-source") == "measured"
    assert 15 <= int(timeline.get_attribute("data-frames")) <= 25
    page.wait_for_function(
        "() => document.querySelector('.lo-media-row').textContent.includes('10 fps (measured')"
    )
    frames = int(timeline.get_attribute("data-frames"))
    box = timeline.bounding_box()
    page.click(".lo-label[data-value=Movement]")
    drag(
        page,
        (box["x"] + box["width"] * 2.5 / frames, box["y"] + box["height"] * 0.7),
        (box["x"] + box["width"] * 5.5 / frames, box["y"] + box["height"] * 0.7),
    )
    submit(page)
    (annotation,) = annotations(live_server, task_id)
    assert annotation["result"][0]["value"]["ranges"] == [{"start": 3, "end": 6}]


def test_says_when_the_frame_rate_is_assumed(live_server, page):
    clip = base64.b64decode(page.evaluate(RECORD))
    project_id, _ = create_project(
        live_server, NO_RATE_CONFIG, [{"video": "media:clip.webm"}], media={"clip.webm": clip}
    )
    # A browser without frame callbacks cannot measure the rate.
    page.add_init_script("delete HTMLVideoElement.prototype.requestVideoFrameCallback")
    open_labeling(page, live_server, project_id)
    page.locator(".lo-timeline[data-frames]").wait_for()
    assert page.locator(".lo-video").get_attribute("data-frame-rate-source") == "assumed"
    page.wait_for_function(
        "() => document.querySelector('.lo-media-row').textContent.includes('24 fps (assumed')"
    )
