"""A cached, read-only view of the database at one data version, shared by pages, PNG export and CLI.

What belongs here: loading the catalog once, knowing the current data version (the newest batch id, one
cheap query, ``queries.data_version``), and caching per version the things every page needs (the current
observations, the target assessment). A new upload or revert creates a batch, so the next request sees a
new version and rebuilds. Nothing here writes, and the reading itself is ``queries``'.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache

import pandas as pd
from sqlalchemy import Engine

from indicators import citations, db, queries, settings
from indicators.catalog import Catalog, load_catalog

_lock = threading.Lock()
_cache: dict[tuple, Snapshot] = {}


@lru_cache(maxsize=4)
def catalog_at(path: str) -> Catalog:
    return load_catalog(path)


def default_catalog() -> Catalog:
    return catalog_at(str(settings.catalog_dir()))


@dataclass
class Snapshot:
    engine: Engine
    catalog: Catalog
    version: tuple[int, int]
    as_of: date | None
    observations: pd.DataFrame
    regions: pd.DataFrame
    batches: pd.DataFrame
    publications: pd.DataFrame = field(default_factory=pd.DataFrame)  # what the values cite (by id)
    _assessment: pd.DataFrame | None = field(default=None, repr=False)
    _by_indicator: dict[str, pd.DataFrame] | None = field(default=None, repr=False)
    _memo: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def assessment(self) -> pd.DataFrame:
        """The target assessment of every indicator x region x milestone (computed once per version)."""
        with self._lock:
            if self._assessment is None:
                from indicators.progress import assess

                self._assessment = assess(self.observations, self.catalog, today=date.today())
            return self._assessment

    def memo(self, key, build):
        """``build()`` once per data version and key: for derived views that depend on nothing else."""
        if key not in self._memo:
            value = build()
            self._memo.setdefault(key, value)
        return self._memo[key]

    def series(self, indicator: str, regions: list[str] | None = None) -> pd.DataFrame:
        """One indicator's current observations (for some regions): a dictionary look-up, not a scan."""
        if self._by_indicator is None:
            with self._lock:
                if self._by_indicator is None:
                    self._by_indicator = {code: part for code, part in self.observations.groupby("indicator", sort=False)}
        frame = self._by_indicator.get(indicator, self.observations.iloc[0:0])
        if regions is not None:
            frame = frame[frame["region"].isin(regions)]
        return frame

    @cached_property
    def _region_names(self) -> dict[str, tuple[str, str]]:
        names = {}
        if len(self.regions):
            names = dict(zip(self.regions["code"], zip(self.regions["name_zh"], self.regions["name_en"], strict=True),
                             strict=True))
        names.update({code: (r.name.zh, r.name.en) for code, r in self.catalog.regions.items()})
        return names

    @cached_property
    def publication_records(self) -> dict[str, dict]:
        """The publications by id, built once per data version (every hover and footer looks them up)."""
        return citations.by_id(self.publications)

    @cached_property
    def home_observations(self) -> pd.DataFrame:
        """The home region's current observations (the release calendar and the overview read only these)."""
        return self.observations[self.observations["region"] == self.catalog.programme.home_region]

    def citations(self, values: pd.DataFrame, lang: str) -> list[str]:
        """The publications some values cite, newest first ("国家统计局《…》,2021-09-22")."""
        return citations.citations(values, self.publication_records, lang)

    def with_citations(self, values: pd.DataFrame, lang: str) -> pd.DataFrame:
        """``values`` with a ``citation`` column: each value's publication as a citation in ``lang``."""
        return values.assign(citation=citations.value_citations(values, self.publication_records, lang))

    def region_name(self, code: str, lang: str) -> str:
        """The region's name in ``lang``: the catalog's, else the one an upload gave, else the code."""
        names = self._region_names.get(code)
        return code if names is None else names[1 if lang == "en" else 0]

    def regions_with_data(self, indicator: str) -> list[str]:
        return sorted(self.series(indicator)["region"].unique())


def snapshot(engine: Engine | None = None, catalog: Catalog | None = None, as_of: date | None = None) -> Snapshot:
    """The snapshot of the current data version (or of what was known ``as_of`` a date)."""
    engine = engine or db.default_engine()
    catalog = catalog or default_catalog()
    version = queries.data_version(engine)
    key = (engine.url.render_as_string(hide_password=False), id(catalog), version, as_of)
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    snap = Snapshot(
        engine=engine, catalog=catalog, version=version, as_of=as_of,
        observations=queries.observations(engine, as_of=as_of),
        regions=queries.regions(engine), batches=queries.batches(engine), publications=queries.publications(engine),
    )
    with _lock:
        # keep only the newest few versions
        for old in [k for k in _cache if k[0] == key[0] and k[2] != version]:
            del _cache[old]
        _cache[key] = snap
    return snap
