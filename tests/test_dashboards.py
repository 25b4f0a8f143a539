"""Page callbacks and layouts as plain functions, on a seeded database (no browser)."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from indicators import snapshot as snapshots


@pytest.fixture
def snap(seeded_engine, catalog):
    return snapshots.snapshot(seeded_engine, catalog)


@pytest.fixture(scope="module", autouse=True)
def dash_app():
    import app  # registers the pages

    return app.app


def _texts(component) -> str:
    """All text inside a Dash component tree."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(_texts(c) for c in component)
    return _texts(getattr(component, "children", None))


def test_trend_render_draws_targets_path_and_sources(snap):
    from dashboards import trend

    fig, why, sources = trend.render(snap, "RD_GDP_RATIO", ["beijing", "china"], [2010, 2025], False, "zh")
    names = [tr.name for tr in fig.data]
    assert names[:2] == ["北京", "全国"]
    assert any(n.startswith("目标 2025") for n in names)
    assert "达标所需路径" not in names  # 'keep at about 6 %' from inside the band: no movement required
    basic, _, _ = trend.render(snap, "BASIC_RESEARCH_SHARE", ["beijing"], None, False, "zh")
    path = next(tr for tr in basic.data if tr.name == "达标所需路径")
    assert (list(path.x)[0], list(path.y)[0], list(path.x)[-1], list(path.y)[-1]) == (2019, 15.9, 2025, 17.0)
    assert "处于目标区间" in _texts(why)
    assert "国家统计局 2025-12-25" in _texts(sources)
    en_fig, _, _ = trend.render(snap, "RD_GDP_RATIO", ["beijing"], None, False, "en")
    assert en_fig.layout.title.text.startswith("Gross R&D expenditure")


def test_trend_vintages_show_the_first_published_2016_value(snap):
    from dashboards import trend

    fig, _, _ = trend.render(snap, "RD_GDP_RATIO", ["beijing"], [2010, 2025], True, "en")
    vintage = next(tr for tr in fig.data if tr.name == "Earlier vintage")
    assert list(vintage.x) == [2016] and list(vintage.y) == [5.94]


def test_trend_of_a_rank_is_drawn_with_rank_one_on_top_and_edition_breaks(snap):
    from dashboards import trend

    fig, _, _ = trend.render(snap, "GIHI_RANK", ["beijing"], [2020, 2025], False, "en")
    bottom, top = fig.layout.yaxis.range
    assert (bottom, top) == (5.5, 2.5)  # reversed: rank 1 side on top, no rank 0 on the axis
    breaks = [a.text for a in fig.layout.annotations]
    assert any("50 cities" in b for b in breaks) and any("119" in b for b in breaks)


def test_trend_for_region_without_data_says_what_to_do(snap):
    from dashboards import trend

    fig, _, sources = trend.render(snap, "SCI_LITERACY", ["shanghai"], None, False, "en")
    assert "Upload" in _texts(sources)
    assert any("No data" in a.text for a in fig.layout.annotations)


def test_gaps_render_sorts_and_filters(snap):
    from dashboards import gaps

    children = gaps.render(snap, "all", 2025, "en")
    assert children[0].id == "gaps-export"
    progress_fig = children[1].figure
    shown = list(progress_fig.data[1].y)
    assert "R&D intensity" in shown and "Tech contract turnover" in shown
    only_science = gaps.render(snap, "science", 2025, "en")[1].figure
    assert set(only_science.data[1].y) == {"R&D intensity", "Basic research share"}


def test_compare_render_for_a_ranking_and_for_a_statistic(snap):
    from dashboards import compare

    rank_children = compare.render(snap, "NATURE_INDEX_CITY_RANK", [], "zh")
    assert rank_children[1].figure.layout.yaxis.autorange == "reversed"
    stat_children = compare.render(snap, "RD_GDP_RATIO", ["beijing", "china", "shanghai"], "en")
    bars = stat_children[2].figure.data[0]
    assert {"Beijing (2024)", "China (2024)", "Shanghai (2023)"} == set(bars.y)


def test_data_table_and_downloads(snap):
    from dashboards import data

    frame = data.table_frame(snap, ["RD_GDP_RATIO"], ["beijing"], False, "zh")
    assert len(frame) == 10 and frame["confidence"].isin(["高", "中", "低"]).all()
    history = data.table_frame(snap, ["RD_GDP_RATIO"], ["beijing"], True, "en")
    assert len(history) == 11 and set(history["status"]) == {"current", "superseded"}
    csv_bytes = data.to_csv(frame)
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(csv_bytes), encoding="utf-8-sig")
    assert back["value"].tolist() == frame["value"].tolist()
    xlsx = pd.read_excel(io.BytesIO(data.to_excel(frame)))
    assert len(xlsx) == 10


def test_downloads_neutralise_formula_like_text():
    from dashboards import data

    frame = pd.DataFrame({"note": ["=HYPERLINK(\"http://x\")", "+1", "-2 people", "@SUM(A1)", "fine"], "value": [1, 2, 3, 4, 5]})
    text = data.to_csv(frame).decode("utf-8-sig")
    assert "\n=HYPER" not in text and "'=HYPERLINK" in text and "'@SUM" in text


def test_overview_layout_lists_every_indicator_with_status(seeded_engine, database_url, monkeypatch):
    from dashboards import overview

    monkeypatch.setenv("DATABASE_URL", database_url)  # the page reads the configured database, as served
    text = _texts(overview.layout(lang="zh"))
    for name in ("研发投入强度", "技术合同成交额", "GIHI综合排名", "2035远景目标"):
        assert name in text
    assert "处于目标区间" in text and "已实现" in text
    assert "8,536.9亿元" in text
    english = _texts(overview.layout(lang="en"))
    assert "R&D intensity" in english and "Achieved" in english and "853.69 billion yuan" in english
