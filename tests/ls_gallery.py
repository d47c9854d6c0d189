"""Label Studio's own template gallery, read straight from its released wheel.

NEEDS THE WHEEL: ``make ls-templates`` downloads ``label-studio==1.23.2`` (about 74 MB) with pip
into the git-ignored ``build/ls-wheel`` folder, once. The templates are never copied into this
repository: each test reads ``label_studio/annotation_templates/**/config.yml`` from the zip.
Without the wheel, the tests that use it fail (never skip) and name the make target.
"""

import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WHEEL = ROOT / "build" / "ls-wheel" / "label_studio-1.23.2-py3-none-any.whl"
TEMPLATES_DIR = "label_studio/annotation_templates/"
EXPECTED_COUNT = 69


@dataclass(frozen=True)
class GalleryTemplate:
    """One template of the gallery: its folder below annotation_templates/ and its config."""

    key: str
    title: str
    config: str


def gallery_templates() -> list[GalleryTemplate]:
    """Returns every template of the wheel's gallery, in folder order.

    Fails the calling test (not a skip) when the wheel has not been downloaded.
    """
    if not WHEEL.exists():
        pytest.fail(
            f"Label Studio's wheel is missing ({WHEEL.relative_to(ROOT)}): run `make ls-templates`",
            pytrace=False,
        )
    found = []
    with zipfile.ZipFile(WHEEL) as wheel:
        for name in sorted(wheel.namelist()):
            if name.startswith(TEMPLATES_DIR) and name.endswith("/config.yml"):
                document = yaml.safe_load(wheel.read(name))
                key = name.removeprefix(TEMPLATES_DIR).removesuffix("/config.yml")
                found.append(GalleryTemplate(key, document.get("title", key), document["config"]))
    return found


def checked_templates() -> list[GalleryTemplate]:
    """Returns the gallery's templates that the tests check: all of them."""
    return gallery_templates()
