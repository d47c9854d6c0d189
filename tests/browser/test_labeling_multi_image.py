"""Several images in one task (<Image valueList>): a page switcher, regions with item_index."""

import requests
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.labeling_helpers import (
    annotations,
    assert_matches,
    create_project,
    drag,
    normalized,
    open_labeling,
    submit,
    wait_ready,
)
from tests.browser.test_labeling_image import png

CONFIG = """
<View>
  <Image name="pages" valueList="$images"/>
  <RectangleLabels name="box" toName="pages">
    <Label value="Stamp"/><Label value="Signature"/>
  </RectangleLabels>
</View>
"""
SHOWN = ".lo-multi-image > .lo-image:not([hidden])"


def at(page, x: float, y: float) -> tuple[float, float]:
    """Screen point at x%, y% of the image on show."""
    box = page.locator(f"{SHOWN} .lo-stage svg").bounding_box()
    return box["x"] + box["width"] * x / 100, box["y"] + box["height"] * y / 100


def test_switches_images_and_stores_each_region_with_its_item_index(live_server, page):
    media = {"p1.png": png(400, 200), "p2.png": png(300, 300), "p3.png": png(200, 100)}
    images = ["media:p1.png", "media:p2.png", "media:p3.png"]
    project_id, (task_id,) = create_project(live_server, CONFIG, [{"images": images}], media=media)
    open_labeling(page, live_server, project_id)
    position = page.locator(".lo-pages-position")
    expect(position).to_have_text("Image 1 of 3")
    expect(page.get_by_role("button", name="Previous image")).to_be_disabled()
    page.wait_for_selector(f"{SHOWN} .lo-stage svg[viewBox]")

    page.click(".lo-label[data-value=Stamp]")
    drag(page, at(page, 10, 20), at(page, 50, 60))
    expect(page.locator(f"{SHOWN} svg [data-region]")).to_have_count(1)

    page.get_by_role("button", name="Next image").click()
    expect(position).to_have_text("Image 2 of 3")
    expect(page.locator(f"{SHOWN} svg [data-region]")).to_have_count(0)
    page.click(".lo-label[data-value=Signature]")
    drag(page, at(page, 20, 20), at(page, 60, 40))
    expect(page.locator(f"{SHOWN} svg [data-region]")).to_have_count(1)

    page.get_by_role("button", name="Next image").click()
    expect(position).to_have_text("Image 3 of 3")
    expect(page.get_by_role("button", name="Next image")).to_be_disabled()
    expect(page.locator(f"{SHOWN} svg [data-region]")).to_have_count(0)

    # Picking the first region in the list brings its image back.
    page.locator(".lo-region-list .lo-region").first.click()
    expect(position).to_have_text("Image 1 of 3")
    expect(page.locator(f"{SHOWN} svg [data-region]")).to_have_count(1)
    screenshot(page, "labeling-multi-image")
    submit(page)

    def box(label, index, width, height, value):
        return {
            "id": f"r{index + 1}",
            "from_name": "box",
            "to_name": "pages",
            "type": "rectanglelabels",
            "item_index": index,
            "original_width": width,
            "original_height": height,
            "image_rotation": 0,
            "value": {**value, "rotation": 0, "rectanglelabels": [label]},
        }

    expected = [
        box("Stamp", 0, 400, 200, {"x": 10, "y": 20, "width": 40, "height": 40}),
        box("Signature", 1, 300, 300, {"x": 20, "y": 20, "width": 40, "height": 20}),
    ]
    (annotation,) = annotations(live_server, task_id)
    assert_matches(normalized(annotation["result"]), expected)

    # Opened again, each region is on its own image.
    page.goto(f"{live_server.url}/projects/{project_id}/label?task={task_id}")
    wait_ready(page)
    expect(page.locator(f"{SHOWN} svg [data-region]")).to_have_count(1)
    page.get_by_role("button", name="Next image").click()
    expect(position).to_have_text("Image 2 of 3")
    expect(page.locator(f"{SHOWN} svg [data-region]")).to_have_count(1)

    # An item_index past the task's images is refused, naming the field.
    bad = [{**expected[0], "id": "x1", "item_index": 3}]
    response = requests.patch(
        f"{live_server.url}/api/annotations/{annotation['id']}",
        json={"result": bad},
        headers=live_server.api_headers(),
        timeout=10,
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "item_index"
    assert "past the task's 3 items" in response.json()["detail"]
