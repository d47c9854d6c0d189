"""Model output -> Label Studio predictions, and predictions -> draft annotation results."""

import copy
import hashlib
import math
from collections.abc import Mapping
from typing import Any

from labelops.domain.records import Prediction, ResultItem


def prediction_from_probabilities(
    probs: Mapping[str, float], *, from_name: str, to_name: str, model_version: str
) -> dict[str, Any]:
    """Returns a Label Studio prediction JSON choosing the most probable label of a choices control.

    The prediction ``score`` is the top probability (Label Studio's confidence). The class
    probabilities are kept under ``"probabilities"`` (labelops' addition, in the order given) for
    uncertainty sampling; drop that key before sending the prediction to Label Studio itself. A tie
    goes to the label that comes first in ``probs``. The region id is derived from the control
    names and the model version, so the same input always gives the same JSON.

    Args:
        probs: Label -> probability.
        from_name: The choices control's name.
        to_name: The object tag it labels.
        model_version: The model version to record.

    Returns:
        ``{"model_version", "score", "result": [choices item], "probabilities"}``.

    Raises:
        ValueError: If ``probs`` is empty or holds a value that is not a probability.
    """
    if not probs:
        raise ValueError(f"no probabilities for control {from_name!r}")
    for label, p in probs.items():
        if not (math.isfinite(p) and 0.0 <= p <= 1.0):
            raise ValueError(f"probability {p!r} of label {label!r} is not in [0, 1]")
    best = max(probs, key=lambda label: probs[label])
    digest = hashlib.sha1(f"{from_name}\0{to_name}\0{model_version}".encode()).hexdigest()
    return {
        "model_version": model_version,
        "score": float(probs[best]),
        "result": [
            {
                "id": digest[:10],
                "from_name": from_name,
                "to_name": to_name,
                "type": "choices",
                "value": {"choices": [best]},
            }
        ],
        "probabilities": {label: float(p) for label, p in probs.items()},
    }


def _item_score(item: ResultItem, default: float | None) -> float | None:
    for score in (item.get("score"), item.get("value", {}).get("score")):
        if isinstance(score, int | float):
            return float(score)
    return default


def draft_from_prediction(
    prediction: Prediction, *, min_score: float, label_map: Mapping[str, str] | None = None
) -> list[dict[str, Any]] | None:
    """Returns the draft annotation result for a prediction, or None when nothing passes.

    Each item's score is its own ``score`` or ``value.score``, else the prediction's ``score``;
    items scoring below ``min_score`` are dropped, items with no score anywhere are kept. Relations
    whose ends were dropped go too. Labels (the list under ``value[type]``) are renamed through
    ``label_map``; labels it does not name stay as they are. Kept items are marked
    ``"origin": "prediction"``, as Label Studio marks a draft taken from a prediction.

    Args:
        prediction: The model's prediction.
        min_score: The smallest score an item needs to be kept.
        label_map: Model label -> project label.

    Returns:
        The result items of the draft, or None if none is left.
    """
    kept: list[dict[str, Any]] = []
    for item in prediction.result:
        if item.get("type") == "relation":
            continue
        score = _item_score(item, prediction.score)
        if score is not None and score < min_score:
            continue
        draft = copy.deepcopy(item)
        kind = draft.get("type", "")
        labels = draft.get("value", {}).get(kind)
        if label_map and isinstance(labels, list):
            draft["value"][kind] = [
                label_map.get(x, x) if isinstance(x, str) else x for x in labels
            ]
        draft["origin"] = "prediction"
        kept.append(draft)
    if not kept:
        return None
    ids = {item.get("id") for item in kept}
    for item in prediction.result:
        if item.get("type") == "relation" and {item.get("from_id"), item.get("to_id")} <= ids:
            kept.append(copy.deepcopy(item))
    return kept
