"""Task, Annotation and Prediction: the vocabulary every layer shares, in Label Studio's shapes."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ResultItem = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Annotation:
    """One annotator's finished (or cancelled) labeling of one task."""

    result: list[ResultItem]
    id: int | None = None
    completed_by: int | None = None
    completed_by_email: str | None = None
    was_cancelled: bool = False
    ground_truth: bool = False
    lead_time: float | None = None
    review_state: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def to_ls(self) -> dict[str, Any]:
        """Returns Label Studio's annotation JSON for this annotation."""
        out: dict[str, Any] = {
            "id": self.id,
            "completed_by": self.completed_by,
            "result": self.result,
            "was_cancelled": self.was_cancelled,
            "ground_truth": self.ground_truth,
            "lead_time": self.lead_time,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }
        if self.completed_by_email is not None:
            out["completed_by_email"] = self.completed_by_email
        if self.review_state is not None:
            out["review_state"] = self.review_state
        return out


@dataclass(frozen=True, slots=True)
class Prediction:
    """A model's proposed result for one task."""

    result: list[ResultItem]
    model_version: str = ""
    score: float | None = None
    id: int | None = None
    created_at: datetime | None = None

    def to_ls(self) -> dict[str, Any]:
        """Returns Label Studio's prediction JSON for this prediction."""
        return {
            "id": self.id,
            "model_version": self.model_version,
            "score": self.score,
            "result": self.result,
            "created_at": _iso(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class Task:
    """One item to label: its data plus the annotations and predictions made on it."""

    data: Mapping[str, Any]
    id: int | None = None
    annotations: tuple[Annotation, ...] = ()
    predictions: tuple[Prediction, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def to_ls(self) -> dict[str, Any]:
        """Returns Label Studio's full task JSON (the JSON export shape) for this task."""
        return {
            "id": self.id,
            "data": dict(self.data),
            "meta": dict(self.meta),
            "annotations": [a.to_ls() for a in self.annotations],
            "predictions": [p.to_ls() for p in self.predictions],
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
