"""Predictions from class probabilities, and drafts from predictions."""

import pytest

from labelops.domain.preannotation import prediction_from_probabilities


def ner(label: str, score: float | None, region: str) -> dict:
    value: dict = {"start": 0, "end": 4, "text": "Anna", "labels": [label]}
    if score is not None:
        value["score"] = score
    return {"id": region, "from_name": "ner", "to_name": "text", "type": "labels", "value": value}


def test_prediction_picks_the_most_probable_choice() -> None:
    out = prediction_from_probabilities(
        {"neg": 0.2, "pos": 0.7, "neu": 0.1},
        from_name="sentiment",
        to_name="text",
        model_version="v3",
    )
    assert out["model_version"] == "v3"
    assert out["score"] == 0.7
    [item] = out["result"]
    assert item["type"] == "choices" and item["value"] == {"choices": ["pos"]}
    assert item["from_name"] == "sentiment" and item["to_name"] == "text"
    assert out["probabilities"] == {"neg": 0.2, "pos": 0.7, "neu": 0.1}


def test_prediction_is_deterministic() -> None:
    kwargs = {"from_name": "s", "to_name": "t", "model_version": "v1"}
    assert prediction_from_probabilities({"a": 0.5, "b": 0.5}, **kwargs) == (
        prediction_from_probabilities({"a": 0.5, "b": 0.5}, **kwargs)
    )
    assert prediction_from_probabilities({"a": 0.5, "b": 0.5}, **kwargs)["result"][0]["value"] == {
        "choices": ["a"]  # a tie goes to the first label given
    }


@pytest.mark.parametrize("probs", [{}, {"a": 1.5}, {"a": float("nan")}])
def test_prediction_rejects_bad_probabilities(probs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        prediction_from_probabilities(probs, from_name="s", to_name="t", model_version="v")
