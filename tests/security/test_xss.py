"""Stored XSS: hostile task data and label colours never run script on any page that shows them.

A task imported by anyone who may import holds HTML built to run script in a reviewer's or
annotator's session: an ``<area href="java&#09;script:...">`` inside an image map (it passed the
old browser-side check), ``javascript:`` links, ``<script>``, an SVG with ``onload``, an ``<img>``
with ``onerror``, a frame with ``srcdoc``, a form posting to ``javascript:``, and a
``valueType="url"`` HyperText whose "address" is ``javascript:``. The labeling, task and review
pages are opened in Chromium, every link and area is clicked, and a function the test exposes
as ``window.__pwned`` must never be called. The pages run once under the real
Content-Security-Policy and once under a policy that allows inline script, so the sanitizer is
proved on its own and not only through the CSP.
"""

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, ConsoleMessage, Page
from werkzeug.serving import make_server

from labelops.db.models import TaskRow
from labelops.domain.errors import LabelConfigError
from labelops.domain.label_config import parse_label_config
from labelops.services.task_payload import build_task_payload, sanitize_html
from labelops.services.users import create_user, issue_token
from labelops.settings import Settings
from labelops.web import create_app
from labelops.web.extensions import db
from labelops.web.security_headers import CONTENT_SECURITY_POLICY
from tests.browser.conftest import (  # noqa: F401  (fixtures used by the browser tests below)
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    browser,
    sign_in,
)

CONFIG = """
<View>
  <HyperTextLabels name="ner" toName="html">
    <Label value="Thing" background="#FFA39E"/>
  </HyperTextLabels>
  <HyperText name="html" value="$html"/>
  <HyperText name="page" value="$page" valueType="url"/>
  <HyperText name="site" value="$site" valueType="url"/>
  <Choices name="kind" toName="html"><Choice value="Ok"/><Choice value="Spam"/></Choices>
</View>
"""
PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAE"
    "hQGAhKmMIQAAAABJRU5ErkJggg=="
)
HOSTILE_HTML = (
    "<p>Intro text for the annotator.</p>"
    '<p><img src="x" onerror="__pwned(\'img onerror\')" alt="broken"></p>'
    f'<p><img src="{PIXEL}" usemap="#m" width="300" height="120" alt="map">'
    '<map name="m"><area shape="rect" coords="0,0,300,120" '
    'href="java&#09;script:__pwned(\'area tab\')" alt="area"></map></p>'
    "<p><a href=\"javascript:__pwned('a javascript')\">plain link</a></p>"
    "<p><a href=\"JaVaScRiPt&colon;__pwned('a entity')\">entity link</a></p>"
    "<p><a href=\" &#x6A;avascript:__pwned('a hex')\">hex link</a></p>"
    "<script>__pwned('script')</script>"
    "<svg onload=\"__pwned('svg onload')\"><a href=\"javascript:__pwned('svg link')\">"
    "<text x='5' y='15'>svg link</text></a></svg>"
    "<iframe srcdoc=\"<script>parent.__pwned('srcdoc')</script>\"></iframe>"
    "<form action=\"javascript:__pwned('form')\"><button>send</button></form>"
    "<details open ontoggle=\"__pwned('details')\"><summary>more</summary>x</details>"
    '<p><a href="https://example.invalid/safe">a safe link</a></p>'
)
HOSTILE_TASK = {
    "html": HOSTILE_HTML,
    "page": "javascript:__pwned('url hypertext')",
    "site": "https://example.invalid/page.html",
}
# Everything in a sanitized view that a click can activate.
CLICKABLE = ".lo-hypertext a, .lo-hypertext area, .lo-hypertext button, .lo-hypertext summary"
# A policy like the real one but allowing inline script: only the sanitizer stands in the way.
INLINE_ALLOWED_CSP = CONTENT_SECURITY_POLICY.replace(
    "script-src 'self'", "script-src 'self' 'unsafe-inline'"
)


@dataclass
class Server:
    """The app served over HTTP, with an admin's API token."""

    url: str
    app: Flask
    token: str

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(
            method,
            f"{self.url}{path}",
            headers={"Authorization": f"Token {self.token}"},
            timeout=30,
            **kwargs,
        )
        assert response.status_code < 400, response.text
        return response.json()


def serve(database_url: str, tmp_path: Path, csp: str | None) -> Iterator[Server]:
    overrides: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "LABELOPS_SETTINGS": Settings.from_env(tmp_path / "home"),
        "SECRET_KEY": "xss-test-secret",
    }
    if csp:
        overrides["SECURITY_CSP"] = csp
    app = create_app(overrides)
    with app.app_context():
        admin = create_user(db.session, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, is_admin=True)
        token = issue_token(db.session, admin)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(url=f"http://127.0.0.1:{server.server_port}", app=app, token=token)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(params=["strict-csp", "inline-script-allowed"])
def server(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Server]:
    csp = INLINE_ALLOWED_CSP if request.param == "inline-script-allowed" else None
    yield from serve(database_url, tmp_path, csp)


@pytest.fixture
def strict_server(sqlite_url: str, tmp_path: Path) -> Iterator[Server]:
    yield from serve(sqlite_url, tmp_path, None)


@dataclass
class Watch:
    """What the page did that it must not: calls of ``__pwned``; CSP reports and script errors."""

    pwned: list[str]
    errors: list[str]


@pytest.fixture
def watched(browser: Browser) -> Iterator[tuple[Page, Watch]]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    watch = Watch(pwned=[], errors=[])
    context.expose_function("__pwned", lambda what: watch.pwned.append(str(what)))
    page = context.new_page()
    page.set_default_timeout(10_000)

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            watch.errors.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: watch.errors.append(f"{page.url}: {error}"))
    yield page, watch
    context.close()


def seed(server: Server) -> tuple[int, int]:
    """Returns (project id, task id) of a project whose one task is hostile and annotated."""
    project_id = int(
        server.api("POST", "/api/projects", json={"title": "X", "label_config": CONFIG})["id"]
    )
    report = server.api(
        "POST", f"/api/projects/{project_id}/import?return_task_ids=true", json=[HOSTILE_TASK]
    )
    task_id = int(report["task_ids"][0])
    result = [
        {
            "id": "c1",
            "from_name": "kind",
            "to_name": "html",
            "type": "choices",
            "value": {"choices": ["Ok"]},
        }
    ]
    server.api("POST", f"/api/tasks/{task_id}/annotations", json={"result": result})
    return project_id, task_id


def click_everything(page: Page) -> None:
    """Clicks every link, area, button and summary in the rendered task, as a person would."""
    for element in page.locator(CLICKABLE).all():
        if element.is_visible():
            element.click(no_wait_after=True)
    # Areas and hidden links are activated the way a click would, through the DOM.
    page.evaluate(
        """(selector) => {
          for (const el of document.querySelectorAll(selector)) {
            el.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true }));
          }
        }""",
        CLICKABLE,
    )
    # Let every task the clicks queued (a javascript: navigation runs as one) finish.
    page.evaluate("() => new Promise((done) => setTimeout(() => setTimeout(done, 0), 0))")


def assert_clean_render(page: Page) -> None:
    hypertext = page.locator(".lo-hypertext").first
    assert "Intro text for the annotator." in hypertext.inner_text()
    found = page.evaluate(
        """() => {
          const bad = [];
          for (const el of document.querySelectorAll(".lo-hypertext *")) {
            for (const a of el.attributes) {
              const v = a.value.replace(/[\\u0000-\\u0020]/g, "").toLowerCase();
              if (a.name.startsWith("on") || v.startsWith("javascript:") || a.name === "srcdoc") {
                bad.push(`${el.tagName} ${a.name}`);
              }
            }
            if (["SCRIPT", "IFRAME", "SVG", "FORM"].includes(el.tagName.toUpperCase())) {
              bad.push(el.tagName);
            }
          }
          return bad;
        }"""
    )
    assert found == []
    # The url HyperText: javascript: is refused with a notice, an http(s) page is framed with
    # every sandbox restriction on (no scripts, forms, popups or top navigation).
    assert (
        page.locator("[data-object=page]")
        .first.inner_text()
        .startswith("The address in this task was not shown")
    )
    frame = page.locator("iframe[data-object=site]").first
    assert frame.get_attribute("sandbox") == ""
    assert frame.get_attribute("src") == "https://example.invalid/page.html"


def test_hostile_task_html_runs_no_script_on_labeling_task_and_review_pages(
    server: Server, watched: tuple[Page, Watch]
) -> None:
    page, watch = watched
    project_id, task_id = seed(server)
    sign_in(page, server)  # type: ignore[arg-type]

    page.goto(f"{server.url}/projects/{project_id}/label?task={task_id}")
    page.wait_for_selector("body[data-labeling-ready]", state="attached")
    assert_clean_render(page)
    click_everything(page)

    page.goto(f"{server.url}/projects/{project_id}/tasks/{task_id}")
    page.wait_for_selector("body[data-renders-ready]", state="attached")
    assert_clean_render(page)
    click_everything(page)

    page.goto(f"{server.url}/projects/{project_id}/review?task={task_id}")
    page.wait_for_selector("body[data-renders-ready]", state="attached")
    assert page.locator("[data-review-panes] .pane .rendered").count() == 1
    assert_clean_render(page)
    click_everything(page)

    assert watch.pwned == []
    assert watch.errors == []


def test_browser_cleaner_alone_stops_the_attacks(
    strict_server: Server, watched: tuple[Page, Watch]
) -> None:
    # Defence in depth: the page's own cleaner, fed the raw hostile HTML (as if the server had
    # let it through), leaves nothing that runs; the check itself looks at the DOM it produced.
    page, watch = watched
    sign_in(page, strict_server)  # type: ignore[arg-type]
    page.goto(f"{strict_server.url}/projects/")
    page.wait_for_load_state("networkidle")
    left = page.evaluate(
        """async (html) => {
          const { cleanHtml } = await import("/static/labeling/hypertext.js");
          const host = document.createElement("div");
          host.className = "lo-hypertext";
          host.append(cleanHtml(html));
          document.body.append(host);
          const bad = [];
          for (const el of host.querySelectorAll("*")) {
            const foreign = el.namespaceURI !== document.body.namespaceURI;
            if (foreign || ["SCRIPT", "IFRAME", "FORM"].includes(el.tagName)) bad.push(el.tagName);
            for (const a of el.attributes) {
              const v = a.value.replace(/[\\u0000-\\u0020]/g, "").toLowerCase();
              const risky = a.name.startsWith("on") || a.name === "srcdoc";
              if (risky || v.startsWith("javascript:")) bad.push(`${el.tagName} ${a.name}`);
            }
          }
          return bad;
        }""",
        HOSTILE_HTML,
    )
    assert left == []
    assert page.locator(".lo-hypertext area").count() == 1  # the area survives, without its href
    assert page.locator(".lo-hypertext area[href]").count() == 0
    # The one legitimate link would navigate away before the clicks that matter.
    page.eval_on_selector(".lo-hypertext a[href^='https:']", "(a) => a.removeAttribute('href')")
    click_everything(page)
    assert watch.pwned == []


MAIN_PAGES = (
    "/projects/",
    "/projects/new",
    "/projects/{p}/settings",
    "/projects/{p}/members",
    "/projects/{p}/data",
    "/projects/{p}/label?task={t}",
    "/projects/{p}/review?task={t}",
    "/projects/{p}/tasks/{t}",
    "/projects/{p}/dashboard",
    "/projects/{p}/pipeline",
    "/projects/{p}/import",
    "/account/token",
)


def test_main_pages_work_under_the_policy_without_a_single_violation(
    strict_server: Server, watched: tuple[Page, Watch]
) -> None:
    page, watch = watched
    project_id, task_id = seed(strict_server)
    sign_in(page, strict_server)  # type: ignore[arg-type]
    for template in MAIN_PAGES:
        response = page.goto(strict_server.url + template.format(p=project_id, t=task_id))
        assert response is not None and response.status == 200, template
        policy = response.header_value("content-security-policy") or ""
        assert "script-src 'self'" in policy, template
        page.wait_for_load_state("networkidle")
    # The pages' own scripts ran: the labeling view and the config editor's preview rendered.
    page.goto(f"{strict_server.url}/projects/{project_id}/label?task={task_id}")
    page.wait_for_selector("body[data-labeling-ready]", state="attached")
    page.click("label:has-text('Spam')")
    assert watch.pwned == []
    assert watch.errors == []


# --- label colours: refused when the config is saved, checked again when rendered -------------

HOSTILE_COLOUR = "red;background-image:url(javascript:__pwned('css'))"


def colour_config(colour: str, attribute: str = "background") -> str:
    return (
        "<View>\n"
        '  <Labels name="ner" toName="text">\n'
        f'    <Label value="Person" {attribute}="{colour}"/>\n'
        "  </Labels>\n"
        '  <Text name="text" value="$text"/>\n'
        "</View>"
    )


@pytest.mark.parametrize(
    ("attribute", "colour"),
    [
        ("background", HOSTILE_COLOUR),  # a second declaration smuggled after the colour
        ("background", "url(javascript:alert(1))"),
        ("background", "var(--x)"),
        ("background", "expression(alert(1))"),
        ("color", "#fff;behavior:url(x.htc)"),
        ("strokeColor", "red}body{display:none"),
    ],
)
def test_config_parser_refuses_a_colour_that_is_not_css_colour(attribute: str, colour: str) -> None:
    with pytest.raises(LabelConfigError) as caught:
        parse_label_config(colour_config(colour, attribute))
    error = caught.value
    assert (error.tag, error.attribute, error.line, error.value) == (
        "Label",
        attribute,
        3,
        colour,
    )
    assert "CSS colour" in str(error)


@pytest.mark.parametrize(
    "colour",
    [
        "#f0a",
        "#F0A8",
        "#FFA39E",
        "#ffa39e80",
        "rgb(1, 2, 3)",
        "rgba(1,2,3,.5)",
        "hsl(120deg 50% 40% / 0.3)",
        "Crimson",
        "transparent",
    ],
)
def test_config_parser_accepts_css_colours(colour: str) -> None:
    config = parse_label_config(colour_config(colour))
    assert config.controls["ner"].labels[0].background == colour


def test_api_refuses_a_hostile_colour_on_create_and_update_with_a_clear_400(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        admin = create_user(db.session, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, is_admin=True)
        headers = {"Authorization": f"Token {issue_token(db.session, admin)}"}
        db.session.commit()
    created = client.post(
        "/api/projects",
        json={"title": "Colours", "label_config": colour_config(HOSTILE_COLOUR)},
        headers=headers,
    )
    assert created.status_code == 400
    body = created.get_json()
    assert body["status_code"] == 400 and "background" in body["detail"]
    assert HOSTILE_COLOUR in body["detail"] and "line 3" in body["detail"]

    good = client.post(
        "/api/projects",
        json={"title": "Colours", "label_config": colour_config("#FFA39E")},
        headers=headers,
    )
    assert good.status_code == 201
    project_id = good.get_json()["id"]
    changed = client.patch(
        f"/api/projects/{project_id}",
        json={"label_config": colour_config(HOSTILE_COLOUR)},
        headers=headers,
    )
    assert changed.status_code == 400
    stored = client.get(f"/api/projects/{project_id}", headers=headers).get_json()
    assert HOSTILE_COLOUR not in stored["label_config"]


# --- the payload builder: what every page gets --------------------------------------------------


def test_payload_builder_cleans_every_html_field_and_refuses_unsafe_urls() -> None:
    config = parse_label_config(
        "<View>"
        '<HyperText name="a" value="$html"/>'
        '<HyperText name="b" value="$doc.body"/>'
        '<HyperText name="c" value="$link" valueType="url"/>'
        '<HyperText name="d" value="&lt;a href=&quot;$link&quot;&gt;go&lt;/a&gt;"/>'
        '<Text name="t" value="$text"/>'
        "</View>"
    )
    task = TaskRow(
        id=7,
        data={
            "html": HOSTILE_HTML,
            "doc": {"body": "<b>x</b><img src=x onerror=alert(1)>"},
            "link": "java\tscript:alert(1)",
            "text": "<b>shown as text</b>",
        },
    )
    payload = build_task_payload(config, task)
    objects = payload["description"]["objects"]
    html = payload["task"]["data"]["html"]
    for needle in ("javascript", "onerror", "onload", "<script", "<svg", "srcdoc", "<iframe"):
        assert needle not in html.lower(), needle
    assert "Intro text for the annotator." in html
    assert "html" not in objects["a"]  # read from the cleaned data, not sent twice
    assert payload["task"]["data"]["doc"] == {"body": '<b>x</b><img src="x">'}
    assert objects["c"]["url"] is None and objects["c"]["refused"]
    # A value that splices task data into markup is resolved first, then cleaned as a whole.
    assert objects["d"]["html"] == '<a rel="noopener noreferrer">go</a>'
    assert payload["task"]["data"]["link"] == ""
    assert payload["task"]["data"]["text"] == "<b>shown as text</b>"  # the browser shows text


def test_payload_builder_cleans_the_markup_a_choice_shows() -> None:
    config = parse_label_config(
        '<View><Text name="t" value="$t"/><Choices name="c" toName="t">'
        '<Choice value="Up" html="&lt;img src=x onerror=alert(1)&gt;&lt;b&gt;up&lt;/b&gt;"/>'
        '<Choice value="Down"/></Choices></View>'
    )
    labels = build_task_payload(config, None)["description"]["controls"]["c"]["labels"]
    assert labels[0]["html"] == '<img src="x"><b>up</b>'
    assert labels[1]["html"] is None


def test_payload_builder_cleans_the_markup_of_options_read_from_the_task() -> None:
    config = parse_label_config(
        '<View><Text name="t" value="$t"/><Choices name="c" toName="t" value="$options"/></View>'
    )
    hostile = "<img src=x onerror=alert(1)>"
    task = TaskRow(
        id=3,
        data={
            "t": "pick",
            "options": [
                {"value": "a", "html": hostile, "children": [{"value": "b", "html": hostile}]},
                "plain",
            ],
        },
    )
    options = build_task_payload(config, task)["task"]["data"]["options"]
    assert options[0]["html"] == options[0]["children"][0]["html"] == '<img src="x">'
    assert options[1] == "plain"


def test_payload_builder_repaints_a_stored_colour_that_breaks_the_rule() -> None:
    from dataclasses import replace
    from types import MappingProxyType

    config = parse_label_config(colour_config("#FFA39E"))
    control = config.controls["ner"]
    tampered = replace(
        config,
        controls=MappingProxyType(
            {
                "ner": replace(
                    control, labels=(replace(control.labels[0], background=HOSTILE_COLOUR),)
                )
            }
        ),
    )
    payload = build_task_payload(tampered, None)
    background = payload["description"]["controls"]["ner"]["labels"][0]["background"]
    assert background.startswith("#") and "javascript" not in background


def test_sanitizer_keeps_ordinary_markup_and_image_data() -> None:
    html = f'<p>Hi <b>there</b> <a href="https://example.com/x">link</a><img src="{PIXEL}"></p>'
    assert sanitize_html(html) == (
        '<p>Hi <b>there</b> <a href="https://example.com/x" rel="noopener noreferrer">link</a>'
        f'<img src="{PIXEL}"></p>'
    )
    assert sanitize_html('<a href="data:text/html,x">d</a>') == '<a rel="noopener noreferrer">d</a>'
