"""Numbers, units and dates as people write them: ``6.44%``, ``8,536.9``, ``６.４４％``, ``1.2万亿``, ``第3名``,
``3rd``; missing markers (``-``, ``..``, ``n.a.``); the conversion of a value to its indicator's unit; and
publication dates (``2025/1/6``, ``2025年1月6日``) as ISO text.

What belongs here: reading those texts, the unit conversions (exact, in decimal, and listed in the
report), and the messages of numbers that cannot be read, converted or stored. What does not: names, years
and the other texts of a line (``interpret``); the unit catalogue itself (``catalog``).

Decisions: a value must be a finite number of at most :data:`MAX_MAGNITUDE` in its indicator's unit, after
any conversion (``1e300万亿`` is refused, not stored as 1e304 亿元), and a number written non-zero must not
become 0 or lose its precision as a double (``1e-400``): both are errors on the value, never a silent change.
"""

from __future__ import annotations

import decimal
import re
import sys
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

import numpy as np
import pandas as pd

from indicators.catalog import Catalog, normalise_name
from indicators.i18n import Text
from indicators.ingest.cells import Cells, Distinct
from indicators.ingest.fields import MISSING_MARKERS
from indicators.store import is_missing
from indicators.validation import Message, Report, format_number, register

PERCENT_UNITS = ("percent", "percent_per_year")
# No statistic in any catalog unit comes near: a thousand trillion 亿元 is a million times the world's output.
MAX_MAGNITUDE = 1e15
SMALLEST_NORMAL = sys.float_info.min  # below it a double keeps fewer digits (and 1e-400 is 0)
_NUMBER = re.compile(
    r"^(?P<number>[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)(?P<suffix>(?![\d,.]).*)$",
    re.I,
)
_RANK_FORMS = [
    re.compile(p, re.I) for p in (r"^第(\d+)(?:名|位)?$", r"^(\d+)(?:st|nd|rd|th)$", r"^(?:no\.?|#)(\d+)$")
]
_DATE_FORMS = [
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$"),
    re.compile(r"^(\d{4})年?$"),
]

PROBLEMS = register({
    "UNIT_MISMATCH": Message(
        "error",
        "row",
        Text(
            "单位“{unit}”与该指标的单位“{expected}”不一致,且无法换算。",
            "Unit '{unit}' does not match the indicator's unit '{expected}' and cannot be converted.",
        ),
    ),
    "NUMBER_INVALID": Message("error", "row", Text("数值“{value}”无法识别为数字。", "Value '{value}' is not a number.")),
    "NUMBER_TOO_LARGE": Message(
        "error",
        "row",
        Text(
            "数值“{value}”换算为该指标的单位后为 {converted},超出可存储的范围(绝对值不超过 {limit})。请检查数字和单位。",
            "Value '{value}' is {converted} in the indicator's unit, beyond what can be stored (at most {limit} "
            "either way). Check the number and its unit.",
        ),
    ),
    "NUMBER_TOO_SMALL": Message(
        "error",
        "row",
        Text(
            "数值“{value}”不为零,但太小,存储时会变为 0 或丢失精度。请检查数字和单位。",
            "Value '{value}' is not zero but too small to store: it would become 0 or lose its digits. Check "
            "the number and its unit.",
        ),
    ),
})


class Number(NamedTuple):
    """A value cell read as a number: the digits (exact), and any unit, percent sign or rank wording."""

    digits: str  # e.g. '8536.9', for exact conversion
    suffix: str  # '', '%', a unit such as '万亿', or 'rank' for 第3名 / 3rd


def parse_number(text: str) -> Number | None:
    """Read a number as people write it. Returns None for text that is not a number.

    Width is folded (``６.４４％`` is ``6.44%``), thousands separators must group by three, and whatever
    follows the digits is kept as the suffix for the caller to match with a unit.
    """
    folded = "".join(unicodedata.normalize("NFKC", text).replace("\u2212", "-").split())
    for form in _RANK_FORMS:
        match = form.match(folded)
        if match:
            return Number(match.group(1), "rank")
    match = _NUMBER.match(folded)
    if not match:
        return None
    digits = match["number"].replace(",", "")
    try:
        if not Decimal(digits).is_finite():
            return None
    except InvalidOperation:
        return None
    return Number(digits, match["suffix"])


def is_missing_marker(text: str) -> bool:
    """Empty, '-', '—', '..', 'n.a.', '无' and the like (:data:`~.fields.MISSING_MARKERS`): no value, and no error."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold() in MISSING_MARKERS


def parse_values(raw: pd.Series) -> pd.DataFrame:
    """For each cell: ``number`` (as written, before any unit conversion), ``digits`` (the exact text of a
    number that needed reading), ``suffix`` (what followed the digits; '' for a plain number), ``missing``
    and ``invalid``.

    Plain numbers go through pandas in one vectorised pass; the rest (a few distinct texts) one by one.
    """
    plain = pd.to_numeric(raw, errors="coerce").astype("float64").to_numpy()
    fine = np.isfinite(plain)
    number = np.where(fine, plain, np.nan)
    suffix = np.full(len(raw), "", dtype=object)
    digits = np.full(len(raw), None, dtype=object)
    missing = np.zeros(len(raw), dtype=bool)
    invalid = np.zeros(len(raw), dtype=bool)
    # A zero pandas read from text that is no zero (1e-400): kept as digits for the range check.
    zeros = np.flatnonzero(fine & (plain == 0))
    if len(zeros):
        for text in pd.unique(raw.iloc[zeros]):
            parsed = None if is_missing(text) else parse_number(str(text))
            if parsed is not None and parsed.suffix == "" and Decimal(parsed.digits) != 0:
                digits[zeros[(raw.iloc[zeros] == text).to_numpy()]] = parsed.digits
    rest = np.flatnonzero(~fine)
    if len(rest):
        codes, uniques = pd.factorize(raw.iloc[rest], use_na_sentinel=False)
        for i, unique in enumerate(uniques):
            at = rest[codes == i]
            text = "" if is_missing(unique) else str(unique)
            if is_missing_marker(text):
                missing[at] = True
                continue
            parsed = parse_number(text)
            if parsed is None:
                invalid[at] = True
            else:
                number[at], suffix[at], digits[at] = float(parsed.digits), parsed.suffix, parsed.digits
    return pd.DataFrame(
        {"number": number, "digits": digits, "suffix": suffix, "missing": missing, "invalid": invalid}
    )


def unit_factor(catalog: Catalog, unit_code: str, text: str) -> float | None:
    """The factor turning a value in unit ``text`` into ``unit_code`` (1 for the unit itself), or None."""
    key = normalise_name(text)
    unit = catalog.units[unit_code]
    if key in {normalise_name(n) for n in (unit.code, unit.name.zh, unit.name.en, *unit.aliases)}:
        return 1.0
    for conversion in unit.conversions:
        if key in {normalise_name(n) for n in (conversion.unit, *conversion.aliases)}:
            return conversion.factor
    return None


def _unit_words(catalog: Catalog) -> set[str]:
    """What may follow a number as its unit: '%', rank wording, and every unit name in the catalog."""
    words = {"%", "rank"}
    for unit in catalog.units.values():
        words |= {unit.code, unit.name.zh, unit.name.en, *unit.aliases}
        for conversion in unit.conversions:
            words |= {conversion.unit, *conversion.aliases}
    return {normalise_name(w) for w in words}


def resolve_values(cells: Cells, numbers: pd.DataFrame, catalog: Catalog, rows: dict) -> np.ndarray:
    """The value in the indicator's unit; conversions are listed in the report.

    The unit is the one written after the number (``1.2万亿``), else the unit column, else the value header's.
    A suffix that is no unit at all (``6.44abc``) makes the value invalid.
    """
    suffix = numbers["suffix"].to_numpy(dtype=object)
    distinct = Distinct.of([rows["indicator_code"], suffix, cells.values("unit")])
    words = _unit_words(catalog)

    def resolve(indicator, written, unit_column):
        if written and normalise_name(written) not in words:
            return "NUMBER_INVALID", None, written
        if unit_column and is_missing_marker(unit_column):
            unit_column = None
        given = written or unit_column or cells.layout.value_unit
        if indicator is None:
            return None, 1.0, given  # the indicator is already an error
        factor = _factor(catalog, indicator, given)
        return (None if factor is not None else "UNIT_MISMATCH"), factor, given

    results = [resolve(*key) for key in distinct.keys]
    invalid = numbers["invalid"].to_numpy() | distinct.rows_where([r[0] == "NUMBER_INVALID" for r in results])
    mismatch = distinct.rows_where([r[0] == "UNIT_MISMATCH" for r in results]) & ~invalid
    factor = distinct.spread([np.nan if r[1] is None else r[1] for r in results]).astype(float)
    given = distinct.spread([r[2] for r in results])
    with np.errstate(over="ignore"):  # an overflow is reported below (NUMBER_TOO_LARGE)
        value = numbers["number"].to_numpy() * np.where(np.isnan(factor), 1.0, factor)
    converted = np.flatnonzero(~invalid & ~mismatch & (factor != 1.0))
    if len(converted):
        value[converted] = _exact_products(numbers, converted, factor)
        _report_conversions(rows, given, factor, value, converted, catalog, cells.report)
    located = pd.DataFrame(
        {"row": rows["row"], "column": np.asarray(rows["column"], dtype=object), "value": rows["raw"]}
    )
    too_large, too_small = _out_of_range(value, numbers, ~invalid & ~mismatch)
    rows["value"] = np.where(invalid | mismatch | too_large | too_small, np.nan, value)
    rows["unit_given"] = pd.Categorical(given)
    rows["factor"] = factor
    cells.report.add_rows("NUMBER_INVALID", located[invalid])
    if too_large.any():
        cells.report.add_rows(
            "NUMBER_TOO_LARGE",
            located[too_large].assign(converted=[_magnitude(v) for v in value[too_large]]),
            limit=f"{MAX_MAGNITUDE:.0e}",
        )
    cells.report.add_rows("NUMBER_TOO_SMALL", located[too_small])
    if mismatch.any():
        names = {code: u.name.zh for code, u in catalog.units.items()}
        expected = pd.Series(rows["unit"], dtype=object).map(names).to_numpy(dtype=object)
        cells.report.add_rows(
            "UNIT_MISMATCH",
            located[mismatch].assign(
                unit=["名次" if g == "rank" else g for g in given[mismatch]], expected=expected[mismatch]
            ),
        )
    return invalid | mismatch | too_large | too_small


def _out_of_range(value: np.ndarray, numbers: pd.DataFrame, checked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(too large, too small) among the ``checked`` values: not finite or beyond :data:`MAX_MAGNITUDE`; or
    written non-zero and stored as 0 or a subnormal double."""
    with np.errstate(invalid="ignore"):
        magnitude = np.abs(value)
        too_large = checked & ~(magnitude <= MAX_MAGNITUDE)  # NaN and inf are not <=
        tiny = checked & ~too_large & (magnitude < SMALLEST_NORMAL)
    too_small = np.zeros(len(value), dtype=bool)
    for at in np.flatnonzero(tiny):  # a few at most: zeros written as zeros are the usual case
        too_small[at] = _written_non_zero(numbers["digits"].iat[at], numbers["number"].iat[at], value[at])
    return too_large, too_small


def _written_non_zero(digits: str | None, number: float, value: float) -> bool:
    if value != 0.0:
        return True  # subnormal: digits lost
    if is_missing(digits):  # a plain number pandas read (parse_values keeps the digits of a false zero)
        return number != 0.0
    try:
        return Decimal(str(digits)) != 0
    except InvalidOperation:
        return False


def _magnitude(value: float) -> str:
    return f"{value:.3g}" if np.isfinite(value) else ("∞" if value > 0 else "-∞")


def _factor(catalog: Catalog, indicator: str, unit: str | None) -> float | None:
    ind = catalog.indicators[indicator]
    if unit is None:
        return 1.0
    if unit == "rank":
        return 1.0 if ind.kind == "rank" else None
    if unit == "%":
        return 1.0 if ind.unit in PERCENT_UNITS else None
    return unit_factor(catalog, ind.unit, unit)


def _exact_products(numbers: pd.DataFrame, at: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Converted values from the written digits in decimal, so 8536.9 万元 is 0.85369 亿元 exactly."""
    digits = numbers["digits"].to_numpy(dtype=object)[at]
    plain = numbers["number"].to_numpy()[at]
    out = np.empty(len(at))
    # Exponents beyond the context's range give Infinity or 0 (reported by _out_of_range), not an exception.
    with decimal.localcontext() as context:
        context.traps[decimal.Overflow] = context.traps[decimal.InvalidOperation] = False
        context.Emax, context.Emin = decimal.MAX_EMAX, decimal.MIN_EMIN
        for i, (d, p, f) in enumerate(zip(digits, plain, factor[at], strict=True)):
            base = Decimal(d) if d is not None else Decimal(repr(float(p)))
            out[i] = float(base * Decimal(repr(float(f))))
    return out


def _report_conversions(rows, given, factor, value, converted, catalog: Catalog, report: Report) -> None:
    frame = pd.DataFrame(
        {
            "indicator": rows["indicator_code"][converted],
            "from_unit": given[converted],
            "factor": factor[converted],
            "row": rows["row"][converted],
            "example_from": rows["raw"][converted],
            "example_to": value[converted],
        }
    )
    for (indicator, unit, f), group in frame.groupby(["indicator", "from_unit", "factor"], sort=False):
        target = catalog.units[catalog.indicators[indicator].unit]
        first = group.iloc[0]
        report.conversions.append(
            {
                "indicator": indicator,
                "from_unit": unit,
                "to_unit": target.code,
                "to_unit_zh": target.name.zh,
                "to_unit_en": target.name.en,
                "factor": float(f),
                "count": len(group),
                "first_row": int(first["row"]),
                "example": f"{first['example_from']} -> "
                f"{format_number(float(first['example_to']))} {target.name.zh}",
            }
        )


def normalise_date(text: str | None) -> str | None:
    """'2025/1/6', '2025年1月6日', '20250106', '2025-01' ... as ISO ('2025-01-06', '2025-01', '2025').

    Text that is not a real date is returned unchanged, for the validation to report.
    """
    if text is None:
        return None
    folded = "".join(unicodedata.normalize("NFKC", text).split())
    for form in _DATE_FORMS:
        match = form.match(folded)
        if not match:
            continue
        parts = [int(p) for p in match.groups()]
        try:
            date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
        except ValueError:
            return text
        return "-".join([f"{parts[0]:04d}", *[f"{p:02d}" for p in parts[1:]]])
    return text

