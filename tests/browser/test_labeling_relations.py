"""Relations in the text view: labels drawn on their arcs, clickable, clear of the span labels."""

from typing import Any

import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, screenshot
from tests.browser.labeling_helpers import (
    annotations,
    create_project,
    open_labeling,
    select_text,
    submit,
    utf16_index,
)

CONFIG = """
<View>
  <Labels name="ner" toName="text">
    <Label value="PER" background="#FFA39E"/>
    <Label value="ORG" background="#D3F261"/>
    <Label value="LOC" background="#69C0FF"/>
  </Labels>
  <Text name="text" value="$text"/>
  <Relations>
    <Relation value="works_for"/>
    <Relation value="based_in"/>
    <Relation value="lives_in"/>
  </Relations>
</View>
"""
TEXT = "Anna works for Acme Corp in Berlin."

BOXES = """(selector) => [...document.querySelectorAll(selector)].map((el) => {
  const r = el.getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, text: el.textContent,
          relation: el.dataset.relation};
})"""

WIDTH = "(selector) => Math.round(document.querySelector(selector).getBoundingClientRect().width)"


def center(box: dict[str, float]) -> tuple[float, float]:
    return (box["left"] + box["right"]) / 2, (box["top"] + box["bottom"]) / 2


def intersects(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    )


def test_relation_label_is_drawn_on_its_arc_and_selects_the_relation(
    live_server: LiveServer, page: Page
) -> None:
    project_id, (task_id,) = create_project(live_server, CONFIG, [{"text": TEXT}])
    open_labeling(page, live_server, project_id)
    page.click(".lo-label[data-value=PER]")
    select_text(page, ".lo-text", *utf16_index(TEXT, "Anna"))
    page.click(".lo-label[data-value=ORG]")
    select_text(page, ".lo-text", *utf16_index(TEXT, "Acme Corp"))
    page.locator(".lo-region").nth(0).get_by_role("button", name="Create relation").click()
    page.locator(".lo-region").nth(1).click()
    expect(page.locator(".lo-relation-label")).to_have_count(0)  # no label yet: a bare arc
    expect(page.locator(".lo-arc")).to_have_count(1)
    page.select_option(".lo-relation select", "works_for")

    label = page.locator(".lo-relation-label")
    expect(label).to_have_text("works_for")
    expect(label).to_be_visible()
    (box,) = page.evaluate(BOXES, ".lo-relation-label")
    spans = page.evaluate(BOXES, ".lo-span")
    anna = next(s for s in spans if s["text"] == "Anna")
    acme = next(s for s in spans if s["text"] == "Acme Corp")
    x, y = center(box)
    # On the arc's middle, above both spans, between them.
    assert abs(x - (center(anna)[0] + center(acme)[0]) / 2) < 2
    assert box["bottom"] <= min(anna["top"], acme["top"])
    assert page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('.lo-relation-label') !== null",
        [x, y],
    ), "the label is covered by something else"

    # A narrower window wraps the text anew: the arcs are laid out again and the label follows.
    text_box = page.locator(".lo-text")
    before = text_box.get_attribute("data-arcs-width")
    assert before is not None
    page.set_viewport_size({"width": 500, "height": 900})
    expect(text_box).not_to_have_attribute("data-arcs-width", before)
    for _ in range(5):  # the page may settle in more than one step: wait for the last one
        width = page.evaluate(WIDTH, ".lo-text")
        if text_box.get_attribute("data-arcs-width") == str(width):
            break
        try:
            expect(text_box).to_have_attribute("data-arcs-width", str(width), timeout=2000)
        except AssertionError:
            continue  # the width moved on meanwhile
    assert text_box.get_attribute("data-arcs-width") == str(width) != before
    (box,) = page.evaluate(BOXES, ".lo-relation-label")
    spans = page.evaluate(BOXES, ".lo-span")
    anna = next(s for s in spans if s["text"] == "Anna")
    acme = next(s for s in spans if s["text"] == "Acme Corp")
    assert abs(center(box)[0] - (center(anna)[0] + center(acme)[0]) / 2) < 2

    label.click()
    expect(label).to_have_class("lo-relation-label selected")
    expect(page.locator(".lo-arc.selected")).to_have_count(1)
    expect(page.locator(".lo-relation.selected")).to_have_count(1)
    expect(page.locator(".lo-region.selected")).to_have_count(0)
    page.keyboard.press("Delete")  # the selected relation, not a region
    expect(page.locator(".lo-relation")).to_have_count(0)
    expect(page.locator(".lo-arc")).to_have_count(0)
    assert page.locator(".lo-region").count() == 2
    page.keyboard.press("Control+z")
    expect(page.locator(".lo-relation-label")).to_have_text("works_for")
    # Clicking a span afterwards selects the span and no longer the relation.
    page.locator(".lo-span", has_text="Anna").click()
    expect(page.locator(".lo-relation.selected")).to_have_count(0)
    expect(page.locator(".lo-region.selected")).to_have_count(1)

    submit(page)
    (annotation,) = annotations(live_server, task_id)
    (relation,) = [r for r in annotation["result"] if r["type"] == "relation"]
    assert relation["labels"] == ["works_for"]
    assert relation["direction"] == "right"


DENSE = (
    "Anna and Ben met Carl at Acme in Berlin while Dana from Zeta flew to Oslo and Paris with Eve."
)


def span(word: str, label: str) -> dict[str, Any]:
    start = DENSE.index(word)
    return {
        "id": word.lower(),
        "from_name": "ner",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": start + len(word), "text": word, "labels": [label]},
    }


def relation(a: str, b: str, label: str) -> dict[str, Any]:
    return {
        "type": "relation",
        "from_id": a.lower(),
        "to_id": b.lower(),
        "direction": "right",
        "labels": [label],
    }


def test_arcs_are_stacked_so_no_relation_label_covers_a_span_label(
    live_server: LiveServer, page: Page
) -> None:
    people = ["Anna", "Ben", "Carl", "Dana", "Eve"]
    orgs = ["Acme", "Zeta"]
    places = ["Berlin", "Oslo", "Paris"]
    result = [span(w, "PER") for w in people]
    result += [span(w, "ORG") for w in orgs] + [span(w, "LOC") for w in places]
    # Nested and crossing arcs, several over the same stretch of text.
    result += [
        relation("Anna", "Acme", "works_for"),
        relation("Ben", "Acme", "works_for"),
        relation("Carl", "Acme", "works_for"),
        relation("Acme", "Berlin", "based_in"),
        relation("Anna", "Berlin", "lives_in"),
        relation("Dana", "Zeta", "works_for"),
        relation("Zeta", "Oslo", "based_in"),
        relation("Dana", "Paris", "lives_in"),
        relation("Eve", "Paris", "lives_in"),
        relation("Carl", "Oslo", "lives_in"),
    ]
    project_id, (task_id,) = create_project(live_server, CONFIG, [{"text": DENSE}])
    response = requests.post(
        f"{live_server.url}/api/tasks/{task_id}/annotations",
        json={"result": result},
        headers=live_server.api_headers(),
        timeout=10,
    )
    assert response.status_code == 201, response.text
    page.set_viewport_size({"width": 900, "height": 900})  # the text wraps: arcs on two lines
    open_labeling(page, live_server, project_id, f"?task={task_id}")
    expect(page.locator(".lo-relation-label")).to_have_count(10)
    screenshot(page, "labeling-relations")

    arc_labels = page.evaluate(BOXES, ".lo-relation-label")
    chips = page.evaluate(BOXES, ".lo-span-label")
    spans = page.evaluate(BOXES, ".lo-span")
    assert len(chips) == 10
    assert all(c["right"] - c["left"] > 5 for c in chips), "span label chips are drawn"
    for a in arc_labels:
        for chip in chips:
            assert not intersects(a, chip), f"arc label {a} covers span label {chip}"
        for s in spans:
            assert not intersects(a, s), f"arc label {a} covers the span {s['text']!r}"
        for b in arc_labels:
            if a is not b:
                assert not intersects(a, b), f"arc labels {a} and {b} overlap"
    # Every label can be clicked where it is drawn (nothing lies on top of it).
    for a in arc_labels:
        x, y = center(a)
        hit = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y).closest('.lo-relation-label')"
            "?.dataset.relation",
            [x, y],
        )
        assert hit == a["relation"]
    # The text box makes room for the arcs above its first line: they are drawn inside it.
    (text_box,) = page.evaluate(BOXES, ".lo-text")
    assert min(a["top"] for a in arc_labels) >= text_box["top"]
    page.locator(".lo-relation-label").nth(9).click()
    expect(page.locator(".lo-relation").nth(9)).to_have_class("lo-relation selected")
