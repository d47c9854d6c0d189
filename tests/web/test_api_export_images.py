"""Vision exports with their images: file names that say the format, and paths inside the zip."""

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labelops.services.imports import import_rows
from labelops.services.pipeline_storage import create_storage
from labelops.services.users import get_user_by_email
from labelops.settings import Settings
from labelops.web.extensions import db
from tests.factories import add_member, make_project, make_user
from tests.resources import conftest as emulators
from tests.web.helpers import user_with_token

s3_endpoint = emulators.s3_endpoint
bucket = emulators.bucket

BOXES = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image"><Label value="Cat"/></RectangleLabels>
</View>"""
UPLOADED = b"\x89PNG uploaded"
IN_BUCKET = b"\x89PNG in the bucket"


@pytest.fixture
def project(
    app: Flask, bucket: emulators.Bucket, tmp_path: Path
) -> tuple[int, dict[str, str], dict[str, str]]:
    """Three images: uploaded to the project, imported from an S3 bucket, and on the internet."""
    settings = Settings.from_env(tmp_path / "home")
    app.config["LABELOPS_SETTINGS"] = settings
    bucket.store.put_bytes("photos/cat.png", IN_BUCKET, "image/png")
    _, manager = user_with_token(app, "manager@example.com")
    with app.app_context():
        row = make_project(
            db.session, make_user(db.session, "owner@example.com"), label_config=BOXES
        )
        add_member(db.session, row, get_user_by_email(db.session, "manager@example.com"), "manager")
        create_storage(db.session, row, kind="s3", prefix="photos", **bucket.fields)
        upload = settings.uploads_root / str(row.id) / "dog.png"
        upload.parent.mkdir(parents=True)
        upload.write_bytes(UPLOADED)
        images = [
            f"/projects/{row.id}/media/dog.png",
            f"s3://{bucket.fields['bucket']}/photos/cat.png",
            "https://example.com/elsewhere.png",
        ]
        import_rows(
            db.session, row, [(i + 1, {"image": u}) for i, u in enumerate(images)],
            source="test",
        )  # fmt: skip
        db.session.commit()
        project_id = row.id
    _, outsider = user_with_token(app, "outsider@example.com")
    return project_id, manager, outsider


def _export(client: FlaskClient, project_id: int, headers: dict[str, str], query: str) -> Any:
    return client.get(
        f"/api/projects/{project_id}/export?download_all_tasks=true&{query}", headers=headers
    )


@pytest.mark.parametrize("bucket", ["s3"], indirect=True)
@pytest.mark.parametrize("fmt", ["YOLO", "COCO", "VOC"])
def test_a_vision_export_holds_its_images_at_the_paths_it_names(
    client: FlaskClient, project: tuple[int, dict[str, str], dict[str, str]], fmt: str
) -> None:
    project_id, manager, _ = project
    response = _export(client, project_id, manager, f"exportType={fmt}&include_images=true")
    assert response.status_code == 200, response.get_data(as_text=True)
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(
        rf'attachment; filename="project-{project_id}-{fmt}-\d{{8}}-\d{{6}}\.zip"', disposition
    )
    z = zipfile.ZipFile(io.BytesIO(response.data))
    if fmt == "YOLO":
        paths = [p.removeprefix("./") for p in z.read("images.txt").decode().splitlines()]
    elif fmt == "COCO":
        paths = [i["file_name"] for i in json.loads(z.read("result.json"))["images"]]
    else:
        paths = [
            f"images/{re.search(rb'<filename>(.*)</filename>', z.read(m)).group(1).decode()}"
            for m in sorted(z.namelist())
            if m.startswith("Annotations/")
        ]
    assert sorted(paths) == ["images/cat.png", "images/dog.png", "images/elsewhere.png"]
    # The uploaded file and the bucket object are inside; the internet is never fetched.
    assert z.read("images/dog.png") == UPLOADED
    assert z.read("images/cat.png") == IN_BUCKET
    assert "images/elsewhere.png" not in z.namelist()
    sources = z.read("image_sources.tsv").decode()
    assert "images/elsewhere.png\thttps://example.com/elsewhere.png\tno" in sources
    assert not any("/projects/" in p for p in paths)


@pytest.mark.parametrize("bucket", ["s3"], indirect=True)
def test_export_file_names_tell_json_from_json_min_and_images_need_a_vision_format(
    client: FlaskClient, project: tuple[int, dict[str, str], dict[str, str]]
) -> None:
    project_id, manager, outsider = project
    names = {
        fmt: _export(client, project_id, manager, f"exportType={fmt}").headers[
            "Content-Disposition"
        ]
        for fmt in ("JSON", "JSON_MIN")
    }
    assert f"project-{project_id}-JSON-" in names["JSON"]
    assert f"project-{project_id}-JSON_MIN-" in names["JSON_MIN"]
    refused = _export(client, project_id, manager, "exportType=JSON&include_images=true")
    assert refused.status_code == 400
    assert "include_images applies to COCO" in refused.get_json()["detail"]
    bad = _export(client, project_id, manager, "exportType=YOLO&include_images=maybe")
    assert bad.status_code == 400
    # Someone outside the project gets nothing, images or not.
    assert (
        _export(client, project_id, outsider, "exportType=YOLO&include_images=true").status_code
        == 404
    )
