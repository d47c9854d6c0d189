"""Model output -> Label Studio predictions, and which control of a config a text model fills."""

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from labelops.domain.label_config import LabelConfig
from labelops.domain.label_interface import TEXT_OBJECT_TAGS


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


@dataclass(frozen=True)
class TextTarget:
    """The choices control the baseline fills, the text object it labels and its data field."""

    control: str
    object_name: str
    data_field: str


def text_classification_target(config: LabelConfig) -> TextTarget | None:
    """Returns the first choices control over a text object, or None when the config has none."""
    for control in config.controls.values():
        if control.result_type != "choices":
            continue
        for name in control.to_names:
            obj = config.objects.get(name)
            if obj is not None and obj.tag in TEXT_OBJECT_TAGS and obj.data_field:
                return TextTarget(control.name, obj.name, obj.data_field)
    return None
