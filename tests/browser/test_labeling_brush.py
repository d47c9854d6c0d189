"""Brush masks in the browser: paint, erase, submit as Label Studio's RLE, reload and show."""

import io

import numpy as np
import requests
from PIL import Image
from playwright.sync_api import expect

from labelops.domain.brush_rle import decode_mask, encode_mask
from labelops.domain.label_interface import LABELS_CONTROL_TAGS, SUPPORTED_CONTROL_TAGS
from tests.browser.conftest import screenshot
from tests.browser.labeling_helpers import (
    annotations,
    create_project,
    drag,
    open_labeling,
    submit,
)

BRUSH_CONFIG = """
<View>
  <Image name="image" value="$image"/>
  <BrushLabels name="tag" toName="image">
    <Label value="Road" background="#ff0000"/><Label value="Sky" background="#0000ff"/>
  </BrushLabels>
</View>
"""
WIDTH, HEIGHT = 200, 100


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (WIDTH, HEIGHT), "#8fb3d9").save(out, format="PNG")
    return out.getvalue()


def at(page, x: float, y: float) -> tuple[float, float]:
    """Screen point at pixel (x, y) of the image, whatever its displayed size."""
    box = page.locator(".lo-stage svg").bounding_box()
    return box["x"] + box["width"] * x / WIDTH, box["y"] + box["height"] * y / HEIGHT


def set_brush_size(page, size: int) -> None:
    page.locator("input[aria-label='Brush size']").evaluate(
        "(el, size) => { el.value = String(size); el.dispatchEvent(new Event('input')); }", size
    )


def painted(item: dict) -> np.ndarray:
    assert item["value"]["format"] == "rle"
    return decode_mask(item["value"]["rle"], item["original_width"], item["original_height"]) > 0


def test_paints_erases_submits_and_shows_masks_again(live_server, page):
    project_id, (task_id,) = create_project(
        live_server, BRUSH_CONFIG, [{"image": "media:scene.png"}], media={"scene.png": png()}
    )
    open_labeling(page, live_server, project_id)
    page.wait_for_selector(".lo-stage svg[viewBox]")

    page.click(".lo-label[data-value=Road]")
    set_brush_size(page, 20)
    size = page.locator("input[aria-label='Brush size']")
    page.keyboard.press("]")
    expect(size).to_have_value("25")
    page.keyboard.press("[")
    expect(size).to_have_value("20")
    page.mouse.move(*at(page, 100, 50))  # the brush outline follows the pointer
    expect(page.locator("circle.lo-tool-cursor")).to_have_attribute("r", "10")
    drag(page, at(page, 20, 50), at(page, 120, 50))  # a 100 px stroke, 20 px wide
    page.wait_for_selector("svg image.lo-brush")
    drag(page, at(page, 20, 80), at(page, 60, 80))  # the same label: the same region
    assert page.locator(".lo-region").count() == 1

    page.click("button:has-text('Eraser')")
    drag(page, at(page, 70, 30), at(page, 70, 70))  # cut the first stroke in two
    page.click("button:has-text('Eraser')")

    page.click(".lo-label[data-value=Sky]")
    drag(page, at(page, 150, 15), at(page, 190, 15))
    expect(page.locator("svg image.lo-brush")).to_have_count(2)
    screenshot(page, "labeling-brush")
    submit(page)

    (annotation,) = annotations(live_server, task_id)
    road, sky = annotation["result"]
    assert road["type"] == sky["type"] == "brushlabels"
    assert road["value"]["brushlabels"] == ["Road"] and sky["value"]["brushlabels"] == ["Sky"]
    assert (road["original_width"], road["original_height"]) == (WIDTH, HEIGHT)
    road_mask, sky_mask = painted(road), painted(sky)
    # Stroke 1: 100 x 20 plus round caps (~2314 px), minus the eraser's 20 x 20 cut; stroke 2:
    # 40 x 20 plus caps (~1114 px).
    assert 2700 < road_mask.sum() < 3300
    assert not road_mask[50, 65:76].any()  # erased
    assert road_mask[50, 30] and road_mask[50, 110] and road_mask[80, 40]
    assert 900 < sky_mask.sum() < 1300
    assert sky_mask[15, 170] and not sky_mask[50, 100]

    page.goto(f"{live_server.url}/projects/{project_id}/label?task={task_id}")
    expect(page.locator("svg image.lo-brush")).to_have_count(2)
    assert page.locator(".lo-region").count() == 2
    # With no label active a click selects the mask under it, picked by its pixels.
    page.mouse.click(*at(page, 170, 15))
    page.wait_for_selector("svg image.lo-brush.selected")


def test_shows_a_mask_encoded_by_the_server_and_encodes_as_it_decodes(live_server, page):
    mask = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    mask[10:40, 30:90] = 1  # 1800 px
    item = {
        "id": "m1",
        "from_name": "tag",
        "to_name": "image",
        "type": "brushlabels",
        "original_width": WIDTH,
        "original_height": HEIGHT,
        "image_rotation": 0,
        "value": {"format": "rle", "rle": encode_mask(mask), "brushlabels": ["Sky"]},
    }
    project_id, (task_id,) = create_project(
        live_server, BRUSH_CONFIG, [{"image": "media:scene.png"}], media={"scene.png": png()}
    )
    requests.post(
        f"{live_server.url}/api/tasks/{task_id}/annotations",
        json={"result": [item]},
        headers=live_server.api_headers(),
        timeout=10,
    ).raise_for_status()
    open_labeling(page, live_server, project_id, f"?task={task_id}")
    expect(page.locator("svg image.lo-brush")).to_have_count(1)
    counts = page.evaluate(
        """async ([rle, w, h]) => {
          const { decodeMask, encodeMask } = await import('/static/labeling/rle.js');
          const mask = decodeMask(rle, w, h);
          return { painted: mask.reduce((a, b) => a + b, 0), again: encodeMask(mask) };
        }""",
        [item["value"]["rle"], WIDTH, HEIGHT],
    )
    assert counts["painted"] == 1800
    assert counts["again"] == item["value"]["rle"]

    # Lone words as one-word literal blocks, as Label Studio's converter writes them: 2 x 1 px.
    header = "0" * 28 + "1000" + "00111" + "0010" + "0011" + "0111" + "1111"
    bits = header + "0" + "00" + "000" + "00000111" + "1" + "00" + "010" + "11111111"
    bits += "1" + "00" + "011" + "00000000"
    bits += "0" * (-len(bits) % 8)
    vector = [int(bits[i : i + 8], 2) for i in range(0, len(bits), 8)]
    decoded = page.evaluate(
        """async ([rle]) => {
          const { decodeMask, decodeWords } = await import('/static/labeling/rle.js');
          let refused = null;
          try { decodeMask(rle, 3, 1); } catch (error) { refused = error.message; }
          return { words: [...decodeWords(rle)], mask: [...decodeMask(rle, 2, 1)], refused };
        }""",
        [vector],
    )
    assert decoded["words"] == [7, 255, 255, 255, 0, 0, 0, 0]
    assert decoded["mask"] == [1, 0]
    assert "holds 8 values, not the image's 12" in decoded["refused"]


def test_the_browsers_region_tags_are_the_servers(live_server, page):
    project_id, _ = create_project(
        live_server, BRUSH_CONFIG, [{"image": "media:scene.png"}], media={"scene.png": png()}
    )
    open_labeling(page, live_server, project_id)
    tags = page.evaluate(
        """async () => {
          const store = await import('/static/labeling/store.js');
          return { pickers: [...store.LABEL_PICKERS], shapes: [...store.SHAPE_TOOLS] };
        }"""
    )
    # Every label control the server knows picks labels in the browser.
    assert set(tags["pickers"]) == set(LABELS_CONTROL_TAGS)
    shapes = {"Rectangle", "Polygon", "KeyPoint", "Ellipse", "Brush", "VideoRectangle"}
    assert set(tags["shapes"]) == shapes and shapes <= SUPPORTED_CONTROL_TAGS
