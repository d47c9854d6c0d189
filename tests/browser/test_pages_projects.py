"""A new user's first steps in the browser: sign in and create a project from the gallery.

On the way the config editor shows a live error with its line; the user lands on the import page.
"""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN_EMAIL, LiveServer, screenshot, sign_in

BROKEN_LINE = '  <Choices name="topic" toName="missing" choice="single">'


def test_creates_a_project_from_the_gallery(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/auth/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "login")
    sign_in(page, live_server)
    expect(page.get_by_role("heading", name="No projects yet")).to_be_visible()
    expect(page.locator(".usermenu summary")).to_have_text(ADMIN_EMAIL)

    page.get_by_role("link", name="New project").first.click()
    page.locator('[data-template="named_entity_recognition"]').click()
    expect(page.locator('[data-template="named_entity_recognition"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    editor = page.locator("textarea#label_config")
    expect(editor).to_have_value(re.compile(r'<Label value="ORG"'))
    expect(page.locator("#title")).to_have_value("Named entity recognition")
    status = page.locator("[data-status]")
    expect(status).to_contain_text("The config is valid. Task data fields: $text.")
    expect(page.locator("[data-preview]")).to_contain_text("PER")
    screenshot(page, "project_create")

    # Break the config: the editor names the line while typing, and the gutter marks it.
    lines = editor.input_value().rstrip("\n").split("\n")
    at = len(lines) - 1  # just before </View>
    lines.insert(at, BROKEN_LINE + '<Choice value="A"/></Choices>')
    editor.fill("\n".join(lines))
    expect(status).to_contain_text(f"Line {at + 1}: toName 'missing'")
    expect(page.locator(".gutter .bad")).to_have_text(str(at + 1))
    expect(editor).to_have_attribute("aria-invalid", "true")
    page.locator("[data-config-editor]").scroll_into_view_if_needed()
    screenshot(page, "config_editor_error")

    # The server refuses it too, with the error next to the field.
    page.get_by_role("button", name="Create project").click()
    expect(page.locator("#config-status")).to_contain_text(f"line {at + 1}: toName 'missing'")

    lines.pop(at)
    editor.fill("\n".join(lines))
    expect(status).to_contain_text("The config is valid.")
    page.fill("#title", "News entities")
    page.fill("#expert_instruction", "Mark every person and organization.")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Upload files")).to_be_visible()
    expect(page.locator(".flash.success")).to_contain_text("News entities")

    page.get_by_role("link", name="Projects", exact=True).first.click()
    expect(page.locator(".project-card h2")).to_have_text(["News entities"])
    expect(page.locator(".project-card .stats").first).to_contain_text("0 / 0 labeled")

    page.get_by_role("link", name="News entities").click()
    page.get_by_role("link", name="Settings").click()
    expect(page.locator("[data-preview]")).to_contain_text("ORG")
    page.fill("#maximum_annotations", "2")
    page.select_option("#sampling", "Uncertainty sampling")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".flash.success")).to_have_text("Settings saved.")
    expect(page.locator("#maximum_annotations")).to_have_value("2")
    screenshot(page, "project_settings")
