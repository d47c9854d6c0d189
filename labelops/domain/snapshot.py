"""A task record as one line of a snapshot file, and back, losing nothing an export writer reads.

An export snapshot freezes a project's tasks at one moment as JSON lines; any export format is
then written from it, so every format of one snapshot shows the same tasks.
"""

from dataclasses import asdict
from datetime import datetime
from typing import Any

import orjson

from labelops.domain.records import Annotation, Prediction, Task


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def task_line(task: Task) -> bytes:
    """Returns the task as one JSON line (with its newline)."""
    record = asdict(task)
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def task_from_line(line: bytes) -> Task:
    """Returns the task a :func:`task_line` line holds."""
    raw = orjson.loads(line)
    return Task(
        data=raw["data"],
        id=raw["id"],
        meta=raw["meta"],
        created_at=_time(raw["created_at"]),
        updated_at=_time(raw["updated_at"]),
        annotations=tuple(
            Annotation(
                **{
                    **a,
                    "created_at": _time(a["created_at"]),
                    "updated_at": _time(a["updated_at"]),
                }
            )
            for a in raw["annotations"]
        ),
        predictions=tuple(
            Prediction(**{**p, "created_at": _time(p["created_at"])}) for p in raw["predictions"]
        ),
    )
