"""Owners and the release calendar: expected release dates, the overdue rule on inline tables, every indicator
owned, and editors scoped to an agency (refused another agency's indicator in the CLI and in ``may_write``)."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from indicators import users
from indicators.calendar import calendar, expected_release
from indicators.catalog import ReleaseRule

from .support import invoke

# Every rule a row: kind, months / month / year offset, reference year -> the last day it is expected by.
EXPECTED_RELEASES = """
kind,       months, month, year_offset, year, expected
after_year, 10,     ,      0,           2024, 2025-10-31
after_year, 1,      ,      0,           2024, 2025-01-31
after_year, 0,      ,      0,           2024, 2024-12-31
after_year, 14,     ,      0,           2024, 2026-02-28
ranking,    ,       11,    0,           2024, 2024-11-30
ranking,    ,       11,    1,           2024, 2025-11-30
ranking,    ,       2,     1,           2027, 2028-02-29
"""


def _table(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text.strip()), skipinitialspace=True, keep_default_na=False, na_values=[""])


def test_expected_release_dates():
    for row in _table(EXPECTED_RELEASES).to_dict("records"):
        rule = ReleaseRule(kind=row["kind"], months=None if pd.isna(row["months"]) else int(row["months"]),
                           month=None if pd.isna(row["month"]) else int(row["month"]),
                           year_offset=int(row["year_offset"]))
        assert expected_release(rule, int(row["year"])).isoformat() == row["expected"], row


@pytest.mark.parametrize("bad", [{"kind": "after_year"}, {"kind": "ranking", "months": 3},
                                 {"kind": "after_year", "months": 3, "month": 4}])
def test_an_incomplete_rule_is_refused(bad):
    with pytest.raises(ValueError):
        ReleaseRule(**bad)


# Observations held (beijing unless named), and today: RD_GDP_RATIO (after_year 10), TECH_CONTRACT_TURNOVER
# (after_year 1), NATURE_INDEX_CITY_RANK (ranking, November of the next year), GIHI_RANK (ranking, December).
HELD = """
indicator,              region,   year
RD_GDP_RATIO,           beijing,  2023
RD_GDP_RATIO,           beijing,  2024
TECH_CONTRACT_TURNOVER, beijing,  2023
NATURE_INDEX_CITY_RANK, beijing,  2024
GIHI_RANK,              beijing,  2025
GIHI_RANK,              shanghai, 2026
"""
# On 2026-03-15: R&D 2025 is due 2026-10-31 (not yet); tech contracts 2024 were due 2025-01-31 and 2025 on
# 2026-01-31 (two years missing); Nature Index 2025 is due 2026-11-30; GIHI 2026 at the end of 2026 (Shanghai's
# 2026 rank does not count for Beijing); nothing held for R&D personnel, whose 2024 was due 2025-10-31.
CALENDAR_2026_03_15 = """
indicator,                     latest_year, next_year, next_release, overdue, days_overdue, years_overdue
TECH_CONTRACT_TURNOVER,        2023,        2024,      2025-01-31,   True,    408,          2
RD_PERSONNEL_PER_10K_EMPLOYED, ,            2024,      2025-10-31,   True,    135,          1
RD_GDP_RATIO,                  2024,        2025,      2026-10-31,   False,   0,            0
NATURE_INDEX_CITY_RANK,        2024,        2025,      2026-11-30,   False,   0,            0
GIHI_RANK,                     2025,        2026,      2026-12-31,   False,   0,            0
"""
# The day after the expected date the value is overdue; on the date itself it is not.
CALENDAR_EDGE = """
today,      overdue
2026-10-31, False
2026-11-01, True
"""


def test_calendar_overdue_logic(catalog):
    held = _table(HELD)
    frame = calendar(held, catalog, date(2026, 3, 15))
    expected = _table(CALENDAR_2026_03_15).astype({"latest_year": "Int64", "next_year": "Int64"})
    expected["next_release"] = expected["next_release"].map(date.fromisoformat)
    actual = frame.set_index("indicator").loc[expected["indicator"], expected.columns[1:]].reset_index()
    assert_frame_equal(actual, expected, check_dtype=False)
    assert frame.loc[frame["indicator"] == "TECH_CONTRACT_TURNOVER", "owner"].item() == "bj-kw"
    assert frame["indicator"].iloc[0] == "TECH_CONTRACT_TURNOVER"  # the longest overdue first
    assert frame["overdue"].tolist() == sorted(frame["overdue"], reverse=True)  # then every overdue one, then the rest
    goals = frame[frame["indicator"].isin(["GOAL_2025", "GOAL_2035"])]
    assert goals["next_release"].isna().all() and not goals["overdue"].any()
    assert frame.index[frame["indicator"] == "GOAL_2035"].item() >= len(frame) - 2  # no rule: last
    for row in _table(CALENDAR_EDGE).to_dict("records"):
        rd = calendar(held, catalog, date.fromisoformat(row["today"])).set_index("indicator").loc["RD_GDP_RATIO"]
        assert bool(rd["overdue"]) is row["overdue"], row


def test_every_indicator_has_an_owner_and_every_series_a_release_rule(catalog):
    for ind in catalog.indicators.values():
        assert ind.owner in catalog.agencies, ind.code
        assert (ind.release_rule is None) == (ind.frequency == "once"), ind.code
    assert {a.kind for a in catalog.agencies.values()} == {"government", "index_publisher", "other"}
    assert sorted(catalog.owned_by("bj-stats")) == ["DIGITAL_ECON_VA_GROWTH", "HIGHTECH_VA",
                                                     "RD_PERSONNEL_PER_10K_EMPLOYED"]


def test_calendar_command(seeded_url, tmp_path):
    env = {"DATABASE_URL": seeded_url, "INNOVATION_MONITOR_INSTANCE": str(tmp_path / "instance")}
    out = invoke("calendar", "--today", "2026-12-01", "--format", "csv", env=env, check=True).stdout
    frame = pd.read_csv(io.StringIO(out), dtype=str)
    assert list(frame.columns) == ["indicator", "owner", "next_release", "overdue"]
    assert len(frame) == 24 and set(frame["overdue"]) == {"True", "False"}
    wide = invoke("calendar", "--today", "2026-12-01", "--owner", "bj-stats", "--wide", "--lang", "en",
                  "--format", "csv", env=env, check=True).stdout
    assert set(pd.read_csv(io.StringIO(wide))["owner_name"]) == {"Beijing Municipal Bureau of Statistics"}


# --- editors scoped to an agency

OWN_FILE = "indicator,region,year,value,unit,source,confidence\nDIGITAL_ECON_VA_GROWTH,beijing,2025,7.9,%,s,low\n"
OTHER_FILE = "indicator,region,year,value,unit,source,confidence\nRD_GDP_RATIO,beijing,2025,6.6,%,s,low\n"


def test_a_scoped_editor_is_refused_another_agencys_indicator_in_the_cli(seeded_url, tmp_path):
    env = {"DATABASE_URL": seeded_url, "INNOVATION_MONITOR_INSTANCE": str(tmp_path / "instance")}
    invoke("users", "add", "stats", "--agency", "bj-stats", "--password-stdin", input="a long password\n",
           env=env, check=True)
    listed = invoke("users", "list", "--format", "csv", env=env, check=True).stdout
    assert "stats,editor,bj-stats" in listed
    assert invoke("users", "add", "x", "--agency", "nowhere", "--password-stdin", input="a long password\n",
                  env=env).returncode == 1
    other, own = tmp_path / "other.csv", tmp_path / "own.csv"
    other.write_text(OTHER_FILE, encoding="utf-8")
    own.write_text(OWN_FILE, encoding="utf-8")
    before = invoke("batches", "--format", "csv", env=env, check=True).stdout
    refused = invoke("ingest", str(other), "--user", "stats", env=env)
    assert refused.returncode == 1 and "RD_GDP_RATIO" in refused.stderr and "bj-stats" in refused.stderr
    assert invoke("batches", "--format", "csv", env=env, check=True).stdout == before
    loaded = invoke("ingest", str(own), "--user", "stats", env=env, check=True)
    assert "loaded as batch" in loaded.stdout
    # the shipped data (batch 2) holds other agencies' values: a scoped editor may not revert it
    assert invoke("revert", "2", "--user", "stats", env=env).returncode == 1
    # an operator (a name that is no account) is not scoped, as before accounts existed
    invoke("ingest", str(other), "--user", "ops", env=env, check=True)


def test_may_write_checks_the_agency_for_the_web_callbacks(catalog):
    stats = users.Account(1, "stats", "editor", agency="bj-stats")
    assert users.may_write(stats, ["DIGITAL_ECON_VA_GROWTH"], catalog)
    assert not users.may_write(stats, ["DIGITAL_ECON_VA_GROWTH", "RD_GDP_RATIO"], catalog)
    assert users.refused_indicators(stats, ["RD_GDP_RATIO", "HIGHTECH_VA"], catalog) == ["RD_GDP_RATIO"]
    assert users.may_write(users.Account(2, "chief", "editor"), ["RD_GDP_RATIO"], catalog)
    assert not users.may_write(users.Account(3, "reader", "viewer"), ["RD_GDP_RATIO"], catalog)
    assert not users.may_write(None, [], catalog)
    kw = users.Account(4, "kw", "editor", agency="bj-kw")
    assert users.may_write_tasks(kw, ["T3-2", "T7-2"], catalog) and not users.may_write_tasks(kw, ["T3-1"], catalog)


def test_the_agency_is_stored_with_the_account_and_read_back(seeded_engine, catalog):
    users.add_user(seeded_engine, "stats", "a long password", "editor", agency="bj-stats", catalog=catalog)
    account = users.authenticate(seeded_engine, "stats", "a long password")
    assert account is not None and account.agency == "bj-stats"
    assert users.get_account(seeded_engine, account.id).agency == "bj-stats"
    users.set_agency(seeded_engine, "stats", None, catalog)
    assert users.account_named(seeded_engine, "stats").agency is None
    with pytest.raises(users.AccountError):
        users.add_user(seeded_engine, "boss", "a long password", "admin", agency="bj-stats", catalog=catalog)
