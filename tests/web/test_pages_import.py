"""The import page through the Flask client: task files, media files and the rejection report."""

import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labelops.services.projects import get_project
from labelops.services.tasks import list_tasks
from labelops.templates_gallery import get_template
from labelops.web.extensions import db
from tests.factories import add_member, make_project, make_user

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def csrf(client: FlaskClient) -> str:
    found = re.search(
        r'name="csrf-token" content="([^"]+)"', client.get("/projects").get_data(as_text=True)
    )
    assert found
    return found.group(1)


@pytest.fixture
def projects(app: Flask, auth: Any) -> dict[str, int]:
    """A text project and an image project managed by the signed-in user."""
    with app.app_context():
        manager = make_user(db.session, "manager@example.com")
        text = make_project(db.session, manager)
        image = make_project(
            db.session,
            manager,
            title="Photos",
            label_config=get_template("object_detection").label_config,  # type: ignore[union-attr]
        )
        add_member(db.session, image, make_user(db.session, "annotator@example.com"), "annotator")
        make_user(db.session, "outsider@example.com")
        db.session.commit()
        ids = {"text": text.id, "image": image.id}
    auth.login("manager@example.com", "password123")
    return ids


def upload(client: FlaskClient, project_id: int, *files: tuple[bytes, str], **headers: str) -> Any:
    return client.post(
        f"/projects/{project_id}/import",
        data={
            "csrf_token": csrf(client),
            "files": [(io.BytesIO(body), name) for body, name in files],
        },
        content_type="multipart/form-data",
        headers=headers,
    )


def test_imports_csv_and_jsonl_and_reports_counts(
    app: Flask, client: FlaskClient, projects: dict[str, int]
) -> None:
    response = upload(
        client,
        projects["text"],
        (b"text\nfirst\nsecond\n", "reviews.csv"),
        (b'{"text": "third"}\n', "more.jsonl"),
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Imported 3 tasks" in body
    assert '<td>reviews.csv</td><td>csv</td><td class="num">2</td>' in body
    with app.app_context():
        assert get_project(db.session, projects["text"]).num_tasks == 3


def test_rejected_file_names_row_and_field_and_imports_nothing(
    app: Flask, client: FlaskClient, projects: dict[str, int]
) -> None:
    response = upload(
        client,
        projects["text"],
        (b"text\nfine\n", "good.csv"),
        (b"title\nno text column\n", "bad.csv"),
    )
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Nothing was imported" in body
    assert "<dt>File</dt><dd>bad.csv</dd>" in body
    assert "<dt>Row</dt><dd>2</dd>" in body
    assert "<code>text</code>" in body
    with app.app_context():
        assert get_project(db.session, projects["text"]).num_tasks == 0


def test_script_upload_gets_json_report(client: FlaskClient, projects: dict[str, int]) -> None:
    ok = upload(client, projects["text"], (b"text\nhi\n", "a.tsv"), Accept="application/json")
    assert ok.get_json()["report"]["task_count"] == 1
    bad = upload(client, projects["text"], (b"zzz", "notes.docx"), Accept="application/json")
    assert bad.status_code == 400
    assert "cannot import 'notes.docx'" in bad.get_json()["error"]["message"]


def test_image_upload_becomes_a_task_with_a_member_only_url(
    app: Flask, client: FlaskClient, auth: Any, projects: dict[str, int], tmp_path: Path
) -> None:
    response = upload(client, projects["image"], (PNG, "cat photo.png"))
    assert response.status_code == 200
    with app.app_context():
        tasks, _ = list_tasks(db.session, projects["image"])
        url = tasks[0].data["image"]
    assert re.fullmatch(rf"/projects/{projects['image']}/media/[0-9a-f]{{12}}-cat_photo\.png", url)
    stored = list((tmp_path / "home" / "objects" / "uploads" / str(projects["image"])).iterdir())
    assert [p.read_bytes() for p in stored] == [PNG]
    served = client.get(url)
    assert served.data == PNG
    assert served.headers["Content-Security-Policy"].startswith("sandbox")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    auth.logout()
    auth.login("annotator@example.com", "password123")
    assert client.get(url).status_code == 200
    auth.logout()
    auth.login("outsider@example.com", "password123")
    assert client.get(url).status_code == 404


def test_media_outside_the_project_folder_is_not_served(
    client: FlaskClient, projects: dict[str, int]
) -> None:
    assert client.get(f"/projects/{projects['image']}/media/../secret_key").status_code == 404
    assert client.get(f"/projects/{projects['image']}/media/missing.png").status_code == 404


def test_image_in_a_text_project_is_rejected(
    client: FlaskClient, projects: dict[str, int], tmp_path: Path
) -> None:
    response = upload(client, projects["text"], (PNG, "cat.png"))
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "the labeling config has no object tag reading image files" in body
    assert "<dt>File</dt><dd>cat.png</dd>" in body
    folder = tmp_path / "home" / "objects" / "uploads" / str(projects["text"])
    assert not folder.exists() or not list(folder.iterdir())


def test_upload_without_files_explains_itself(
    client: FlaskClient, projects: dict[str, int]
) -> None:
    response = client.post(
        f"/projects/{projects['text']}/import", data={"csrf_token": csrf(client)}
    )
    assert response.status_code == 400
    assert "choose at least one file" in response.get_data(as_text=True)
