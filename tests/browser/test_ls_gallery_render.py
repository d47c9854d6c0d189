"""Every config of Label Studio's template gallery renders in the config editor's preview.

One page walks the whole gallery (read from Label Studio's wheel, ``make ls-templates``): each
config goes through the preview endpoint and the labeling renderer, and each of its object tags
must be on the page, with no script error and no "not supported" notice. Requests to other hosts
(the sample media) are answered locally: a tiny PNG for images, 404 for the rest.
"""

import base64
import io
import re
import wave

from playwright.sync_api import Page, Route, expect

from labelops.domain.label_config import parse_label_config
from tests.browser.conftest import LiveServer, sign_in
from tests.browser.labeling_helpers import annotations, create_project, open_labeling, submit
from tests.ls_gallery import GalleryTemplate, checked_templates

# Requests to any host but the live server's.
OTHER_HOSTS = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")
# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
RENDER = """async (config) => {
  const { renderPreview } = await import("/static/js/preview.js");
  const { postJSON } = await import("/static/js/http.js");
  const box = document.querySelector("[data-preview]");
  const answer = await postJSON("/projects/preview", { label_config: config });
  if (!answer.ok) return { refused: answer.data?.detail || String(answer.status) };
  await renderPreview(box, answer.data);
  const objects = Object.keys(answer.data.interface.objects);
  return {
    missing: objects.filter((name) => !box.querySelector(`[data-object="${CSS.escape(name)}"]`)),
    unsupported: [...box.querySelectorAll(".lo-unsupported")].map((el) => el.textContent),
    failed: box.querySelector(".field-error")?.textContent || null,
    rendered: Boolean(box.querySelector(".lo-root")),
  };
}"""


def _silence() -> bytes:
    """Returns a quarter second of 8 kHz mono silence as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\0\0" * 2000)
    return out.getvalue()


def _time_series_csv(template: GalleryTemplate) -> str:
    """Returns a CSV with the time column and every channel the template's time series reads."""
    config = parse_label_config(template.config)
    columns: list[str] = []
    for node in config.layout.walk():
        if node.tag == "TimeSeries":
            columns.append(node.attrs.get("timeColumn", "time"))
            columns += [c.attrs["column"] for c in node.children if "column" in c.attrs]
    header = list(dict.fromkeys(columns)) or ["time"]
    rows = [",".join(str(n + i) for i in range(len(header))) for n in range(5)]
    return "\n".join([",".join(header), *rows]) + "\n"


class SampleMedia:
    """Answers the sample media requests of the template being rendered, without the network."""

    def __init__(self) -> None:
        self.template: GalleryTemplate | None = None
        self.wav = _silence()

    def __call__(self, route: Route) -> None:
        url = route.request.url
        if re.search(r"\.(png|jpe?g|gif)(\?|$)|placehold", url):
            route.fulfill(status=200, content_type="image/png", body=PNG)
        elif re.search(r"\.(wav|mp3)(\?|$)", url):
            route.fulfill(status=200, content_type="audio/wav", body=self.wav)
        elif re.search(r"\.csv(\?|$)", url) and self.template is not None:
            route.fulfill(status=200, content_type="text/csv", body=_time_series_csv(self.template))
        else:
            route.fulfill(status=404, body="")


def test_every_gallery_config_renders_in_the_preview(page: Page, live_server: LiveServer) -> None:
    templates = checked_templates()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    media = SampleMedia()
    page.route(OTHER_HOSTS, media)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/projects/new")
    page.wait_for_selector("[data-preview] .lo-root")
    problems: dict[str, object] = {}
    for template in templates:
        errors.clear()
        media.template = template
        outcome = page.evaluate(RENDER, template.config)
        bad = {
            key: value
            for key, value in {**outcome, "errors": list(errors)}.items()
            if value and key != "rendered"
        }
        if bad or not outcome.get("rendered"):
            problems[template.key] = bad or "nothing rendered"
    listed = "\n".join(f"{key}: {problem}" for key, problem in problems.items())
    assert not problems, f"{len(problems)} of {len(templates)} templates did not render:\n{listed}"


def test_choices_with_a_heading_show_once_their_condition_holds(
    page: Page, live_server: LiveServer
) -> None:
    key = "community-contributions/two-level-sentiment-analysis-of-x-twitter-posts"
    template = next(t for t in checked_templates() if t.key == key)
    tweet = "Just got accepted to my dream university!"
    project_id, (task_id,) = create_project(live_server, template.config, [{"tweet": tweet}])
    open_labeling(page, live_server, project_id)
    details = page.locator("[data-control=other-props]")
    expect(page.locator("[data-object=tweet]")).to_have_text(tweet)
    expect(details).to_be_hidden()
    page.get_by_label("Positive").check()
    expect(details).to_be_visible()
    expect(details.locator(".lo-header")).to_have_text("Other properties of the post")
    details.get_by_label("Emotional").check()
    submit(page)
    result = annotations(live_server, task_id)[0]["result"]
    assert sorted((item["from_name"], item["value"]["choices"]) for item in result) == [
        ("other-props", ["Emotional"]),
        ("sentiment", ["Positive"]),
    ]


def test_choices_show_their_cleaned_markup(page: Page, live_server: LiveServer) -> None:
    template = next(
        t for t in checked_templates() if t.key == "audio-speech-processing/speech-transcription"
    )
    media = SampleMedia()
    media.template = template
    page.route(OTHER_HOSTS, media)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/projects/new")
    page.wait_for_selector("[data-preview] .lo-root")
    assert page.evaluate(RENDER, template.config)["missing"] == []
    shown = page.locator("[data-preview] .lo-choice-html")
    expect(shown).to_have_count(3)
    expect(shown.first).to_contain_text("\U0001f600")
    expect(page.locator("[data-preview]").get_by_label("Positive")).to_have_count(1)


def test_options_from_the_task_show_their_cleaned_markup(
    page: Page, live_server: LiveServer
) -> None:
    template = next(t for t in checked_templates() if t.key == "ranking-and-scoring/text-to-image")
    picture = "https://images.example.com/astronaut.png"
    options = [
        {"value": "id1", "html": f"<img width='40' src='{picture}' onerror='alert(1)'/>"},
        {"value": "id2", "html": "<b>second</b><script>alert(2)</script>"},
    ]
    task = {"prompt": "An astronaut riding a horse", "images": options}
    project_id, (task_id,) = create_project(live_server, template.config, [task])
    page.route(OTHER_HOSTS, SampleMedia())
    open_labeling(page, live_server, project_id)
    shown = page.locator("[data-control=images] .lo-choice-html")
    expect(shown).to_have_count(2)
    expect(shown.first.locator("img")).to_have_attribute("src", picture)
    assert shown.first.locator("img").get_attribute("onerror") is None
    expect(shown.nth(1)).to_have_text("second")
    page.get_by_label("id2").check()
    submit(page)
    (item,) = annotations(live_server, task_id)[0]["result"]
    assert (item["from_name"], item["value"]) == ("images", {"choices": ["id2"]})


def test_a_config_style_reaches_the_elements_it_names(page: Page, live_server: LiveServer) -> None:
    template = next(t for t in checked_templates() if t.key == "generative-ai/chatbot-assessment")
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/projects/new")
    page.wait_for_selector("[data-preview] .lo-root")
    assert page.evaluate(RENDER, template.config)["missing"] == []
    container = page.locator("[data-preview] .cfg-container")
    assert container.evaluate("el => getComputedStyle(el).display") == "flex"
    heading = page.locator("[data-preview] h6.lo-header", has_text="Hallucination")
    expect(heading).to_have_count(1)
    title = page.locator("[data-preview] .lo-header", has_text="InstructGPT Assessment")
    assert title.evaluate("el => el.style.width") == "50%"


def test_ocr_labels_on_a_pdf_say_that_regions_cannot_be_drawn(
    page: Page, live_server: LiveServer
) -> None:
    template = next(t for t in checked_templates() if t.key == "computer-vision/pdf_ocr")
    page.route(OTHER_HOSTS, SampleMedia())
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/projects/new")
    page.wait_for_selector("[data-preview] .lo-root")
    assert page.evaluate(RENDER, template.config)["missing"] == []
    expect(page.locator("[data-preview] iframe.lo-pdf")).to_have_count(1)
    expect(page.locator("[data-control=ocr] .lo-hint")).to_contain_text("cannot be drawn")
