"""The users page in the browser: an administrator invites someone, who sets a password once."""

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, screenshot, sign_in


def test_admin_invites_deactivates_and_resets_a_user(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    sign_in(page, live_server)
    page.click("nav.topnav >> text=Users")
    page.wait_for_url(f"{live_server.url}/admin/users")

    page.fill("#invite-email", "newcomer@example.com")
    page.click("#invite-form button[type=submit]")
    expect(page.locator("#issued-link")).to_be_visible()
    link = page.locator("#issued-url").input_value()
    assert link.startswith(f"{live_server.url}/auth/link/")
    row = page.locator('tr[data-user="newcomer@example.com"]')
    expect(row).to_have_attribute("data-state", "invited")
    screenshot(page, "admin_users")

    invitee = browser.new_context().new_page()
    invitee.goto(link)
    expect(invitee.locator("#link-email")).to_have_text("newcomer@example.com")
    invitee.fill("input[name=password]", "newcomer-pass")
    invitee.fill("input[name=confirm]", "newcomer-pass")
    invitee.click("button[type=submit]")
    invitee.wait_for_url(f"{live_server.url}/projects")
    expect(invitee.locator(".flash.success")).to_contain_text("Your password is set")
    again = invitee.goto(link)
    assert again is not None and again.status == 410
    expect(invitee.locator("body")).to_contain_text("already used")

    page.goto(f"{live_server.url}/admin/users")
    row = page.locator('tr[data-user="newcomer@example.com"]')
    expect(row).to_have_attribute("data-state", "active")
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator('[data-action="deactivate"]').click()
    expect(page.locator(".flash.success")).to_have_text("User newcomer@example.com deactivated.")
    expect(row).to_have_attribute("data-state", "deactivated")
    invitee.goto(f"{live_server.url}/projects")
    invitee.wait_for_url(f"{live_server.url}/auth/login**")

    row.locator('[data-action="reactivate"]').click()
    expect(row).to_have_attribute("data-state", "active")
    row.locator('[data-action="grant-creation"]').click()
    expect(row.locator('[data-field="can-create"]')).to_have_text("may create")
    row.locator('[data-action="reset"]').click()
    expect(page.locator("#issued-link")).to_have_attribute("data-purpose", "reset")
    invitee.context.close()
