"""PNG export and briefing packs, rendered for real by kaleido in Debian's Chromium."""

from __future__ import annotations

import io
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import plotly.graph_objects as go
import pytest
from PIL import Image, ImageChops, ImageStat

from indicators import briefing, export
from indicators import snapshot as snapshots


@pytest.fixture
def backend() -> str:
    """SQLite only: exports draw a snapshot, and snapshots are read from both databases in test_dashboards."""
    return "sqlite"


@pytest.fixture
def snap(seeded_engine, catalog):
    return snapshots.snapshot(seeded_engine, catalog)


def _image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def _title_only(title: str, family: str = export.FONT_FAMILY) -> bytes:
    fig = go.Figure()
    fig.update_layout(title={"text": title, "font": {"family": family, "size": 40}}, template="plotly_white",
                      xaxis={"visible": False}, yaxis={"visible": False})
    return export.SERVER.render(fig, fmt="png", width=600, height=150, scale=1)


def _differs(a: bytes, b: bytes) -> float:
    """Share of pixels that differ between two images of the same size."""
    diff = ImageChops.difference(_image(a), _image(b)).convert("L").point(lambda v: 255 if v > 40 else 0)
    return ImageStat.Stat(diff).mean[0] / 255


def test_chinese_renders_as_glyphs_not_boxes():
    one, two = _title_only("研发投入强度"), _title_only("技术合同成交")
    boxes = _title_only("\ue000\ue001\ue002\ue003\ue004\ue005")  # private-use code points: drawn as boxes
    assert _differs(one, two) > 0.005  # two Chinese titles look different: real glyphs, not one box shape
    assert _differs(one, boxes) > 0.005
    # the Simplified Chinese font, not another CJK font picked by fallback: 'Noto Sans CJK JP' draws 直 differently
    sc, jp = _title_only("直角 海 骨", '"Noto Sans CJK SC"'), _title_only("直角 海 骨", '"Noto Sans CJK JP"')
    assert _differs(sc, jp) > 0.0005
    assert _differs(sc, _title_only("直角 海 骨")) < 0.0005  # our font family resolves to the SC face


def test_indicator_png_has_the_requested_size_and_is_not_blank(snap):
    chart = briefing.indicator_chart(snap, "RD_GDP_RATIO", lang="zh")
    assert chart.finding.startswith("2024年:6.58%")  # with its flags: "6.58% b" (a break in series)
    assert chart.finding.endswith("处于“保持在6%左右”目标区间内(2025年)")
    slide = _image(export.to_image(chart.figure, size="slide"))
    assert slide.size == (2560, 1440)
    assert ImageStat.Stat(slide.convert("L")).stddev[0] > 20  # lines, text and markers, not an empty canvas
    page_chart = briefing.indicator_chart(snap, "RD_GDP_RATIO", lang="en", size="page")
    assert page_chart.finding.startswith("2024: 6.58 %")
    assert page_chart.finding.endswith("within the 'maintained at about 6 %' band for 2025")
    assert _image(export.to_image(page_chart.figure, size="page")).size == (1920, 1200)
    svg = export.to_image(chart.figure, size="slide", fmt="svg")
    assert svg.lstrip().startswith(b"<svg") and "全社会研发经费支出".encode() in svg


def _latest_publication(snap, code: str):
    series = snap.series(code, [snap.catalog.programme.home_region])
    latest = series[series["year"] == series["year"].max()].iloc[0]
    return snap.publications.set_index("id").loc[latest["publication_id"]]


def test_footer_cites_the_publication_not_the_mirror_and_says_the_caveats(snap):
    chart = briefing.indicator_chart(snap, "TECH_CONTRACT_TURNOVER", lang="en")
    footer = chart.figure.layout.annotations[-1].text
    pub = _latest_publication(snap, "TECH_CONTRACT_TURNOVER")
    assert f"Source: {pub['publisher_en']}, “" in footer  # the publication, newest first
    assert "http" not in footer  # not the mirror page it was read on
    assert "Data as of:" in footer and "Exported:" in footer
    assert chart.caveats, "the latest turnover value is old: the status carries the caveat 'stale'"
    for sentence in chart.caveats[:2]:
        assert f"⚠ {sentence[:40]}" in footer
    zh = briefing.indicator_chart(snap, "TECH_CONTRACT_TURNOVER", lang="zh").figure.layout.annotations[-1].text
    assert f"来源: {pub['publisher_zh']}《" in zh


def test_concurrent_exports_each_get_their_own_chart(snap):
    codes = ["RD_GDP_RATIO", "TECH_CONTRACT_TURNOVER", "GIHI_RANK", "BASIC_RESEARCH_SHARE"]
    charts = {c: briefing.indicator_chart(snap, c, lang="zh", size="page") for c in codes}
    alone = {c: export.to_image(charts[c].figure, size="page") for c in codes}
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = dict(zip(codes * 2, pool.map(lambda c: export.to_image(charts[c].figure, size="page"), codes * 2),
                            strict=True))
    for code in codes:
        assert _differs(together[code], alone[code]) < 0.001, code
    assert _differs(alone["RD_GDP_RATIO"], alone["GIHI_RANK"]) > 0.01


def test_briefing_pack_contains_what_its_index_lists(snap):
    steps = []
    pack = briefing.build_pack(snap, lang="zh", pillar="science", on_progress=lambda d, t, w: steps.append((d, t)))
    with zipfile.ZipFile(io.BytesIO(pack)) as zf:
        names = set(zf.namelist())
        index = zf.read("index.md").decode("utf-8")
        listed = set(re.findall(r"\]\(([^)]+\.png)\)", index))
        assert listed == {n for n in names if n.endswith(".png")}
        assert {"status.csv", "index.md", "index.html", "scorecard.png"} <= names
        assert zf.read("status.csv").startswith(b"\xef\xbb\xbf")
        status = zf.read("status.csv").decode("utf-8-sig")
        assert "RD_GDP_RATIO" in status and "within_band" in status
        table = pd.read_csv(io.StringIO(status))
        assert {"指标", "目标值", "最新值", "状态", "提示", "实际/所需(R)"} <= set(table.columns)  # the pack's language
        numbers = table.select_dtypes("number").to_numpy().ravel()
        assert all(round(x, 2) == x for x in numbers if x == x)  # rounded as people write them
        assert not table["变化单位"].dropna().str.contains("yr").any()
        charts = sorted(n for n in listed if n[0].isdigit())
        assert [n.split("-", 1)[1] for n in charts] == ["BASIC_RESEARCH_SHARE.png", "RD_GDP_RATIO.png",
                                                         "BASIC_RESEARCH_EXPENDITURE.png", "RD_EXPENDITURE.png"]
        for name in charts:
            assert _image(zf.read(name)).size == (2560, 1440)
    pub = _latest_publication(snap, "RD_GDP_RATIO")
    assert "处于“保持在6%左右”目标区间内" in index and f"{pub['publisher_zh']}《{pub['title_zh']}》" in index
    assert steps[-1][0] == steps[-1][1]


def test_missing_browser_gives_a_clear_message(monkeypatch):
    monkeypatch.setattr(export, "find_browser", lambda: None)
    server = export.RenderServer()
    with pytest.raises(export.ExportUnavailable) as info:
        server.render(go.Figure(), fmt="png", width=100, height=100, scale=1)
    assert "apt-get install -y chromium" in info.value.message_en and "未找到 Chromium" in info.value.message_zh


def test_export_png_draws_the_chosen_years_and_names_the_file_after_the_view(seeded_url, tmp_path, monkeypatch):
    """The issue's command, without -o: the SVG has no year outside 2015-2024 and its name says what it is."""
    from .support import invoke

    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": seeded_url, "INNOVATION_MONITOR_INSTANCE": str(tmp_path / "instance")}
    invoke("export-png", "RD_GDP_RATIO", "--region", "beijing", "--region", "china", "--years", "2015,2024",
           "--svg", env=env, check=True)
    written = list(tmp_path.glob("RD_GDP_RATIO_beijing-china_2015-2024_zh_slide_*.svg"))
    assert len(written) == 1, list(tmp_path.iterdir())
    svg = written[0].read_text(encoding="utf-8")
    ticks = [int(y) for y in re.findall(r'<g class="xtick">.*?>(\d{4})</text>', svg)]
    assert ticks and min(ticks) >= 2015 and max(ticks) <= 2024, ticks
    bad = invoke("export-png", "RD_GDP_RATIO", "--years", "2024,2015", env=env)
    assert bad.returncode == 2 and "START,END" in bad.stderr


def test_the_trend_export_route_follows_the_chosen_years(snap):
    chart = briefing.indicator_chart(snap, "RD_GDP_RATIO", lang="en", regions=["beijing"], years=(2015, 2024))
    xs = [x for trace in chart.figure.data for x in (() if trace.x is None else trace.x) if x is not None]
    assert xs and min(xs) >= 2015 and max(xs) <= 2024  # points, targets, path and projection alike
    assert tuple(chart.figure.layout.xaxis.range) == (2014.5, 2024.5)
    assert export.file_name("RD_GDP_RATIO", lang="en", size="page", fmt="png", regions=["beijing", "china"],
                            years=(2015, 2024)).startswith("RD_GDP_RATIO_beijing-china_2015-2024_en_page_")
    assert export.parse_years("2015,2024") == (2015, 2024) and export.parse_years("²,2024") is None


def test_the_scorecard_is_titled_dated_and_lists_every_indicator_worst_first_by_pillar(snap):
    rows = briefing.scorecard_rows(snap)
    codes = [i.code for i in snap.catalog.indicators.values() if i.kind != "qualitative"]
    assert sorted(rows["indicator"]) == sorted(codes)  # the one without data (R&D personnel) included
    pillars = {p.code: n for n, p in enumerate(snap.catalog.programme.pillars)}
    order = list(zip(rows["pillar"].map(pillars), -rows["status_rank"], strict=True))
    assert order == sorted(order, key=lambda x: (x[0], x[1]))
    fig = briefing.scorecard(snap, lang="zh")
    assert "目标进展记分卡" in fig.layout.title.text and "数据截至" in fig.layout.title.text
    assert "无数据" in fig.data[0].cells.values[2]
