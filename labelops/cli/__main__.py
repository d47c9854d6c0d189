"""``python -m labelops.cli``: the ``labelops`` command."""

from labelops.cli import main

main()
