"""Which column of an outcomes sample is the label, how a win is spelled, and which
column is the label time.

Real outcome exports name these columns anything ("subscribed", "decided_at"), so
names are only a tie-breaker: a label is any column with two values, a label time is
any column whose values parse as times. Every choice comes with its reason.
"""

from __future__ import annotations

import re

import pandas as pd

from leadops.inputs.normalise import parse_frame

LABEL_NAME = re.compile(r"won|convert|label|outcome|status|stage|result|closed|^is_", re.IGNORECASE)
TIME_NAME = re.compile(r"(date|time|_at$|^at$|created|updated|closed|won_on|stamp)", re.IGNORECASE)
CREATED_NAME = re.compile(r"creat|added|submitted|signup|first", re.IGNORECASE)
# A date written as text ("2026-02-01", "01/02/2026 10:00"), not a bare number: without
# a name saying time, a number column (an amount, a count) would parse as epoch seconds.
DATE_TEXT = re.compile(r"\d[-/.:]\d|\d{4}-\d")
POSITIVE_WORDS = frozenset(
    {"won", "closed won", "closed-won", "converted", "success", "successful", "win", "yes"}
    | {"y", "true", "t", "1", "1.0", "subscribed", "signed", "paid", "customer", "accepted"}
)
NEGATIVE_WORDS = frozenset(
    {"lost", "closed lost", "closed-lost", "not converted", "unconverted", "failure", "failed"}
    | {"loss", "no", "n", "false", "f", "0", "0.0", "rejected", "declined", "churned"}
)
SHARE = 0.95  # share of non-empty values a rule must hold for
EARLIEST = pd.Timestamp("1990-01-01", tz="UTC")  # before any CRM export in use


def _words(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].dropna().astype(str).str.strip().str.casefold().loc[lambda s: s != ""]


def label_candidates(frame: pd.DataFrame, exclude: set[str]) -> list[str]:
    """Columns holding one or two values, best first: two values, then a name saying
    label, then values that are words for a win or a loss, then file order."""
    found = []
    for order, column in enumerate(frame.columns):
        words = _words(frame, column)
        if column in exclude or words.empty or words.nunique() > 2:
            continue
        known = words.isin(POSITIVE_WORDS | NEGATIVE_WORDS).all()
        rank = (words.nunique() != 2, not LABEL_NAME.search(column), not known, order)
        found.append((rank, column))
    return [column for _, column in sorted(found)]


def positive_spelling(spellings: list[str]) -> tuple[str | None, str]:
    """The spelling of a win among a label's values, and why (None: none recognised)."""
    positive = [v for v in spellings if v.casefold() in POSITIVE_WORDS]
    if positive:
        return positive[0], f"{positive[0]!r} is a word for a win"
    negative = [v for v in spellings if v.casefold() in NEGATIVE_WORDS]
    others = [v for v in spellings if v not in negative]
    if negative and len(others) == 1:
        return others[0], f"{negative[0]!r} is a word for a loss, so {others[0]!r} is the win"
    if negative:
        return None, f"only {negative[0]!r}, a loss, in the sample: set positive_values by hand"
    return None, "no value is a word for a win or a loss: set positive_values by hand"


def time_candidates(frame: pd.DataFrame, exclude: set[str], named_only: bool) -> list[str]:
    """Columns whose values parse as times, those named as a time first.

    Args:
        named_only: only columns whose name says time (a leads file has many columns,
            and a date-like text among them is not necessarily its creation time).
    """
    named, unnamed = [], []
    for column in frame.columns:
        values = frame[[column]].dropna()
        if column in exclude or values.empty:
            continue
        has_name = bool(TIME_NAME.search(column))
        text = values[column].astype(str)
        if not has_name and (named_only or text.str.contains(DATE_TEXT).mean() < SHARE):
            continue
        typed = parse_frame(values, {column: "timestamp"})
        # A 0/1 flag named "closed" parses as epoch seconds in 1970: not a CRM time.
        if (typed[column] >= EARLIEST).mean() >= SHARE:
            (named if has_name else unnamed).append(column)
    return named + unnamed


def label_time_choice(candidates: list[str]) -> tuple[str | None, str]:
    """The outcome's time among an outcomes file's time columns, and why: a time not
    named as a creation time first (a creation time is the lead's, not the outcome's)."""
    if not candidates:
        return None, ""
    decided = [c for c in candidates if not CREATED_NAME.search(c)] or candidates
    chosen = decided[0]
    why = "name says time, " if TIME_NAME.search(chosen) else ""
    others = [c for c in candidates if c != chosen]
    also = f"; also times: {', '.join(others)}" if others else ""
    return chosen, f"{why}values parse as times{also}"
