"""Every config of Label Studio 1.23.2's template gallery is accepted and described.

The configs are read from Label Studio's wheel (``make ls-templates``), never committed here.
"""

import json

import pytest

from labelops.domain.label_config import (
    interface_description,
    parse_label_config,
    sample_task_data,
)
from tests.ls_gallery import CHAT_TEMPLATES, EXPECTED_COUNT, checked_templates, gallery_templates


def test_the_wheel_holds_the_whole_gallery() -> None:
    keys = [t.key for t in gallery_templates()]
    assert len(keys) == EXPECTED_COUNT
    assert CHAT_TEMPLATES <= set(keys), "a skipped <Chat> template is no longer in the gallery"


def test_every_gallery_config_is_accepted_described_and_previewed() -> None:
    refused = {}
    for template in checked_templates():
        try:
            config = parse_label_config(template.config)
            description = interface_description(config)
            data = sample_task_data(config)
            json.dumps([description, data])
        except Exception as exc:  # collect every refusal, then report them all
            refused[template.key] = f"{type(exc).__name__}: {exc}"
        else:
            assert set(config.data_fields) <= set(data), template.key
            assert description["objects"], f"{template.key} has no object tag"
    assert refused == {}


@pytest.mark.parametrize(
    "key", ["generative-ai/chatbot-assessment", "structured-data-parsing/pdf-classification"]
)
def test_gallery_controls_all_point_at_an_object(key: str) -> None:
    template = next(t for t in gallery_templates() if t.key == key)
    config = parse_label_config(template.config)
    for control in config.controls.values():
        assert control.to_names, control.name
        assert all(name in config.objects for name in control.to_names)
