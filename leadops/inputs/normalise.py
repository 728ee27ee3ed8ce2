"""From raw strings to typed silver values, with a marker per failed parse.

Every column's parse is driven by the role the data contract gives it. A value
that is present but cannot be parsed becomes null and sets ``<column>__unparsed``,
so the expectation suite (not this module) decides that the row is rejected and
names why: a failed parse is a named expectation failure like any other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadops.inputs.contract import MULTI_VALUE_DELIMITERS
from leadops.inputs.readers import text_array

UNPARSED_SUFFIX = "__unparsed"
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "1.0"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "0.0"})
LIST_DELIMITERS = re.compile(f"[{re.escape(MULTI_VALUE_DELIMITERS)}]")
# Brackets, braces or quotes left inside a delimited list are the debris of a
# broken JSON array; accepting them would invent technologies like '["Slack'.
LIST_DEBRIS = re.compile(r"[\[\]{}\"]")

# A multi-valued cell is a flat list; deeper than this is not a list of items.
MAX_NESTING = 32

# (typed values, True where the value failed to parse or is missing; None: cannot fail)
Parsed = tuple[Any, np.ndarray | None]


def unparsed_flag(column: str) -> str:
    """Name of the marker column that is True where ``column`` failed to parse."""
    return f"{column}{UNPARSED_SUFFIX}"


def match_columns(columns: list[str], wanted: list[str]) -> dict[str, str]:
    """Renames that give a file's columns the contract's spelling, ignoring case and spaces.

    A column spelled exactly as the contract wants is kept; ``" LEAD_ID "`` becomes
    ``lead_id`` unless the file also has ``lead_id`` itself.
    """
    present = set(columns)
    by_fold = {name.strip().casefold(): name for name in wanted}
    renames = {}
    for column in columns:
        target = by_fold.get(column.strip().casefold())
        if target is not None and target != column and target not in present:
            renames[column] = target
            present.add(target)
    return renames


def _fold(name: str) -> str:
    return name.strip().casefold()


def match_stored_columns(
    columns: list[str], stored: list[str], keep: list[str], reserved: list[str]
) -> dict[str, str]:
    """Renames that let a file's columns be stored beside a table's existing ones.

    Delta compares column names ignoring case, so "LEAD OWNER" in a later file is the
    table's "Lead Owner" and takes that spelling (ignoring surrounding spaces too);
    two columns of one file that differ only in case, or a column spelled like one of
    the ``reserved`` bookkeeping columns, would be refused, so the later one gets a
    ".1", ".2" suffix (as pandas names exact duplicates). Columns spelled exactly as
    stored or as in ``keep`` (the contract's) keep their names.
    """
    spelled = {_fold(name): name for name in stored}
    taken = {_fold(name) for name in reserved}
    kept = [
        c for c in columns if (c in keep or spelled.get(_fold(c)) == c) and _fold(c) not in taken
    ]
    taken.update(_fold(c) for c in kept)
    renames: dict[str, str] = {}
    for column in columns:
        if column in kept:
            continue
        fold = _fold(column)
        target = column if fold in taken else spelled.get(fold, column)
        suffix = 0
        while _fold(target) in taken or spelled.get(_fold(target), target) != target:
            suffix += 1
            target = f"{column}.{suffix}"
        taken.add(_fold(target))
        if target != column:
            renames[column] = target
    return renames


def parse_frame(
    raw: pd.DataFrame,
    roles: dict[str, str],
    booleans: dict[str, tuple[frozenset[str], frozenset[str] | None]] | None = None,
    thousands: str | None = None,
    arrow_strings: bool = False,
) -> pd.DataFrame:
    """Type every contract column of a raw chunk; columns the file lacks become null.

    Args:
        raw: the chunk as received (strings or nulls), indexed by row number.
        roles: column name → role, from :meth:`leadops.inputs.contract.Contract.roles`.
        booleans: column → (true spellings, false spellings or None: any other value),
            lower-cased, for a label the CRM writes as "Won"/"Lost"
            (:meth:`leadops.inputs.contract.Contract.parse_options`).
        thousands: the digit-group separator numeric cells carry, if any.
        arrow_strings: text columns (ids, categories, text, emails) as Arrow-backed
            strings (``string[pyarrow]``, nulls NA) rather than Python objects: ingest
            hands them on to validation and the silver table without a copy.

    Returns:
        One typed column per contract column plus an ``__unparsed`` marker for
        every column whose role can fail to parse. Same index as ``raw``.
    """
    columns: dict[str, pd.Series] = {}
    for name, role in roles.items():
        absent = pd.Series(None, index=raw.index, dtype=object)
        values = raw[name] if name in raw.columns else absent
        text = _clean_text(values)
        if booleans and name in booleans:
            typed, unparsed = _as_spelled_boolean(text, *booleans[name])
        elif role == "numeric" and thousands:
            typed, unparsed = _as_number(_without_separator(text, thousands))
        else:
            typed, unparsed = PARSERS[role](text)
        if isinstance(typed, (pa.Array, pa.ChunkedArray)):
            typed = pd.arrays.ArrowExtensionArray(typed) if arrow_strings else _objects(typed)
        columns[name] = pd.Series(typed, index=raw.index)
        if unparsed is not None:
            present = text.is_valid().to_numpy(zero_copy_only=False)
            columns[unparsed_flag(name)] = pd.Series(present & unparsed, index=raw.index)
    return pd.DataFrame(columns, index=raw.index)


def _clean_text(values: pd.Series) -> pa.Array:
    """Trimmed strings; empty or blank becomes null. Arrow kernels: ~50x a Python loop."""
    text = pc.utf8_trim_whitespace(text_array(values))
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _objects(text: pa.Array) -> np.ndarray:
    return text.to_numpy(zero_copy_only=False)


def _as_string(text: pa.Array) -> Parsed:
    return text, None


def _as_email(text: pa.Array) -> Parsed:
    return pc.utf8_lower(text), None


def _as_number(text: pa.Array) -> Parsed:
    try:
        numbers = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        # Some value is not a number; pandas coerces just those to NaN.
        numbers = pd.to_numeric(_objects(text), errors="coerce").astype("float64")
    # inf is a parse result no CRM means; treat it like "abc".
    numbers = np.where(np.isfinite(numbers), numbers, np.nan)
    return numbers, np.isnan(numbers)


def _as_boolean(text: pa.Array) -> Parsed:
    words = pc.utf8_lower(text)
    true = pc.is_in(words, value_set=pa.array(sorted(TRUE_WORDS))).to_numpy(zero_copy_only=False)
    false = pc.is_in(words, value_set=pa.array(sorted(FALSE_WORDS))).to_numpy(zero_copy_only=False)
    flags = pd.array(true, dtype="boolean")
    flags[~(true | false)] = pd.NA
    return flags, ~(true | false)


def _as_spelled_boolean(
    text: pa.Array, true_words: frozenset[str], false_words: frozenset[str] | None
) -> Parsed:
    words = pc.utf8_lower(text)
    true = pc.is_in(words, value_set=pa.array(sorted(true_words))).to_numpy(zero_copy_only=False)
    if false_words is None:
        false = ~true
    else:
        false = pc.is_in(words, value_set=pa.array(sorted(false_words))).to_numpy(
            zero_copy_only=False
        )
    flags = pd.array(true, dtype="boolean")
    flags[~(true | false)] = pd.NA
    return flags, ~(true | false)


def _without_separator(text: pa.Array, thousands: str) -> pa.Array:
    plain = pc.replace_substring(text, thousands, "")
    # A "." grouping ("1.234.567,5") comes with a decimal comma.
    return pc.replace_substring(plain, ",", ".") if thousands == "." else plain


# Epoch numbers: 9-10 digits are seconds (1973-2286), 12-13 milliseconds, 15-16 microseconds.
EPOCH = re.compile(r"^\d{9,16}(\.\d+)?$")
EPOCH_UNITS = ((1e11, "s"), (1e14, "ms"), (float("inf"), "us"))


def _epoch_stamps(values: pd.Series) -> pd.Series:
    """Epoch seconds, milliseconds or microseconds as UTC times; other values NaT."""
    numbers = pd.to_numeric(values.where(values.str.match(EPOCH, na=False)), errors="coerce")
    stamps = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    lower = 0.0
    for upper, unit in EPOCH_UNITS:
        chosen = numbers.notna() & (numbers >= lower) & (numbers < upper)
        if chosen.any():
            stamps[chosen] = pd.to_datetime(numbers[chosen], unit=unit, utc=True, errors="coerce")
        lower = upper
    return stamps


# An ISO time that names its offset; times that do not are UTC.
OFFSET = re.compile(r"(?:Z|[+-]\d\d(?::?\d\d)?)$", re.IGNORECASE)


def _iso_stamps(text: pa.Array, values: pd.Series) -> pd.Series:
    """ISO 8601 times (date-only too) as UTC; others NaT.

    Times with and without an offset are parsed apart: pandas 2.3 applies the offset of
    an earlier value to a later value that has none.
    """
    timed = pc.match_substring_regex(text, r"^\d{4}-\d\d-\d\d[T ]")
    offset = pc.and_(timed, pc.match_substring_regex(text, OFFSET.pattern, ignore_case=True))
    with_offset = offset.to_numpy(zero_copy_only=False).astype(bool, copy=False)
    with_offset &= values.notna().to_numpy()
    parts = [values.notna().to_numpy() & ~with_offset, with_offset]
    if not with_offset.any() or with_offset.all():
        return pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
    stamps = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    for part in parts:
        stamps[part] = pd.to_datetime(values[part], utc=True, format="ISO8601", errors="coerce")
    return stamps


def _as_timestamp(text: pa.Array) -> Parsed:
    if (plain := _plain_iso_stamps(text)) is not None:
        return plain.array, plain.isna().to_numpy()
    values = pd.Series(_objects(text), dtype=object)
    stamps = _iso_stamps(text, values).astype("datetime64[ns, UTC]")
    unparsed = values.notna() & stamps.isna()
    epoch = unparsed & values.where(unparsed).str.match(EPOCH, na=False)
    if epoch.any():
        stamps[epoch] = _epoch_stamps(values[epoch])
    retry = values.notna() & stamps.isna()
    if retry.any():
        # Exports from spreadsheets carry non-ISO dates ("01/05/2026 10:00"); the
        # slow per-value parser runs on those rows only.
        stamps[retry] = pd.to_datetime(values[retry], utc=True, format="mixed", errors="coerce")
    stamps = stamps.astype("datetime64[ns, UTC]")
    return stamps.array, stamps.isna().to_numpy()


def _plain_iso_stamps(text: pa.Array) -> pd.Series | None:
    """The column as UTC times when every value is a plain ISO 8601 time without an
    offset (what most exports write), parsed by Arrow (~10x pandas); else None.

    Arrow's parser is the stricter: where it accepts a value, pandas' ISO8601 parse
    gives the same time (tests/unit/test_ingest_normalise.py); one value it refuses
    sends the whole column to the general path.
    """
    try:
        naive = pc.cast(text, pa.timestamp("ns"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    stamps = pd.DatetimeIndex(naive.to_numpy(zero_copy_only=False)).tz_localize("UTC")
    return pd.Series(stamps)


def _as_list(text: pa.Array) -> Parsed:
    # Lead exports repeat the same few stacks: parse each distinct string once, and
    # rows with the same string share its list.
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    encoded = text.dictionary_encode()
    parsed = np.empty(len(encoded.dictionary) + 1, dtype=object)  # last: a null cell
    for i, value in enumerate(encoded.dictionary.to_pylist()):
        parsed[i] = split_multi_valued(value)
    codes = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)
    lists = parsed[codes]
    return lists, pd.isna(lists)


def split_multi_valued(text: str) -> list[str] | None:
    """The one rule for a multi-valued cell given as text, for ingest and features alike.

    The cell (trimmed; blank means no items) is a JSON array if it starts with ``[``:
    it must parse, hold only scalars, and its non-null items become strings. Anything
    else is split on the contract's delimiters (``MULTI_VALUE_DELIMITERS``). Items
    are trimmed.

    Returns:
        The items, or None when the cell is malformed: a JSON array that does not
        parse or nests, an empty item (``a||b``, ``a|``), or JSON debris (brackets,
        braces, quotes) in a delimited string. What None means is the caller's:
        ingest flags the cell unparsed and quarantines the row; features read it
        as a lead with no items.
    """
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        if text.startswith("[" * MAX_NESTING):
            return None  # nested far past any list of technologies; json would recurse
        try:
            items = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            return None
        if not isinstance(items, list) or any(isinstance(i, (list, dict)) for i in items):
            return None
        cleaned = [str(i).strip() for i in items if i is not None]
        return cleaned if all(cleaned) else None
    if LIST_DEBRIS.search(text):
        return None
    items = [item.strip() for item in LIST_DELIMITERS.split(text)]
    return items if all(items) else None


PARSERS: dict[str, Callable[[pa.Array], Parsed]] = {
    "id": _as_string,
    "categorical": _as_string,
    "text": _as_string,
    "email": _as_email,
    "numeric": _as_number,
    "boolean": _as_boolean,
    "timestamp": _as_timestamp,
    "multi_valued": _as_list,
}
