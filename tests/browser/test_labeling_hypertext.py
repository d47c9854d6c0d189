"""HyperText and Paragraphs in the browser: sanitized HTML, xpath spans, per-utterance labels."""

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

HTML_CONFIG = """
<View>
  <HyperTextLabels name="ner" toName="html">
    <Label value="Animal"/><Label value="Action"/>
  </HyperTextLabels>
  <HyperText name="html" value="$html"/>
  <Choices name="kind" toName="html" showInline="true">
    <Choice value="Story"/><Choice value="Spam"/>
  </Choices>
</View>
"""
HTML = (
    "<p>The <b>quick</b> brown fox 🦊 jumps.</p>"
    '<p onclick="window.pwned = 1">Second <i>paragraph</i>.</p>'
    "<script>window.pwned = 2</script>"
    '<img src="missing.png" onerror="window.pwned = 3">'
)
PARAGRAPHS_CONFIG = """
<View>
  <ParagraphLabels name="intent" toName="dialogue">
    <Label value="Greeting"/><Label value="Request"/>
  </ParagraphLabels>
  <Paragraphs name="dialogue" value="$dialogue" layout="dialogue"/>
</View>
"""
DIALOGUE = [
    {"author": "Alice", "text": "Hi there! 👋 How can I help?"},
    {"author": "Bob", "text": "Please change my delivery address."},
]


def test_labels_sanitized_html_by_xpath_and_chooses_a_class(live_server, page):
    project_id, (task_id,) = create_project(live_server, HTML_CONFIG, [{"html": HTML}])
    open_labeling(page, live_server, project_id)
    assert page.locator(".lo-hypertext script").count() == 0
    assert page.locator(".lo-hypertext [onclick], .lo-hypertext [onerror]").count() == 0

    visible = "The quick brown fox 🦊 jumps.Second paragraph."
    page.click(".lo-label[data-value=Animal]")
    select_text(
        page, ".lo-hypertext", utf16_index(visible, "quick")[0], utf16_index(visible, "brown")[1]
    )
    page.click(".lo-label[data-value=Action]")
    select_text(page, ".lo-hypertext", *utf16_index(visible, "jumps"))
    page.click(".lo-hypertext p:nth-of-type(2)")
    page.click("label:has-text('Story')")
    assert page.evaluate("window.pwned") is None
    screenshot(page, "labeling-hypertext")
    submit(page)

    expected = [
        {
            "id": "r1",
            "from_name": "ner",
            "to_name": "html",
            "type": "hypertextlabels",
            "value": {
                "start": "/p[1]/b[1]",
                "startOffset": 0,
                "end": "/p[1]",
                "endOffset": 15,
                "text": "quick brown",
                "hypertextlabels": ["Animal"],
            },
        },
        {
            "id": "r2",
            "from_name": "ner",
            "to_name": "html",
            "type": "hypertextlabels",
            "value": {
                "start": "/p[1]",
                "startOffset": 22,
                "end": "/p[1]",
                "endOffset": 27,
                "text": "jumps",
                "hypertextlabels": ["Action"],
            },
        },
        {
            "id": "r3",
            "from_name": "kind",
            "to_name": "html",
            "type": "choices",
            "value": {"choices": ["Story"]},
        },
    ]
    (annotation,) = annotations(live_server, task_id)
    assert_matches(normalized(annotation["result"]), expected)


def test_labels_a_whole_utterance_and_a_span_in_a_dialogue(live_server, page):
    project_id, (task_id,) = create_project(
        live_server, PARAGRAPHS_CONFIG, [{"dialogue": DIALOGUE}]
    )
    open_labeling(page, live_server, project_id)

    page.click(".lo-label[data-value=Greeting]")
    page.click(".lo-author >> text=Alice")
    page.click(".lo-label[data-value=Request]")
    second = DIALOGUE[1]["text"]
    select_text(
        page,
        ".lo-utterance-text[data-index='1']",
        *utf16_index(second, "change my delivery address"),
    )
    screenshot(page, "labeling-paragraphs")
    submit(page)

    first = DIALOGUE[0]["text"]
    start = second.index("change")
    expected = [
        {
            "id": "r1",
            "from_name": "intent",
            "to_name": "dialogue",
            "type": "paragraphlabels",
            "value": {
                "start": "0",
                "end": "0",
                "startOffset": 0,
                "endOffset": len(first),
                "text": first,
                "paragraphlabels": ["Greeting"],
            },
        },
        {
            "id": "r2",
            "from_name": "intent",
            "to_name": "dialogue",
            "type": "paragraphlabels",
            "value": {
                "start": "1",
                "end": "1",
                "startOffset": start,
                "endOffset": len(second) - 1,
                "text": "change my delivery address",
                "paragraphlabels": ["Request"],
            },
        },
    ]
    (annotation,) = annotations(live_server, task_id)
    assert_matches(normalized(annotation["result"]), expected)
