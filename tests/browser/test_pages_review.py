"""Review, task history, dashboard and members in the browser, on a project two people annotated."""

from typing import Any

from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from labelops.domain.agreement_report import agreement_report
from labelops.domain.label_config import parse_label_config
from labelops.services.agreement import controls_of, save_agreement_report
from labelops.services.projects import get_project
from labelops.services.tasks import iter_task_records
from labelops.templates_gallery import get_template
from labelops.web.extensions import db
from tests.browser.conftest import LiveServer, screenshot, sign_in
from tests.browser.pages_helpers import add_user, annotate, choice, import_tasks, make_project

TEXT_CONFIG = get_template("text_classification").label_config  # type: ignore[union-attr]


def seed(server: LiveServer) -> dict[str, Any]:
    """Three reviews labeled by Ann and Bob, and the agreement report the pipeline computes."""
    project_id = make_project(
        server,
        "Product reviews",
        TEXT_CONFIG,
        description="Sentiment of customer reviews",
        maximum_annotations=2,
    )
    tasks = import_tasks(
        server,
        project_id,
        [
            {"text": "The battery lasts all day and charges fast."},
            {"text": "Arrived broken, and support never answered."},
            {"text": "It is a phone. It makes calls."},
        ],
    )
    ann = add_user(server, "ann@example.com", project_id, "annotator")
    bob = add_user(server, "bob@example.com", project_id, "annotator")
    annotations = {
        "ann_0": annotate(server, tasks[0], choice("Positive"), ann),
        "bob_0": annotate(server, tasks[0], choice("Positive"), bob),
        "ann_1": annotate(server, tasks[1], choice("Positive"), ann),
        "bob_1": annotate(server, tasks[1], choice("Negative"), bob),
        "ann_2": annotate(server, tasks[2], choice("Neutral"), ann),
    }
    with server.app.app_context(), Session(db.engine) as session:
        config = parse_label_config(get_project(session, project_id).label_config)
        records = iter_task_records(session, project_id, only_annotated=True)
        report = agreement_report(records, controls_of(config))
        save_agreement_report(session, project_id, report.to_dict())
        session.commit()
    return {"project": project_id, "tasks": tasks, **annotations}


def test_review_accept_reject_history_dashboard_members(
    page: Page, live_server: LiveServer
) -> None:
    ids = seed(live_server)
    project, tasks = ids["project"], ids["tasks"]
    add_user(live_server, "carol@example.com")
    for name, title in (
        ("object_detection", "Street scenes"),
        ("named_entity_recognition", "News"),
    ):
        other = make_project(
            live_server,
            title,
            get_template(name).label_config,  # type: ignore[union-attr]
            description=get_template(name).description,  # type: ignore[union-attr]
            color="#36C2B4" if name == "object_detection" else "#F59F00",
        )
        field = "image" if name == "object_detection" else "text"
        import_tasks(live_server, other, [{field: f"item {i}"} for i in range(4)])
    sign_in(page, live_server)
    expect(page.locator(".project-card", has_text="Product reviews")).to_contain_text(
        "2 / 3 labeled"
    )
    screenshot(page, "projects")

    page.goto(f"{live_server.url}/projects/{project}/review")
    panes = page.locator("[data-review-panes] .pane")
    expect(panes).to_have_count(2)
    expect(panes.nth(0)).to_contain_text("ann@example.com")
    expect(panes.nth(1)).to_contain_text("bob@example.com")
    expect(panes.nth(0).locator(".result-list")).to_contain_text("Positive")
    screenshot(page, "review")

    for _ in range(2):  # accept both annotations of the first task
        page.get_by_role("button", name="Accept").first.click()
        expect(page.locator(".flash.success")).to_contain_text("Accepted annotation")
    expect(page.locator(".page-head h2")).to_contain_text(f"Task {tasks[1]}")

    bob_pane = page.locator(f'[data-annotation-id="{ids["bob_1"]}"]')
    bob_pane.get_by_role("button", name="Reject").click()
    expect(page.locator(".flash.error")).to_contain_text("say what is wrong")
    bob_pane = page.locator(f'[data-annotation-id="{ids["bob_1"]}"]')
    bob_pane.get_by_label("Comment for the annotator").fill(
        "The customer is clearly unhappy? Re-read."
    )
    bob_pane.get_by_role("button", name="Reject").click()
    expect(page.locator(".flash.success")).to_contain_text("back to its author first")
    expect(page.locator("[data-review-empty]")).to_be_visible()

    page.goto(f"{live_server.url}/projects/{project}/tasks/{tasks[0]}")
    expect(page.locator("[data-annotations] .pane")).to_have_count(2)
    history = page.locator("[data-history] li")
    expect(history).to_have_count(4)
    expect(history.first).to_contain_text("admin@example.com accepted annotation")
    screenshot(page, "task_history")

    page.goto(f"{live_server.url}/projects/{project}/data?state=rejected")
    expect(page.locator("[data-tasks] tbody tr")).to_have_count(1)

    page.goto(f"{live_server.url}/projects/{project}/dashboard")
    expect(page.locator('[data-chart="annotators"] svg rect')).to_have_count(2)
    expect(page.locator('[data-chart="labels"] svg')).to_contain_text("Positive")
    expect(page.locator('[data-chart="per_day"] svg rect')).not_to_have_count(0)
    # One definition of a finished annotation: Bob's rejected one is counted apart.
    expect(page.locator('[data-stat="finished"]')).to_have_text("4")
    expect(page.locator('[data-stat="rejected"]')).to_have_text("1")
    agreement = page.locator("[data-agreement]")
    expect(agreement.locator('[data-control="sentiment"] [data-figure="percent"]')).to_have_text(
        "50%"
    )
    expect(agreement.locator("[data-agreement-pairs]")).to_contain_text(
        "ann@example.com · bob@example.com"
    )
    expect(agreement.locator("[data-agreement-labels]")).to_contain_text("Negative")
    expect(agreement).not_to_contain_text("overlap")
    screenshot(page, "dashboard")
    agreement.locator("[data-worst-tasks] a").first.click()
    expect(page).to_have_url(f"{live_server.url}/projects/{project}/tasks/{tasks[1]}")

    page.goto(f"{live_server.url}/projects/{project}/members")
    page.fill("#email", "carol@example.com")
    page.select_option("#role", "reviewer")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator(".flash.success")).to_have_text(
        "carol@example.com is now reviewer of this project."
    )
    page.get_by_label("Role of ann@example.com").select_option("reviewer")
    page.locator("tr", has_text="ann@example.com").get_by_role("button", name="Save").click()
    expect(page.locator(".flash.success")).to_have_text("ann@example.com is now reviewer.")
    screenshot(page, "members")


def test_rejection_comment_reaches_the_author_who_gets_the_task_back_first(
    page: Page, live_server: LiveServer, browser: Browser
) -> None:
    project = make_project(live_server, "Returns", TEXT_CONFIG)
    tasks = import_tasks(
        live_server, project, [{"text": "So great, it broke twice."}, {"text": "Ok"}]
    )
    ann = add_user(live_server, "ann@example.com", project, "annotator")
    add_user(live_server, "bob@example.com", project, "annotator")
    annotation = annotate(live_server, tasks[0], choice("Positive"), ann)

    sign_in(page, live_server)  # the administrator reviews
    page.goto(f"{live_server.url}/projects/{project}/review")
    pane = page.locator(f'[data-annotation-id="{annotation}"]')
    pane.get_by_label("Comment for the annotator").fill("Sarcasm: this is negative.")
    pane.get_by_role("button", name="Reject").click()
    expect(page.locator(".flash.success")).to_contain_text("Rejected annotation")

    # Another annotator is handed the next new task, not the rejected one.
    bob = browser.new_page()
    sign_in(bob, live_server, "bob@example.com", "password123")
    bob.goto(f"{live_server.url}/projects/{project}/label")
    expect(bob.locator(".lo-task-id")).to_have_text(f"Task #{tasks[1]}")
    expect(bob.locator("#lo-review-note")).to_have_count(0)
    bob.close()

    # The author's next task is their rejected work, with the reviewer's comment.
    author = browser.new_page()
    sign_in(author, live_server, "ann@example.com", "password123")
    author.goto(f"{live_server.url}/projects/{project}/label")
    expect(author.locator(".lo-task-id")).to_have_text(f"Task #{tasks[0]}")
    expect(author.locator("#lo-review-note [data-review-comment]")).to_have_text(
        "Sarcasm: this is negative."
    )
    expect(author.locator("#lo-submit")).to_have_text("Update")
    author.close()


LONG_TEXT = " ".join(["The delivery was late but the product itself works well enough."] * 12)


def test_review_decisions_are_above_the_fold_with_hotkeys_and_a_count(
    page: Page, live_server: LiveServer
) -> None:
    project = make_project(live_server, "Long reviews", TEXT_CONFIG)
    tasks = import_tasks(live_server, project, [{"text": f"{i}. {LONG_TEXT}"} for i in range(3)])
    ann = add_user(live_server, "ann@example.com", project, "annotator")
    for task in tasks:
        annotate(live_server, task, choice("Positive"), ann)
    sign_in(page, live_server)
    assert page.viewport_size == {"width": 1400, "height": 900}

    page.goto(f"{live_server.url}/projects/{project}/review")
    expect(page.locator("body")).to_have_attribute("data-renders-ready", "true")
    expect(page.locator("[data-review-left]")).to_have_text("3 left to review")
    accept = page.get_by_role("button", name="Accept")
    box = accept.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 900  # no scrolling to decide
    # The task's text is shown once: in the annotation's render (the raw data is folded away).
    expect(page.get_by_text(f"0. {LONG_TEXT}", exact=True).locator("visible=true")).to_have_count(1)

    hotkeys = page.locator("body")
    expect(hotkeys).to_have_attribute("data-review-hotkeys", "on")
    page.keyboard.press("a")
    expect(page.locator(".flash.success")).to_contain_text("Accepted annotation")
    expect(page.locator("[data-review-left]")).to_have_text("2 left to review")
    expect(page.locator(".page-head h2")).to_contain_text(f"Task {tasks[1]}")

    expect(hotkeys).to_have_attribute("data-review-hotkeys", "on")
    page.keyboard.press("r")
    expect(page.get_by_label("Comment for the annotator")).to_be_focused()
    page.keyboard.type("Mixed, not positive.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".flash.success")).to_contain_text("back to its author first")
    expect(page.locator("[data-review-left]")).to_have_text("1 left to review")

    expect(hotkeys).to_have_attribute("data-review-hotkeys", "on")
    page.keyboard.press("s")
    expect(page.locator("[data-review-empty]")).to_contain_text(f"after task {tasks[2]}")
