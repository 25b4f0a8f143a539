"""Where things live: the database URL, the instance folder and the catalog and data folders.

Only paths and environment variables belong here; no I/O beyond creating the instance folder.

- ``DATABASE_URL``: any SQLAlchemy URL (``postgresql+psycopg://user@host/db``). Default: the embedded SQLite
  file ``<instance>/innovation-monitor.sqlite3``.
- ``INNOVATION_MONITOR_INSTANCE``: the instance folder (database, secret key). Default ``<project>/instance``.
- ``INNOVATION_MONITOR_CATALOG``: the catalog folder. Default ``<project>/data/catalog``.
- ``INNOVATION_MONITOR_DATA``: the shipped observations folder. Default ``<project>/data/observations``.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQLITE_FILE_NAME = "innovation-monitor.sqlite3"


def instance_dir() -> Path:
    path = Path(os.environ.get("INNOVATION_MONITOR_INSTANCE", PROJECT_ROOT / "instance"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Heroku-style URLs name the dialect 'postgres'; SQLAlchemy wants the driver spelled out.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://"):]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return url
    return f"sqlite:///{instance_dir() / SQLITE_FILE_NAME}"


def catalog_dir() -> Path:
    return Path(os.environ.get("INNOVATION_MONITOR_CATALOG", PROJECT_ROOT / "data" / "catalog"))


def shipped_data_dir() -> Path:
    return Path(os.environ.get("INNOVATION_MONITOR_DATA", PROJECT_ROOT / "data" / "observations"))
