"""One Chromium per test process, shared by every browser fixture.

Playwright's sync API allows one running instance per thread, and fixtures defined in this
folder's conftest are also imported by browser tests elsewhere (``tests/security``), which makes
pytest hold two session fixtures. Both take the browser from here; the last one to finish closes
it.
"""

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = os.environ.get("LABELOPS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
_shared: dict[str, Any] = {"users": 0, "playwright": None, "browser": None}


def acquire() -> Browser:
    """Returns the process's Chromium, starting it on first use (fails if it is not installed)."""
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it with 'apt-get install -y chromium'",
            pytrace=False,
        )
    if _shared["browser"] is None:
        playwright = sync_playwright().start()
        _shared["playwright"] = playwright
        _shared["browser"] = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
    _shared["users"] += 1
    browser: Browser = _shared["browser"]
    return browser


def release() -> None:
    """Gives the browser back; the last user closes it and stops Playwright."""
    _shared["users"] -= 1
    if _shared["users"] == 0 and _shared["browser"] is not None:
        _shared["browser"].close()
        _shared["playwright"].stop()
        _shared.update(playwright=None, browser=None)
