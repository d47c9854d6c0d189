"""Text labeling in the browser: spans by mouse selection (code-point offsets) and relations."""

from tests.browser.conftest import screenshot
from tests.browser.labeling_helpers import (
    annotations,
    assert_matches,
    create_project,
    normalized,
    open_labeling,
    select_text,
    submit,
    utf16_index,
)

NER_CONFIG = """
<View>
  <Header value="Mark people and places"/>
  <Labels name="ner" toName="text">
    <Label value="PER" background="#FFA39E"/>
    <Label value="LOC" background="#69C0FF"/>
  </Labels>
  <Text name="text" value="$text"/>
  <Relations>
    <Relation value="lives_in"/>
  </Relations>
</View>
"""
TEXT = "Zoë 😀 met Анна in 東京 today; then 🎉 she flew to Berlin."


def test_labels_spans_with_code_point_offsets_and_links_them(live_server, page):
    project_id, (task_id,) = create_project(live_server, NER_CONFIG, [{"text": TEXT}])
    open_labeling(page, live_server, project_id)

    page.click(".lo-label[data-value=PER]")
    select_text(page, ".lo-text", *utf16_index(TEXT, "Анна"))
    page.click(".lo-label[data-value=LOC]")
    select_text(page, ".lo-text", *utf16_index(TEXT, "東京"))
    select_text(page, ".lo-text", *utf16_index(TEXT, "Berlin"))
    assert page.locator(".lo-region").count() == 3

    select_text(page, ".lo-text", *utf16_index(TEXT, "today"))  # a mistake: delete it
    page.locator(".lo-region").nth(3).click()
    page.keyboard.press("Delete")
    assert page.locator(".lo-region").count() == 3
    page.keyboard.press("Control+z")
    assert page.locator(".lo-region").count() == 4
    page.keyboard.press("Control+Shift+z")
    assert page.locator(".lo-region").count() == 3

    page.locator(".lo-region").nth(0).get_by_role("button", name="Create relation").click()
    page.locator(".lo-region").nth(1).click()
    page.select_option(".lo-relation select", "lives_in")
    screenshot(page, "labeling-text")
    submit(page)

    def span(label, word):
        start = TEXT.index(word)  # code points, as Python counts them
        return {"start": start, "end": start + len(word), "text": word, "labels": [label]}

    expected = [
        {
            "id": "r1",
            "from_name": "ner",
            "to_name": "text",
            "type": "labels",
            "value": span("PER", "Анна"),
        },
        {
            "id": "r2",
            "from_name": "ner",
            "to_name": "text",
            "type": "labels",
            "value": span("LOC", "東京"),
        },
        {
            "id": "r3",
            "from_name": "ner",
            "to_name": "text",
            "type": "labels",
            "value": span("LOC", "Berlin"),
        },
        {
            "from_id": "r1",
            "to_id": "r2",
            "type": "relation",
            "direction": "right",
            "labels": ["lives_in"],
        },
    ]
    (annotation,) = annotations(live_server, task_id)
    assert_matches(normalized(annotation["result"]), expected)
    assert annotation["was_cancelled"] is False
    assert annotation["lead_time"] > 0
    assert page.locator(".lo-done h2").inner_text() == "No more tasks"
