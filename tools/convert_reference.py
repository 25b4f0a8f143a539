"""Convert ../shared/reference-data/observations.csv into the project's own shipped files (run by hand).

The product never reads ../shared at run time; this script is how data/observations/ was made, kept so
that the conversion can be checked and re-run. What it does to each row:

- region names become catalog region codes (each source's area kept apart, see data/catalog/regions.yaml);
- the unit becomes the indicator's unit code; a published unit that says more (e.g. "rank (of 50)",
  "% y/y") is kept in the note as "unit as published: ...";
- ``published_on`` is the earliest date (YYYY-MM-DD or YYYY-MM) written in the source text outside its
  web addresses: the date of the publication the value was read in, not necessarily its first release;
- the first-published 2016 R&D share (5.94 %, Nov 2017) goes to an earlier file than the revised 5.78 %,
  so that init loads them as two vintages of one value, the revised one current.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indicators.catalog import load_catalog  # noqa: E402

SOURCE = ROOT.parent / "shared" / "reference-data" / "observations.csv"
OUT = ROOT / "data" / "observations"
URL = re.compile(r"(https?://|www\.)\S+|\S+\.(com|cn|org|net|info|eu|pl|ru|ai|dev)(/\S*)?")
DATE = re.compile(r"(?<!\d)(19|20)(\d{2})-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?(?!\d)")
FIRST_PUBLISHED = {("RD_GDP_RATIO", "Beijing", "2016", "5.94")}
COLUMNS = ["indicator", "region", "year", "value", "unit", "source", "confidence", "note", "published_on"]


def published_on(source: str) -> str:
    text = URL.sub(" ", source)
    dates = sorted(m.group(0) for m in DATE.finditer(text))
    return dates[0] if dates else ""


def main() -> None:
    catalog = load_catalog(ROOT / "data" / "catalog")
    first, rest = [], []
    with SOURCE.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            ind = catalog.indicators[row["indicator_code"]]
            region = catalog.find_region(row["region"])
            if region is None:
                raise SystemExit(f"no catalog region for {row['region']!r}")
            unit = catalog.units[ind.unit]
            note = row["note"]
            if row["unit"] not in (unit.name.en, unit.name.zh) and "(" in row["unit"] or row["unit"] == "% y/y":
                note = "; ".join(x for x in (note, f"unit as published: {row['unit']}") if x)
            out = {
                "indicator": ind.code, "region": region, "year": row["year"], "value": row["value"],
                "unit": unit.name.en, "source": row["source"], "confidence": row["confidence"],
                "note": note, "published_on": published_on(row["source"]),
            }
            key = (row["indicator_code"], row["region"], row["year"], row["value"])
            (first if key in FIRST_PUBLISHED else rest).append(out)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, rows in (("01-first-published-vintages.csv", first), ("02-reference-data.csv", rest)):
        with (OUT / name).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        print(f"{name}: {len(rows)} rows")


if __name__ == "__main__":
    main()
