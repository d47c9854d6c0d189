"""Importing Label Studio's annotated formats through the REST API (annotations or predictions)."""

import io
import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import NER_CONFIG
from tests.web.helpers import user_with_token

BOX_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="cat"/>
    <Label value="dog"/>
  </RectangleLabels>
</View>"""


@pytest.fixture
def admin(app: Flask) -> dict[str, str]:
    return user_with_token(app, "admin@example.com", admin=True)[1]


def _project(client: FlaskClient, headers: dict[str, str], config: str, title: str) -> int:
    response = client.post(
        "/api/projects", json={"title": title, "label_config": config}, headers=headers
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def _box(x: float, y: float, w: float, h: float, label: str) -> dict:
    return {
        "from_name": "label",
        "to_name": "image",
        "type": "rectanglelabels",
        "original_width": 400,
        "original_height": 200,
        "image_rotation": 0,
        "value": {
            "x": x,
            "y": y,
            "width": w,
            "height": h,
            "rotation": 0,
            "rectanglelabels": [label],
        },
    }


def _upload(client, pid, headers, name, payload: bytes, **form) -> object:
    data = {"file": (io.BytesIO(payload), name), **form}
    return client.post(
        f"/api/projects/{pid}/import",
        data=data,
        headers=headers,
        content_type="multipart/form-data",
    )


def test_coco_export_imports_back_as_predictions(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    source = _project(client, admin, BOX_CONFIG, "boxes")
    tasks = [
        {
            "data": {"image": "/media/a/cat.jpg"},
            "annotations": [{"result": [_box(10, 20, 30, 40, "cat"), _box(50, 50, 25, 25, "dog")]}],
        },
        {
            "data": {"image": "/media/b/cat.jpg"},
            "annotations": [{"result": [_box(0, 0, 50, 50, "dog")]}],
        },
    ]
    assert (
        client.post(f"/api/projects/{source}/import", json=tasks, headers=admin).status_code == 201
    )
    exported = client.get(f"/api/projects/{source}/export?exportType=COCO", headers=admin)
    assert exported.status_code == 200 and exported.mimetype == "application/zip"

    target = _project(client, admin, BOX_CONFIG, "copy")
    response = _upload(
        client, target, admin, "coco.zip", exported.get_data(), **{"as": "predictions"}
    )
    assert response.status_code == 201, response.json
    assert response.json["task_count"] == 2 and response.json["prediction_count"] == 2
    assert response.json["annotation_count"] == 0
    listed = client.get(f"/api/tasks?project={target}&fields=all", headers=admin).json["tasks"]
    boxes = sorted(
        (
            r["value"]["x"],
            r["value"]["y"],
            r["value"]["width"],
            r["value"]["height"],
            r["value"]["rectanglelabels"][0],
        )
        for t in listed
        for p in t["predictions"]
        for r in p["result"]
    )
    expected = [(0, 0, 50, 50, "dog"), (10, 20, 30, 40, "cat"), (50, 50, 25, 25, "dog")]
    for got, want in zip(boxes, expected, strict=True):
        assert got[4] == want[4]
        assert got[:4] == pytest.approx(want[:4], abs=1e-6)


def test_conll_import_creates_span_annotations(client: FlaskClient, admin: dict[str, str]) -> None:
    pid = _project(client, admin, NER_CONFIG, "ner")
    conll = (
        b"-DOCSTART- -X- O\n\n"
        b"Ada -X- _ B-PER\nLovelace -X- _ I-PER\njoined -X- _ O\nIBM -X- _ B-ORG\n\n"
    )
    response = _upload(client, pid, admin, "ner.conll", conll)
    assert response.status_code == 201, response.json
    task = client.get(f"/api/tasks?project={pid}&fields=all", headers=admin).json["tasks"][0]
    assert task["data"]["text"] == "Ada Lovelace joined IBM"
    spans = sorted(
        (r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
        for r in task["annotations"][0]["result"]
    )
    assert spans == [(0, 12, "PER"), (20, 23, "ORG")]


def test_unknown_format_and_bad_as_are_named(client: FlaskClient, admin: dict[str, str]) -> None:
    pid = _project(client, admin, NER_CONFIG, "ner")
    unknown = _upload(client, pid, admin, "x.bin", b"...", format="PDF")
    assert unknown.status_code == 400 and "PDF" in unknown.json["detail"]
    bad_as = _upload(
        client, pid, admin, "t.json", json.dumps([{"text": "a"}]).encode(), **{"as": "drafts"}
    )
    assert bad_as.status_code == 400 and "drafts" in bad_as.json["detail"]


def test_a_bad_item_in_a_coco_file_rejects_the_file(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    pid = _project(client, admin, BOX_CONFIG, "boxes")
    coco = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 100}],
        "categories": [{"id": 0, "name": "cat"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [1, 1, 10, 10]}],
    }
    response = _upload(client, pid, admin, "coco.json", json.dumps(coco).encode(), format="COCO")
    assert response.status_code == 400
    assert "coco.json" in response.json["detail"]
    assert client.get(f"/api/tasks?project={pid}", headers=admin).json["total"] == 0
