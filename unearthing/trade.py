"""Arithmetic on the report's printed trade figures.

The report prints rounded aggregates ("USD 3.6 billion") and lower bounds
("over 290,000 tonnes"), not the customs records behind them. These helpers
keep track of what a printed number allows: a rounded figure stands for an
interval half a rounding step either side; a lower bound stands for itself
and upwards. Nothing here invents values between the printed ones.
"""

from __future__ import annotations

import math
import re

Interval = tuple[float, float]


def rounding_interval(value: float, step: float | None) -> Interval:
    """The values that round to `value` when printed to the place `step`
    (3.6 billion printed to 0.1 billion -> 3.55 to 3.65 billion). Without a
    step (a number word), the value stands alone."""
    if step is None or (isinstance(step, float) and math.isnan(step)) or step == 0:
        return (float(value), float(value))
    return (value - step / 2, value + step / 2)


def sum_interval(a: Interval, b: Interval) -> Interval:
    return (a[0] + b[0], a[1] + b[1])


def difference_interval(a: Interval, b: Interval) -> Interval:
    """a minus b, for two rounded figures."""
    return (a[0] - b[1], a[1] - b[0])


def ratio_interval(numerator: Interval, denominator: Interval) -> Interval:
    """numerator / denominator over every pair the two intervals allow
    (both positive)."""
    if denominator[0] <= 0:
        raise ValueError("denominator interval must be positive")
    return (numerator[0] / denominator[1], numerator[1] / denominator[0])


def overlaps(a: Interval, b: Interval) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def contains(interval: Interval, x: float) -> bool:
    return interval[0] <= x <= interval[1]


def usd(x: float, digits: int = 1) -> str:
    """'USD 3.6 billion', 'USD 665 million'."""
    if abs(x) >= 1e9:
        return f"USD {x / 1e9:,.{digits}f} billion"
    return f"USD {x / 1e6:,.0f} million"


def tonnes(x: float) -> str:
    return f"{x:,.0f} tonnes"


_SCALE = {"billion": 1e9, "million": 1e6, "m": 1e6, "bn": 1e9, "": 1.0}


def parse_published(text: str) -> float:
    """A number as another publication prints it: '1.4 billion' -> 1.4e9,
    '1,202 million' -> 1.202e9, '41,700' -> 41700.0, '57' -> 57.0."""
    match = re.fullmatch(r"\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", str(text))
    if not match:
        raise ValueError(f"cannot read a number from {text!r}")
    number, word = match.groups()
    word = word.lower()
    if word not in _SCALE:
        raise ValueError(f"unknown scale word {word!r} in {text!r}")
    return float(number.replace(",", "")) * _SCALE[word]


def usd_range(low: float, high: float, digits: int = 3) -> str:
    """'USD 4.215-4.316 billion' (both ends in billions when the low end is)."""
    if abs(low) >= 1e9:
        return f"USD {low / 1e9:,.{digits}f}-{high / 1e9:,.{digits}f} billion"
    return f"USD {low / 1e6:,.0f}-{high / 1e6:,.0f} million"
