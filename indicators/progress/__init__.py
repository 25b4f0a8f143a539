"""Target-gap analytics: where each indicator stands against the plan's targets, and is the pace enough.

What belongs here: the published progress methods of ``METHODS.md`` as pure, vectorised pandas/numpy functions
of a DataFrame of observations and the catalog: the Eurostat / Statistics Canada (Open SDG) ratio of actual
to required growth, Eurostat's classification of indicators without a target, the UN expected-value method,
"about X" bands, "exceed X", ranks, qualitative goals, required trajectories, roll-ups, and the sentences that
explain a status. What does not: reading the database (``queries``), figures, Dash, or any I/O.
The methodology page (``indicators/methodology/methodology.{zh,en}.md``) explains the same rules to readers.

This file only names the public API; the modules hold it:

- ``rows``: the rows to assess (target milestones, goals, untargeted series) and their data points;
- ``method``: :func:`assess`, its stages on whole columns and their typed records;
- ``statuses``: the status codes, their order and :func:`rollup`;
- ``paths``: :func:`required_path` and :func:`projection`;
- ``wording``: labels, descriptions and sentences in Chinese and English, :func:`explain`;
- ``caveats``: series breaks crossed, ``not_comparable``, and the caveats a status rests on.

Contract (used by the dashboard, the PNG export and the CLI)
------------------------------------------------------------
``assess(observations, catalog, *, today=None, plan=None, region=None) -> DataFrame``
    ``observations`` needs the columns indicator, region, year, value (e.g. ``queries.observations(engine)``).
    Rows: one per indicator x region x milestone of every quantified target; one per qualitative goal
    milestone (status ``qualitative``, with its ``evidence``); one per indicator x region series without a
    target (Eurostat's no-target classification; with ``plan`` given, only that plan's context entries).
    Columns: :data:`ASSESSMENT_COLUMNS`. Rates are in %/yr for compound growth and in the indicator's unit per
    year for linear growth (``rate_unit``). ``gap`` and ``gap_to_path`` are shortfalls in the desired
    direction: positive = still short of the target (of the path), zero or negative = met or beyond.
    ``maintain`` marks "about X" targets whose baseline is already in the band (no required path or ratio).
``required_path(baseline_year, baseline_value, milestone_year, target, growth) -> DataFrame(year, value)``
    The trajectory the plan requires, for the trend chart.
``projection(latest_year, latest_value, until_year, actual_rate, growth) -> DataFrame(year, value)``
    The current pace (``actual_rate`` as in the assessment) carried forward from the latest year.
``explain(row, lang="zh", methods=None) -> list[str]``
    The numbers behind a row's status as sentences in Chinese or English ("why this status").
``rollup(assessment, today=None) -> DataFrame``
    Per pillar and overall (``pillar == "all"``): counts by status and the mean Open SDG score where defined.
Caveats (column ``caveats``, ";"-joined codes; :data:`CAVEATS` has their sentences, :func:`caveat_sentences`)
    low_confidence, single_point, crosses_break, provisional, estimated, definition_differs, partial_period,
    stale. They never change a status; :func:`tentative` (row's caveats and status) says whether it must be
    drawn as tentative: low confidence always; one value or a break crossed where the status rests on a pace.
    ``baseline_basis`` says which value the baseline is (plan, observed_base_year, first_observation);
    :func:`baseline_label` words it. ``baseline_confidence``/``latest_confidence`` and ``*_flags`` are the
    values' own. ``series_breaks`` lists the break years crossed.
``status_label(status, lang) -> str``
    A status code's label in Chinese or English; an unknown code reads as itself.
``STATUS_ORDER``, ``STATUS_LABELS``, ``STATUS_DESCRIPTIONS``, ``EXPECTED_STATUS_ORDER``, :func:`status_rank`.

Status codes (stable machine codes; zh/en labels in :data:`STATUS_LABELS`, each an ``i18n.Text``)
    targets:    achieved, on_track, moderate, insufficient, moving_away, insufficient_data
    "about X":  within_band, above_band, below_band
    ranks:      rank_improved, rank_unchanged, rank_worsened (ranks get no growth rate)
    breaks:     not_comparable (a change of scope between baseline and latest value: no rate, ratio, score)
    no target:  significant_progress, moderate_progress, moderate_away, significant_away (Eurostat)
    goals:      qualitative
    UN method (column ``expected_status``): achieved, on_track, acceleration_needed, stagnation_or_regression
"""

from indicators.progress.caveats import CAVEATS, caveat_codes, caveat_sentences, tentative, tentative_codes
from indicators.progress.method import ASSESSMENT_COLUMNS, GUARDS, assess, open_sdg_score
from indicators.progress.paths import projection, required_path
from indicators.progress.statuses import (
    EXPECTED_STATUS_ORDER,
    ROLLUP_COLUMNS,
    STATUS_ORDER,
    mirror_status,
    rollup,
    status_rank,
)
from indicators.progress.wording import (
    SENTENCES,
    STATUS_DESCRIPTIONS,
    STATUS_LABELS,
    baseline_label,
    explain,
    status_label,
)

__all__ = [
    "ASSESSMENT_COLUMNS", "CAVEATS", "baseline_label", "caveat_codes", "caveat_sentences", "tentative",
    "tentative_codes", "EXPECTED_STATUS_ORDER", "GUARDS", "ROLLUP_COLUMNS", "SENTENCES", "STATUS_DESCRIPTIONS",
    "STATUS_LABELS", "STATUS_ORDER", "assess", "explain", "mirror_status", "open_sdg_score", "projection",
    "required_path", "rollup", "status_label", "status_rank",
]
