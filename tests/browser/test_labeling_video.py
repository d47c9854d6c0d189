"""Video labeling in the browser: a class for the clip and timeline segments as frame ranges."""

import base64

from tests.browser.conftest import screenshot
from tests.browser.labeling_helpers import (
    annotations,
    assert_matches,
    create_project,
    drag,
    media_url,
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
    url = media_url("clip.webm", base64.b64decode(page.evaluate(RECORD)))
    project_id, (task_id,) = create_project(live_server, VIDEO_CONFIG, [{"video": url}])
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
