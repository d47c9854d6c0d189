"""The <Chat> object tag: its attributes, sample data and the chatmessage results it stores."""

import json
from typing import Any

import pytest

from labelops.domain.chat import CHAT_ROLES
from labelops.domain.errors import AnnotationError, LabelConfigError
from labelops.domain.label_config import (
    interface_description,
    parse_label_config,
    sample_task_data,
    validate_result,
)

# A conversation rated message by message (only for assistant messages) and as a whole, shaped
# like the chat evaluation templates of Label Studio's gallery.
CHAT_EVALUATION = """<View>
  <Style>.htx-chat { --excess-height: 275px; }</Style>
  <View style="display: flex; gap: 8px;">
    <View className="conversation" style="flex: 2;">
      <Text name="instructions" value="$instructions"/>
      <Chat name="chat" value="$chat" toName="chat" minMessages="3" maxMessages="$max"
            messageroles="user,assistant" editable="user,assistant" llm="openai/gpt-4.1-nano"/>
    </View>
    <View style="flex: 1;">
      <View visibleWhen="no-region-selected">
        <Header value="Click a message to rate it" size="3"/>
      </View>
      <View visibleWhen="region-selected" whenRole="assistant">
        <Rating name="accuracy" toName="chat" perRegion="true" maxRating="5" icon="star"/>
        <Choices name="tone" toName="chat" perRegion="true" choice="multiple">
          <Choice value="Too formal"/>
          <Choice value="Appropriate"/>
        </Choices>
        <TextArea name="message_comment" toName="chat" perRegion="true"/>
      </View>
      <Header size="4">Overall quality</Header>
      <Rating name="overall" toName="chat"/>
      <Choices name="answered" toName="chat" required="true">
        <Choice value="Yes"/>
        <Choice value="No"/>
      </Choices>
    </View>
  </View>
</View>"""

MINIMAL = '<View><Chat name="chat" value="$dialog"/></View>'

DATA = {
    "instructions": "Rate the assistant.",
    "chat": [
        {"role": "user", "content": "Where is my parcel?"},
        {"role": "assistant", "content": "It left the depot this morning."},
    ],
    "max": 4,
}


def message(
    role: str = "assistant", content: str = "Anything else?", mid: str = "m1"
) -> dict[str, Any]:
    return {
        "id": mid,
        "from_name": "chat",
        "to_name": "chat",
        "type": "chatmessage",
        "value": {"chatmessage": {"role": role, "content": content, "createdAt": 1757612212681}},
    }


def per_message(name: str, kind: str, own: dict[str, Any], mid: str = "m1") -> dict[str, Any]:
    base = message(mid=mid)
    return {**base, "from_name": name, "type": kind, "value": {**base["value"], **own}}


ANSWERED = {
    "id": "c1",
    "from_name": "answered",
    "to_name": "chat",
    "type": "choices",
    "value": {"choices": ["Yes"]},
}


def test_accepts_chat_with_every_attribute_and_registers_its_messages_control() -> None:
    config = parse_label_config(CHAT_EVALUATION)

    assert config.objects["chat"].tag == "Chat"
    assert config.objects["chat"].data_field == "chat"
    own = config.controls["chat"]
    assert (own.tag, own.to_names, own.result_type) == ("Chat", ("chat",), "chatmessage")
    assert config.controls["accuracy"].per_region
    # maxMessages="$max" reads the task data when it is there; tasks need not have it
    assert config.data_fields == ("instructions", "chat")


def test_accepts_chat_without_to_name_or_options() -> None:
    config = parse_label_config(MINIMAL)

    assert config.controls["chat"].to_names == ("chat",)
    assert sample_task_data(config)["dialog"][0]["role"] == "user"


def test_sample_data_is_a_conversation_with_its_count_fields() -> None:
    data = sample_task_data(parse_label_config(CHAT_EVALUATION))

    assert [m["role"] for m in data["chat"]] == ["user", "assistant"]
    assert all(isinstance(m["content"], str) and m["content"] for m in data["chat"])
    assert data["max"] == 10
    assert isinstance(data["instructions"], str)


def test_interface_description_carries_the_chat_attributes() -> None:
    description = interface_description(parse_label_config(CHAT_EVALUATION))

    assert json.loads(json.dumps(description)) == description
    chat = description["objects"]["chat"]
    assert chat["tag"] == "Chat"
    assert chat["attrs"]["messageroles"] == "user,assistant"
    assert description["controls"]["chat"]["result_type"] == "chatmessage"


@pytest.mark.parametrize(
    ("attributes", "attribute", "problem"),
    [
        # a role Label Studio does not know
        ('messageroles="user,robot"', "messageroles", "roles must be among"),
        # editable is true/false or a list of roles
        ('editable="sometimes"', "editable", "roles must be among"),
        # counts are whole numbers or $fields
        ('minMessages="two"', "minMessages", "whole number"),
        ('maxMessages="-1"', "maxMessages", "whole number"),
        ('minMessages="5" maxMessages="2"', "maxMessages", "below minMessages=5"),
        ('maxMessages="0"', "maxMessages", "at least 1"),
        # the model is <provider>/<model>
        ('llm="gpt"', "llm", "<provider>/<model>"),
        # a Chat's toName names itself only
        ('toName="other"', "toName", "can only name itself"),
        # the value is a $field
        ('value="$"', "value", "not a valid \\$field"),
    ],
)
def test_rejects_chat_attribute_naming_tag_and_attribute(
    attributes: str, attribute: str, problem: str
) -> None:
    value = "" if "value=" in attributes else 'value="$chat" '
    config = f'<View><Text name="other" value="$t"/><Chat name="chat" {value}{attributes}/></View>'

    with pytest.raises(LabelConfigError, match=problem) as caught:
        parse_label_config(config)
    assert caught.value.tag == "Chat"
    assert caught.value.attribute == attribute


def test_rejects_chat_without_value() -> None:
    with pytest.raises(LabelConfigError, match="needs a value") as caught:
        parse_label_config('<View><Chat name="chat"/></View>')
    assert (caught.value.tag, caught.value.attribute) == ("Chat", "value")


def test_accepts_messages_and_per_message_controls_in_label_studio_shape() -> None:
    config = parse_label_config(CHAT_EVALUATION)
    result = [
        message("user", "Can I change the address?", "m1"),
        per_message("accuracy", "rating", {"rating": 4}, "m1"),
        per_message("tone", "choices", {"choices": ["Appropriate", "Too formal"]}, "m1"),
        per_message("message_comment", "textarea", {"text": ["fine"]}, "m1"),
        {**ANSWERED},
        {
            "id": "o1",
            "from_name": "overall",
            "to_name": "chat",
            "type": "rating",
            "value": {"rating": 5},
        },
    ]

    validate_result(config, result, DATA)


@pytest.mark.parametrize("role", CHAT_ROLES)
def test_accepts_every_label_studio_role(role: str) -> None:
    validate_result(parse_label_config(MINIMAL), [message(role)], {"dialog": []})


@pytest.mark.parametrize(
    ("value", "field", "problem"),
    [
        # no message at all
        ({}, "value.chatmessage", "must be an object"),
        ({"chatmessage": "hi"}, "value.chatmessage", "must be an object"),
        # a role outside Label Studio's list
        ({"chatmessage": {"role": "robot", "content": "x"}}, "value.chatmessage.role", "robot"),
        # content is text
        ({"chatmessage": {"role": "user", "content": 3}}, "value.chatmessage.content", "string"),
        # createdAt is milliseconds
        (
            {"chatmessage": {"role": "user", "content": "x", "createdAt": "today"}},
            "value.chatmessage.createdAt",
            "number",
        ),
    ],
)
def test_rejects_malformed_message(value: dict[str, Any], field: str, problem: str) -> None:
    item = {**message(), "value": value}

    with pytest.raises(AnnotationError, match=problem) as caught:
        validate_result(parse_label_config(MINIMAL), [item], {"dialog": []})
    assert (caught.value.index, caught.value.field) == (0, field)


def test_rejects_message_from_another_name_or_type() -> None:
    config = parse_label_config(CHAT_EVALUATION)

    with pytest.raises(AnnotationError, match="does not fit control <Chat>"):
        validate_result(config, [{**message(), "type": "choices"}, ANSWERED], DATA)
    with pytest.raises(AnnotationError, match="does not fit control <Rating>"):
        validate_result(config, [{**message(), "from_name": "overall"}, ANSWERED], DATA)


def test_rejects_more_messages_than_max_messages_from_the_task_data() -> None:
    config = parse_label_config(CHAT_EVALUATION)
    result = [message(mid="m1"), message(mid="m2"), message(mid="m3"), ANSWERED]

    # two data messages + three added = 5 > $max = 4
    with pytest.raises(AnnotationError, match="at most 4") as caught:
        validate_result(config, result, DATA)
    assert caught.value.field == "chat"


def test_min_messages_holds_on_submission_but_not_for_drafts() -> None:
    config = parse_label_config(CHAT_EVALUATION)

    # two data messages < minMessages=3
    with pytest.raises(AnnotationError, match="at least 3"):
        validate_result(config, [ANSWERED], DATA)
    validate_result(config, [ANSWERED], DATA, require_required=False)
    validate_result(config, [message(), ANSWERED], DATA)


def test_message_counts_are_not_checked_without_task_data() -> None:
    validate_result(parse_label_config(CHAT_EVALUATION), [ANSWERED])


def test_a_task_without_the_max_messages_field_has_no_upper_limit() -> None:
    config = parse_label_config(CHAT_EVALUATION)
    data = {key: value for key, value in DATA.items() if key != "max"}
    many = [message(mid=f"m{i}") for i in range(30)]

    validate_result(config, [*many, ANSWERED], data)


def test_rejects_when_role_outside_label_studio_roles() -> None:
    config = (
        '<View><Chat name="chat" value="$chat"/><View visibleWhen="region-selected" '
        'whenRole="customer"><Rating name="r" toName="chat" perRegion="true"/></View></View>'
    )

    with pytest.raises(LabelConfigError, match="roles must be among") as caught:
        parse_label_config(config)
    assert (caught.value.tag, caught.value.attribute) == ("View", "whenRole")


@pytest.mark.parametrize(
    "chat",
    [
        # a blank chat both sides of which the annotator writes, all messages editable
        '<Chat name="chat" value="$chat" toName="chat" minMessages="4" '
        'messageroles="user,assistant" editable="true"/>',
        # replies meant to come from a model; nothing editable
        '<Chat name="chat" value="$chat" llm="openai/gpt-4.1-nano" minMessages="2" '
        'editable="false"/>',
        # a production conversation under review, its size limit in the task data
        '<Chat name="chat" value="$chat" minMessages="2" maxMessages="$max" editable="false"/>',
        # only user messages may be added and edited
        '<Chat name="chat" value="$chat" messageroles="user" editable="user"/>',
    ],
)
def test_accepts_the_chat_setups_of_label_studio_templates(chat: str) -> None:
    config = parse_label_config(
        f'<View><Text name="instructions" value="$text"/>{chat}'
        '<View visibleWhen="region-selected" whenRole="user, assistant">'
        '<Choices name="risk" toName="chat" perRegion="true"><Choice value="Benign"/></Choices>'
        '</View><Rating name="rating" toName="chat"/></View>'
    )

    assert config.objects["chat"].tag == "Chat"
    data = sample_task_data(config)
    validate_result(
        config,
        [message("user", mid="m1"), per_message("risk", "choices", {"choices": ["Benign"]})],
        data,
        require_required=False,
    )
