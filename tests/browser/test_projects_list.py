"""The projects list in the browser: search by title and pages; back from "No more tasks"."""

from playwright.sync_api import Page, expect

from labelops.templates_gallery import get_template
from tests.browser.conftest import LiveServer, sign_in
from tests.browser.pages_helpers import add_user, import_tasks, make_project

TEXT_CONFIG = get_template("text_classification").label_config  # type: ignore[union-attr]


def test_searches_and_pages_projects(page: Page, live_server: LiveServer) -> None:
    for i in range(25):
        make_project(live_server, f"Batch {i:02d}", TEXT_CONFIG)
    reviews = make_project(live_server, "Hotel reviews", TEXT_CONFIG)
    import_tasks(live_server, reviews, [{"text": "Clean room"}])
    sign_in(page, live_server)
    expect(page.locator("#project-count")).to_have_text("26 projects you can open")
    expect(page.locator(".project-card")).to_have_count(24)
    first = page.locator(".project-card").first
    expect(first.locator("h2")).to_have_text("Hotel reviews")
    expect(first).to_contain_text("0 / 1 labeled")
    expect(first).to_contain_text("0 annotations")
    page.get_by_role("link", name="Next").click()
    expect(page.locator(".project-card")).to_have_count(2)
    expect(page.locator(".pager")).to_contain_text("Page 2 of 2")

    page.fill("#project-search", "hotel")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#project-count")).to_have_text("1 project match “hotel”")
    expect(page.locator(".project-card h2")).to_have_text(["Hotel reviews"])
    page.get_by_role("link", name="Clear").click()
    expect(page.locator(".project-card")).to_have_count(24)


def test_no_more_tasks_links_back_to_the_project(page: Page, live_server: LiveServer) -> None:
    project = make_project(live_server, "Finished work", TEXT_CONFIG)
    add_user(live_server, "ann@example.com", project, "annotator")
    sign_in(page, live_server, "ann@example.com", "password123")
    page.goto(f"{live_server.url}/projects/{project}/label")
    expect(page.get_by_role("heading", name="No more tasks")).to_be_visible()
    page.locator("[data-back-to-project]").click()
    page.wait_for_url(f"{live_server.url}/projects/{project}/data**")
    expect(page.locator("h1")).to_contain_text("Finished work")
