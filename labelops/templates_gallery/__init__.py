"""Starter labeling configs shipped with labelops, listed in ``index.json``."""

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Template:
    """One starter labeling config of the gallery."""

    name: str
    title: str
    group: str
    description: str
    label_config: str


@cache
def gallery() -> tuple[Template, ...]:
    """Returns every starter template, in the order of ``index.json``."""
    root = resources.files(__name__)
    entries = json.loads(root.joinpath("index.json").read_text(encoding="utf-8"))
    return tuple(
        Template(
            name=entry["name"],
            title=entry["title"],
            group=entry["group"],
            description=entry["description"],
            label_config=root.joinpath(f"{entry['name']}.xml").read_text(encoding="utf-8"),
        )
        for entry in entries
    )


def get_template(name: str) -> Template | None:
    """Returns the template called ``name``, or None when the gallery has none by that name."""
    return next((t for t in gallery() if t.name == name), None)
