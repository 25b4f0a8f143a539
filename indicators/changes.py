"""What changed between two dates ("what is new since the last report"): values that arrived, were revised or
were retracted, the target statuses and ranks that moved, and the task statuses editors changed.

What belongs here: comparing what was known at the end of one day with what was known at the end of another
(``queries.observations(as_of=...)``, ``progress.assess`` at each date, ``tasks.current_statuses(as_of=...)``),
and the one read the comparison needs that ``queries`` does not offer: the values a revert or a withdrawal
retracted in between (a retracted version is hidden from every as-of view, so the two views cannot show it).
Not here: pages and reports that print the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from indicators import progress, queries, tasks
from indicators.catalog import Catalog
from indicators.i18n import Text
from indicators.models import Batch, ObservationHistory, table_of
from indicators.store import as_of_cutoff

VALUE_COLUMNS = ["indicator", "name", "region", "region_name", "year", "change", "change_label", "old_value",
                 "new_value", "unit"]
STATUS_COLUMNS = ["indicator", "name", "region", "milestone_year", "old_status", "new_status", "old_label",
                  "new_label"]
RANK_COLUMNS = ["indicator", "name", "region", "region_name", "old_year", "old_rank", "new_year", "new_rank",
                "places"]
TASK_COLUMNS = ["task", "title", "old_status", "new_status", "old_label", "new_label", "date", "note", "evidence"]
FLAT_COLUMNS = ["section", "section_label", "item", "name", "region", "year", "old", "new", "detail"]
CHANGE_LABELS = {
    "arrived": Text("新增", "arrived"),
    "revised": Text("修订", "revised"),
    "retracted": Text("撤回", "retracted"),
}
SECTION_LABELS = {
    "values": Text("数值", "values"),
    "statuses": Text("目标状态", "target statuses"),
    "ranks": Text("排名", "ranks"),
    "tasks": Text("任务状态", "task statuses"),
}
KEY = ["indicator", "region", "year"]


@dataclass
class Changes:
    """The changes between the ends of two days, one frame per kind (columns ``*_COLUMNS`` of this module)."""

    start: date
    end: date
    values: pd.DataFrame
    statuses: pd.DataFrame
    ranks: pd.DataFrame
    tasks: pd.DataFrame

    def flat(self, lang: str = "zh") -> pd.DataFrame:
        """All four in one table (:data:`FLAT_COLUMNS`), for the command line and a report's appendix."""
        parts = [
            pd.DataFrame({"section": "values", "item": self.values["indicator"], "name": self.values["name"],
                          "region": self.values["region"], "year": self.values["year"],
                          "old": self.values["old_value"], "new": self.values["new_value"],
                          "detail": self.values["change_label"]}),
            pd.DataFrame({"section": "statuses", "item": self.statuses["indicator"], "name": self.statuses["name"],
                          "region": self.statuses["region"], "year": self.statuses["milestone_year"],
                          "old": self.statuses["old_label"], "new": self.statuses["new_label"], "detail": ""}),
            pd.DataFrame({"section": "ranks", "item": self.ranks["indicator"], "name": self.ranks["name"],
                          "region": self.ranks["region"], "year": self.ranks["new_year"],
                          "old": self.ranks["old_rank"], "new": self.ranks["new_rank"],
                          "detail": self.ranks["places"].map(lambda n: _places(n, lang))}),
            pd.DataFrame({"section": "tasks", "item": self.tasks["task"], "name": self.tasks["title"],
                          "region": "", "year": None, "old": self.tasks["old_label"],
                          "new": self.tasks["new_label"], "detail": self.tasks["note"]}),
        ]
        parts = [p.astype(object) for p in parts if len(p)]
        if not parts:
            return pd.DataFrame(columns=FLAT_COLUMNS)
        frame = pd.concat(parts, ignore_index=True)
        frame.insert(1, "section_label", frame["section"].map(lambda s: SECTION_LABELS[s].pick(lang)))
        return frame[FLAT_COLUMNS]


def changes(engine: Engine, catalog: Catalog, start: date, end: date, *, lang: str = "zh",
            region: str | None = None) -> Changes:
    """What changed between the end of ``start`` and the end of ``end`` (``start`` before ``end``).

    Values and ranks: every region, or ``region``; target statuses: assessed at each date as the ``status``
    command does (``today`` = the date); task statuses: as editors recorded them. Labels in ``lang``.
    """
    if end < start:
        raise ValueError("the end date is before the start date")
    before = queries.observations(engine, region=region, as_of=start)
    after = queries.observations(engine, region=region, as_of=end)
    return Changes(
        start=start, end=end,
        values=_values(engine, catalog, before, after, start, end, lang, region),
        statuses=_statuses(catalog, before, after, start, end, lang, region),
        ranks=_ranks(catalog, before, after, lang),
        tasks=_tasks(engine, catalog, start, end, lang),
    )


def _names(frame: pd.DataFrame, catalog: Catalog, lang: str) -> pd.DataFrame:
    frame = frame.copy()
    frame["name"] = frame["indicator"].map(lambda c: catalog.indicators[c].short_name.pick(lang)
                                           if c in catalog.indicators else c)
    if "region" in frame:
        frame["region_name"] = frame["region"].map(lambda c: catalog.regions[c].name.pick(lang)
                                                   if c in catalog.regions else c)
    return frame


def _values(engine: Engine, catalog: Catalog, before: pd.DataFrame, after: pd.DataFrame, start: date, end: date,
            lang: str, region: str | None) -> pd.DataFrame:
    both = before[[*KEY, "value", "version"]].merge(after[[*KEY, "value", "version"]], on=KEY, how="outer",
                                                     suffixes=("_old", "_new"), indicator=True)
    arrived = both["_merge"] == "right_only"
    revised = (both["_merge"] == "both") & (both["value_old"] != both["value_new"])
    gone = both["_merge"] == "left_only"  # visible at the start, hidden at the end: cannot happen today, kept safe
    frame = both[arrived | revised | gone].copy()
    frame["change"] = np.select([arrived[frame.index], revised[frame.index]], ["arrived", "revised"], "retracted")
    frame = frame.rename(columns={"value_old": "old_value", "value_new": "new_value"}, errors="raise")
    retracted = _retracted(engine, start, end, region)
    frame = pd.concat([frame, retracted], ignore_index=True) if len(retracted) else frame
    if frame.empty:
        return pd.DataFrame(columns=VALUE_COLUMNS)
    frame["change_label"] = frame["change"].map(lambda c: CHANGE_LABELS[c].pick(lang))
    frame["unit"] = frame["indicator"].map(lambda c: catalog.units[catalog.indicators[c].unit].name.pick(lang)
                                           if c in catalog.indicators else "")
    frame = _names(frame, catalog, lang)
    frame = frame.drop_duplicates(KEY, keep="last").sort_values(KEY, kind="stable").reset_index(drop=True)
    return frame.astype({"year": "int64"})[VALUE_COLUMNS]


def _retracted(engine: Engine, start: date, end: date, region: str | None) -> pd.DataFrame:
    """Values retracted by a batch made between the two dates, that were known at the start."""
    hist, batches = table_of(ObservationHistory), table_of(Batch)
    statement = (
        select(hist.c.indicator_code.label("indicator"), hist.c.region_code.label("region"), hist.c.year,
               hist.c.value.label("old_value"))
        .join(batches, batches.c.id == hist.c.superseded_by_batch_id)
        .where(hist.c.retracted.is_(True), hist.c.known_from <= as_of_cutoff(start),
               batches.c.created_at > as_of_cutoff(start), batches.c.created_at <= as_of_cutoff(end))
    )
    if region is not None:
        statement = statement.where(hist.c.region_code == region)
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(statement).all(), columns=["indicator", "region", "year", "old_value"])
    frame["change"] = "retracted"
    frame["new_value"] = np.nan
    return frame


def _statuses(catalog: Catalog, before: pd.DataFrame, after: pd.DataFrame, start: date, end: date, lang: str,
              region: str | None) -> pd.DataFrame:
    key = ["indicator", "region", "milestone_year"]
    old = progress.assess(before, catalog, today=start, region=region)[[*key, "status"]]
    new = progress.assess(after, catalog, today=end, region=region)[[*key, "status"]]
    both = old.merge(new, on=key, how="outer", suffixes=("_old", "_new"))
    moved = both[both["status_old"].fillna("") != both["status_new"].fillna("")]
    if moved.empty:
        return pd.DataFrame(columns=STATUS_COLUMNS)
    frame = moved.rename(columns={"status_old": "old_status", "status_new": "new_status"}, errors="raise")
    frame["old_label"] = frame["old_status"].map(lambda s: progress.status_label(s, lang) if isinstance(s, str) else "")
    frame["new_label"] = frame["new_status"].map(lambda s: progress.status_label(s, lang) if isinstance(s, str) else "")
    return _names(frame, catalog, lang).reset_index(drop=True)[STATUS_COLUMNS]


def _ranks(catalog: Catalog, before: pd.DataFrame, after: pd.DataFrame, lang: str) -> pd.DataFrame:
    ranked = [code for code, ind in catalog.indicators.items() if ind.kind == "rank"]

    def latest(frame: pd.DataFrame) -> pd.DataFrame:
        rows = frame[frame["indicator"].isin(ranked)].sort_values("year")
        return rows.drop_duplicates(["indicator", "region"], keep="last")[["indicator", "region", "year", "value"]]

    both = latest(before).merge(latest(after), on=["indicator", "region"], how="outer", suffixes=("_old", "_new"))
    moved = both[(both["year_old"] != both["year_new"]) | (both["value_old"] != both["value_new"])]
    if moved.empty:
        return pd.DataFrame(columns=RANK_COLUMNS)
    frame = moved.rename(columns={"year_old": "old_year", "value_old": "old_rank", "year_new": "new_year",
                                  "value_new": "new_rank"}, errors="raise")
    frame["places"] = frame["old_rank"] - frame["new_rank"]  # positive: moved up
    frame = _names(frame, catalog, lang).sort_values(["indicator", "region"]).reset_index(drop=True)
    return frame.astype({"old_year": "Int64", "new_year": "Int64"})[RANK_COLUMNS]


def _places(n: float, lang: str) -> str:
    if n is None or pd.isna(n) or n == 0:
        return ""
    up = n > 0
    count = int(abs(n))
    return Text(f"上升{count}位" if up else f"下降{count}位",
                f"up {count}" if up else f"down {count}").pick(lang)


def _tasks(engine: Engine, catalog: Catalog, start: date, end: date, lang: str) -> pd.DataFrame:
    old = tasks.current_statuses(engine, as_of=start)[["task", "status"]]
    new = tasks.current_statuses(engine, as_of=end)[["task", "status", "date", "note", "evidence"]]
    both = old.merge(new, on="task", how="outer", suffixes=("_old", "_new"))
    moved = both[both["status_old"].fillna(tasks.UNREPORTED) != both["status_new"].fillna(tasks.UNREPORTED)].copy()
    if moved.empty:
        return pd.DataFrame(columns=TASK_COLUMNS)
    moved = moved.rename(columns={"status_old": "old_status", "status_new": "new_status"}, errors="raise")
    moved[["old_status", "new_status"]] = moved[["old_status", "new_status"]].fillna(tasks.UNREPORTED)
    for side in ("old", "new"):
        moved[f"{side}_label"] = moved[f"{side}_status"].map(lambda s: tasks.STATUS_LABELS[s].pick(lang))
    moved["title"] = moved["task"].map(lambda t: catalog.tasks[t].title.pick(lang) if t in catalog.tasks else t)
    return moved.fillna({"date": "", "note": "", "evidence": ""}).sort_values("task").reset_index(drop=True)[
        TASK_COLUMNS]
