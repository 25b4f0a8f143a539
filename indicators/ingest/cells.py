"""The value cells being interpreted, and the trick that makes interpreting them fast: files repeat the
same names, years and units a lot, so each distinct combination is interpreted once (:class:`Distinct`)
and the result spread back to every row.

What belongs here: :class:`Distinct` and :class:`Cells` (the cells with their layout and report, and the
helpers every resolver needs). What does not: the resolvers themselves (``interpret``, ``numbers``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from indicators.ingest.layout import Layout
from indicators.store import is_missing
from indicators.validation import Report


@dataclass
class Distinct:
    """The distinct combinations of some columns: files repeat the same names, years and units a lot, so
    each combination is interpreted once and the result spread back to every row.

    ``keys`` lists the combinations (cells stripped; empty and missing are None), ``codes`` maps each row
    to its combination, ``first`` is the first row of each.
    """

    keys: list[tuple]
    codes: np.ndarray
    first: np.ndarray

    @classmethod
    def of(cls, columns: list) -> Distinct:
        codes: np.ndarray | None = None
        keys: list[tuple] = [()]
        for column in columns:
            column_codes, uniques = pd.factorize(column, use_na_sentinel=False)
            values = [
                None if is_missing(u) or not str(u).strip() else str(u).strip() for u in uniques
            ]
            if codes is None:  # factorize numbers the uniques in order of first appearance: 0, 1, 2 ...
                codes, keys = column_codes.astype(np.int64), [(v,) for v in values]
                continue
            # Factorising each column and combining the codes (hashing integers, no sort) is much faster
            # than a groupby.
            combined, distinct = pd.factorize(codes * len(values) + column_codes)
            keys = [keys[d // len(values)] + (values[d % len(values)],) for d in distinct.tolist()]
            codes = combined.astype(np.int64)
        assert codes is not None, "Distinct.of needs at least one column"
        # Combinations are numbered in order of first appearance, so a new one raises the running maximum.
        first = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0) if len(codes) else codes
        return cls(keys, codes, first)

    def spread(self, per_key: list, categorical: bool = False) -> np.ndarray | pd.Categorical:
        """One value per combination -> one value per row (as a Categorical: one byte or two per row)."""
        values = np.empty(len(per_key), dtype=object)
        values[:] = per_key
        if not categorical:
            return values[self.codes]
        codes, categories = pd.factorize(values)
        return pd.Categorical.from_codes(codes[self.codes], categories=categories)

    def rows_where(self, per_key: Sequence[bool] | np.ndarray) -> np.ndarray:
        """Row mask from a yes/no per combination."""
        return np.asarray(per_key, dtype=bool)[self.codes] if len(per_key) else np.zeros(0, dtype=bool)


@dataclass
class Cells:
    """The value cells being interpreted, with the helpers every resolver needs."""

    texts: pd.DataFrame
    layout: Layout
    report: Report

    def has(self, name: str) -> bool:
        return name in self.layout.fields

    def column(self, name: str | None) -> str | None:
        """The file's header of a field's column (None for no field, or one the file does not have)."""
        pos = None if name is None else self.layout.fields.get(name)
        return None if pos is None else self.layout.headers[pos]

    def values(self, name: str):
        return self.texts[name] if name in self.texts else np.full(len(self.texts), None, dtype=object)

    def problems(
        self, code: str, distinct: Distinct, per_key: list, column, value_per_key: list, **params
    ) -> np.ndarray:
        """Report ``code`` on the rows whose combination has it (``per_key``); return those rows."""
        bad_keys = [p == code for p in per_key]
        mask = distinct.rows_where(bad_keys)
        if mask.any():
            columns = column if isinstance(column, np.ndarray) else np.full(len(mask), column, dtype=object)
            self.report.add_rows(
                code,
                pd.DataFrame(
                    {
                        "row": self.texts["row"].to_numpy()[mask],
                        "column": columns[mask],
                        "value": distinct.spread(value_per_key)[mask],
                        **{k: distinct.spread(v)[mask] for k, v in params.pop("per_key_params", {}).items()},
                    }
                ),
                **params,
            )
        return mask

