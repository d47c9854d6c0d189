"""The site icon: linked from every page and served at /favicon.ico, where browsers ask for it."""

from flask.testing import FlaskClient


def test_serves_the_icon_at_the_root_without_sign_in(client: FlaskClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/x-icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # the ICO header


def test_pages_link_the_icon(client: FlaskClient) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<link rel="icon" href="/favicon.ico">' in page
