"""innovation-monitor's engine: catalog, database, ingestion, analysis, figures and export.

Everything here runs without a web server and never imports Dash; ``dashboards/`` and ``app.py`` wire it to
the browser. Data flows one way: YAML catalog and CSV statistics -> this package -> pages, PNGs, CLI.
"""

__version__ = "0.1.0"
