"""Helpers for the labeling-view browser tests: projects through the API, media, mouse work."""

import json
import math
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import Page

from tests.browser.conftest import LiveServer, sign_in

TOLERANCE = 0.5


def create_project(
    server: LiveServer,
    config: str,
    tasks: list[dict[str, Any]],
    media: dict[str, bytes] | None = None,
    **fields: Any,
) -> tuple[int, list[int]]:
    """Creates a project with ``config`` and imports ``tasks``; returns its id and the task ids.

    ``media`` files are stored in the project's uploads folder; task values written
    ``"media:<name>"`` become the URL the app serves that file at.
    """
    headers = server.api_headers()
    response = requests.post(
        f"{server.url}/api/projects",
        json={"title": fields.pop("title", "Labeling test"), "label_config": config, **fields},
        headers=headers,
        timeout=10,
    )
    response.raise_for_status()
    project_id = response.json()["id"]
    if media:
        settings = server.app.config["LABELOPS_SETTINGS"]
        folder = Path(settings.object_store_root) / "uploads" / str(project_id)
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in media.items():
            (folder / name).write_bytes(content)
        tasks = json.loads(json.dumps(tasks).replace('"media:', f'"/projects/{project_id}/media/'))
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
