"""OCR and documents in the browser, stored as Label Studio stores them.

<OcrLabels> boxes on an image with a per-region transcription, and a <Pdf> document beside its
classification and a rating that names no object.
"""

from tests.browser.labeling_helpers import (
    annotations,
    assert_matches,
    create_project,
    drag,
    normalized,
    open_labeling,
    submit,
)
from tests.browser.test_labeling_image import at, png

OCR_CONFIG = """
<View>
  <Image name="image" value="$image"/>
  <OcrLabels name="ocr" toName="image"><Label value="Word"/><Label value="Amount"/></OcrLabels>
  <TextArea name="transcription" toName="image" perRegion="true" rows="1"/>
</View>
"""
PDF_CONFIG = """
<View>
  <Rating name="rating" maxRating="5"/>
  <Choices name="kind" toName="pdf"><Choice value="Invoice"/><Choice value="Letter"/></Choices>
  <Pdf name="pdf" value="$pdf"/>
</View>
"""


def test_ocr_boxes_keep_their_labels_and_transcription(live_server, page):
    project_id, (task_id,) = create_project(
        live_server, OCR_CONFIG, [{"image": "media:scan.png"}], media={"scan.png": png()}
    )
    open_labeling(page, live_server, project_id)
    page.wait_for_selector(".lo-stage svg[viewBox]")
    page.click(".lo-label[data-value=Amount]")
    drag(page, at(page, 10, 20), at(page, 50, 60))
    assert page.locator(".lo-region-desc").first.inner_text() == "box 40.0\u00d740.0%"
    page.fill("[data-per-region=transcription] textarea", "42.00 EUR")
    page.keyboard.press("Enter")
    submit(page)

    box = {"x": 10.0, "y": 20.0, "width": 40.0, "height": 40.0, "rotation": 0}
    size = {"original_width": 400, "original_height": 200, "image_rotation": 0}
    expected = [
        {
            "id": "r1",
            "from_name": "ocr",
            "to_name": "image",
            "type": "ocrlabels",
            "value": {**box, "ocrlabels": ["Amount"]},
            **size,
        },
        {
            "id": "r1",
            "from_name": "transcription",
            "to_name": "image",
            "type": "textarea",
            "value": {**box, "text": ["42.00 EUR"]},
            **size,
        },
    ]
    (annotation,) = annotations(live_server, task_id)
    assert_matches(normalized(annotation["result"]), expected)


def test_pdf_shows_in_a_frame_and_a_rating_without_to_name_is_stored(live_server, page):
    tasks = [{"pdf": "https://example.com/report.pdf"}, {"pdf": "javascript:alert(1)"}]
    project_id, (first, second) = create_project(live_server, PDF_CONFIG, tasks)
    page.route("https://example.com/**", lambda route: route.fulfill(status=404, body=""))
    open_labeling(page, live_server, project_id, f"?task={first}")
    frame = page.locator("iframe.lo-pdf[data-object=pdf]")
    assert frame.get_attribute("src") == "https://example.com/report.pdf"
    page.locator(".lo-star").nth(3).click()
    page.get_by_label("Invoice").check()
    submit(page)
    result = normalized(annotations(live_server, first)[0]["result"])
    assert_matches(
        sorted(result, key=lambda item: item["from_name"]),
        [
            {
                "id": "r2",
                "from_name": "kind",
                "to_name": "pdf",
                "type": "choices",
                "value": {"choices": ["Invoice"]},
            },
            {
                "id": "r1",
                "from_name": "rating",
                "to_name": "pdf",
                "type": "rating",
                "value": {"rating": 4},
            },
        ],
    )

    open_labeling(page, live_server, project_id, f"?task={second}")
    assert page.locator("iframe.lo-pdf").count() == 0
    notice = page.locator(".lo-unsupported[data-object=pdf]")
    assert "only an absolute http(s) address" in notice.inner_text()
