"""What an indicator's metadata page shows beyond its catalog entry: the publications behind its values.

What belongs here: shaping the current observations of one indicator and the publication records they cite
into one row per publication (publisher, title, date and how the date is known, the years and regions it
supplies, the official address, the pages where it was read and the source texts the values carry), in the
language asked for. The page (``dashboards/metadata``) lays the rows out; the CLI and tests use them as they
are. What does not: reading the database (``queries``), the catalog entry itself (``catalog``), the wording of a
citation and of its date (``citations``), and layout.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd

from indicators.citations import DATES
from indicators.i18n import pick
from indicators.snapshot import Snapshot

PUBLICATION_COLUMNS = [
    "publication_id", "publisher", "title", "kind", "published_on", "date_basis", "date", "years", "regions",
    "supplies", "values", "official_url", "read_at", "cited_as", "notes",
]
MAX_NAMES = 6  # a ranking edition supplies a dozen cities: name a few, count the rest


def publication_rows(observations: pd.DataFrame, publications: pd.DataFrame, indicator: str, lang: str, *,
                     region_name: Callable[[str], str] = str, home: str | None = None) -> pd.DataFrame:
    """One row per publication behind ``indicator``'s values (``queries.observations`` and
    ``queries.publications`` frames), dated ones first by date, then those of unknown date; on
    the same date, recorded publications before values that name none.

    Values that name no publication (an upload may leave it out) are grouped by their source text, one row
    each, with no ``publication_id``. ``read_at`` and ``cited_as`` are lists, ``values`` a count, the others
    text or None.
    """
    values = observations[observations["indicator"] == indicator]
    if values.empty:
        return pd.DataFrame(columns=PUBLICATION_COLUMNS)
    records = {r["id"]: r for r in publications.to_dict("records")} if len(publications) else {}
    cited = values["publication_id"].fillna("").astype(str)
    uncited = values["source"].fillna("").astype(str).where(cited == "", "")  # the key of values citing nothing
    rows = []
    for (key, _), group in values.groupby([cited, uncited], sort=False):
        record = records.get(key)
        if record is not None:
            rows.append(_published(record, group, lang, region_name, home))
        else:
            rows.append(_unpublished(key or None, group, lang, region_name, home))
    # text stays text or None (not NaN): the page and the CLI test "is there an official address" plainly
    frame = pd.DataFrame(rows, columns=PUBLICATION_COLUMNS, dtype=object).astype({"values": "int64"})
    order = frame.assign(_undated=frame["published_on"].isna(), _unnamed=frame["publication_id"].isna(),
                         _id=frame["publication_id"].fillna(""))
    order = order.sort_values(["_undated", "published_on", "_unnamed", "_id"], kind="stable", na_position="last")
    return frame.loc[order.index].reset_index(drop=True)


def publications_behind(snap: Snapshot, indicator: str, lang: str) -> pd.DataFrame:
    """:func:`publication_rows` for the current values of a snapshot and its publication records."""
    return publication_rows(snap.observations, snap.publications, indicator, lang,
                            region_name=lambda code: snap.region_name(code, lang),
                            home=snap.catalog.programme.home_region)


def _published(record: dict, group: pd.DataFrame, lang: str, region_name, home) -> dict:
    published_on = _text(record.get("published_on"))
    basis = _text(record.get("date_basis")) or "unknown"
    return {
        "publication_id": record["id"],
        "publisher": _pick(record, "publisher", lang),
        "title": _pick(record, "title", lang),
        "kind": _text(record.get("kind")),
        "published_on": published_on,
        "date_basis": basis,
        "date": date_text(published_on, basis, lang),
        **_supplied(group, lang, region_name, home),
        "official_url": _text(record.get("official_url")),
        "read_at": _list(record.get("read_at")),
        "cited_as": _distinct(group["source"]),
        "notes": _text(record.get("notes")),
    }


def _unpublished(publication_id: str | None, group: pd.DataFrame, lang: str, region_name, home) -> dict:
    """Values whose publication is not on record: what they say of themselves (their date, their source)."""
    dates = sorted(d for d in group["published_on"].dropna().astype(str).unique())
    published_on = dates[0] if dates else None
    basis = "stated" if published_on else "unknown"
    return {
        "publication_id": publication_id, "publisher": None, "title": None, "kind": None,
        "published_on": published_on, "date_basis": basis, "date": date_text(published_on, basis, lang),
        **_supplied(group, lang, region_name, home),
        "official_url": None, "read_at": [], "cited_as": _distinct(group["source"]), "notes": None,
    }


def date_text(published_on: str | None, basis: str, lang: str) -> str:
    """'2011-09-28', 'not after 2019-10-17' for a date known only as a bound, 'date of publication unknown':
    worded as the citations word it (``citations.DATES``)."""
    if not published_on:
        basis = "unknown"
    return DATES.get(basis, DATES["unknown"]).pick(lang).format(date=published_on)


def year_ranges(years) -> str:
    """2010, 2013–2016, 2018: runs of consecutive years as ranges."""
    ordered = sorted({int(y) for y in years})
    runs: list[list[int]] = []
    for year in ordered:
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)


def _supplied(group: pd.DataFrame, lang: str, region_name, home) -> dict:
    """Years, regions, and which years of which regions, with regions that share their years named together."""
    codes = sorted(group["region"].unique(), key=lambda c: (c != home, c))  # the same order in both languages
    by_years: dict[str, list[str]] = {}
    for code in codes:
        by_years.setdefault(year_ranges(group.loc[group["region"] == code, "year"]), []).append(region_name(code))
    sep = "、" if lang == "zh" else ", "
    parts = []
    for years, names in by_years.items():
        shown = sep.join(names[:MAX_NAMES])
        if len(names) > MAX_NAMES:
            more = len(names) - MAX_NAMES
            shown += f"等{len(names)}个地区" if lang == "zh" else f" and {more} more"
        parts.append(f"{shown}:{years}" if lang == "zh" else f"{shown}: {years}")
    return {
        "years": year_ranges(group["year"]),
        "regions": sep.join(region_name(c) for c in codes),
        "supplies": ";".join(parts) if lang == "zh" else "; ".join(parts),
        "values": len(group),
    }


def _pick(record: dict, field: str, lang: str) -> str:
    """A record's ``<field>_zh`` / ``<field>_en`` in ``lang`` (the other language when that one is empty)."""
    return pick({"zh": _text(record.get(f"{field}_zh")) or "", "en": _text(record.get(f"{field}_en")) or ""}, lang)


def _text(value) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value) or None


def _list(value) -> list[str]:
    """A JSON list column: a list from PostgreSQL, its text from SQLite."""
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else []
    if value is None or (not isinstance(value, list) and pd.isna(value)):
        return []
    return [str(v) for v in value]


def _distinct(texts: pd.Series) -> list[str]:
    return list(dict.fromkeys(str(s) for s in texts.dropna() if str(s).strip()))
