"""Browser fixtures: the real app served on 127.0.0.1 and Debian's Chromium driven by Playwright.

Chromium must be installed (``apt-get install -y chromium``); a missing browser fails the tests
with that instruction instead of skipping them.
"""

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page
from werkzeug.serving import make_server

from labelops.services.users import create_user, issue_token
from labelops.settings import Settings
from labelops.web import create_app
from labelops.web.extensions import db
from tests.browser import chromium

# Test runs write screenshots to an ignored folder so that they leave the checkout clean;
# `make screenshots` points this at docs/screenshots/ to refresh the README's pictures.
SCREENSHOTS = Path(
    os.environ.get("LABELOPS_SCREENSHOTS_DIR")
    or Path(__file__).resolve().parents[2] / "build" / "screenshots"
)
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "password123"


@dataclass
class LiveServer:
    """The app served over HTTP for the browser, with an admin and their API token."""

    url: str
    app: Flask
    admin_token: str

    def api_headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.admin_token}"}


@pytest.fixture
def live_server(sqlite_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": sqlite_url,
            "LABELOPS_SETTINGS": Settings.from_env(tmp_path / "home"),
            "SECRET_KEY": "browser-test-secret",
        }
    )
    with app.app_context():
        admin = create_user(db.session, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, is_admin=True)
        token = issue_token(db.session, admin)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, admin_token=token)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    yield chromium.acquire()
    chromium.release()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """Saves a full-page screenshot under SCREENSHOTS and returns its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(
    page: Page, server: LiveServer, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD
) -> None:
    """Signs in through the real login form."""
    page.goto(f"{server.url}/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
