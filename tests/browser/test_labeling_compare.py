"""Comparison tools in the browser: Pairwise (pick one of two) and Ranker (order, buckets)."""

from labelops.templates_gallery import get_template
from tests.browser.conftest import screenshot
from tests.browser.labeling_helpers import (
    annotations,
    assert_matches,
    create_project,
    open_labeling,
    submit,
)

PAIRWISE_CONFIG = """
<View>
  <Header value="Which summary is better?"/>
  <Text name="left" value="$left"/>
  <Text name="right" value="$right"/>
  <Pairwise name="pw" toName="left,right"/>
</View>
"""

RANKER_CONFIG = """
<View>
  <List name="items" value="$items" title="Search results"/>
  <Ranker name="rank" toName="items"/>
</View>
"""

BUCKETS_CONFIG = """
<View>
  <List name="items" value="$items" title="Search results"/>
  <Ranker name="rank" toName="items">
    <Bucket name="relevant" title="Relevant"/>
    <Bucket name="off_topic" title="Off topic"/>
  </Ranker>
</View>
"""

ITEMS = [
    {"id": "blog", "title": "10 tips to write a better function", "body": "Nothing is worse..."},
    {"id": "mdn", "title": "Arrow function expressions", "body": "A compact alternative."},
    {"id": "wiki", "title": "Arrow (computer science)", "body": "A type class in Haskell."},
]


def stored_result(server, task_id):
    (annotation,) = annotations(server, task_id)
    result = annotation["result"]
    assert all(isinstance(item.pop("id"), str) for item in result)
    return result


def test_pairwise_picks_a_side_by_click_and_hotkeys_with_undo(live_server, page):
    project_id, (task_id,) = create_project(
        live_server,
        PAIRWISE_CONFIG,
        [{"left": "The cat sat on the mat.", "right": "A cat was sitting on a mat."}],
    )
    open_labeling(page, live_server, project_id)
    assert page.locator(".lo-unsupported").count() == 0
    left = page.locator(".lo-pairwise-pane[data-side=left]")
    right = page.locator(".lo-pairwise-pane[data-side=right]")
    # Both texts sit inside their panes, side by side.
    assert left.locator("[data-object=left]").inner_text() == "The cat sat on the mat."
    assert right.locator("[data-object=right]").inner_text() == "A cat was sitting on a mat."
    assert left.bounding_box()["y"] == right.bounding_box()["y"]

    page.keyboard.press("2")
    assert right.get_attribute("aria-checked") == "true"
    page.keyboard.press("ArrowLeft")
    assert left.get_attribute("aria-checked") == "true"
    assert right.get_attribute("aria-checked") == "false"
    page.keyboard.press("Control+z")
    assert right.get_attribute("aria-checked") == "true"
    page.keyboard.press("Control+Shift+z")
    assert left.get_attribute("aria-checked") == "true"
    right.locator("[data-object=right]").click()
    assert right.get_attribute("aria-checked") == "true"
    page.keyboard.press("ArrowRight")
    left.get_by_role("button", name="1 Left").click()
    assert left.get_attribute("aria-checked") == "true"
    screenshot(page, "labeling-pairwise")
    submit(page)

    assert stored_result(live_server, task_id) == [
        {"from_name": "pw", "to_name": "left", "type": "pairwise", "value": {"selected": "left"}}
    ]


def test_gallery_pairwise_template_renders_and_saves(live_server, page):
    template = get_template("pairwise_comparison")
    assert template is not None
    project_id, (task_id,) = create_project(
        live_server,
        template.label_config,
        [{"answer_a": "Paris is the capital of France.", "answer_b": "It is Lyon."}],
    )
    open_labeling(page, live_server, project_id)
    assert page.locator(".lo-unsupported").count() == 0
    assert "not supported" not in page.inner_text("body").lower()
    assert page.locator(".lo-pairwise-pane").count() == 2
    page.keyboard.press("1")
    submit(page)

    assert stored_result(live_server, task_id) == [
        {
            "from_name": "preference",
            "to_name": "answer_a",
            "type": "pairwise",
            "value": {"selected": "left"},
        }
    ]


def item_ids(page, column):
    return page.locator(f"[data-column={column}] .lo-rank-item").evaluate_all(
        "rows => rows.map(r => r.dataset.item)"
    )


def test_ranker_reorders_with_buttons_and_undo(live_server, page):
    project_id, (task_id,) = create_project(live_server, RANKER_CONFIG, [{"items": ITEMS}])
    open_labeling(page, live_server, project_id)
    assert page.locator(".lo-unsupported").count() == 0
    assert item_ids(page, "rank") == ["blog", "mdn", "wiki"]
    page.get_by_role("button", name="Move Arrow (computer science) up").click()
    page.get_by_role("button", name="Move Arrow (computer science) up").click()
    assert item_ids(page, "rank") == ["wiki", "blog", "mdn"]
    # Focus stays on the moved item, so the keyboard can keep moving it.
    page.keyboard.press("Enter")  # "up" is disabled at the top, so focus moved to "down"
    assert item_ids(page, "rank") == ["blog", "wiki", "mdn"]
    page.keyboard.press("Control+z")
    assert item_ids(page, "rank") == ["wiki", "blog", "mdn"]
    page.get_by_role("button", name="Move 10 tips to write a better function down").click()
    assert item_ids(page, "rank") == ["wiki", "mdn", "blog"]
    submit(page)

    assert stored_result(live_server, task_id) == [
        {
            "from_name": "rank",
            "to_name": "items",
            "type": "ranker",
            "value": {"ranker": {"rank": ["wiki", "mdn", "blog"]}},
        }
    ]


def test_ranker_buckets_take_items_by_button_and_drag(live_server, page):
    project_id, (task_id,) = create_project(live_server, BUCKETS_CONFIG, [{"items": ITEMS}])
    open_labeling(page, live_server, project_id)
    assert page.locator(".lo-rank-column h4").all_inner_texts() == [
        "Search results\n3",
        "Relevant\n0",
        "Off topic\n0",
    ]
    page.get_by_role("button", name="Move Arrow function expressions to Relevant").click()
    page.get_by_role("button", name="Move 10 tips to write a better function to Relevant").click()
    page.get_by_role("button", name="Move 10 tips to write a better function up").click()
    # Drag "wiki" from the list into "Off topic".
    page.locator("[data-item=wiki]").drag_to(page.locator("[data-column=off_topic] ol"))
    assert item_ids(page, "_") == []
    assert item_ids(page, "relevant") == ["blog", "mdn"]
    assert item_ids(page, "off_topic") == ["wiki"]
    page.keyboard.press("Control+z")
    assert item_ids(page, "_") == ["wiki"]
    page.keyboard.press("Control+Shift+z")
    screenshot(page, "labeling-ranker")
    submit(page)

    assert_matches(
        stored_result(live_server, task_id),
        [
            {
                "from_name": "rank",
                "to_name": "items",
                "type": "ranker",
                "value": {"ranker": {"_": [], "relevant": ["blog", "mdn"], "off_topic": ["wiki"]}},
            }
        ],
    )
