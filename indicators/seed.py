"""``init``: bring a database to the current schema, catalog and shipped data, changing only what differs.

What belongs here: writing the catalog tables from a :class:`~indicators.catalog.Catalog`, and loading the
shipped observation files (``data/observations/*.csv``, in name order, one batch each). Running it twice
changes nothing the second time and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine

from indicators import db, flags, settings, store
from indicators.catalog import Catalog, load_catalog
from indicators.store import KEY, PAYLOAD, apply_batch, file_checksum, find_loaded_batch

SEED_USER = "init"
SHIPPED_COLUMNS = {
    "indicator": "indicator_code", "region": "region_code", "year": "year", "value": "value", "unit": "unit",
    "source": "source", "confidence": "confidence", "note": "note", "published_on": "published_on",
    "publication": "publication_id", "flags": "flag",
}


@dataclass
class InitReport:
    schema_before: str | None = None
    schema_after: str | None = None
    catalog_changes: dict[str, int] = field(default_factory=dict)
    files: list[tuple[str, str, int | None, dict]] = field(default_factory=list)
    withdrawn: int = 0  # values the shipped files no longer hold, retracted

    @property
    def changed(self) -> bool:
        return (
            self.schema_before != self.schema_after
            or any(self.catalog_changes.values())
            or any(status == "loaded" for _, status, _, _ in self.files)
            or self.withdrawn > 0
        )


def catalog_rows(catalog: Catalog) -> dict[str, list[dict]]:
    """The catalog as rows of the catalog tables (targets keyed naturally, milestones nested)."""
    pillars = [
        {"code": p.code, "position": n, "name_zh": p.name.zh, "name_en": p.name.en,
         "description_zh": p.description.zh, "description_en": p.description.en}
        for n, p in enumerate(catalog.programme.pillars)
    ]
    plans = [
        {"id": p.id, "name_zh": p.name.zh, "name_en": p.name.en, "issuer_zh": p.issuer.zh,
         "issuer_en": p.issuer.en, "published": p.published, "period_start": p.period[0],
         "period_end": p.period[1], "source": p.source, "note": p.note}
        for p in catalog.programme.plans
    ]
    regions = [
        {"code": r.code, "name_zh": r.name.zh, "name_en": r.name.en, "kind": r.kind, "iso3166": r.iso3166,
         "iso3": r.iso3, "country": r.country, "note": r.note, "aliases": list(r.aliases), "from_upload": False,
         "parent": r.parent}
        for r in catalog.regions.values()
    ]
    publications = [
        {"id": p.id, "publisher_zh": p.publisher.zh, "publisher_en": p.publisher.en, "title_zh": p.title.zh,
         "title_en": p.title.en, "kind": p.kind, "published_on": p.published_on, "date_basis": p.date_basis,
         "official_url": p.official_url, "read_at": list(p.read_at), "accessed_on": p.accessed_on,
         "notes": p.notes, "from_upload": False}
        for p in catalog.publications.values()
    ]
    indicators, targets = [], []
    for n, ind in enumerate(catalog.ordered_indicators()):
        unit = catalog.units[ind.unit]
        indicators.append({
            "code": ind.code, "position": n, "name_zh": ind.name.zh, "name_en": ind.name.en,
            "short_name_zh": ind.short_name.zh, "short_name_en": ind.short_name.en, "unit": ind.unit,
            "unit_zh": unit.name.zh, "unit_en": unit.name.en, "kind": ind.kind, "direction": ind.direction,
            "growth": ind.growth_model, "pillar": ind.pillar, "frequency": ind.frequency,
            "description_zh": ind.description.zh, "description_en": ind.description.en,
            "measurement_zh": ind.measurement.zh, "measurement_en": ind.measurement.en,
            "publisher_zh": ind.publisher.zh, "publisher_en": ind.publisher.en,
            "external_codes": dict(ind.external_codes), "aliases": list(ind.aliases),
            "editions": [e.model_dump() for e in ind.editions], "owner": ind.owner,
            "release_rule": ind.release_rule.model_dump() if ind.release_rule else None,
        })
        for t in ind.targets:
            targets.append({
                "indicator_code": ind.code, "region_code": t.region, "plan_id": t.plan,
                "also_in": list(t.also_in), "qualifier": t.qualifier, "tolerance": t.tolerance,
                "tolerance_note": t.tolerance_note,
                "base_year": t.base.year if t.base else None, "base_value": t.base.value if t.base else None,
                "base_source": t.base.source if t.base else None,
                "base_confidence": t.base.confidence if t.base else None,
                "period_average_start": t.period_average[0] if t.period_average else None,
                "period_average_end": t.period_average[1] if t.period_average else None,
                "wording_zh": t.wording.zh, "wording_en": t.wording.en, "quote": t.quote, "source": t.source,
                "confidence": t.confidence, "binding": t.binding, "evidence": list(t.evidence),
                "milestones": [
                    {"year": m.year, "value": m.value, "text_zh": m.text.zh if m.text else None,
                     "text_en": m.text.en if m.text else None}
                    for m in t.milestones
                ],
            })
    return {"pillars": pillars, "plans": plans, "regions": regions, "publications": publications,
            "indicators": indicators, "targets": targets}


def register_rows(catalog: Catalog) -> dict[str, list[dict]]:
    """The agencies and the task register as rows of the ``agencies`` and ``tasks`` tables."""
    agencies = [
        {"code": a.code, "position": n, "name_zh": a.name.zh, "name_en": a.name.en, "kind": a.kind, "url": a.url}
        for n, a in enumerate(catalog.agencies.values())
    ]
    tasks = [
        {"id": t.id, "position": n, "title_zh": t.title.zh, "title_en": t.title.en, "pillar": t.pillar,
         "section_zh": t.section.zh if t.section else None, "section_en": t.section.en if t.section else None,
         "lead": t.lead, "partners": list(t.partners), "milestones": [m.model_dump() for m in t.milestones],
         "indicators": list(t.indicators), "documents": list(t.documents), "source": t.source, "note": t.note}
        for n, t in enumerate(catalog.tasks.values())
    ]
    return {"agencies": agencies, "tasks": tasks}


def sync_catalog(conn: Connection, catalog: Catalog) -> dict[str, int]:
    """Make the catalog tables equal to the catalog; return the number of rows changed per table."""
    changes = store.write_catalog_rows(conn, catalog_rows(catalog))
    return changes | store.write_register_rows(conn, register_rows(catalog))


def read_shipped_file(path: Path, catalog: Catalog) -> pd.DataFrame:
    """Read one of the project's own observation files (already in catalog codes and units)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    frame = frame.rename(columns=SHIPPED_COLUMNS, errors="raise")
    unknown = sorted(set(frame["indicator_code"]) - set(catalog.indicators))
    if unknown:
        raise ValueError(f"{path.name}: indicators not in the catalog: {', '.join(unknown)}")
    frame["year"] = frame["year"].astype("int64")
    frame["value"] = frame["value"].astype("float64")
    for col in ("publication_id", "flag"):  # files written before publications and flags have neither
        if col not in frame:
            frame[col] = ""
    unknown = sorted(set(frame["publication_id"]) - set(catalog.publications) - {""})
    if unknown:
        raise ValueError(f"{path.name}: publications not in the catalog: {', '.join(unknown)}")
    bad_flags = sorted({f for text in frame["flag"] for f in text.split()} - set(flags.FLAGS))
    if bad_flags:
        raise ValueError(f"{path.name}: unknown flags: {', '.join(bad_flags)}")
    for col in ("note", "flag", "publication_id", "published_on"):
        frame[col] = frame[col].replace("", None)
    return frame[KEY + PAYLOAD]


def run_init(engine: Engine, catalog: Catalog | None = None, data_dir: Path | None = None) -> InitReport:
    """Migrate, sync the catalog and load any shipped file not loaded yet. Each step is one transaction."""
    catalog = catalog or load_catalog(settings.catalog_dir())
    data_dir = data_dir or settings.shipped_data_dir()
    report = InitReport()
    report.schema_before, report.schema_after = db.migrate(engine)
    with engine.begin() as conn:
        report.catalog_changes = sync_catalog(conn, catalog)
    shipped = []
    for path in sorted(data_dir.glob("*.csv")):
        content = path.read_bytes()
        checksum = file_checksum(content)
        frame = read_shipped_file(path, catalog)
        shipped.append(frame[KEY])
        with db.writing(engine) as conn:
            loaded = find_loaded_batch(conn, checksum)
            if loaded is not None:
                report.files.append((path.name, "unchanged", loaded, {}))
                continue
            result = apply_batch(conn, frame, kind="seed", user=SEED_USER, file_name=path.name, checksum=checksum,
                                 note="shipped reference data")
            report.files.append((path.name, "loaded", result.batch_id,
                                 {"new": result.n_new, "revised": result.n_revised, "unchanged": result.n_unchanged}))
    # A value the shipped files no longer hold (withdrawn, see data/CHANGELOG.md) leaves the current data;
    # values that uploads brought are never touched.
    with db.writing(engine) as conn:
        report.withdrawn = store.withdraw_values(
            conn, pd.concat(shipped, ignore_index=True) if shipped else pd.DataFrame(columns=KEY),
            batch_kind="seed", user=SEED_USER, note="withdrawn from the shipped data")
    return report
