"""Review: a task's annotations compared side by side, with their annotators and agreement."""

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, screenshot, sign_in
from tests.browser.pages_helpers import add_user, annotate, import_tasks, make_project

CONFIG = """
<View>
  <Labels name="ner" toName="text">
    <Label value="PER"/>
    <Label value="LOC"/>
  </Labels>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
  </Choices>
</View>
"""
TEXT = "Anna loved her week in Berlin."


def span(region_id: str, word: str, label: str) -> dict[str, Any]:
    start = TEXT.index(word)
    return {
        "id": region_id,
        "from_name": "ner",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": start + len(word), "text": word, "labels": [label]},
    }


def sentiment(value: str) -> dict[str, Any]:
    return {
        "id": "s1",
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [value]},
    }


def test_reviewer_compares_two_annotators_who_disagree(page: Page, live_server: LiveServer) -> None:
    project = make_project(live_server, "Trip notes", CONFIG, maximum_annotations=2)
    other = make_project(live_server, "Other", CONFIG)
    (task,) = import_tasks(live_server, project, [{"text": TEXT}])
    (other_task,) = import_tasks(live_server, other, [{"text": TEXT}])
    ann = add_user(live_server, "ann@example.com", project, "annotator")
    bob = add_user(live_server, "bob@example.com", project, "annotator")
    add_user(live_server, "rita@example.com", project, "reviewer")
    # Both mark Anna; only Bob marks Berlin; they pick opposite sentiments.
    annotate(live_server, task, [span("a1", "Anna", "PER"), sentiment("Positive")], ann)
    annotate(
        live_server,
        task,
        [span("b1", "Anna", "PER"), span("b2", "Berlin", "LOC"), sentiment("Negative")],
        bob,
    )

    sign_in(page, live_server, "rita@example.com")
    page.goto(f"{live_server.url}/projects/{project}/review")
    page.locator("[data-compare-link]").click()
    expect(page).to_have_url(f"{live_server.url}/projects/{project}/review/compare/{task}")

    columns = page.locator("[data-compare] .pane")
    expect(columns).to_have_count(2)
    expect(columns.nth(0).locator("[data-annotator]")).to_have_text("ann@example.com")
    expect(columns.nth(1).locator("[data-annotator]")).to_have_text("bob@example.com")
    # Each column is the labeling view's read-only render of that annotation.
    page.wait_for_selector("body[data-renders-ready=true]", state="attached")
    expect(columns.nth(0).locator(".lo-span")).to_have_count(1)
    expect(columns.nth(1).locator(".lo-span")).to_have_count(2)
    expect(columns.nth(1).locator(".lo-span-label")).to_have_count(2)
    boxes = [columns.nth(i).bounding_box() for i in range(2)]
    assert boxes[0] and boxes[1]
    assert boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"], "columns side by side"
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 1

    # The project's agreement measures on this task: sentiment 0 %, spans F1 = 2/3, mean 33 %.
    agreement = page.locator("[data-compare-agreement]")
    expect(agreement.locator('[data-control-agreement="sentiment"]')).to_have_text("0%")
    expect(agreement.locator('[data-control-agreement="ner"]')).to_have_text("67%")
    expect(agreement.locator("[data-task-agreement]")).to_have_text("33%")
    expect(agreement.locator("[data-pair]").first).to_contain_text(
        "ann@example.com · bob@example.com"
    )
    screenshot(page, "review_compare")

    # Another project's task is not found here; an annotator may not compare.
    response = page.goto(f"{live_server.url}/projects/{project}/review/compare/{other_task}")
    assert response is not None and response.status == 404
    response = page.goto(f"{live_server.url}/projects/{project}/review/compare/999999")
    assert response is not None and response.status == 404
    page.context.clear_cookies()
    sign_in(page, live_server, "ann@example.com")
    response = page.goto(f"{live_server.url}/projects/{project}/review/compare/{task}")
    assert response is not None and response.status == 403
    add_user(live_server, "nobody@example.com")
    page.context.clear_cookies()
    sign_in(page, live_server, "nobody@example.com")
    response = page.goto(f"{live_server.url}/projects/{project}/review/compare/{task}")
    assert response is not None and response.status in (403, 404)


def test_compare_with_one_annotation_says_agreement_needs_two(
    page: Page, live_server: LiveServer
) -> None:
    project = make_project(live_server, "Trip notes", CONFIG)
    (task,) = import_tasks(live_server, project, [{"text": TEXT}])
    ann = add_user(live_server, "ann@example.com", project, "annotator")
    annotate(live_server, task, [sentiment("Positive")], ann)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/projects/{project}/review")
    expect(page.locator("[data-compare-link]")).to_have_count(0)
    page.goto(f"{live_server.url}/projects/{project}/review/compare/{task}")
    expect(page.locator("[data-compare] .pane")).to_have_count(1)
    expect(page.locator("[data-task-agreement]")).to_have_text("n/a")
    expect(page.locator("[data-no-agreement]")).to_contain_text("it has 1")
