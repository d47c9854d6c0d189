"""Brush masks through the REST API: submit Label Studio's RLE, refuse non-masks, export."""

import io
import json
import zipfile

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from labelops.domain.brush_rle import MAX_RLE_BYTES, decode_mask
from tests.domain.formats.helpers import brush
from tests.web.helpers import user_with_token

CONFIG = """<View>
  <Image name="image" value="$image"/>
  <BrushLabels name="tag" toName="image"><Label value="Road"/><Label value="Sky"/></BrushLabels>
</View>"""
W, H = 40, 30


@pytest.fixture
def project(client: FlaskClient, app: Flask) -> tuple[int, int, dict[str, str]]:
    _, admin = user_with_token(app, "admin@example.com", admin=True)
    response = client.post(
        "/api/projects", json={"title": "Masks", "label_config": CONFIG}, headers=admin
    )
    assert response.status_code == 201, response.json
    project_id = response.json["id"]
    response = client.post(
        f"/api/projects/{project_id}/import?return_task_ids=true",
        json=[{"image": "https://example.com/street.png"}],
        headers=admin,
    )
    assert response.status_code == 201, response.json
    return project_id, response.json["task_ids"][0], admin


def _mask() -> np.ndarray:
    mask = np.zeros((H, W), dtype=np.uint8)
    mask[5:15, 10:30] = 1  # 200 px
    return mask


def _item(**changes: object) -> dict:
    item = brush(_mask(), "Road", rid="m1")
    item.update(changes)
    return item


def test_submits_a_mask_and_exports_it_as_coco_and_png(client, project):
    project_id, task_id, admin = project
    response = client.post(
        f"/api/tasks/{task_id}/annotations", json={"result": [_item()]}, headers=admin
    )
    assert response.status_code == 201, response.json
    stored = client.get(f"/api/tasks/{task_id}", headers=admin).json["annotations"][0]["result"][0]
    assert stored["value"]["format"] == "rle"
    assert int((decode_mask(stored["value"]["rle"], W, H) > 0).sum()) == 200

    formats = client.get(f"/api/projects/{project_id}/export/formats", headers=admin).json
    offered = {f["name"] for f in formats if not f.get("disabled")}
    assert {"COCO", "BRUSH_TO_PNG", "BRUSH_TO_NUMPY"} <= offered

    response = client.get(f"/api/projects/{project_id}/export?exportType=COCO", headers=admin)
    assert response.status_code == 200
    coco = json.loads(zipfile.ZipFile(io.BytesIO(response.data)).read("result.json"))
    (annotation,) = coco["annotations"]
    assert annotation["segmentation"]["size"] == [H, W]
    assert annotation["bbox"] == [10, 5, 20, 10] and annotation["area"] == 200

    response = client.get(
        f"/api/projects/{project_id}/export?exportType=BRUSH_TO_PNG", headers=admin
    )
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    (name,) = archive.namelist()
    assert name.startswith(f"task-{task_id}-annotation-") and name.endswith("-tag-Road-0.png")
    assert (np.array(Image.open(io.BytesIO(archive.read(name)))) == _mask() * 255).all()


@pytest.mark.parametrize(
    ("item", "field"),
    [
        (_item(original_width=None), "original_width"),
        (_item(original_width=W + 1), "value.rle"),
        (_item(value={"format": "rle", "rle": [-1, 2, 3], "brushlabels": ["Road"]}), "value.rle"),
        (_item(value={"format": "rle", "rle": [0] * 3, "brushlabels": ["Road"]}), "value.rle"),
        (_item(value={"format": "rle", "rle": "00", "brushlabels": ["Road"]}), "value.rle"),
        (_item(value={"format": "png", "rle": [], "brushlabels": ["Road"]}), "value.format"),
        (_item(original_width=10**6, original_height=10**6), "original_width"),
    ],
)
def test_refuses_results_that_are_no_mask_with_a_422(client, project, item, field):
    _, task_id, admin = project
    response = client.post(
        f"/api/tasks/{task_id}/annotations", json={"result": [item]}, headers=admin
    )
    assert response.status_code == 422, response.json
    assert field in json.dumps(response.json)


def test_refuses_an_rle_over_the_limit(client, project):
    _, task_id, admin = project
    huge = _item(value={"format": "rle", "rle": [0] * (MAX_RLE_BYTES + 1), "brushlabels": ["Road"]})
    response = client.post(
        f"/api/tasks/{task_id}/annotations", json={"result": [huge]}, headers=admin
    )
    assert 400 <= response.status_code < 500


def test_a_non_member_can_neither_submit_nor_export_masks(client, app, project):
    project_id, task_id, _ = project
    _, outsider = user_with_token(app, "outsider@example.com")
    response = client.post(
        f"/api/tasks/{task_id}/annotations", json={"result": [_item()]}, headers=outsider
    )
    assert response.status_code in (403, 404)
    response = client.get(
        f"/api/projects/{project_id}/export?exportType=BRUSH_TO_PNG", headers=outsider
    )
    assert response.status_code in (403, 404)
