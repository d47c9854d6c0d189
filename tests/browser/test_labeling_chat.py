"""Chat in the browser: a conversation shown as text, messages added, edited and rated."""

import requests
from playwright.sync_api import expect

from labelops.templates_gallery import get_template
from tests.browser.conftest import screenshot
from tests.browser.labeling_helpers import (
    annotations,
    assert_matches,
    create_project,
    normalized,
    open_labeling,
    submit,
)

CHAT_CONFIG = """
<View>
  <Chat name="chat" value="$chat" messageroles="user,assistant" editable="assistant"
        maxMessages="4"/>
  <View visibleWhen="region-selected" whenRole="assistant">
    <Header value="Rate this reply"/>
    <Rating name="accuracy" toName="chat" perRegion="true"/>
    <Choices name="tone" toName="chat" perRegion="true">
      <Choice value="Polite"/>
      <Choice value="Rude"/>
    </Choices>
  </View>
  <Choices name="resolved" toName="chat" required="true">
    <Choice value="Yes"/>
    <Choice value="No"/>
  </Choices>
</View>
"""
HOSTILE_USER = "<script>window.__pwned = 1</script><b>bold?</b>"
HOSTILE_ASSISTANT = '<img src="x" onerror="window.__pwned = 2">Hello'


def test_adds_edits_and_rates_messages_and_stores_label_studio_results(live_server, page):
    chat = [
        {"role": "user", "content": HOSTILE_USER},
        {"role": "assistant", "content": HOSTILE_ASSISTANT},
    ]
    project_id, (task_id,) = create_project(live_server, CHAT_CONFIG, [{"chat": chat}])
    open_labeling(page, live_server, project_id)

    # The task's messages show as text, each with its role; none of their markup runs.
    given = page.locator(".lo-chat-message[data-source=task]")
    expect(given).to_have_count(2)
    assert given.locator(".lo-chat-content").all_text_contents() == [
        HOSTILE_USER,
        HOSTILE_ASSISTANT,
    ]
    assert given.evaluate_all("els => els.map(e => e.dataset.role)") == ["user", "assistant"]
    assert page.locator(".lo-chat script, .lo-chat b, .lo-chat img").count() == 0
    assert page.evaluate("window.__pwned") is None
    accuracy = page.locator("[data-control=accuracy]")
    expect(accuracy).to_be_hidden()

    # An assistant reply: sent with Enter, selected at once, so its controls show.
    page.select_option(".lo-chat-role-select", "assistant")
    page.fill(".lo-chat-input", "Your parcel <i>arrives</i> Friday.")
    page.keyboard.press("Enter")
    reply = page.locator(".lo-chat-message.is-added").first
    expect(reply).to_have_class("lo-chat-message lo-chat-assistant is-added selected")
    expect(accuracy).to_be_visible()
    accuracy.get_by_role("button", name="4 stars").click()
    page.check("[data-control=tone] input[value=Polite]")

    # Assistant messages are editable here; the edit is kept as text.
    reply.get_by_role("button", name="Edit message").click()
    page.fill(".lo-chat-edit", "Your parcel arrives on Friday.")
    reply.get_by_role("button", name="Save").click()
    expect(reply.locator(".lo-chat-content")).to_have_text("Your parcel arrives on Friday.")

    # The composer turns to the user; a user message is not rated (whenRole="assistant").
    expect(page.locator(".lo-chat-role-select")).to_have_value("user")
    page.fill(".lo-chat-input", "Thanks!")
    page.click(".lo-chat-send")
    added = page.locator(".lo-chat-message.is-added")
    expect(added).to_have_count(2)
    assert added.nth(1).get_attribute("data-role") == "user"
    assert "Edit message" not in added.nth(1).inner_text()
    expect(accuracy).to_be_hidden()
    # maxMessages="4": two from the task plus two added fill the conversation.
    expect(page.locator(".lo-chat-send")).to_be_disabled()
    expect(page.locator(".lo-chat-counter")).to_have_text("4 messages · at most 4")

    # Selecting the reply again shows its rating.
    added.nth(0).click()
    expect(accuracy.locator(".lo-star.on")).to_have_count(4)
    page.check("[data-control=resolved] input[value=Yes]")
    screenshot(page, "labeling-chat")
    submit(page)

    (annotation,) = annotations(live_server, task_id)
    result = normalized(annotation["result"])
    created = [item["value"]["chatmessage"].pop("createdAt") for item in result[:4]]
    assert all(isinstance(ms, int) and ms > 1_600_000_000_000 for ms in created)
    assert created[0] == created[1] == created[2] <= created[3]
    reply_message = {"role": "assistant", "content": "Your parcel arrives on Friday."}

    def item(id_, name, type_, value):
        return {"id": id_, "from_name": name, "to_name": "chat", "type": type_, "value": value}

    expected = [
        item("r1", "chat", "chatmessage", {"chatmessage": reply_message}),
        item("r1", "accuracy", "rating", {"chatmessage": reply_message, "rating": 4}),
        item("r1", "tone", "choices", {"chatmessage": reply_message, "choices": ["Polite"]}),
        item("r2", "chat", "chatmessage", {"chatmessage": {"role": "user", "content": "Thanks!"}}),
        item("r3", "resolved", "choices", {"choices": ["Yes"]}),
    ]
    assert_matches(result, expected)


def test_reopened_annotation_shows_its_messages_as_text(live_server, page):
    project_id, (task_id,) = create_project(
        live_server, CHAT_CONFIG, [{"chat": [{"role": "user", "content": "Hi"}]}]
    )
    message = {"role": "assistant", "content": "<b>Hello</b> there", "createdAt": 1757612212681}
    result = [
        {
            "id": "m1",
            "from_name": "chat",
            "to_name": "chat",
            "type": "chatmessage",
            "value": {"chatmessage": message},
        },
        {
            "id": "c1",
            "from_name": "resolved",
            "to_name": "chat",
            "type": "choices",
            "value": {"choices": ["No"]},
        },
    ]
    response = requests.post(
        f"{live_server.url}/api/tasks/{task_id}/annotations",
        json={"result": result},
        headers=live_server.api_headers(),
        timeout=10,
    )
    assert response.status_code == 201, response.text
    open_labeling(page, live_server, project_id, f"?task={task_id}")

    added = page.locator(".lo-chat-message.is-added")
    expect(added).to_have_count(1)
    expect(added.locator(".lo-chat-content")).to_have_text("<b>Hello</b> there")
    assert page.locator(".lo-chat b").count() == 0


def test_gallery_chat_template_renders_and_saves(live_server, page):
    template = get_template("llm_chat_evaluation")
    assert template is not None
    chat = [{"role": "user", "content": "Is the museum open on Mondays?"}]
    project_id, (task_id,) = create_project(live_server, template.label_config, [{"chat": chat}])
    open_labeling(page, live_server, project_id)
    assert page.locator(".lo-unsupported").count() == 0
    quality = page.locator("[data-control=reply_quality]")
    expect(quality).to_be_hidden()
    screenshot(page, "labeling-chat-gallery")

    expect(page.locator(".lo-chat-role-select")).to_have_value("user")
    page.select_option(".lo-chat-role-select", "assistant")
    page.fill(".lo-chat-input", "Yes, from 10 to 18.")
    page.click(".lo-chat-send")
    expect(quality).to_be_visible()
    quality.get_by_role("button", name="2 stars").click()
    page.check("[data-control=reply_issues] input[value='Factually wrong']")
    page.check("[data-control=goal_met] input[value='Partly met']")
    submit(page)

    (annotation,) = annotations(live_server, task_id)
    by_control = {item["from_name"]: item for item in annotation["result"]}
    assert set(by_control) == {"chat", "reply_quality", "reply_issues", "goal_met"}
    message = by_control["chat"]["value"]["chatmessage"]
    assert (message["role"], message["content"]) == ("assistant", "Yes, from 10 to 18.")
    assert by_control["reply_quality"]["id"] == by_control["chat"]["id"]
    assert by_control["reply_quality"]["value"]["rating"] == 2
    assert by_control["reply_issues"]["value"]["choices"] == ["Factually wrong"]
