"""``python -m indicators`` is the ``innovation-monitor`` command."""

from indicators.cli import main

main()
