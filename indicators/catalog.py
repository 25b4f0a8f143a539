"""The indicator catalog: typed definitions of pillars, plans, regions, units, indicators and their targets.

What belongs here: the schema of the YAML files under a catalog folder (``data/catalog`` by default), loading
and validating them, and look-ups by code or alias. What does not: the database (see ``store``), statistics
(observations are data, not metadata) and any analysis.

Another city's plan is another catalog folder with the same layout::

    catalog.yaml         programme name, home region, pillars, plans, method parameters
    regions.yaml         regions with codes, names and aliases
    units.yaml           units and the convertible units an upload may use
    indicators/*.yaml    one indicator per file, with its targets and its series breaks
    publications.yaml    the publications values cite (publisher, title, kind, date; optional)
    tasks.yaml           the plan's tasks: pillar, lead and partner agencies, milestones, evidence (optional)
"""

from __future__ import annotations

import unicodedata
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationError, model_validator

from indicators.i18n import BilingualError
from indicators.i18n import Text as Words

Kind = Literal["level", "share", "growth_rate", "count", "rank", "qualitative"]
Direction = Literal["higher", "lower", "band"]
Growth = Literal["compound", "linear"]
Qualifier = Literal["about", "at_least", "exceed", "at_most", "top_n", "qualitative", "none"]
Confidence = Literal["high", "medium", "low"]
# zone: a functional area of a city (a science city, a demonstration zone); district: an administrative one
RegionKind = Literal["city", "province", "country", "metropolitan_area", "zone", "district"]
# Who an agency is: a government body that publishes or carries out, or the publisher of an index or ranking.
AgencyKind = Literal["government", "index_publisher", "other"]
TASK_STATUSES = ("not_started", "on_schedule", "at_risk", "delayed", "done")
PublicationKind = Literal["statistical_communique", "yearbook", "index_report", "government_release",
                          "news_report", "repost", "research_report"]
# How a publication's date is known: printed in it, read from its address, or only a bound ("not after").
DateBasis = Literal["stated", "from_address", "repost_bound", "unknown"]
# Kinds of break in a series. A change of scope makes values before and after it different quantities: no
# rate of change is computed across it. The others change the level or the field, and are caveats.
BreakKind = Literal["gdp_census_revision", "change_of_scope", "method_change", "field_change", "definition_change"]
NOT_COMPARABLE_BREAKS = ("change_of_scope",)

QUANTIFIED_QUALIFIERS = ("about", "at_least", "exceed", "at_most", "top_n")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: same rules, faster


INVALID_CATALOG = Words("目录文件有误:", "invalid catalog:")


class CatalogError(BilingualError):
    """A catalog file is malformed. ``problems`` holds one line per problem, naming file, entry and field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(INVALID_CATALOG, "\n" + "\n".join(f"  - {p}" for p in problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _bilingual(value: object) -> object:
    """A catalog text is a mapping with exactly ``zh`` and ``en``, both non-empty; it becomes an i18n Text."""
    if isinstance(value, Words):
        return value
    if not isinstance(value, dict):
        raise ValueError("expected a mapping with zh and en")
    unknown = sorted(set(value) - {"zh", "en"})
    if unknown:
        raise ValueError(f"unexpected key(s) {', '.join(map(str, unknown))}: only zh and en")
    for lang in ("zh", "en"):
        if not isinstance(value.get(lang), str) or not value[lang].strip():
            raise ValueError(f"{lang} is missing or empty")
    return Words(value["zh"], value["en"])


# Texts in both languages, Chinese first as the users read them: the one bilingual type (``i18n.Text``),
# checked when a catalog file is read and written back as {zh, en} (the JSON columns of the catalog tables).
Text = Annotated[Words, BeforeValidator(_bilingual), PlainSerializer(lambda t: {"zh": t.zh, "en": t.en})]


class Pillar(_Strict):
    code: str
    name: Text
    description: Text


class Plan(_Strict):
    id: str
    name: Text
    issuer: Text
    published: str
    period: tuple[int, int]
    source: str
    note: str | None = None


class RatioThresholds(_Strict):
    on_track: float = 0.95
    moderate: float = 0.60
    insufficient: float = 0.0


class NoTargetCutoffs(_Strict):
    significant: float = 1.0
    moderate: float = 0.0
    moderate_away: float = -1.0


class ExpectedValueThresholds(_Strict):
    on_track: float = 0.95
    progress: float = 0.10


class Methods(_Strict):
    """Parameters of the published progress methods; the defaults are Eurostat's and the UN's."""

    ratio_thresholds: RatioThresholds = RatioThresholds()
    no_target_cutoffs: NoTargetCutoffs = NoTargetCutoffs()
    expected_value_thresholds: ExpectedValueThresholds = ExpectedValueThresholds()
    default_about_tolerance_relative: float = Field(0.05, gt=0, lt=1)


class Agency(_Strict):
    """A body that owns indicators (publishes them) or carries out tasks: a bureau, a commission, a publisher."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    name: Text
    kind: AgencyKind
    url: str | None = None


class Programme(_Strict):
    id: str
    name: Text
    home_region: str
    headline_indicator: str | None = None  # opened first on the trend page
    pillars: list[Pillar] = Field(min_length=1)
    plans: list[Plan] = Field(min_length=1)
    agencies: list[Agency] = []
    methods: Methods = Methods()


class Region(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: Text
    kind: RegionKind
    iso3166: str | None = None
    iso3: str | None = None
    country: str | None = None
    parent: str | None = None  # the region it lies in (a zone or district: its city)
    note: str | None = None
    aliases: list[str] = []


class Conversion(_Strict):
    unit: str
    aliases: list[str] = []
    factor: float = Field(gt=0)


class Unit(_Strict):
    code: str
    name: Text
    aliases: list[str] = []
    conversions: list[Conversion] = []


class Milestone(_Strict):
    year: int = Field(ge=1900, le=2100)
    value: float | None = None
    text: Text | None = None

    @model_validator(mode="after")
    def _value_or_text(self) -> Milestone:
        if self.value is None and self.text is None:
            raise ValueError("a milestone needs a value or a text")
        return self


class Base(_Strict):
    year: int = Field(ge=1900, le=2100)
    value: float | None = None
    source: str | None = None
    confidence: Confidence | None = None


class Edition(_Strict):
    """One edition of a ranking: the size of its field, and what changed (a methodology break)."""

    year: int
    field: int | None = None
    note: Text


class SeriesBreak(_Strict):
    """A year from which a series' values are not on the same basis as before (values of that year and after)."""

    year: int = Field(ge=1900, le=2100)
    kind: BreakKind
    text: Text
    source: str = Field(min_length=1)

    @property
    def comparable(self) -> bool:
        """Whether values either side can still be compared, with a caveat."""
        return self.kind not in NOT_COMPARABLE_BREAKS


class Publication(_Strict):
    """A document that published statistics: what a value cites (OWID's "origin": producer, title, date)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80)
    publisher: Text
    title: Text
    kind: PublicationKind
    published_on: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    date_basis: DateBasis = "unknown"
    official_url: str | None = None
    read_at: list[str] = []  # the mirror or repost pages where its text was actually read
    accessed_on: str | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _dated_unless_unknown(self):
        if (self.published_on is None) != (self.date_basis == "unknown"):
            raise ValueError("published_on is required unless date_basis is 'unknown' (and only then absent)")
        return self


class Target(_Strict):
    plan: str
    also_in: list[str] = []
    region: str
    qualifier: Qualifier
    tolerance: float | None = Field(None, gt=0)
    tolerance_note: str | None = None
    base: Base | None = None
    milestones: list[Milestone] = []
    period_average: tuple[int, int] | None = None
    wording: Text
    quote: str = Field(min_length=1)
    source: str = Field(min_length=1)
    confidence: Confidence
    binding: str | None = None
    evidence: list[str] = []

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        if self.qualifier in QUANTIFIED_QUALIFIERS:
            if not self.milestones or any(m.value is None for m in self.milestones):
                raise ValueError(f"a '{self.qualifier}' target needs milestones with numeric values")
        if self.qualifier == "none" and self.milestones:
            raise ValueError("a context entry (qualifier 'none') has no milestones")
        if self.tolerance is not None and self.qualifier != "about":
            raise ValueError("a tolerance only applies to an 'about' target")
        years = [m.year for m in self.milestones]
        if years != sorted(set(years)):
            raise ValueError("milestone years must be increasing and distinct")
        return self


class ReleaseRule(_Strict):
    """When a year's value is expected.

    ``after_year``: about ``months`` months after the end of the reference year (R&D communiqué: 9, i.e. by
    the end of September of the next year). ``ranking``: an edition appears in ``month`` of the year it is
    recorded under plus ``year_offset`` (a ranking recorded by data year and published the next year: 1).
    """

    kind: Literal["after_year", "ranking"]
    months: int | None = Field(None, ge=0, le=36)
    month: int | None = Field(None, ge=1, le=12)
    year_offset: int = Field(0, ge=0, le=2)
    note: Text | None = None

    @model_validator(mode="after")
    def _complete(self) -> ReleaseRule:
        if self.kind == "after_year" and (self.months is None or self.month is not None):
            raise ValueError("an 'after_year' rule gives months (and no month)")
        if self.kind == "ranking" and (self.month is None or self.months is not None):
            raise ValueError("a 'ranking' rule gives month (and no months)")
        return self


class Indicator(_Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    name: Text
    short_name: Text
    unit: str
    kind: Kind
    direction: Direction
    growth: Growth | None = None
    pillar: str
    frequency: Literal["annual", "quarterly", "monthly", "once"]
    description: Text
    measurement: Text
    publisher: Text
    release: Text | None = None  # when and where new values appear ("each September, NBS communiqué")
    sponsorship: Text | None = None  # who commissioned or paid for the source, where that bears on reading it
    owner: str | None = None  # the agency (catalog.yaml agencies) that owes the figure: publishes or supplies it
    release_rule: ReleaseRule | None = None  # None: no regular release (a goal, a one-off)
    external_codes: dict[str, str] = {}
    aliases: list[str] = []
    editions: list[Edition] = []
    breaks: list[SeriesBreak] = []
    targets: list[Target] = []

    @property
    def growth_model(self) -> Growth:
        """Compound for levels and counts, linear for shares and rates, unless the definition says."""
        if self.growth:
            return self.growth
        return "linear" if self.kind in ("share", "growth_rate") else "compound"


class TaskMilestone(_Strict):
    """A dated step of a task: a year, or a date (YYYY-MM-DD) when the plan gives one, what is due, and where it
    is stated."""

    year: int = Field(ge=2000, le=2100)
    due: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    text: Text
    source: str = Field(min_length=1)

    @property
    def due_date(self) -> str:
        """The due date: the one given, else the last day of the year."""
        return self.due or f"{self.year}-12-31"


class Task(_Strict):
    """One task of the plan, as its text names it: the register's unit of monitoring."""

    id: str = Field(pattern=r"^T[0-9A-Z][0-9A-Z_-]*$")
    title: Text
    pillar: str
    section: Text | None = None  # the plan's chapter it stands in
    lead: str | None = None  # the agency that leads it, when a source names one
    partners: list[str] = []
    milestones: list[TaskMilestone] = []
    indicators: list[str] = []  # catalog indicators that evidence it
    documents: list[str] = []  # publication ids or addresses that evidence it
    source: str = Field(min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Task:
        keys = [(m.year, m.due_date) for m in self.milestones]
        if keys != sorted(keys):
            raise ValueError("milestones must be in date order")
        return self

    @property
    def due(self) -> str | None:
        """The first milestone's due date (None: the plan states no date)."""
        return self.milestones[0].due_date if self.milestones else None


class Catalog:
    """A validated catalog with look-ups. Build it with :func:`load_catalog`."""

    def __init__(
        self,
        root: Path,
        programme: Programme,
        regions: list[Region],
        units: list[Unit],
        indicators: list[Indicator],
        publications: list[Publication] = (),  # type: ignore[assignment]
        tasks: list[Task] = (),  # type: ignore[assignment]
    ):
        self.root = root
        self.programme = programme
        self.regions = {r.code: r for r in regions}
        self.units = {u.code: u for u in units}
        self.indicators = {i.code: i for i in indicators}
        self.publications = {p.id: p for p in publications}
        self.plans = {p.id: p for p in programme.plans}
        self.pillars = {p.code: p for p in programme.pillars}
        self.agencies = {a.code: a for a in programme.agencies}
        self.tasks = {t.id: t for t in tasks}

    @property
    def methods(self) -> Methods:
        return self.programme.methods

    @cached_property
    def _indicator_aliases(self) -> dict[str, str]:
        table: dict[str, str] = {}
        for ind in self.indicators.values():
            for name in (ind.code, ind.name.zh, ind.name.en, ind.short_name.zh, ind.short_name.en,
                         *ind.aliases, *ind.external_codes.values()):
                table.setdefault(normalise_name(name), ind.code)
        return table

    @cached_property
    def _region_aliases(self) -> dict[str, str]:
        table: dict[str, str] = {}
        for reg in self.regions.values():
            for name in (reg.code, reg.name.zh, reg.name.en, reg.iso3166, reg.iso3, *reg.aliases):
                if name:
                    table.setdefault(normalise_name(name), reg.code)
        return table

    def find_indicator(self, name: str) -> str | None:
        """The indicator code for a code, name, alias or external code in either language."""
        return self._indicator_aliases.get(normalise_name(name))

    def find_region(self, name: str) -> str | None:
        """The region code for a code, name, ISO code or alias in either language."""
        return self._region_aliases.get(normalise_name(name))

    def ordered_indicators(self) -> list[Indicator]:
        """Pillar order, then indicators with a target before context indicators, then by code."""
        pillar_pos = {p.code: n for n, p in enumerate(self.programme.pillars)}
        return sorted(self.indicators.values(),
                      key=lambda i: (pillar_pos[i.pillar], not any(t.qualifier != "none" for t in i.targets), i.code))

    def targets(self) -> list[tuple[Indicator, Target]]:
        return [(ind, t) for ind in self.indicators.values() for t in ind.targets]

    def children(self, region: str, kind: str | None = None) -> list[Region]:
        """The regions whose parent is ``region`` (only those of ``kind`` if given), in catalog order."""
        return [r for r in self.regions.values() if r.parent == region and (kind is None or r.kind == kind)]

    def owned_by(self, agency: str) -> list[str]:
        """The codes of the indicators ``agency`` owns."""
        return [code for code, ind in self.indicators.items() if ind.owner == agency]


def normalise_name(name: str) -> str:
    """Fold width (full-width to ASCII), case and spaces, so 'Ｒ&Ｄ 强度' finds 'R&D强度'."""
    folded = unicodedata.normalize("NFKC", str(name)).casefold()
    return "".join(folded.split())


def _read_yaml(path: Path, problems: list[str]):
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_YAML_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        problems.append(f"{path.name}: cannot read YAML: {exc}")
        return None


def _parse(model, data, where: str, problems: list[str]):
    """Validate one entry; record each failing field as '<file> › <entry> › <field>: <reason>'."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "(entry)"
            problems.append(f"{where} › {field}: {err['msg']}")
        return None


def load_catalog(root: Path | str) -> Catalog:
    """Load and validate a catalog folder; raise :class:`CatalogError` listing every problem found."""
    root = Path(root)
    problems: list[str] = []
    if not (root / "catalog.yaml").is_file():
        raise CatalogError([f"{root}: no catalog.yaml (is this a catalog folder?)"])

    programme = _parse(Programme, _read_yaml(root / "catalog.yaml", problems), "catalog.yaml", problems)
    regions = _parse_list(Region, root / "regions.yaml", "code", problems)
    units = _parse_list(Unit, root / "units.yaml", "code", problems)
    publications = []
    if (root / "publications.yaml").is_file():
        publications = _parse_list(Publication, root / "publications.yaml", "id", problems)
    indicators = []
    files = sorted((root / "indicators").glob("*.yaml"))
    if not files:
        problems.append("indicators/: no indicator files")
    for path in files:
        data = _read_yaml(path, problems)
        where = f"indicators/{path.name} › {data.get('code', '?') if isinstance(data, dict) else '?'}"
        ind = _parse(Indicator, data, where, problems)
        if ind is not None:
            if ind.code != path.stem:
                problems.append(f"{where} › code: must match the file name '{path.stem}'")
            indicators.append(ind)
    tasks = []
    if (root / "tasks.yaml").is_file():
        tasks = _parse_list(Task, root / "tasks.yaml", "id", problems)
    if problems:
        raise CatalogError(problems)

    catalog = Catalog(root, programme, regions, units, indicators, publications, tasks)
    _check_references(catalog, problems)
    if problems:
        raise CatalogError(problems)
    return catalog


def _parse_list(model, path: Path, key: str, problems: list[str]) -> list:
    data = _read_yaml(path, problems)
    if data is None:
        return []
    if not isinstance(data, list):
        problems.append(f"{path.name}: expected a list of entries")
        return []
    items, seen = [], set()
    for pos, entry in enumerate(data, start=1):
        label = entry.get(key, f"#{pos}") if isinstance(entry, dict) else f"#{pos}"
        item = _parse(model, entry, f"{path.name} › {label}", problems)
        if item is not None:
            if getattr(item, key) in seen:
                problems.append(f"{path.name} › {label} › {key}: duplicate")
            seen.add(getattr(item, key))
            items.append(item)
    return items


def _check_references(cat: Catalog, problems: list[str]) -> None:
    """Cross-file checks: every code an entry names must exist, and aliases must not be ambiguous."""
    if cat.programme.headline_indicator and cat.programme.headline_indicator not in cat.indicators:
        problems.append(f"catalog.yaml › headline_indicator: unknown indicator '{cat.programme.headline_indicator}'")
    if cat.programme.home_region not in cat.regions:
        problems.append(f"catalog.yaml › home_region: unknown region '{cat.programme.home_region}'")
    for ind in cat.indicators.values():
        where = f"indicators/{ind.code}.yaml › {ind.code}"
        if ind.unit not in cat.units:
            problems.append(f"{where} › unit: unknown unit '{ind.unit}'")
        if ind.pillar not in cat.pillars:
            problems.append(f"{where} › pillar: unknown pillar '{ind.pillar}'")
        for n, target in enumerate(ind.targets):
            tw = f"{where} › targets.{n}"
            for plan in (target.plan, *target.also_in):
                if plan not in cat.plans:
                    problems.append(f"{tw} › plan: unknown plan '{plan}'")
            if target.region not in cat.regions:
                problems.append(f"{tw} › region: unknown region '{target.region}'")
            for code in target.evidence:
                if code not in cat.indicators:
                    problems.append(f"{tw} › evidence: unknown indicator '{code}'")
    _check_owners_and_parents(cat, problems)
    _check_tasks(cat, problems)
    _check_unique_aliases(
        "regions.yaml",
        {r.code: (r.code, r.name.zh, r.name.en, r.iso3166, r.iso3, *r.aliases) for r in cat.regions.values()},
        problems,
    )
    _check_unique_aliases(
        "indicators/",
        {i.code: (i.code, i.name.zh, i.name.en, i.short_name.zh, i.short_name.en, *i.aliases)
         for i in cat.indicators.values()},
        problems,
    )


def _check_owners_and_parents(cat: Catalog, problems: list[str]) -> None:
    """Owners are agencies; a region's parent exists and the chain of parents ends."""
    for ind in cat.indicators.values():
        if ind.owner is not None and ind.owner not in cat.agencies:
            problems.append(f"indicators/{ind.code}.yaml › {ind.code} › owner: unknown agency '{ind.owner}'")
    for reg in cat.regions.values():
        seen = {reg.code}
        parent = reg.parent
        while parent is not None:
            if parent not in cat.regions:
                problems.append(f"regions.yaml › {reg.code} › parent: unknown region '{parent}'")
                break
            if parent in seen:
                problems.append(f"regions.yaml › {reg.code} › parent: the parents form a loop")
                break
            seen.add(parent)
            parent = cat.regions[parent].parent


def _check_tasks(cat: Catalog, problems: list[str]) -> None:
    for task in cat.tasks.values():
        where = f"tasks.yaml › {task.id}"
        if task.pillar not in cat.pillars:
            problems.append(f"{where} › pillar: unknown pillar '{task.pillar}'")
        for field, codes in (("lead", [task.lead] if task.lead else []), ("partners", task.partners)):
            problems.extend(f"{where} › {field}: unknown agency '{c}'" for c in codes if c not in cat.agencies)
        problems.extend(f"{where} › indicators: unknown indicator '{c}'" for c in task.indicators
                        if c not in cat.indicators)
        problems.extend(f"{where} › documents: unknown publication '{d}'" for d in task.documents
                        if "://" not in d and d not in cat.publications)


def _check_unique_aliases(where: str, names: dict[str, tuple], problems: list[str]) -> None:
    owner: dict[str, str] = {}
    for code, aliases in names.items():
        for alias in aliases:
            if not alias:
                continue
            key = normalise_name(alias)
            if owner.setdefault(key, code) != code:
                problems.append(f"{where} › {code} › aliases: '{alias}' also names '{owner[key]}'")
