"""Label Studio's YOLO and *_WITH_IMAGES export names over the API: download, unzip, check layout.

The image is 200 x 100 px; a box x 10..40 %, y 20..60 % and a triangle (10, 10) (50, 10)
(30, 60) %. The config has polygons, so YOLO (as Label Studio's) writes point lists, the box as
its 4 corners; YOLO_OBB writes the same lines.
"""

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
from labelops.services.users import get_user_by_email
from labelops.settings import Settings
from labelops.web.extensions import db
from tests.factories import add_member, make_project, make_user
from tests.web.helpers import user_with_token
from tests.worker_helpers import drain

CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image"><Label value="Car"/></RectangleLabels>
  <PolygonLabels name="poly" toName="image"><Label value="Road"/></PolygonLabels>
</View>"""
IMAGE = b"\x89PNG the uploaded dog"
LINES = [
    "0 0.100000 0.200000 0.400000 0.200000 0.400000 0.600000 0.100000 0.600000",
    "1 0.100000 0.100000 0.500000 0.100000 0.300000 0.600000",
]
RESULT = [
    {
        "id": "b",
        "from_name": "label",
        "to_name": "image",
        "type": "rectanglelabels",
        "original_width": 200,
        "original_height": 100,
        "value": {"x": 10, "y": 20, "width": 30, "height": 40, "rectanglelabels": ["Car"]},
    },
    {
        "id": "p",
        "from_name": "poly",
        "to_name": "image",
        "type": "polygonlabels",
        "original_width": 200,
        "original_height": 100,
        "value": {"points": [[10, 10], [50, 10], [30, 60]], "polygonlabels": ["Road"]},
    },
]


@pytest.fixture
def project(app: Flask, tmp_path: Path) -> tuple[int, dict[str, str], dict[str, str]]:
    """One uploaded image with a box and a polygon; a manager and an annotator of the project."""
    settings = Settings.from_env(tmp_path / "home")
    app.config["LABELOPS_SETTINGS"] = settings
    _, manager = user_with_token(app, "manager@example.com")
    _, annotator = user_with_token(app, "annotator@example.com")
    with app.app_context():
        row = make_project(
            db.session, make_user(db.session, "owner@example.com"), label_config=CONFIG
        )
        for email, role in (
            ("manager@example.com", "manager"),
            ("annotator@example.com", "annotator"),
        ):
            add_member(db.session, row, get_user_by_email(db.session, email), role)
        upload = settings.uploads_root / str(row.id) / "dog.png"
        upload.parent.mkdir(parents=True)
        upload.write_bytes(IMAGE)
        item = {
            "data": {"image": f"/projects/{row.id}/media/dog.png"},
            "annotations": [{"result": RESULT}],
        }
        import_rows(db.session, row, [(1, item)], source="test")
        db.session.commit()
        project_id = row.id
    return project_id, manager, annotator


def _unzip(response: Any) -> zipfile.ZipFile:
    assert response.status_code == 200, response.get_data(as_text=True)
    return zipfile.ZipFile(io.BytesIO(response.data))


@pytest.mark.parametrize(
    "fmt", ["YOLO", "YOLO_OBB", "YOLO_WITH_IMAGES", "YOLO_OBB_WITH_IMAGES", "COCO_WITH_IMAGES"]
)
def test_label_studio_yolo_names_download_in_its_layout(
    client: FlaskClient, project: tuple[int, dict[str, str], dict[str, str]], fmt: str
) -> None:
    project_id, manager, annotator = project
    url = f"/api/projects/{project_id}/export?exportType={fmt}"
    response = client.get(url, headers=manager)
    assert re.fullmatch(
        rf'attachment; filename="project-{project_id}-{fmt}-\d{{8}}-\d{{6}}\.zip"',
        response.headers["Content-Disposition"],
    )
    z = _unzip(response)
    names = z.namelist()
    with_images = fmt.endswith("_WITH_IMAGES")
    assert ("images/dog.png" in names) is with_images
    if with_images:
        assert z.read("images/dog.png") == IMAGE
    if fmt == "COCO_WITH_IMAGES":
        doc = json.loads(z.read("result.json"))
        assert [i["file_name"] for i in doc["images"]] == ["images/dog.png"]
        # box x 20..80 px, y 20..60 px; triangle x 20..100 px, y 10..60 px
        assert [a["bbox"] for a in doc["annotations"]] == [
            [20.0, 20.0, 60.0, 40.0],
            [20.0, 10.0, 80.0, 50.0],
        ]
    else:
        assert {"images/", "labels/", "labels/dog.txt", "classes.txt", "notes.json"} <= set(names)
        assert z.read("labels/dog.txt").decode().splitlines() == LINES
        assert z.read("classes.txt") == b"Car\nRoad\n"
        assert json.loads(z.read("notes.json"))["categories"] == [
            {"id": 0, "name": "Car"},
            {"id": 1, "name": "Road"},
        ]
    # only managers export
    assert client.get(url, headers=annotator).status_code == 403


def test_export_formats_lists_the_with_images_names_with_label_studios_guide(
    client: FlaskClient, project: tuple[int, dict[str, str], dict[str, str]]
) -> None:
    project_id, manager, _ = project
    listed = client.get(f"/api/projects/{project_id}/export/formats", headers=manager).json
    by_name = {f["name"]: f for f in listed}
    for name in ("YOLO_WITH_IMAGES", "YOLO_OBB_WITH_IMAGES", "COCO_WITH_IMAGES"):
        assert by_name[name]["disabled"] is False
        assert by_name[name]["link"].endswith("#" + name.removesuffix("_WITH_IMAGES"))


def test_a_snapshot_downloads_as_yolo_with_images(
    app: Flask, client: FlaskClient, project: tuple[int, dict[str, str], dict[str, str]]
) -> None:
    project_id, manager, _ = project
    base = f"/api/projects/{project_id}/exports"
    created = client.post(base + "/", json={"title": "yolo"}, headers=manager)
    assert created.status_code == 201, created.json
    drain(app)
    z = _unzip(
        client.get(
            f"{base}/{created.json['id']}/download?exportType=YOLO_WITH_IMAGES", headers=manager
        )
    )
    assert z.read("images/dog.png") == IMAGE
    assert z.read("labels/dog.txt").decode().splitlines() == LINES


def test_an_unknown_with_images_name_is_refused_with_the_valid_ones(
    client: FlaskClient, project: tuple[int, dict[str, str], dict[str, str]]
) -> None:
    project_id, manager, _ = project
    response = client.get(
        f"/api/projects/{project_id}/export?exportType=VOC_WITH_IMAGES", headers=manager
    )
    assert response.status_code in (400, 404), response.get_data(as_text=True)
    assert "YOLO_WITH_IMAGES" in response.get_data(as_text=True)


def test_the_data_managers_export_menu_offers_label_studios_with_images_names_once(
    client: FlaskClient, auth: Any, project: tuple[int, dict[str, str], dict[str, str]]
) -> None:
    project_id = project[0]
    auth.login("manager@example.com", "password123")
    body = client.get(f"/projects/{project_id}/data").get_data(as_text=True)
    export = f"/api/projects/{project_id}/export?exportType="
    assert f'href="{export}YOLO_WITH_IMAGES"' in body
    assert f'href="{export}COCO_WITH_IMAGES"' in body
    # no second "with images" entry beside a format that has Label Studio's own name for it
    assert f'href="{export}YOLO&amp;include_images=true"' not in body
    assert f'href="{export}YOLO_WITH_IMAGES&amp;include_images=true"' not in body
    # formats without such a name keep the option
    assert f'href="{export}VOC&amp;include_images=true"' in body
