"""Predictions from class probabilities, and drafts from predictions."""

import pytest

from labelops.domain.preannotation import draft_from_prediction, prediction_from_probabilities
from labelops.domain.records import Prediction


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


def test_draft_drops_items_below_the_threshold_and_maps_labels() -> None:
    prediction = Prediction(result=[ner("PERSON", 0.9, "r1"), ner("ORG", 0.3, "r2")], score=0.5)
    draft = draft_from_prediction(prediction, min_score=0.5, label_map={"PERSON": "PER"})
    assert draft is not None
    assert [i["id"] for i in draft] == ["r1"]
    assert draft[0]["value"]["labels"] == ["PER"]
    assert draft[0]["origin"] == "prediction"
    assert prediction.result[0]["value"]["labels"] == ["PERSON"]  # the prediction is not changed


def test_draft_uses_the_prediction_score_when_items_have_none() -> None:
    low = Prediction(result=[ner("PER", None, "r1")], score=0.2)
    high = Prediction(result=[ner("PER", None, "r1")], score=0.8)
    assert draft_from_prediction(low, min_score=0.5, label_map=None) is None
    assert draft_from_prediction(high, min_score=0.5, label_map=None) is not None


def test_draft_keeps_relations_only_between_kept_regions() -> None:
    relation = {"type": "relation", "from_id": "r1", "to_id": "r2", "direction": "right"}
    prediction = Prediction(result=[ner("PER", 0.9, "r1"), ner("ORG", 0.1, "r2"), relation])
    draft = draft_from_prediction(prediction, min_score=0.5, label_map=None)
    assert draft is not None and [i.get("type") for i in draft] == ["labels"]
