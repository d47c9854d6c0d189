"""Drafts and comments on the labeling page: nothing typed is lost, a reviewer's remark arrives.

Drafts are read back through the REST API (as the admin who labels here; drafts are their
author's alone), waiting for the state rather than for the clock.
"""

import time
from typing import Any

import requests
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, screenshot, sign_in
from tests.browser.labeling_helpers import (
    annotations,
    create_project,
    open_labeling,
    submit,
    wait_ready,
)
from tests.browser.pages_helpers import add_user, annotate, choice

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
  <TextArea name="note" toName="text"/>
</View>"""
TASKS = [{"text": "The boots are warm but the soles wear fast."}, {"text": "Late again."}]


def drafts(server: LiveServer, task_id: int) -> list[dict[str, Any]]:
    response = requests.get(
        f"{server.url}/api/tasks/{task_id}/drafts", headers=server.api_headers(), timeout=10
    )
    response.raise_for_status()
    return list(response.json())


def wait_for_drafts(server: LiveServer, task_id: int, present: bool) -> list[dict[str, Any]]:
    """Polls the API until the task has a draft of the admin's (or none), at most 15 s."""
    deadline = time.monotonic() + 15
    while True:
        found = drafts(server, task_id)
        if bool(found) == present:
            return found
        assert time.monotonic() < deadline, f"draft {'never saved' if present else 'kept'}"
        time.sleep(0.1)


def test_work_left_in_a_closed_tab_is_restored_and_submitting_deletes_the_draft(
    live_server: LiveServer, page: Page
) -> None:
    project_id, (task_id, _) = create_project(live_server, CONFIG, TASKS)
    open_labeling(page, live_server, project_id, f"?task={task_id}")

    page.check("[data-control=sentiment] input[value=Positive]")
    page.fill("[data-control=note] textarea", "soles wear fast")  # typed, never added
    context = page.context
    page.close()

    (saved,) = wait_for_drafts(live_server, task_id, present=True)
    assert {"choices": ["Positive"]} in [item["value"] for item in saved["result"]]
    assert {"text": ["soles wear fast"]} in [item["value"] for item in saved["result"]]
    again = context.new_page()  # the same browser session, still signed in
    again.goto(f"{live_server.url}/projects/{project_id}/label?task={task_id}")
    wait_ready(again)
    expect(again.locator("#lo-draft-note")).to_contain_text("Draft restored")
    expect(again.locator("[data-control=sentiment] input[value=Positive]")).to_be_checked()
    expect(again.locator("[data-control=note] .lo-texts")).to_contain_text("soles wear fast")
    screenshot(again, "labeling-draft-restored")

    submit(again)

    (stored,) = annotations(live_server, task_id)
    assert {"choices": ["Positive"]} in [item["value"] for item in stored["result"]]
    assert drafts(live_server, task_id) == []


def test_changes_are_saved_every_few_seconds_and_a_restored_draft_can_be_discarded(
    live_server: LiveServer, page: Page
) -> None:
    project_id, (task_id, _) = create_project(live_server, CONFIG, TASKS)
    open_labeling(page, live_server, project_id, f"?task={task_id}")

    page.check("[data-control=sentiment] input[value=Negative]")
    (saved,) = wait_for_drafts(live_server, task_id, present=True)  # the page is still open
    assert saved["result"][0]["value"] == {"choices": ["Negative"]}
    page.reload()
    wait_ready(page)
    expect(page.locator("#lo-draft-note")).to_contain_text("Draft restored")
    expect(page.locator("[data-control=sentiment] input[value=Negative]")).to_be_checked()

    page.click("#lo-draft-discard")

    expect(page.locator("#lo-draft-note")).to_be_hidden()
    expect(page.locator("[data-control=sentiment] input[value=Negative]")).not_to_be_checked()
    wait_for_drafts(live_server, task_id, present=False)


def test_a_reviewers_comment_shows_on_the_annotators_labeling_page(
    live_server: LiveServer, page: Page, browser: Browser
) -> None:
    project_id, (task_id, _) = create_project(live_server, CONFIG, TASKS)
    ann = add_user(live_server, "ann@example.com", project_id, "annotator")
    add_user(live_server, "rev@example.com", project_id, "reviewer")
    annotation_id = annotate(live_server, task_id, choice("Positive"), ann)

    sign_in(page, live_server, "rev@example.com", "password123")
    page.goto(f"{live_server.url}/projects/{project_id}/review?task={task_id}")
    thread = page.locator(f".lo-comments[data-comments-for='{annotation_id}']")
    expect(thread).to_have_attribute("data-loaded", "true")
    thread.locator("textarea").fill("The soles are the point: is it really positive?")
    thread.get_by_role("button", name="Comment").click()
    expect(thread.locator(".lo-comment-text")).to_have_text(
        "The soles are the point: is it really positive?"
    )
    screenshot(page, "review-comment")

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        theirs = context.new_page()
        theirs.set_default_timeout(10_000)
        sign_in(theirs, live_server, "ann@example.com", "password123")
        open_labeling(theirs, live_server, project_id, f"?task={task_id}")
        remark = theirs.locator(".lo-comments .lo-comment")
        expect(remark).to_contain_text("is it really positive?")
        expect(remark.locator("strong")).to_have_text("rev")
        remark.get_by_role("button", name="Resolve").click()
        expect(remark.get_by_role("button", name="Reopen")).to_be_visible()
        # a reply typed key by key: Ctrl+Enter sends the comment, not the annotation
        box = theirs.locator(".lo-comments textarea")
        box.press_sequentially("Soles aside, she likes them.")
        box.press("Control+Enter")
        expect(theirs.locator(".lo-comments .lo-comment")).to_have_count(2)
        assert theirs.url.endswith(f"/label?task={task_id}")
        screenshot(theirs, "labeling-comments")
    finally:
        context.close()
    listed = requests.get(
        f"{live_server.url}/api/comments?annotation={annotation_id}",
        headers={"Authorization": f"Token {ann}"},
        timeout=10,
    ).json()
    assert [(c["is_resolved"], c["created_by"] is not None) for c in listed] == [
        (True, True),
        (False, True),
    ]
    assert listed[1]["text"] == "Soles aside, she likes them."
    (stored,) = annotations(live_server, task_id)
    assert stored["lead_time"] == 12.5  # never updated by the comment's Ctrl+Enter
