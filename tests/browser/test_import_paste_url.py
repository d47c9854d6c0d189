"""The import page in the browser: paste tasks, then import a file from a URL."""

import dataclasses
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest
from playwright.sync_api import Page, expect

from labelops.templates_gallery import get_template
from tests.browser.conftest import LiveServer, screenshot, sign_in
from tests.browser.pages_helpers import make_project

TEXT_CONFIG = get_template("text_classification").label_config  # type: ignore[union-attr]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "tickets.csv").write_text("text\nfrom a URL\nanother\n")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(tmp_path)))
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_pastes_tasks_and_imports_a_url(
    page: Page, live_server: LiveServer, file_server: str
) -> None:
    project_id = make_project(live_server, "Pasted", TEXT_CONFIG)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/projects/{project_id}/import")
    page.fill("#paste-text", '[{"text": "pasted one"}, {"text": "pasted two"}]')
    page.get_by_role("button", name="Add from text or URL").click()
    report = page.locator("[data-report]")
    expect(report).to_contain_text("Imported 2 tasks")
    expect(report).to_contain_text("pasted text.json")
    screenshot(page, "import_pasted")

    page.fill("#paste-url", f"http://{file_server}/tickets.csv")
    page.get_by_role("button", name="Add from text or URL").click()
    expect(report).to_contain_text("Nothing was imported")
    expect(report).to_contain_text("a loopback address")

    settings = live_server.app.config["LABELOPS_SETTINGS"]
    live_server.app.config["LABELOPS_SETTINGS"] = dataclasses.replace(
        settings, outbound_host_allowlist=(file_server,)
    )
    page.fill("#paste-url", f"http://{file_server}/tickets.csv")
    page.get_by_role("button", name="Add from text or URL").click()
    expect(report).to_contain_text("Imported 2 tasks")
    expect(report).to_contain_text("tickets.csv")

    page.goto(f"{live_server.url}/projects/{project_id}/data")
    expect(page.locator("[data-tasks] tbody tr")).to_have_count(4)
