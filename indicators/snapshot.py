"""A cached, read-only view of the database at one data version, shared by pages, PNG export and CLI.

What belongs here: loading the catalog once, knowing the current data version (the newest batch id, one
cheap query, ``queries.data_version``), and caching per version the things every page needs (the current
observations, the target assessment). A new upload or revert creates a batch, so the next request sees a
new version. Its snapshot is built from the one held for the previous version by reading only what the new
batches changed (``queries.observation_changes``) and splicing it in (:func:`_spliced`); whenever that
cannot be shown to give what reading everything gives, everything is read again (:func:`_refreshed` says
when). One thread builds a version while the others asking for it wait; a snapshot is cached only once
built. Nothing here writes, and the reading itself is ``queries``'.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from indicators import citations, db, queries, settings
from indicators.catalog import Catalog, load_catalog

# Beyond these a full read is about as fast as reading the changes key by key and splicing them in.
MAX_CHANGED_KEYS = 50_000
MAX_NEW_BATCHES = 200
# Stored columns that may be empty: a full read types one as text when it holds any value, else as objects.
NULLABLE_TEXT = ("flags", "published_on", "publication_id", "note")
# What must be the same in a batch the held snapshot counted and in the database now (a restored backup or
# a rebuilt database numbers its batches from 1 again).
BATCH_IDENTITY = ["id", "kind", "created_at", "checksum", "user"]

_lock = threading.Lock()
_cache: dict[tuple, Snapshot] = {}
_building: dict[tuple, threading.Lock] = {}  # one lock per snapshot being built


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
    # the units, publishers and titles read (before the observations) for this snapshot's observations
    _labels: queries.ObservationLabels | None = field(default=None, repr=False)
    _assessed_on: date | None = field(default=None, repr=False)
    # the previous version's assessment, the day it was made and the indicator x region series changed since
    _assessment_from: tuple[pd.DataFrame, date, set[tuple[str, str]]] | None = field(default=None, repr=False)
    _sorted: bool = field(default=False, repr=False)  # observations by indicator, region, year (as read)

    @property
    def assessment(self) -> pd.DataFrame:
        """The target assessment of every indicator x region x milestone (computed once per version)."""
        with self._lock:
            if self._assessment is None:
                from indicators.progress import assess

                today = date.today()
                spliced = _assessment_spliced(self, today) if self._assessment_from is not None else None
                self._assessment = assess(self.observations, self.catalog, today=today) if spliced is None else spliced
                self._assessed_on, self._assessment_from = today, None
            return self._assessment

    def memo(self, key, build):
        """``build()`` once per data version and key: for derived views that depend on nothing else."""
        if key not in self._memo:
            value = build()
            self._memo.setdefault(key, value)
        return self._memo[key]

    def series(self, indicator: str, regions: list[str] | None = None) -> pd.DataFrame:
        """One indicator's current observations (for some regions): a dictionary look-up, not a scan."""
        frame = self._indicator_rows().get(indicator, self.observations.iloc[0:0])
        if regions is not None:
            frame = frame[frame["region"].isin(regions)]
        return frame

    def _indicator_rows(self) -> dict[str, pd.DataFrame]:
        """Each indicator's current observations, built once per version."""
        if self._by_indicator is None:
            with self._lock:
                if self._by_indicator is None:
                    self._by_indicator = _by_indicator(self.observations, self._sorted)
        return self._by_indicator

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
        home = self.catalog.programme.home_region
        if not self._sorted:
            return self.observations[self.observations["region"] == home]
        # the same rows, found by bisection in each indicator's slice rather than by comparing a million codes
        indicator = self.observations["indicator"].to_numpy(dtype=object)
        region = self.observations["region"].to_numpy(dtype=object)
        spans = [_span(indicator, region, code, home) for code in self._indicator_rows()]
        return self.observations.take(np.concatenate([np.arange(lo, hi) for lo, hi in spans] or [np.zeros(0, "int64")]))

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
        building = _building.setdefault(key, threading.Lock())
    with building:
        with _lock:
            cached = _cache.get(key)
        if cached is not None:  # built by the thread this one waited for
            return cached
        previous = _held(key) if as_of is None else None
        snap = _refreshed(previous, engine) if previous is not None else None
        if snap is None:
            snap = _read_all(engine, catalog, version, as_of)
        with _lock:
            # keep only the newest version of each database
            for old in [k for k in _cache if k[0] == key[0] and k[2] != version]:
                del _cache[old]
            _cache[key] = snap
            _building.pop(key, None)
    return snap


def _by_indicator(observations: pd.DataFrame, ordered: bool) -> dict[str, pd.DataFrame]:
    """Each indicator's rows: when they are ordered by indicator, the slice of each (found by bisection, no
    scan of a million rows), else grouped."""
    if not ordered:
        return {code: part for code, part in observations.groupby("indicator", sort=False)}
    codes = observations["indicator"].to_numpy(dtype=object)
    parts, start = {}, 0
    while start < len(codes):
        end = int(np.searchsorted(codes, codes[start], "right"))
        parts[codes[start]] = observations.iloc[start:end]
        start = end
    return parts


def _held(key: tuple) -> Snapshot | None:
    """The newest snapshot held of the current data (no ``as_of``) of the same database and catalog."""
    with _lock:
        held = [s for k, s in _cache.items() if k[0] == key[0] and k[1] == key[1] and k[3] is None]
    return max(held, key=lambda s: s.version, default=None)


def _read_all(engine: Engine, catalog: Catalog, version: tuple[int, int], as_of: date | None) -> Snapshot:
    # the labels first: a catalog rewritten in between makes them differ from the next ones read, so the
    # next version is read in full rather than keeping stale units (see _refreshed)
    labels = queries.observation_labels(engine)
    return Snapshot(
        engine=engine, catalog=catalog, version=version, as_of=as_of,
        observations=queries.observations(engine, as_of=as_of),
        regions=queries.regions(engine), batches=queries.batches(engine), publications=queries.publications(engine),
        _labels=labels, _sorted=True,
    )


def _refreshed(previous: Snapshot, engine: Engine) -> Snapshot | None:
    """The snapshot of the current data built from ``previous`` by reading only what the batches after its
    version changed; None when that cannot be shown to equal a full read, which is when:

    - the previous snapshot has no observations or no labels, or the units, publishers or titles changed;
    - the batches it counted are not all there, unchanged, and no others at or below its newest id (a batch
      committed out of order, a restored backup, another database at the same address);
    - more than :data:`MAX_NEW_BATCHES` batches or :data:`MAX_CHANGED_KEYS` keys are new;
    - the spliced observations do not have the number of rows, or the newest id, the database has.
    """
    if previous._labels is None or previous.as_of is not None or previous.observations.empty:
        return None
    changes = queries.observation_changes(engine, previous.version[0], limit=MAX_CHANGED_KEYS)
    if changes.keys is None or changes.rows is None or not changes.labels.same_as(previous._labels):
        return None
    if not _continues(previous, changes.batches):
        return None
    if not len(changes.keys) and not changes.reverted:
        observations = previous.observations  # no value changed (task statuses, say): share what is held
    else:
        observations = _spliced(previous.observations, changes.keys, changes.rows, changes.reverted)
    if observations is None or len(observations) != changes.n_current or (
            len(observations) and int(observations["version"].max()) != changes.newest):
        return None
    snap = Snapshot(
        engine=engine, catalog=previous.catalog, version=changes.version, as_of=None, observations=observations,
        regions=queries.regions(engine), batches=changes.batches, publications=queries.publications(engine),
        _labels=changes.labels, _sorted=True,
    )
    with previous._lock:
        assessment, assessed_on = previous._assessment, previous._assessed_on
    if assessment is None or assessed_on is None:
        return snap
    if observations is previous.observations and assessed_on == date.today():
        snap._assessment, snap._assessed_on = assessment, assessed_on
    else:
        snap._assessment_from = (assessment, assessed_on, _changed_series(previous.observations, changes))
    return snap


def _changed_series(held: pd.DataFrame, changes: queries.ObservationChanges) -> set[tuple[str, str]]:
    """The indicator x region series whose values ``changes`` may have changed."""
    assert changes.keys is not None  # a refresh is made only of changes read in full
    pairs = set(zip(changes.keys["indicator"], changes.keys["region"], strict=True))
    if changes.reverted:
        gone = held[held["batch"].isin(changes.reverted)]
        pairs.update(zip(gone["indicator"], gone["region"], strict=True))
    return pairs


def _assessment_spliced(snap: Snapshot, today: date) -> pd.DataFrame | None:
    """The assessment of ``snap`` from the previous version's: every row of a changed series assessed again,
    every other row as it was. A row depends only on its own series, the catalog and today; None (assess
    everything) when the previous one was made on another day or a column's type differs between the parts
    other than text / objects.
    The rows are put in the order ``progress.assess`` gives (catalog order of the indicators, region,
    milestone year, plan: one row per such key)."""
    from indicators.progress import assess

    assert snap._assessment_from is not None
    held, assessed_on, pairs = snap._assessment_from
    if assessed_on != today:
        return None
    if not pairs:
        return held
    obs = snap.observations
    indicator, region = obs["indicator"].to_numpy(dtype=object), obs["region"].to_numpy(dtype=object)
    spans = [_span(indicator, region, code, reg) for code, reg in sorted(pairs)]
    at = np.concatenate([np.arange(lo, hi) for lo, hi in spans]) if spans else np.zeros(0, dtype="int64")
    fresh = assess(obs.take(at).reset_index(drop=True), snap.catalog, today=today)
    changed = pd.MultiIndex.from_tuples(sorted(pairs), names=["indicator", "region"])
    fresh = fresh[pd.MultiIndex.from_frame(fresh[["indicator", "region"]]).isin(changed)]
    kept = held[~pd.MultiIndex.from_frame(held[["indicator", "region"]]).isin(changed)]
    # A text column with no value in one part has objects there: like the whole assessment, the joined column
    # is text if it holds any (the type pandas infers from the values).
    mixed = [c for c in fresh.columns if len(fresh) and fresh[c].dtype != kept[c].dtype]
    if any({str(fresh[c].dtype), str(kept[c].dtype)} != {"str", "object"} for c in mixed):
        return None
    joined = pd.concat([kept, fresh], ignore_index=True) if len(fresh) else kept
    for col in mixed:
        joined[col] = pd.Series(joined[col].to_numpy(dtype=object), index=joined.index)
    order = {code: n for n, code in enumerate(snap.catalog.indicators)}
    joined = joined.assign(_order=joined["indicator"].map(order)).sort_values(
        ["_order", "region", "milestone_year", "plan"], kind="stable", na_position="last")
    return joined.drop(columns="_order").reset_index(drop=True)


def _continues(previous: Snapshot, batches: pd.DataFrame) -> bool:
    """Whether ``batches`` (every batch now) extend the ones ``previous`` counted: the same batches up to its
    newest id, and few enough after it."""
    newest, count = previous.version
    ids = batches["id"].to_numpy(dtype="int64") if len(batches) else np.zeros(0, dtype="int64")
    if int((ids <= newest).sum()) != count or int((ids > newest).sum()) > MAX_NEW_BATCHES:
        return False
    held = previous.batches
    if len(held) < count or any(c not in held or c not in batches for c in BATCH_IDENTITY):
        return False
    before = held[held["id"].to_numpy(dtype="int64") <= newest]
    return _identities(before) == _identities(batches[ids <= newest])


def _identities(batches: pd.DataFrame) -> list[tuple]:
    frame = batches[BATCH_IDENTITY].astype(object)
    return [tuple(None if pd.isna(v) else v for v in row) for row in frame.itertuples(index=False)]


def _spliced(held: pd.DataFrame, keys: pd.DataFrame, rows: pd.DataFrame, reverted: list[int]) -> pd.DataFrame | None:
    """``held`` (current observations, sorted by indicator, region and year, one row per key) without the rows
    of ``keys`` and of the ``reverted`` batches, with ``rows`` (the current rows of some of ``keys``) in their
    places: the order and the column types a full read gives. None when the inputs are not as expected."""
    if len(rows) and not (len(held.columns) == len(rows.columns) and (held.columns == rows.columns).all()):
        return None
    indicator = held["indicator"].to_numpy(dtype=object)
    region = held["region"].to_numpy(dtype=object)
    year = held["year"].to_numpy(dtype="int64")
    drop = held["batch"].isin(reverted).to_numpy().copy()
    spans = {pair: _span(indicator, region, *pair) for pair in
             {*zip(keys["indicator"], keys["region"], strict=True)}}
    for (code, reg), years in keys.groupby(["indicator", "region"], sort=False)["year"]:
        lo, hi = spans[(code, reg)]
        wanted = years.to_numpy(dtype="int64")
        at = lo + np.searchsorted(year[lo:hi], wanted)
        held_there = at < hi
        held_there[held_there] = year[at[held_there]] == wanted[held_there]
        drop[at[held_there]] = True
    rows = rows.sort_values(["indicator", "region", "year"], kind="stable").reset_index(drop=True)
    inserted = np.empty(len(rows), dtype="int64")  # where each new row goes among the held ones
    row_years = rows["year"].to_numpy(dtype="int64")
    for n, pair in enumerate(zip(rows["indicator"], rows["region"], strict=True)):
        if pair not in spans:  # every row is of a key read as changed: otherwise something is off
            return None
        lo, hi = spans[pair]
        inserted[n] = lo + np.searchsorted(year[lo:hi], row_years[n])
        if inserted[n] < hi and year[inserted[n]] == row_years[n] and not drop[inserted[n]]:
            return None
    if len(inserted) > 1 and (np.diff(inserted) < 0).any():
        return None
    kept = np.flatnonzero(~drop)
    order = np.empty(len(kept) + len(rows), dtype="int64")
    at_new = np.searchsorted(kept, inserted) + np.arange(len(rows))
    placed = np.zeros(len(order), dtype=bool)
    placed[at_new] = True
    order[at_new] = len(held) + np.arange(len(rows))
    order[~placed] = kept
    if len(rows):
        rows = _typed_like(rows, held)
        if rows is None:
            return None
        held = pd.concat([held, rows], ignore_index=True)
    return _typed_as_read(held.take(order).reset_index(drop=True))


def _span(indicator: np.ndarray, region: np.ndarray, code: str, reg: str) -> tuple[int, int]:
    """The rows [lo, hi) of one indicator x region in sorted columns (empty, at its place, if it has none)."""
    first, last = np.searchsorted(indicator, code, "left"), np.searchsorted(indicator, code, "right")
    part = region[first:last]
    return int(first + np.searchsorted(part, reg, "left")), int(first + np.searchsorted(part, reg, "right"))


def _typed_like(rows: pd.DataFrame, held: pd.DataFrame) -> pd.DataFrame | None:
    """The new rows with the column types of the held ones, so joining them converts no held column; None
    when a column's type differs other than reads of different rows make it differ: a nullable text column
    with values in one part and none in the other (text in one, objects in the other)."""
    for col in rows.columns:
        if rows[col].dtype == held[col].dtype:
            continue
        if col not in NULLABLE_TEXT or {str(rows[col].dtype), str(held[col].dtype)} != {"str", "object"}:
            return None
        rows[col] = rows[col].astype(held[col].dtype)
    return rows


def _typed_as_read(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the column types a full read gives it: a read makes a nullable text column text when it
    holds any value, else objects (None)."""
    for col in NULLABLE_TEXT:
        if frame[col].dtype == "str" and not frame[col].notna().any():
            frame[col] = pd.Series([None] * len(frame), dtype=object)
        elif frame[col].dtype == object and frame[col].notna().any():
            frame[col] = frame[col].astype("str")
    return frame
