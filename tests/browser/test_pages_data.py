"""Import through the upload page and work the data manager, in the browser."""

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from labelops.templates_gallery import get_template
from tests.browser.conftest import LiveServer, screenshot, sign_in
from tests.browser.pages_helpers import import_tasks, make_project

TEXT_CONFIG = get_template("text_classification").label_config  # type: ignore[union-attr]


def test_imports_a_csv_and_reports_a_rejected_file(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    project_id = make_project(live_server, "Support tickets", TEXT_CONFIG)
    good = tmp_path / "tickets.csv"
    good.write_text(
        "text,channel\nMy order is late,email\nGreat service,chat\nRefund please,phone\n"
    )
    bad = tmp_path / "more.csv"
    bad.write_text("text\nfine row\n")
    bad_rows = tmp_path / "wrong_column.csv"
    bad_rows.write_text("body\nno text column here\n")

    sign_in(page, live_server)
    page.goto(f"{live_server.url}/projects/{project_id}/import")
    page.set_input_files("input[type=file]", [str(good)])
    page.get_by_role("button", name="Import").click()
    report = page.locator("[data-report]")
    expect(report).to_contain_text("Imported 3 tasks")
    expect(report.locator("tbody tr td").nth(2)).to_have_text("3")
    expect(page.locator("[data-progress-text]")).to_have_text("Done.")
    screenshot(page, "import_report")

    page.set_input_files("input[type=file]", [str(bad), str(bad_rows)])
    page.get_by_role("button", name="Import").click()
    expect(report).to_contain_text("Nothing was imported")
    expect(report.locator("dl")).to_contain_text("wrong_column.csv")
    expect(report.locator("dl")).to_contain_text("Row2")
    expect(report.locator("dl code")).to_have_text("text")
    screenshot(page, "import_rejected")

    page.goto(f"{live_server.url}/projects/{project_id}/data")
    expect(page.locator("[data-tasks] tbody tr")).to_have_count(3)


def test_data_manager_filters_sorts_and_pages(page: Page, live_server: LiveServer) -> None:
    project_id = make_project(live_server, "Reviews", TEXT_CONFIG)
    ids = import_tasks(
        live_server,
        project_id,
        [{"text": f"review {i:02d}" + (" with a needle" if i % 7 == 0 else "")} for i in range(25)],
    )
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/projects/{project_id}/data?limit=10")
    rows = page.locator("[data-tasks] tbody tr")
    expect(rows).to_have_count(10)
    expect(rows.first).to_have_attribute("data-task-id", str(ids[0]))
    screenshot(page, "data_manager")

    page.get_by_role("link", name="Next →").click()
    expect(rows.first).to_have_attribute("data-task-id", str(ids[10]))
    page.get_by_role("link", name="Next →").click()
    expect(rows).to_have_count(5)
    expect(page.locator('span[aria-disabled="true"]', has_text="Next")).to_be_visible()
    page.get_by_role("link", name="← Previous").click()
    expect(rows.first).to_have_attribute("data-task-id", str(ids[10]))

    page.get_by_role("link", name="Sort by ID").click()  # ID ascending is the default: now desc
    expect(rows.first).to_have_attribute("data-task-id", str(ids[-1]))

    filters = page.locator("[data-filters]")
    assert filters.evaluate("form => typeof form.contains") == "function"  # no field shadows it
    page.fill("#search", "needle")
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(4)
    page.wait_for_load_state("load")  # the module that submits on change has run
    page.select_option("#state", "completed")
    expect(page.locator("td.empty")).to_contain_text("No tasks match these filters.")
    page.get_by_role("link", name="Reset").click()
    page.wait_for_load_state("load")

    page.locator('input[name="task"]').nth(0).check()
    page.locator('input[name="task"]').nth(1).check()
    expect(page.locator("[data-selection-count]")).to_have_text("2 selected")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete selected").click()
    expect(page.locator(".flash.success")).to_have_text("Deleted 2 tasks.")
    expect(page.locator("[data-tasks] tbody tr").first).to_have_attribute(
        "data-task-id", str(ids[2])
    )


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def test_uploaded_images_become_tasks_shown_from_the_media_route(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    config = get_template("image_classification").label_config  # type: ignore[union-attr]
    project_id = make_project(live_server, "Pets", config)
    files = []
    for name in ("cat.png", "dog.png"):
        (tmp_path / name).write_bytes(PNG)
        files.append(str(tmp_path / name))
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/projects/{project_id}/import")
    page.set_input_files("input[type=file]", files)
    page.get_by_role("button", name="Import").click()
    expect(page.locator("[data-report]")).to_contain_text("Imported 2 tasks")
    page.get_by_role("link", name="Open the data manager").click()
    cells = page.locator("[data-tasks] tbody td.truncate").filter(has_text=".png")
    expect(cells).to_have_count(2)
    expect(cells.first).to_contain_text("cat.png")
    page.get_by_role("link", name="Details").first.click()
    image = page.locator("dd img")
    expect(image).to_have_attribute(
        "src", re.compile(rf"^/projects/{project_id}/media/\w+-cat\.png$")
    )
    assert image.evaluate("img => img.complete && img.naturalWidth") == 1
