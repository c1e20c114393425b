"""Pre-coup / post-coup splits, as the report defines them."""

from __future__ import annotations

import pandas as pd

from . import COUP_YEAR


def split_sum(df: pd.DataFrame, column: str, year: str = "year") -> tuple[int, int]:
    """Sum of `column` over the pre-coup years and over the post-coup years."""
    before = df.loc[df[year] < COUP_YEAR, column].sum()
    after = df.loc[df[year] >= COUP_YEAR, column].sum()
    return int(before), int(after)


def percent_increase(before: float, added: float) -> float:
    """How much `added` adds to `before`, in percent (the report's '194.4%
    increase': 245 new sites on top of 126)."""
    if before == 0:
        raise ZeroDivisionError("percent increase over a base of zero is undefined")
    return 100.0 * added / before
