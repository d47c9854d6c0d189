"""``python -m labelops``: the ``labelops`` command."""

from labelops.cli import main

main()
