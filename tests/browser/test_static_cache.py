"""The labeling page's modules come from the browser's cache on the next task, not the network."""

from playwright.sync_api import Page

from tests.browser.conftest import LiveServer
from tests.browser.labeling_helpers import create_project, open_labeling, submit

CONFIG = """
<View>
  <Text name="text" value="$text"/>
  <Choices name="topic" toName="text"><Choice value="News" hotkey="1"/></Choices>
</View>
"""
# Each module the page loaded: its URL and the bytes that crossed the network (0 from the cache).
LOADED_MODULES = """() => performance.getEntriesByType("resource")
    .filter((e) => e.name.includes("/static/") && e.name.includes(".js"))
    .map((e) => [e.name, e.transferSize])"""


def test_next_task_loads_no_module_again_and_breaks_no_policy(
    live_server: LiveServer, page: Page
) -> None:
    project_id, _ = create_project(live_server, CONFIG, [{"text": "one"}, {"text": "two"}])
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    open_labeling(page, live_server, project_id)
    first = page.evaluate(LOADED_MODULES)
    assert any(size > 0 for _, size in first)  # the first visit did fetch them

    page.keyboard.press("1")
    submit(page)

    loaded = page.evaluate(LOADED_MODULES)
    assert len(loaded) >= 10, loaded  # the next task's page loaded its modules...
    fetched = [name for name, size in loaded if size > 0]
    assert fetched == [], f"modules fetched again: {fetched}"  # ...from the cache
    assert all("?v=" in name for name, _ in loaded)
    assert problems == []
