"""The new-project preview shows shipped sample media and asks no other site for anything."""

from playwright.sync_api import Page, Request, expect

from tests.browser.conftest import LiveServer, sign_in

MEDIA_TEMPLATES = {
    "image_classification": "img",
    "object_detection": "img",
    "polygon_segmentation": "img",
    "keypoints": "img",
    "audio_transcription": "audio",
    "audio_segmentation": "audio",
    "video_classification": "video",
    "time_series_events": "svg",
}
LOADED = """([kind]) => {
  const preview = document.querySelector('[data-preview]');
  const el = preview && preview.querySelector(kind);
  if (!el) return false;
  if (kind === 'img') return el.complete && el.naturalWidth === 640;
  if (kind === 'video') return el.readyState >= 2 && el.videoWidth === 160;
  if (kind === 'audio') return el.readyState >= 1 && el.duration > 0.9;
  return true;
}"""


def test_media_templates_preview_from_the_app_only(page: Page, live_server: LiveServer) -> None:
    requests: list[str] = []

    def record(request: Request) -> None:
        requests.append(request.url)

    page.on("request", record)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/projects/new")
    for template, kind in MEDIA_TEMPLATES.items():
        page.locator(f'[data-template="{template}"]').click()
        expect(page.locator(f'[data-template="{template}"]')).to_have_attribute(
            "aria-pressed", "true"
        )
        page.wait_for_function(LOADED, arg=[kind])
        page.wait_for_load_state("networkidle")
    samples = {url.rsplit("/", 1)[1] for url in requests if "/static/samples/" in url}
    assert {"sample-1.png", "sample-1.wav", "sample-1.webm", "sample-1.csv"} <= samples
    outside = [
        url
        for url in requests
        if not url.startswith(live_server.url) and not url.startswith(("data:", "blob:"))
    ]
    assert outside == []
