"""How a value cites its publication: "国家统计局《2020年全国科技经费投入统计公报》, 2021-09-22".

What belongs here: writing a publication record (``queries.publications``) as a citation in Chinese or
English, with how its date is known ("not after" for a bound), and the citations of a set of values, newest
first, falling back to the value's ``source`` text where it names no publication. Charts, slide footers,
packs and tables cite through here; the mirror address stays in the data table and the metadata page.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from indicators.i18n import Text

DATES: dict[str, Text] = {
    "stated": Text("{date}", "{date}"),
    "from_address": Text("{date}", "{date}"),
    "repost_bound": Text("不晚于{date}", "not after {date}"),
    "unknown": Text("发布日期不详", "date of publication unknown"),
}


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()


def citation(pub: Mapping, lang: str) -> str:
    """One publication as a citation: publisher, title and date in ``lang`` (the other language if empty)."""
    first, second = ("en", "zh") if lang == "en" else ("zh", "en")
    publisher = _text(pub.get(f"publisher_{first}")) or _text(pub.get(f"publisher_{second}"))
    title = _text(pub.get(f"title_{first}")) or _text(pub.get(f"title_{second}"))
    basis = _text(pub.get("date_basis")) or "unknown"
    day = _text(pub.get("published_on"))
    when = DATES.get(basis if day else "unknown", DATES["unknown"]).pick(lang).format(date=day)
    if lang == "en":
        return f"{publisher}, “{title}”, {when}"
    return f"{publisher}《{title.strip('《》')}》,{when}"


def by_id(publications: pd.DataFrame) -> dict[str, dict]:
    """The publication records (``queries.publications``) by id: what the functions below look up. Build
    it once per data version (``Snapshot.publication_records``), not per call."""
    return {} if publications.empty else publications.set_index("id").to_dict("index")


def citations(values: pd.DataFrame, records: Mapping[str, Mapping], lang: str) -> list[str]:
    """The citations of some values, without repeats, the newest year first.

    ``values`` has year, publication_id and source (as ``queries.observations``); ``records``: publications
    by id (:func:`by_id`). A value with no publication cites its source text.
    """
    if values.empty:
        return []
    ordered = values.sort_values("year", ascending=False, kind="stable")
    out = []
    for pub_id, source in zip(ordered.get("publication_id", pd.Series(None, index=ordered.index)),
                              ordered["source"], strict=True):
        pub = records.get(pub_id) if isinstance(pub_id, str) else None
        out.append(citation(pub, lang) if pub is not None else _text(source))
    return list(dict.fromkeys(c for c in out if c))


def value_citations(values: pd.DataFrame, records: Mapping[str, Mapping], lang: str) -> pd.Series:
    """The citation of each value (aligned with ``values``), for hovers and table cells; ``records`` as for
    :func:`citations`."""
    ids = values["publication_id"].tolist() if "publication_id" in values else [None] * len(values)
    cited: dict[str, str] = {}  # many values cite the same publication: each written once
    out = []
    for pub_id, source in zip(ids, values["source"].tolist(), strict=True):
        if isinstance(pub_id, str) and pub_id in records:
            if pub_id not in cited:
                cited[pub_id] = citation(records[pub_id], lang)
            out.append(cited[pub_id])
        else:
            out.append(_text(source))
    return pd.Series(out, index=values.index, dtype=object)
