"""The labeling stream in the browser: predictions pre-filled, skip, update and the end screen.

Also: a clear message for tags the view cannot show.
"""

from tests.browser.conftest import screenshot
from tests.browser.labeling_helpers import (
    annotations,
    assert_matches,
    create_project,
    open_labeling,
    submit,
    wait_ready,
)

NER_CONFIG = """
<View>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <Text name="text" value="$text"/>
  <Choices name="topic" toName="text" showInline="true">
    <Choice value="News"/><Choice value="Sports"/>
  </Choices>
</View>
"""
TEXT = "Ada Lovelace joined Acme."
PREDICTED = [
    {
        "id": "p1",
        "from_name": "ner",
        "to_name": "text",
        "type": "labels",
        "value": {"start": 0, "end": 12, "text": "Ada Lovelace", "labels": ["PER"]},
    },
    {
        "id": "p2",
        "from_name": "ner",
        "to_name": "text",
        "type": "labels",
        "value": {"start": 20, "end": 24, "text": "Acme", "labels": ["PER"]},
    },
    {
        "id": "p3",
        "from_name": "topic",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["News"]},
    },
]


def test_prefills_predictions_skips_updates_and_ends(live_server, page):
    tasks = [
        {"data": {"text": TEXT}, "predictions": [{"model_version": "v1", "result": PREDICTED}]},
        {"data": {"text": "Nothing to see here."}},
    ]
    project_id, (first, second) = create_project(
        live_server,
        NER_CONFIG,
        tasks,
        expert_instruction="<p>Mark <b>people</b>.</p>",
        show_instruction=True,
    )
    open_labeling(page, live_server, project_id)
    assert "Mark people." in page.locator(".lo-instructions").inner_text()
    assert page.locator(".lo-region").count() == 2
    assert page.is_checked("[data-control=topic] input[value=News]")

    page.locator(".lo-span[data-region=p2]").click()  # fix the prediction: Acme is an ORG
    page.click(".lo-label[data-value=ORG]")
    submit(page)

    corrected = [dict(item) for item in PREDICTED]
    corrected[1] = {**PREDICTED[1], "value": {**PREDICTED[1]["value"], "labels": ["ORG"]}}
    (annotation,) = annotations(live_server, first)
    assert_matches(annotation["result"], corrected)

    assert page.locator(".lo-task-id").inner_text() == f"Task #{second}"
    with page.expect_navigation():
        page.click("#lo-skip")
    wait_ready(page)
    (skipped,) = annotations(live_server, second)
    assert skipped["was_cancelled"] is True and skipped["result"] == []
    assert page.locator(".lo-done h2").inner_text() == "No more tasks"
    screenshot(page, "labeling-done")

    page.goto(f"{live_server.url}/projects/{project_id}/label?task={first}")
    wait_ready(page)
    assert page.locator("#lo-submit").inner_text() == "Update"
    page.check("[data-control=topic] input[value=Sports]")
    page.click("#lo-submit")
    page.wait_for_selector(".lo-notice.show")
    (updated,) = annotations(live_server, first)
    assert updated["id"] == annotation["id"]
    assert updated["result"][-1]["value"] == {"choices": ["Sports"]}


def test_offers_brush_labels_next_to_other_controls(live_server, page):
    config = """
    <View>
      <Image name="image" value="$image"/>
      <BrushLabels name="mask" toName="image"><Label value="Sky"/></BrushLabels>
      <Choices name="ok" toName="image"><Choice value="Fine"/></Choices>
    </View>
    """
    project_id, _ = create_project(live_server, config, [{"image": "data:,"}])
    open_labeling(page, live_server, project_id)
    assert page.locator(".lo-label[data-value=Sky]").is_visible()
    assert "<BrushLabels>" not in page.locator("body").inner_text()
    assert page.locator("[data-control=ok] input[value=Fine]").is_visible()
