"""Classification controls in the browser, with hotkeys, undo/redo and Ctrl+Enter to submit.

Choices (nested, conditional), taxonomy, text, rating, number and date.
"""

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.labeling_helpers import (
    annotations,
    assert_matches,
    create_project,
    open_labeling,
    wait_ready,
)

CONTROLS_CONFIG = """
<View>
  <Style>.lo-header { color: #096dd9; }</Style>
  <Table name="order" value="$order"/>
  <Text name="text" value="$text"/>
  <Header value="Sentiment"/>
  <Choices name="sentiment" toName="text" choice="single" showInline="true" required="true">
    <Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/>
  </Choices>
  <View visibleWhen="choice-selected" whenTagName="sentiment" whenChoiceValue="Negative">
    <Header value="What went wrong?"/>
    <Choices name="issues" toName="text" choice="multiple">
      <Choice value="Delivery"><Choice value="Late"/><Choice value="Damaged"/></Choice>
      <Choice value="Price"/>
    </Choices>
  </View>
  <Header value="Product (options from the task)"/>
  <Choices name="product" toName="text" value="$products" showInline="true"/>
  <Header value="Topic"/>
  <Taxonomy name="topic" toName="text">
    <Choice value="Product"><Choice value="Shoes"/><Choice value="Bags"/></Choice>
    <Choice value="Service"/>
  </Taxonomy>
  <Header value="Comment"/>
  <TextArea name="comment" toName="text" placeholder="Say why"/>
  <Header value="Stars"/>
  <Rating name="stars" toName="text" maxRating="5"/>
  <Header value="Price paid"/>
  <Number name="price" toName="text" min="0" max="1000"/>
  <Header value="Order date"/>
  <DateTime name="when" toName="text" only="date"/>
</View>
"""


def test_fills_every_classification_control_with_hotkeys_and_undo(live_server, page):
    project_id, (task_id,) = create_project(
        live_server,
        CONTROLS_CONFIG,
        [
            {
                "text": "The shoes came two weeks late.",
                "order": {"id": "A-17", "store": "Berlin"},
                "products": [{"value": "Sneakers"}, {"value": "Boots"}],
            }
        ],
    )
    open_labeling(page, live_server, project_id)
    assert page.locator(".lo-table tr").all_inner_texts() == ["id\tA-17", "store\tBerlin"]
    header = page.locator(".lo-header").first
    assert header.evaluate("h => getComputedStyle(h).color") == "rgb(9, 109, 217)"
    issues = page.locator("[data-control=issues]")
    assert not issues.is_visible()

    with page.expect_response("**/annotations") as response:
        page.keyboard.press("Control+Enter")  # "sentiment" is required: the server says so
    assert response.value.status == 422
    # The page shows the answer once it has read it: wait for that, not for the response.
    expect(page.locator("#lo-error")).to_contain_text("required control 'sentiment' has no result")
    page.keyboard.press("2")  # generated hotkey of "Negative"
    assert page.is_checked("[data-control=sentiment] input[value=Negative]")
    assert issues.is_visible()
    page.check("[data-control=issues] input[value=Late]")
    page.keyboard.press("Control+z")
    assert not page.is_checked("[data-control=issues] input[value=Late]")
    page.keyboard.press("Control+Shift+z")
    assert page.is_checked("[data-control=issues] input[value=Late]")

    page.check("[data-control=product] input[value=Boots]")
    page.locator("[data-control=topic] label", has_text="Shoes").click()
    page.fill("[data-control=comment] textarea", "Arrived two weeks late")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="4 stars").click()
    page.fill("[data-control=price] input", "42.5")
    page.keyboard.press("Tab")
    page.fill("[data-control=when] input", "2024-05-01")
    screenshot(page, "labeling-controls")
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    wait_ready(page)

    def item(name, type_, value):
        return {"from_name": name, "to_name": "text", "type": type_, "value": value}

    expected = [
        item("sentiment", "choices", {"choices": ["Negative"]}),
        item("issues", "choices", {"choices": ["Late"]}),
        item("product", "choices", {"choices": ["Boots"]}),
        item("topic", "taxonomy", {"taxonomy": [["Product", "Shoes"]]}),
        item("comment", "textarea", {"text": ["Arrived two weeks late"]}),
        item("stars", "rating", {"rating": 4}),
        item("price", "number", {"number": 42.5}),
        item("when", "datetime", {"datetime": "2024-05-01"}),
    ]
    (annotation,) = annotations(live_server, task_id)
    result = annotation["result"]
    assert all(isinstance(i.pop("id"), str) for i in result)
    assert_matches(result, expected)
