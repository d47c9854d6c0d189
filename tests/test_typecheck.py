"""The whole package type-checks under mypy's strict mode (``make typecheck``)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_package_passes_mypy_strict() -> None:
    # The same command as ``make typecheck``: pyproject's [tool.mypy] holds the configuration.
    # The cache (the ignored .mypy_cache/ folder) keeps a run after a small change to seconds.
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "labelops"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
