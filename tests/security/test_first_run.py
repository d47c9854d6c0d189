"""First run: the login ``labelops up`` prints works in the browser; one email rule everywhere."""

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, expect

from labelops.cli import main
from labelops.cli.context import ADMIN_EMAIL
from labelops.domain.errors import InvalidInputError
from labelops.services.users import normalize_email
from tests.browser.conftest import browser  # noqa: F401  (the shared Chromium of the run)
from tests.conftest import AuthActions
from tests.up_process import free_port, get, start_up
from tests.web.helpers import user_with_token

ACCEPTED = ["admin@labelops.local", "Ops@Corp.Internal", "a.b+c@x-y.test", "u@localhost"]
REFUSED = {
    "no-at-sign": "expected name@domain",
    "a b@x.io": "the part before @ is not valid",
    "a..b@x.io": "the part before @ is not valid",
    "a@-x.io": "the domain is not valid",
    "a@x.io@y.io": "the part before @ is not valid",
}


@pytest.mark.slow
@pytest.mark.browser
def test_the_login_printed_by_up_signs_in_through_the_browser(
    tmp_path: Path,
    browser: Browser,  # noqa: F811
) -> None:
    port = free_port()
    # A fresh home, spelled after the command, and the password `up` generates itself.
    up = start_up(
        tmp_path / "fresh-home",
        "--no-dagster",
        "--port",
        str(port),
        admin_password=None,
        home_after_command=True,
    )
    try:
        assert up.email == ADMIN_EMAIL and len(up.password) >= 12
        # `up` prints the login before its server answers: wait for the sign-in page first.
        assert get(f"http://127.0.0.1:{port}/auth/login").status_code == 200
        context = browser.new_context()
        try:
            page = context.new_page()
            page.set_default_timeout(20_000)
            page.goto(f"http://127.0.0.1:{port}/auth/login")
            page.fill("input[name=email]", up.email)
            page.fill("input[name=password]", up.password)
            page.click("button[type=submit]")
            page.wait_for_url(f"http://127.0.0.1:{port}/projects")
            expect(page.locator("h1")).to_have_text("Projects")
            expect(page.get_by_text("Demo: product review sentiment")).to_be_visible()
            expect(page.get_by_text("Invalid email address")).to_have_count(0)
        finally:
            context.close()
        assert (tmp_path / "fresh-home" / "labelops.db").is_file()
    finally:
        up.stop()


@pytest.mark.parametrize("email", ACCEPTED)
def test_an_address_the_api_accepts_signs_in_through_the_form_and_the_cli_accepts_it(
    app: Flask, client: FlaskClient, auth: AuthActions, email: str, database_url: str,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    _, admin = user_with_token(app, "root@example.com", admin=True)

    created = client.post(
        "/api/users", json={"email": email, "password": "password123"}, headers=admin
    )
    signed_in = auth.login(email, "password123")

    assert created.status_code == 201, created.get_json()
    assert created.get_json()["email"] == email.lower()
    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith("/projects")
    monkeypatch.setenv("LABELOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABELOPS_DATABASE_URL", database_url)
    again = CliRunner().invoke(main, ["user", "create", "--email", email, "--password", "x" * 8])
    assert again.exit_code != 0 and "already exists" in again.output  # same address, same rule


@pytest.mark.parametrize("email", sorted(REFUSED))
def test_an_address_one_entry_point_refuses_every_entry_point_refuses_the_same_way(
    app: Flask, client: FlaskClient, auth: AuthActions, email: str, database_url: str,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    reason = REFUSED[email]
    with pytest.raises(InvalidInputError, match=reason):
        normalize_email(email)
    _, admin = user_with_token(app, "root@example.com", admin=True)

    api = client.post("/api/users", json={"email": email, "password": "password123"}, headers=admin)
    form = auth.login(email, "password123")
    monkeypatch.setenv("LABELOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABELOPS_DATABASE_URL", database_url)
    cli = CliRunner().invoke(main, ["user", "create", "--email", email, "--password", "x" * 8])

    assert api.status_code == 400 and reason in api.get_json()["detail"]
    assert form.status_code == 400 and reason in form.get_data(as_text=True)
    assert cli.exit_code != 0 and reason in cli.output
    listed = client.get("/api/users", headers=admin).get_json()
    assert [user["email"] for user in listed] == ["root@example.com"]  # nothing half-written
