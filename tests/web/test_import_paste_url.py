"""The import page's pasted text and URL imports: the same import path, the outbound rule."""

import dataclasses
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labelops.services import import_inputs
from labelops.services.tasks import list_tasks
from labelops.web.extensions import db
from tests.factories import add_member, make_project, make_user
from tests.web.helpers import user_with_token
from tests.web.test_pages_import import csrf

TASKS = json.dumps([{"text": "from the web"}, {"text": "second"}]).encode()
BIG = json.dumps([{"text": "x" * 100} for _ in range(100)]).encode()


class _Files(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {
        "/tasks.json": (200, {"Content-Type": "application/json"}, TASKS),
        "/readings": (200, {"Content-Type": "text/csv"}, b"text\nthird\n"),
        "/big.json": (200, {"Content-Type": "application/json"}, BIG),
        "/bad.json": (200, {"Content-Type": "application/json"}, b'[{"text": "open'),
        "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data"}, b""),
        "/to-tasks": (302, {"Location": "/tasks.json"}, b""),
        "/loop": (302, {"Location": "/loop"}, b""),
    }

    def do_GET(self) -> None:
        status, headers, body = self.routes.get(self.path, (404, {}, b"not here"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def file_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def project_id(app: Flask, auth: Any) -> int:
    with app.app_context():
        manager = make_user(db.session, "manager@example.com")
        project = make_project(db.session, manager)
        add_member(db.session, project, make_user(db.session, "ann@example.com"), "annotator")
        db.session.commit()
        found = project.id
    auth.login("manager@example.com", "password123")
    return found


def _allow(app: Flask, host: str) -> None:
    settings = app.config["LABELOPS_SETTINGS"]
    app.config["LABELOPS_SETTINGS"] = dataclasses.replace(settings, outbound_host_allowlist=(host,))


def _paste(client: FlaskClient, project_id: int, **fields: str) -> tuple[int, str]:
    data = {"csrf_token": csrf(client), **{f"paste-{k}": v for k, v in fields.items()}}
    response = client.post(f"/projects/{project_id}/import/paste", data=data)
    return response.status_code, response.get_data(as_text=True)


def _texts(app: Flask, project_id: int) -> list[str]:
    with app.app_context():
        tasks, _ = list_tasks(db.session, project_id)
        return [t.data["text"] for t in tasks]


def test_pasted_json_csv_and_tsv_become_tasks(
    app: Flask, client: FlaskClient, project_id: int
) -> None:
    status, page = _paste(client, project_id, text='[{"text": "one"}, {"text": "two"}]')
    assert status == 200 and "Imported 2 tasks" in page
    assert "<td>pasted text.json</td><td>json</td>" in page
    status, page = _paste(client, project_id, text="text\nthree\n")
    assert status == 200 and "Imported 1 task<" in page
    status, page = _paste(client, project_id, text="text\tother\nfour\tx\n", text_format="tsv")
    assert status == 200 and "<td>pasted text.tsv</td>" in page
    status, page = _paste(client, project_id, text='{"text": "five"}\n{"text": "six"}\n')
    assert status == 200 and "<td>pasted text.jsonl</td>" in page
    assert _texts(app, project_id) == ["one", "two", "three", "four", "five", "six"]


def test_bad_pasted_text_is_refused_with_its_reason(
    app: Flask, client: FlaskClient, project_id: int
) -> None:
    status, page = _paste(client, project_id, text='[{"text": "open')
    assert status == 400 and "Nothing was imported" in page and "pasted text.json" in page
    status, page = _paste(client, project_id, text="title\nno text column\n")
    assert status == 400 and "text" in page
    status, page = _paste(client, project_id)
    assert status == 400 and "paste tasks or give a URL" in page
    status, page = _paste(client, project_id, text="text\nx\n", url="https://example.com/a.csv")
    assert status == 400 and "not both" in page
    status, page = _paste(client, project_id, text="text\nx\n", text_format="xml")
    assert status == 400 and "Not a valid choice" in page
    assert _texts(app, project_id) == []


def test_url_import_reads_an_allowed_server_and_follows_checked_redirects(
    app: Flask, client: FlaskClient, project_id: int, file_server: str
) -> None:
    _allow(app, file_server)
    status, page = _paste(client, project_id, url=f"http://{file_server}/tasks.json")
    assert status == 200 and "Imported 2 tasks" in page and "<td>tasks.json</td>" in page
    status, page = _paste(client, project_id, url=f"http://{file_server}/readings")
    assert status == 200 and "Imported 1 task<" in page  # CSV known by its content type
    status, page = _paste(client, project_id, url=f"http://{file_server}/to-tasks")
    assert status == 200 and "Imported 2 tasks" in page
    assert _texts(app, project_id) == ["from the web", "second", "third", "from the web", "second"]


def test_url_import_refuses_private_metadata_large_and_bad_documents(
    app: Flask,
    client: FlaskClient,
    project_id: int,
    file_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    status, page = _paste(client, project_id, url=f"http://{file_server}/tasks.json")
    assert status == 400 and "a loopback address" in page
    status, page = _paste(client, project_id, url="http://169.254.169.254/latest/meta-data")
    assert status == 400 and "a cloud metadata address" in page
    status, page = _paste(client, project_id, url="file:///etc/passwd")
    assert status == 400 and "scheme &#39;file&#39; is not allowed" in page

    _allow(app, file_server)
    status, page = _paste(client, project_id, url=f"http://{file_server}/to-metadata")
    assert status == 400 and "a cloud metadata address" in page
    status, page = _paste(client, project_id, url=f"http://{file_server}/loop")
    assert status == 400 and "redirected more than" in page
    status, page = _paste(client, project_id, url=f"http://{file_server}/missing.json")
    assert status == 400 and "answered 404" in page
    status, page = _paste(client, project_id, url=f"http://{file_server}/bad.json")
    assert status == 400 and "Nothing was imported" in page and "bad.json" in page
    monkeypatch.setenv("LABELOPS_MAX_UPLOAD_BYTES", "2000")
    status, page = _paste(client, project_id, url=f"http://{file_server}/big.json")
    assert status == 400 and "at most 2000 are read" in page
    assert _texts(app, project_id) == []


def test_only_managers_import(app: Flask, client: FlaskClient, project_id: int, auth: Any) -> None:
    auth.logout()
    auth.login("ann@example.com", "password123")
    status, _ = _paste(client, project_id, text="text\nx\n")
    assert status == 403
    no_csrf = client.post(f"/projects/{project_id}/import/paste", data={"paste-text": "text\nx"})
    assert no_csrf.status_code in (400, 403)
    assert _texts(app, project_id) == []


def test_format_detection_of_pasted_text() -> None:
    assert import_inputs.detect_text_format(' [{"a": 1}]') == "json"
    assert import_inputs.detect_text_format('{"a": 1}') == "json"
    assert import_inputs.detect_text_format('{"a": 1}\n{"a": 2}') == "jsonl"
    assert import_inputs.detect_text_format("a\tb\n1\t2") == "tsv"
    assert import_inputs.detect_text_format("a,b\n1,2") == "csv"


def test_api_imports_from_a_url_form_as_label_studio(
    app: Flask, client: FlaskClient, project_id: int, file_server: str
) -> None:
    _, headers = user_with_token(app, "root@example.com", admin=True)
    refused = client.post(
        f"/api/projects/{project_id}/import",
        data={"url": f"http://{file_server}/tasks.json"},
        headers=headers,
    )
    assert refused.status_code == 400 and "a loopback address" in refused.get_json()["detail"]
    _allow(app, file_server)
    done = client.post(
        f"/api/projects/{project_id}/import",
        data={"url": f"http://{file_server}/tasks.json"},
        headers=headers,
    )
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["task_count"] == 2
    bad = client.post(
        f"/api/projects/{project_id}/import",
        data={"url": f"http://{file_server}/bad.json"},
        headers=headers,
    )
    assert bad.status_code == 400
    assert _texts(app, project_id) == ["from the web", "second"]
