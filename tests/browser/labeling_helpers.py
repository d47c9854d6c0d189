"""Helpers for the labeling-view browser tests: projects through the API, media, mouse work."""

import functools
import http.server
import importlib
import math
import re
import tempfile
import threading
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import Page

from tests.browser.conftest import LiveServer, sign_in

TOLERANCE = 0.5


class _MediaHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with CORS and byte ranges (browsers seek media with Range requests)."""

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def do_GET(self) -> None:
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
        path = Path(self.translate_path(self.path))
        if not match or not path.is_file():
            super().do_GET()
            return
        data = path.read_bytes()
        start = int(match.group(1) or 0)
        end = min(int(match.group(2)) if match.group(2) else len(data) - 1, len(data) - 1)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        self.wfile.write(data[start : end + 1])

    def log_message(self, format: str, *args: Any) -> None:
        return


@functools.cache
def _media_root() -> tuple[Path, str]:
    root = Path(tempfile.mkdtemp(prefix="labeling-media-"))
    handler = functools.partial(_MediaHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return root, f"http://127.0.0.1:{server.server_address[1]}"


def media_url(name: str, content: bytes) -> str:
    """Serves ``content`` as ``name`` from a small static server and returns its URL."""
    root, base = _media_root()
    (root / name).write_bytes(content)
    return f"{base}/{name}"


def ensure_annotate_blueprint(server: LiveServer) -> None:
    """Registers the labeling blueprint (and the pages the layout links to) if the factory does not.

    A stopgap while the app factory does not register every page blueprint yet; it only adds what
    is missing, before the app has handled a request.
    """
    if "annotate" in server.app.blueprints or server.app._got_first_request:
        return
    for module in ("annotate", "projects", "account"):
        if module in server.app.blueprints:
            continue
        try:
            views = importlib.import_module(f"labelops.web.{module}.views")
        except ImportError:
            continue
        server.app.register_blueprint(views.bp)


def create_project(
    server: LiveServer,
    config: str,
    tasks: list[dict[str, Any]],
    **fields: Any,
) -> tuple[int, list[int]]:
    """Creates a project with ``config`` and imports ``tasks``; returns its id and the task ids."""
    ensure_annotate_blueprint(server)
    headers = server.api_headers()
    response = requests.post(
        f"{server.url}/api/projects",
        json={"title": fields.pop("title", "Labeling test"), "label_config": config, **fields},
        headers=headers,
        timeout=10,
    )
    response.raise_for_status()
    project_id = response.json()["id"]
    response = requests.post(
        f"{server.url}/api/projects/{project_id}/import?return_task_ids=true",
        json=tasks,
        headers=headers,
        timeout=10,
    )
    response.raise_for_status()
    return project_id, response.json()["task_ids"]


def open_labeling(page: Page, server: LiveServer, project_id: int, query: str = "") -> None:
    """Signs in and opens the labeling stream (or ``?task=``), waiting for the interface."""
    ensure_annotate_blueprint(server)
    if not page.url.startswith(server.url):
        sign_in(page, server)
    page.goto(f"{server.url}/projects/{project_id}/label{query}")
    wait_ready(page)


def wait_ready(page: Page) -> None:
    """Waits until the labeling interface has rendered (or the end screen shows)."""
    page.wait_for_selector("body[data-labeling-ready], .lo-done", state="attached")


def annotations(server: LiveServer, task_id: int) -> list[dict[str, Any]]:
    """Returns the task's stored annotations, read through the REST API."""
    response = requests.get(
        f"{server.url}/api/tasks/{task_id}", headers=server.api_headers(), timeout=10
    )
    response.raise_for_status()
    return response.json()["annotations"]


def submit(page: Page) -> None:
    """Clicks Submit and waits for the page to move on to the next task."""
    with page.expect_navigation():
        page.click("#lo-submit")
    wait_ready(page)


def normalized(result: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Returns the result with region ids renamed r1, r2... in order of first use."""
    names: dict[str, str] = {}

    def name(value: str) -> str:
        return names.setdefault(value, f"r{len(names) + 1}")

    out = []
    for item in result:
        item = dict(item)
        for key in ("id", "from_id", "to_id"):
            if key in item:
                item[key] = name(item[key])
        out.append(item)
    return out


def assert_matches(actual: Any, expected: Any, path: str = "result") -> None:
    """Asserts equal JSON, with floats equal within TOLERANCE (percent, seconds or points)."""
    if isinstance(expected, float) or (
        isinstance(actual, float) and isinstance(expected, int) and not isinstance(expected, bool)
    ):
        assert isinstance(actual, int | float), f"{path}: {actual!r} is not a number"
        assert math.isclose(actual, expected, abs_tol=TOLERANCE), f"{path}: {actual} != {expected}"
    elif isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: {actual!r} is not an object"
        assert sorted(actual) == sorted(expected), f"{path}: keys {sorted(actual)}"
        for key in expected:
            assert_matches(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: {actual!r} is not a list"
        assert len(actual) == len(expected), f"{path}: {len(actual)} items, not {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_matches(a, e, f"{path}[{i}]")
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


_CHAR_BOX = """([selector, offset]) => {
  const root = document.querySelector(selector);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let left = offset, node = walker.nextNode();
  while (node && left >= node.data.length) { left -= node.data.length; node = walker.nextNode(); }
  const range = document.createRange();
  const width = (node.data.charCodeAt(left) & 0xfc00) === 0xd800 ? 2 : 1;
  range.setStart(node, left);
  range.setEnd(node, left + width);
  const r = range.getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
}"""


def select_text(page: Page, selector: str, start: int, end: int) -> None:
    """Drags the mouse over UTF-16 offsets [start, end) of the element's text, as a user does."""
    first = page.evaluate(_CHAR_BOX, [selector, start])
    last = page.evaluate(_CHAR_BOX, [selector, end - 1])
    y1 = (first["top"] + first["bottom"]) / 2
    y2 = (last["top"] + last["bottom"]) / 2
    page.mouse.move(first["left"] + 1, y1)
    page.mouse.down()
    page.mouse.move(last["right"] - 1, y2, steps=4)
    page.mouse.up()


def utf16_index(text: str, sub: str) -> tuple[int, int]:
    """Returns the UTF-16 [start, end) of ``sub`` in ``text`` (what the browser counts)."""
    start = len(text[: text.index(sub)].encode("utf-16-le")) // 2
    return start, start + len(sub.encode("utf-16-le")) // 2


def drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Presses the mouse at ``start``, moves to ``end`` in steps and releases it."""
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=6)
    page.mouse.up()
