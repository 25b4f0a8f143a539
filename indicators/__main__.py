"""``python -m indicators`` is the ``innovation-monitor`` command."""

from indicators.cli import run

run()
