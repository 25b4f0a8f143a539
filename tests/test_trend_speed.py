"""The trend page's fast path (issue 16, item 4) against the plain path.

The trend page sends its chart as plotly's JSON form built from plain dicts (``figures.trend_spec``), with no
plotly objects and no property validation on the way, and reuses per data version what depends only on the
indicator and the language (``views.trend_view``). Here: the same figure through ``go.Figure`` (plotly's
validation, what the PNG export and the CLI draw) is exactly the dict, for every shipped indicator in both
languages; the page's figure is ``render``'s; and a view is the same however many others came before it.
"""

from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest
from plotly.io.json import to_json_plotly

from indicators import db, views
from indicators import snapshot as snapshots

# (regions, years, earlier vintages): the home region alone, with peers, peers only, narrowed years
VIEWS = [
    (["beijing"], None, False),
    (["beijing", "china", "shanghai"], None, True),
    (["shanghai", "china"], [2012, 2022], False),
    (["beijing", "shanghai"], [2016, 2020], True),
]


@pytest.fixture
def snap(seeded_engine, catalog):
    return snapshots.snapshot(seeded_engine, catalog)


@pytest.fixture
def served(seeded_url, monkeypatch):
    """The page reads the configured database, as when served: here the test's own seeded copy."""
    import app  # noqa: F401 - registers the pages

    monkeypatch.setenv("DATABASE_URL", seeded_url)
    yield seeded_url
    db.dispose_engines()


def _json(figure) -> dict:
    return json.loads(to_json_plotly(figure))


def _indicators(snap) -> list[str]:
    return [code for code, ind in snap.catalog.indicators.items() if ind.kind != "qualitative"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the frames are the same on PostgreSQL
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_trend_figure_as_a_dict_is_what_plotly_validates_it_to(snap, lang):
    """Nothing in the dict is unknown to plotly or changed by its validation (a wrong property name raises)."""
    drawn = 0
    for indicator in _indicators(snap):
        for regions, years, vintages in VIEWS:
            view = views.trend_view(snap, indicator, lang=lang, regions=regions, years=years, vintages=vintages)
            assert _json(view.figure) == _json(view.spec), (indicator, regions, years, vintages)  # go.Figure(spec)
            drawn += len(view.spec["data"])
    assert drawn > 100  # the shipped data draw lines, gaps, targets, paths and vintages


def test_the_page_sends_the_rendered_figure_without_its_title(served):
    from dashboards import trend

    snap = snapshots.snapshot()
    for indicator in ("RD_GDP_RATIO", "GIHI_RANK", "BASIC_RESEARCH_SHARE"):
        sent, _, _, _, title = trend.update(indicator, ["beijing", "china"], [2010, 2025], ["1"], "wide", "en")
        rendered, _, _ = trend.render(snap, indicator, ["beijing", "china"], [2010, 2025], True, "en")
        assert title == rendered.layout.title.text
        rendered.update_layout(title=None, margin={"t": 20})
        assert _json(sent) == _json(rendered)
        phone, *_ = trend.update(indicator, ["beijing", "china"], [2010, 2025], ["1"], "phone", "en")
        assert isinstance(phone, go.Figure) and phone.layout.dragmode is False


def test_a_view_is_the_same_whichever_views_came_before(seeded_engine, catalog):
    """What is kept per data version is filtered, never changed, by the views built from it."""
    first = snapshots.snapshot(seeded_engine, catalog)
    wanted = [("RD_GDP_RATIO", ["beijing", "china"], None), ("GIHI_RANK", ["beijing"], [2021, 2023])]
    before = [_json(views.trend_view(first, code, lang="zh", regions=r, years=y).spec) for code, r, y in wanted]
    for code in _indicators(first):
        for regions, years, vintages in VIEWS:
            views.trend_view(first, code, lang="zh", regions=regions, years=years, vintages=vintages)
    after = [_json(views.trend_view(first, code, lang="zh", regions=r, years=y).spec) for code, r, y in wanted]
    assert after == before
