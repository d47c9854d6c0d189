"""Auto-annotate on the labeling page, against a real ``label-studio-ml`` 1.0.9 backend.

A keypoint drawn with a smart tool is sent to the project's interactive backend, whose box is
shown as a suggestion, accepted and submitted; a backend that is down only shows a message.
"""

import dataclasses
from collections.abc import Iterator

import pytest
import requests

from tests.browser.conftest import LiveServer
from tests.browser.labeling_helpers import (
    annotations,
    assert_matches,
    create_project,
    drag,
    normalized,
    open_labeling,
    select_text,
    submit,
)
from tests.browser.test_labeling_image import at, png
from tests.ml_backend_process import (
    SMART_BOX_SCRIPT,
    MLBackendProcess,
    free_port,
    start_ml_backend,
)

CONFIG = """
<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image" smart="true"><Label value="Car"/></RectangleLabels>
  <KeyPointLabels name="kp" toName="image"><Label value="Point" smart="true"/></KeyPointLabels>
</View>
"""


@pytest.fixture(scope="module")
def smart_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MLBackendProcess]:
    yield from start_ml_backend(
        tmp_path_factory.mktemp("smart-backend"), SMART_BOX_SCRIPT, "smart_box.py"
    )


TEXT_CONFIG = """
<View>
  <Labels name="ner" toName="text" smart="true"><Label value="Place"/></Labels>
  <Text name="text" value="$text"/>
</View>
"""
TEXT = "We flew to Berlin today."


def _project(
    server: LiveServer, backend_url: str, config: str = CONFIG, tasks: list | None = None
) -> tuple[int, list[int]]:
    app = server.app
    app.config["LABELOPS_SETTINGS"] = dataclasses.replace(
        app.config["LABELOPS_SETTINGS"], outbound_host_allowlist=("127.0.0.1",)
    )
    tasks = tasks or [{"image": "media:a.png"}, {"image": "media:a.png"}]
    project_id, task_ids = create_project(server, config, tasks, media={"a.png": png()})
    created = requests.post(
        f"{server.url}/api/ml",
        json={"project": project_id, "url": backend_url, "is_interactive": True, "timeout": 2},
        headers=server.api_headers(),
        timeout=30,
    )
    assert created.status_code == 201, created.text
    return project_id, task_ids


def test_a_keypoint_becomes_the_models_box_once_accepted(live_server, page, smart_backend):
    project_id, task_ids = _project(live_server, smart_backend.url)
    open_labeling(page, live_server, project_id, f"?task={task_ids[0]}")
    page.check("#lo-auto-annotate")
    page.click(".lo-label[data-value=Point]")

    page.mouse.click(*at(page, 30, 40))

    page.wait_for_selector("body[data-auto-suggestions='1']")
    assert "Suggested 1 region" in page.inner_text("#lo-auto-status")
    assert page.locator(".lo-stage [data-region]").count() == 1  # the box replaced the keypoint
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-auto-suggestions='0']")
    submit(page)

    (annotation,) = annotations(live_server, task_ids[0])
    (box,) = normalized(annotation["result"])
    assert box["from_name"] == "box" and box["type"] == "rectanglelabels"
    assert_matches(
        box["value"],
        {"x": 25, "y": 35, "width": 10, "height": 10, "rotation": 0, "rectanglelabels": ["Car"]},
    )


def test_a_rejected_suggestion_is_not_submitted(live_server, page, smart_backend):
    project_id, task_ids = _project(live_server, smart_backend.url)
    open_labeling(page, live_server, project_id, f"?task={task_ids[0]}")
    page.check("#lo-auto-annotate")
    page.click(".lo-label[data-value=Point]")
    page.mouse.click(*at(page, 60, 50))
    page.wait_for_selector("body[data-auto-suggestions='1']")

    page.click("#lo-auto-reject")

    page.wait_for_selector("body[data-auto-suggestions='0']")
    assert page.locator(".lo-stage [data-region]").count() == 0
    submit(page)
    (annotation,) = annotations(live_server, task_ids[0])
    assert annotation["result"] == []


def test_a_backend_that_is_down_shows_why_and_labeling_goes_on(live_server, page):
    project_id, task_ids = _project(live_server, f"http://127.0.0.1:{free_port()}")
    open_labeling(page, live_server, project_id, f"?task={task_ids[0]}")
    page.check("#lo-auto-annotate")
    page.click(".lo-label[data-value=Car]")

    drag(page, at(page, 10, 20), at(page, 50, 60))

    page.wait_for_selector("#lo-auto-status[data-kind=error]")
    message = page.inner_text("#lo-auto-status")
    assert "Auto-annotation failed" in message and "unreachable" in message, message
    submit(page)
    (annotation,) = annotations(live_server, task_ids[0])
    (box,) = annotation["result"]
    assert box["from_name"] == "box"
    assert_matches(
        {k: box["value"][k] for k in ("x", "y", "width", "height")},
        {"x": 10.0, "y": 20.0, "width": 40.0, "height": 40.0},
    )


def test_a_text_span_becomes_the_whole_word_the_model_suggests(live_server, page, smart_backend):
    tasks = [{"text": TEXT}, {"text": TEXT}]
    project_id, task_ids = _project(live_server, smart_backend.url, TEXT_CONFIG, tasks)
    open_labeling(page, live_server, project_id, f"?task={task_ids[0]}")
    page.check("#lo-auto-annotate")
    page.click(".lo-label[data-value=Place]")
    start = TEXT.index("erli")

    select_text(page, ".lo-text", start, start + 4)

    page.wait_for_selector("body[data-auto-suggestions='1']")
    assert page.inner_text(".lo-span") == "Berlin"
    page.click("#lo-auto-accept")
    page.wait_for_selector("body[data-auto-suggestions='0']")
    submit(page)
    (annotation,) = annotations(live_server, task_ids[0])
    (span,) = annotation["result"]
    begin = TEXT.index("Berlin")
    assert span["from_name"] == "ner" and span["type"] == "labels"
    assert span["value"] == {
        "start": begin,
        "end": begin + 6,
        "text": "Berlin",
        "labels": ["Place"],
    }
