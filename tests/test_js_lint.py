"""The front end's JavaScript passes Biome's linter and formatter (biome.json)."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIOME = ROOT / "build/biome/node_modules/.bin/biome"


def test_static_javascript_has_no_lint_or_format_findings() -> None:
    if not BIOME.exists():
        pytest.fail(f"Biome is not installed at {BIOME}: run `make biome`", pytrace=False)
    checked = subprocess.run(
        [str(BIOME), "check", "--colors=off", "labelops/web/static"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Checked" in checked.stdout + checked.stderr  # it looked at files
