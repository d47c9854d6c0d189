"""Image labeling in the browser: boxes (draw, resize), polygons, keypoints, ellipses, zoom."""

import io

from PIL import Image, ImageDraw

from tests.browser.conftest import screenshot
from tests.browser.labeling_helpers import (
    annotations,
    assert_matches,
    create_project,
    drag,
    normalized,
    open_labeling,
    submit,
)

IMAGE_CONFIG = """
<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="Car"/><Label value="Tree"/>
  </RectangleLabels>
  <PolygonLabels name="poly" toName="image"><Label value="Road"/></PolygonLabels>
  <KeyPointLabels name="kp" toName="image"><Label value="Eye"/></KeyPointLabels>
  <EllipseLabels name="ell" toName="image"><Label value="Ball"/></EllipseLabels>
  <Choices name="weather" toName="image" showInline="true">
    <Choice value="Sunny"/><Choice value="Rainy"/>
  </Choices>
</View>
"""


def png(width: int = 400, height: int = 200) -> bytes:
    image = Image.new("RGB", (width, height), "#8fb3d9")
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, height * 0.7, width, height], fill="#6b8e23")
    draw.ellipse([300, 20, 360, 80], fill="#ffd700")
    draw.rectangle([60, 60, 180, 120], fill="#b22222")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def at(page, x: float, y: float) -> tuple[float, float]:
    """Screen point at x%, y% of the displayed image (whatever the zoom)."""
    box = page.locator(".lo-stage svg").bounding_box()
    return box["x"] + box["width"] * x / 100, box["y"] + box["height"] * y / 100


def test_draws_resizes_and_saves_shapes_in_percent(live_server, page):
    project_id, (task_id,) = create_project(
        live_server, IMAGE_CONFIG, [{"image": "media:scene.png"}], media={"scene.png": png()}
    )
    open_labeling(page, live_server, project_id)
    page.wait_for_selector(".lo-stage svg[viewBox]")

    page.click(".lo-label[data-value=Car]")
    drag(page, at(page, 10, 20), at(page, 50, 60))
    page.mouse.click(*at(page, 30, 40))  # select the box
    drag(page, at(page, 50, 60), at(page, 60, 70))  # resize by its bottom-right handle
    description = page.locator(".lo-region-desc").first
    assert description.inner_text() == "box 50.0\u00d750.0%"
    page.keyboard.press("Control+z")
    assert description.inner_text() == "box 40.0\u00d740.0%"
    page.keyboard.press("Control+Shift+z")
    assert description.inner_text() == "box 50.0\u00d750.0%"

    page.click(".lo-label[data-value=Road]")
    for point in ((70, 10), (90, 10), (90, 40), (70, 10)):
        page.mouse.click(*at(page, *point))

    page.click(".lo-label[data-value=Ball]")
    drag(page, at(page, 30, 85), at(page, 35, 95))

    page.click(".lo-label[data-value=Eye]")
    page.click("button[aria-label='Zoom in']")
    page.click("button[aria-label='Zoom in']")
    assert page.locator(".lo-image-tools").inner_text().count("156%") == 1
    page.click("text=Pan")
    drag(page, at(page, 50, 50), at(page, 40, 45))  # pan: the image moves, percents do not
    page.click("text=Pan")
    page.mouse.click(*at(page, 80, 60))
    page.click("text=Fit")
    page.click("label:has-text('Sunny')")
    page.locator(".lo-region").first.click()
    screenshot(page, "labeling-image")
    submit(page)

    size = {"original_width": 400, "original_height": 200, "image_rotation": 0}

    def region(name, type_, value):
        return {
            "id": value.pop("id"),
            "from_name": name,
            "to_name": "image",
            "type": type_,
            "value": value,
            **size,
        }

    expected = [
        region(
            "box",
            "rectanglelabels",
            {
                "id": "r1",
                "x": 10.0,
                "y": 20.0,
                "width": 50.0,
                "height": 50.0,
                "rotation": 0,
                "rectanglelabels": ["Car"],
            },
        ),
        region(
            "poly",
            "polygonlabels",
            {
                "id": "r2",
                "points": [[70.0, 10.0], [90.0, 10.0], [90.0, 40.0]],
                "polygonlabels": ["Road"],
            },
        ),
        region(
            "ell",
            "ellipselabels",
            {
                "id": "r3",
                "x": 30.0,
                "y": 85.0,
                "radiusX": 5.0,
                "radiusY": 10.0,
                "rotation": 0,
                "ellipselabels": ["Ball"],
            },
        ),
        region(
            "kp",
            "keypointlabels",
            {"id": "r4", "x": 80.0, "y": 60.0, "width": 1, "keypointlabels": ["Eye"]},
        ),
        {
            "id": "r5",
            "from_name": "weather",
            "to_name": "image",
            "type": "choices",
            "value": {"choices": ["Sunny"]},
        },
    ]
    (annotation,) = annotations(live_server, task_id)
    assert_matches(normalized(annotation["result"]), expected)


PER_REGION_CONFIG = """
<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="Car"/></RectangleLabels>
  <View visibleWhen="region-selected">
    <Choices name="state" toName="image" perRegion="true" showInline="true">
      <Choice value="Parked"/><Choice value="Moving"/>
    </Choices>
    <TextArea name="plate" toName="image" perRegion="true" placeholder="Plate"/>
  </View>
</View>
"""


def test_rotates_a_box_and_describes_it_per_region(live_server, page):
    project_id, (task_id,) = create_project(
        live_server,
        PER_REGION_CONFIG,
        [{"image": "media:square.png"}],
        media={"square.png": png(300, 300)},
    )
    open_labeling(page, live_server, project_id)
    page.wait_for_selector(".lo-stage svg[viewBox]")
    assert not page.locator("[data-control=state]").is_visible()
    page.keyboard.press("1")  # hotkey of "Car"
    drag(page, at(page, 40, 40), at(page, 60, 60))
    page.mouse.click(*at(page, 50, 50))
    handle = page.locator("[data-handle=rotate]").bounding_box()
    start = (handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    drag(page, start, at(page, 90, 50))  # drag the top handle to the right: 90 degrees
    page.check("[data-control=state] input[value=Parked]")
    page.fill("[data-control=plate] textarea", "B-LO 42")
    page.keyboard.press("Enter")
    screenshot(page, "labeling-image-per-region")
    submit(page)

    # Rotated about its center (50%, 50%), the top-left corner moves to the top-right.
    box = {"x": 60.0, "y": 40.0, "width": 20.0, "height": 20.0, "rotation": 90.0}
    size = {"original_width": 300, "original_height": 300, "image_rotation": 0}
    expected = [
        {
            "id": "r1",
            "from_name": "box",
            "to_name": "image",
            "type": "rectanglelabels",
            "value": {**box, "rectanglelabels": ["Car"]},
            **size,
        },
        {
            "id": "r1",
            "from_name": "state",
            "to_name": "image",
            "type": "choices",
            "value": {**box, "choices": ["Parked"]},
            **size,
        },
        {
            "id": "r1",
            "from_name": "plate",
            "to_name": "image",
            "type": "textarea",
            "value": {**box, "text": ["B-LO 42"]},
            **size,
        },
    ]
    (annotation,) = annotations(live_server, task_id)
    assert_matches(normalized(annotation["result"]), expected)


def test_keeps_each_boxes_text_on_its_own_box(live_server, page):
    project_id, (task_id,) = create_project(
        live_server,
        PER_REGION_CONFIG,
        [{"image": "media:square.png"}],
        media={"square.png": png(300, 300)},
    )
    open_labeling(page, live_server, project_id)
    page.wait_for_selector(".lo-stage svg[viewBox]")
    plate = page.locator("[data-control=plate] textarea")
    page.keyboard.press("1")  # hotkey of "Car"
    drag(page, at(page, 10, 10), at(page, 30, 30))
    assert plate.is_visible()  # the new box is selected: its controls show at once
    drag(page, at(page, 60, 60), at(page, 80, 80))
    page.mouse.click(*at(page, 20, 20))  # box 1
    plate.fill("AAA 1")  # no Enter
    page.mouse.click(*at(page, 70, 70))  # box 2
    assert plate.input_value() == ""
    assert page.locator("[data-control=plate] .lo-texts li").count() == 0
    plate.fill("BBB 2")
    page.mouse.click(*at(page, 20, 20))  # back to box 1
    assert page.locator("[data-control=plate] .lo-texts span").all_inner_texts() == ["AAA 1"]
    submit(page)

    (annotation,) = annotations(live_server, task_id)
    result = normalized(annotation["result"])
    plates = {item["id"]: item["value"] for item in result if item["from_name"] == "plate"}
    assert plates["r1"]["text"] == ["AAA 1"] and plates["r1"]["x"] < 20
    assert plates["r2"]["text"] == ["BBB 2"] and plates["r2"]["x"] > 50
