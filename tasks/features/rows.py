"""Row-wise lead features shared by training and scoring.

The plain functions here look at one lead at a time (no statistics learnt from
data), so scoring calls exactly what training called: no training/serving skew.
The fitted part, ``FeatureEncoder`` (vocabularies learnt from the training frame,
saved inside the logged model as JSON), lives in ``tasks.features.encoder`` and is
re-exported by ``tasks.features``.

Column names never appear here as literals: every column comes from the contract
roles, except the optional engagement ratio pairs (see ``DEFAULT_RATIO_PAIRS``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadops.inputs.normalise import split_multi_valued

EMAIL_DOMAIN_TYPES = ("free", "corporate", "edu", "invalid")
SENIORITY_LEVELS = ("c_level", "vp", "director", "manager", "senior", "ic", "intern", "unknown")
# Only recurring time: with a time-based split an absolute date (month of year, the
# timestamp itself) is an extrapolation, not signal. Encoders fitted before keep theirs.
DATE_PARTS = ("weekday", "hour")
LEGACY_DATE_PARTS = ("weekday", "hour", "month")

# The contract has no place for derived features yet, so the bundled CRM's
# engagement ratios are named here; a pair whose columns are not numeric in the
# active contract is skipped, so another CRM's contract still works unchanged.
DEFAULT_RATIO_PAIRS: tuple[tuple[str, str], ...] = (
    ("email_opens", "page_views"),
    ("form_fills", "page_views"),
    ("webinars_attended", "email_opens"),
)

FREE_EMAIL_DOMAINS = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "proton.me",
        "protonmail.com",
        "yandex.ru",
        "yandex.com",
        "qq.com",
        "163.com",
        "126.com",
        "zoho.com",
        "fastmail.com",
        "hey.com",
        "tutanota.com",
        "mail.ru",
        "orange.fr",
        "free.fr",
        "libero.it",
    ]
)
_EDU_DOMAIN = re.compile(r"(\.edu|\.edu\.[a-z]{2}|\.ac\.[a-z]{2})$")
_VALID_DOMAIN = re.compile(
    r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$"
)

# First match wins, so "Vice President" is vp before "president" reads as c_level,
# and "Marketing Intern" is intern before anything else.
_SENIORITY_RULES = (
    ("intern", re.compile(r"\b(intern|internship|trainee|apprentice|working student)\b")),
    ("vp", re.compile(r"\b(vp|svp|evp|avp|vice[ -]president)\b")),
    (
        "c_level",
        re.compile(r"\b(c[a-z]o|chief|founder|co-founder|cofounder|president|owner|partner)\b"),
    ),
    ("director", re.compile(r"\b(director|head)\b")),
    ("manager", re.compile(r"\b(manager|mgr|team lead|supervisor)\b")),
    ("senior", re.compile(r"\b(senior|sr|principal|staff|lead)\b")),
)


def email_domain_type(emails: pd.Series | Sequence[str | None]) -> np.ndarray:
    """Classify each email address as free / corporate / edu / invalid.

    Vectorised with Arrow (about 0.6 s per million rows); only the distinct
    domains go through Python.
    """
    return email_kinds(
        pa.array(pd.Series(emails, dtype=object), type=pa.string(), from_pandas=True)
    )


def email_kinds(arr: pa.Array) -> np.ndarray:
    """``email_domain_type`` of an Arrow string array (no pandas on the way)."""
    parts = pc.split_pattern(pc.utf8_trim_whitespace(pc.utf8_lower(arr)), "@")
    counts = np.nan_to_num(pc.list_value_length(parts).to_numpy(zero_copy_only=False), nan=0)
    offsets = parts.offsets.to_numpy()[:-1]
    flat = pc.list_flatten(parts)
    result = np.full(len(arr), "invalid", dtype=object)
    rows = np.flatnonzero(counts == 2)
    if len(rows) == 0:
        return result
    local_ok = pc.utf8_length(pc.take(flat, pa.array(offsets[rows]))).to_numpy() > 0
    domains = pc.take(flat, pa.array(offsets[rows] + 1)).dictionary_encode()
    kinds = np.array(
        [_domain_kind(str(d)) for d in domains.dictionary.to_pylist()] or ["invalid"], dtype=object
    )
    rows_kind = kinds[domains.indices.to_numpy(zero_copy_only=False)]
    result[rows] = np.where(local_ok, rows_kind, "invalid")
    return result


def _domain_kind(domain: str) -> str:
    if not _VALID_DOMAIN.match(domain):
        return "invalid"
    if domain in FREE_EMAIL_DOMAINS:
        return "free"
    return "edu" if _EDU_DOMAIN.search(domain) else "corporate"


def title_seniority(titles: pd.Series | Sequence[str | None]) -> np.ndarray:
    """Map each job title to a seniority level in ``SENIORITY_LEVELS``.

    Only distinct titles are matched, so a million rows with a few thousand
    titles cost milliseconds.
    """
    codes, uniques = pd.factorize(pd.Series(titles, dtype=object), use_na_sentinel=True)
    return title_levels(uniques, codes)


def title_levels(uniques: Sequence[object], codes: np.ndarray) -> np.ndarray:
    """Seniority per row from the distinct titles and each row's index in them (-1: missing)."""
    levels = np.array([_title_level(str(t)) for t in uniques] + ["unknown"], dtype=object)
    return levels[codes]  # code -1 (missing) picks the trailing "unknown"


def _title_level(title: str) -> str:
    text = title.strip().lower()
    if not text or text in {"nan", "none", "null"}:
        return "unknown"
    for level, pattern in _SENIORITY_RULES:
        if pattern.search(text):
            return level
    return "ic"


def date_parts(times: pd.Series) -> dict[str, np.ndarray]:
    """Weekday (Monday=0), hour and month of each event time, in UTC, as floats."""
    series = pd.Series(times)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        stamps = series.dt.tz_convert("UTC")  # to_datetime would sample values for its cache
    else:
        stamps = pd.to_datetime(series, utc=True, errors="coerce")
    return {
        "weekday": stamps.dt.weekday.to_numpy(dtype="float64", na_value=np.nan),
        "hour": stamps.dt.hour.to_numpy(dtype="float64", na_value=np.nan),
        "month": stamps.dt.month.to_numpy(dtype="float64", na_value=np.nan),
    }


def engagement_ratio(numerator: pd.Series, denominator: pd.Series) -> np.ndarray:
    """``numerator / (denominator + 1)``: +1 keeps leads with zero page views finite."""
    num = pd.to_numeric(numerator, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    den = pd.to_numeric(denominator, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return ratio_of(num, den)


def ratio_of(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``engagement_ratio`` of float64 arrays."""
    return num / (np.clip(den, 0, None) + 1.0)


def ratio_pairs(
    numeric_columns: Iterable[str], pairs: Iterable[tuple[str, str]] = DEFAULT_RATIO_PAIRS
) -> list[tuple[str, str]]:
    """The ratio pairs whose two columns are both numeric in the contract."""
    available = set(numeric_columns)
    return [(a, b) for a, b in pairs if a in available and b in available]


def multi_valued_items(values: pd.Series | Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Flatten a multi-valued column into (row index, item) pairs.

    Accepts lists / arrays (silver), text cells (raw exports) and nulls. Text is
    split by ingest's rule (:func:`leadops.inputs.normalise.split_multi_valued`), so a
    cell gives the same items here as in silver; a malformed one, which ingest
    would quarantine, gives none. Items are stripped; empty ones dropped.
    """
    series = pd.Series(values, dtype=object)
    # Arrow would read a string as a list of characters, so raw strings are split first.
    if any(type(v) is str for v in series.to_numpy()):
        series = series.map(_split_items)
    return list_items(pa.array(series, type=pa.list_(pa.string()), from_pandas=True))


def list_items(arrow: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``multi_valued_items`` of an Arrow list<string> array (no pandas on the way)."""
    rows = pc.list_parent_indices(arrow).to_numpy(zero_copy_only=False)
    items = pc.utf8_trim_whitespace(pc.list_flatten(arrow))
    keep = pc.fill_null(pc.greater(pc.utf8_length(items), 0), False).to_numpy(zero_copy_only=False)
    return rows[keep], items.to_numpy(zero_copy_only=False)[keep]


def _split_items(value: object) -> list[str] | None:
    if not isinstance(value, str):
        return (
            None if value is None or (isinstance(value, float) and np.isnan(value)) else list(value)
        )
    # A lead being scored cannot be quarantined: a malformed cell counts as no items.
    return split_multi_valued(value) or []
