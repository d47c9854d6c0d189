"""Feature flags in the browser: the admin page changes a flag and the page's helper reads it."""

from playwright.sync_api import Page

from tests.browser.conftest import LiveServer, sign_in

HINT = "labeling_shortcut_hint"
READ_FLAGS = """async (key) => {
  const flags = await import('/static/js/feature_flags.js');
  return [flags.isEnabled(key), flags.isEnabled('no_such_flag'), flags.featureFlags()];
}"""


def test_admin_turns_a_flag_on_and_the_page_helper_sees_it(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server)
    page.click("nav.topnav >> text=Feature flags")
    page.wait_for_url(f"{live_server.url}/admin/flags")
    assert page.evaluate(READ_FLAGS, HINT) == [False, False, {HINT: False}]

    row = page.locator(f'tr[data-flag="{HINT}"]')
    row.locator(f"#default-{HINT}").select_option("on")
    row.locator('form[data-form="settings"] button[type=submit]').click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".flash.success").inner_text() == f"Feature flag {HINT} saved."
    assert page.evaluate(READ_FLAGS, HINT) == [True, False, {HINT: True}]
