"""The Label Studio ML backend predictor against a real HTTP server speaking the protocol."""

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from labelops.domain.label_config import parse_label_config
from labelops.domain.preannotation import text_classification_target
from labelops.domain.records import Task
from labelops.resources.predictor import LabelStudioMLBackend
from tests.factories import NER_CONFIG, TEXT_CONFIG


def _backend_app(calls: list[tuple[str, Any]]) -> Flask:
    """A minimal backend with label_studio_ml's routes and JSON shapes."""
    app = Flask("ml_backend")

    @app.get("/health")
    def health() -> Any:
        auth = request.authorization
        calls.append(("health", (auth.username, auth.password) if auth else None))
        return jsonify({"status": "UP", "model_class": "KeywordModel"})

    @app.post("/setup")
    def setup() -> Any:
        calls.append(("setup", request.get_json()))
        return jsonify({"model_version": "keyword-1"})

    @app.post("/predict")
    def predict() -> Any:
        body = request.get_json()
        calls.append(("predict", body))
        results = []
        for task in body["tasks"]:
            label = "Positive" if "good" in task["data"]["text"] else "Negative"
            item = {
                "from_name": "sentiment",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": [label]},
            }
            results.append({"result": [item], "score": 0.9, "model_version": body["model_version"]})
        return jsonify({"results": results})

    return app


@pytest.fixture
def backend() -> Iterator[tuple[str, list[tuple[str, Any]]]]:
    calls: list[tuple[str, Any]] = []
    server = make_server("127.0.0.1", 0, _backend_app(calls))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", calls
    server.shutdown()
    thread.join()


def test_ml_backend_predictions_follow_the_label_studio_protocol(
    backend: tuple[str, list[tuple[str, Any]]],
) -> None:
    url, calls = backend
    predictor = LabelStudioMLBackend(url=url, allowed_hosts=["127.0.0.1"])
    config = parse_label_config(TEXT_CONFIG)
    tasks = [Task(id=1, data={"text": "good film"}), Task(id=2, data={"text": "dull"})]

    assert predictor.health()["status"] == "UP"
    predictions = predictor.predict(7, config, tasks)

    assert [p["result"][0]["value"]["choices"] for p in predictions if p] == [
        ["Positive"],
        ["Negative"],
    ]
    assert all(p and p["model_version"] == "keyword-1" and p["score"] == 0.9 for p in predictions)
    setup = dict(calls)["setup"]
    assert setup["project"] == "7.0" and setup["schema"] == TEXT_CONFIG
    sent = dict(calls)["predict"]
    assert sent["tasks"] == [
        {"id": 1, "data": {"text": "good film"}},
        {"id": 2, "data": {"text": "dull"}},
    ]
    assert sent["label_config"] == TEXT_CONFIG


def test_ml_backend_basic_auth_is_sent(backend: tuple[str, list[tuple[str, Any]]]) -> None:
    url, calls = backend
    LabelStudioMLBackend(url=url, allowed_hosts=["127.0.0.1"]).health()
    LabelStudioMLBackend(
        url=url, basic_auth_user="ml", basic_auth_pass="pw", allowed_hosts=["127.0.0.1"]
    ).health()
    assert [auth for name, auth in calls if name == "health"] == [None, ("ml", "pw")]


def test_ml_backend_that_is_down_fails_with_its_url() -> None:
    predictor = LabelStudioMLBackend(
        url="http://127.0.0.1:9", connect_timeout=0.5, allowed_hosts=["127.0.0.1"]
    )
    with pytest.raises(
        RuntimeError, match=r"ML backend http://127\.0\.0\.1:9/health is unreachable"
    ):
        predictor.health()


def test_text_target_is_the_first_choices_control_over_text() -> None:
    target = text_classification_target(parse_label_config(TEXT_CONFIG))
    assert target is not None
    assert (target.control, target.object_name, target.data_field) == ("sentiment", "text", "text")
    assert text_classification_target(parse_label_config(NER_CONFIG)) is None
