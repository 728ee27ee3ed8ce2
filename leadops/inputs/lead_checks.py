"""The contract's checks on one lead's values, for leads scored without ingest.

Ingest runs the contract's expectation suite (Great Expectations) and quarantines a
lead that fails it, so the champion never learns from one. Scoring is another matter:
every lead with an id and a creation time gets a score. A lead scored straight from a
file (``leadops score FILE``), from the quarantine table, or by the online API is
checked here with the same value checks; a feature value that fails one (not a
number, a bad list, a required value missing, a number outside the contract's
min/max) is scored as missing, which the model reads as unknown
(tasks.training.missingness), and the lead is marked ``degraded`` with the failing
features' names. Only a lead without a usable id or creation time (missing, not
parsed, or after the evaluation time) cannot be scored. An email that is present but
malformed is scored as it is (a CRM form with a typo still deserves a score); ingest
keeps it out of training only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from leadops.clock import utc
from leadops.inputs.contract import Contract
from leadops.inputs.normalise import unparsed_flag


def value_problems(contract: Contract, column: str, value: Any, as_of: datetime) -> str | None:
    """Why one typed value fails the contract ("below the contract's min 1"), or None."""
    missing = value is None or (not isinstance(value, (list, tuple)) and pd.isna(value))
    if column == contract.event_time:
        if not missing and utc(value) > utc(as_of):
            return f"after the evaluation time {as_of:%Y-%m-%d %H:%M:%S} UTC"
        return None
    feature = contract.feature(column)
    if missing:
        return "missing, and the contract requires it" if feature.required else None
    if feature.role != "numeric":
        return None
    if feature.min is not None and value < feature.min:
        return f"below the contract's min {feature.min:g}"
    if feature.max is not None and value > feature.max:
        return f"above the contract's max {feature.max:g}"
    return None


# The scored chunk's column naming each lead's degraded features ("company_size, country");
# underscored so it cannot clash with a CRM column, and dropped wherever leads are stored.
DEGRADED_FEATURES = "_degraded"


@dataclass(frozen=True)
class LeadChecks:
    """What the checks found in a typed chunk, aligned with its index."""

    unscorable: pd.Series  # "lead_id: missing; ..." per row that cannot be scored ("" if it can)
    degraded: pd.Series  # "company_size, country": features scored as missing ("" when none)


def check_leads(
    contract: Contract, typed: pd.DataFrame, as_of: datetime, raw: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, LeadChecks]:
    """The chunk with failing feature values nulled, and which leads are unscorable or degraded.

    Args:
        typed: parsed lead rows (``leadops.inputs.normalise.parse_frame``, ``__unparsed``
            flags kept).
        as_of: the evaluation time a creation time may not be after.
        raw: the rows as received, to quote a key value that did not parse.
    """
    unscorable = key_problems(contract, typed, as_of, raw)
    names = pd.Series([[] for _ in range(len(typed))], index=typed.index, dtype=object)
    cleaned = typed.copy()
    for feature, failing in feature_failures(contract, typed).items():
        cleaned.loc[failing, feature] = None
        for row in typed.index[failing]:
            names[row].append(feature)
    degraded = names.map(", ".join)
    return cleaned, LeadChecks(unscorable, degraded)


def key_problems(
    contract: Contract, typed: pd.DataFrame, as_of: datetime, raw: pd.DataFrame | None = None
) -> pd.Series:
    """Per row, why its id or creation time is unusable ("" when both are usable)."""
    reasons = pd.Series("", index=typed.index, dtype=object)
    roles = contract.roles("leads")
    for column in (contract.entity_id, contract.event_time):
        unparsed = _flags(typed, unparsed_flag(column))
        if unparsed.any():
            quoted = raw.loc[unparsed, column] if raw is not None else [None] * unparsed.sum()
            reasons[unparsed] += [
                f"{column}: not {roles[column]}" + (f" ({v!r}); " if v is not None else "; ")
                for v in quoted
            ]
        missing = typed[column].isna().to_numpy(dtype=bool) & ~unparsed
        reasons[missing] += f"{column}: missing; "
    times = pd.to_datetime(typed[contract.event_time], utc=True)
    late = (times > utc(as_of)).fillna(False).to_numpy(dtype=bool)
    reasons[late] += [
        f"{contract.event_time}: {value_problems(contract, contract.event_time, t, as_of)} "
        f"({t.isoformat()}); "
        for t in times[late]
    ]
    return reasons.str.removesuffix("; ")


def feature_failures(contract: Contract, typed: pd.DataFrame) -> dict[str, np.ndarray]:
    """Rows (a bool mask) where each feature's value fails a check; features that never fail
    are left out. A value that did not parse (``<column>__unparsed``) fails as it is."""
    failures: dict[str, np.ndarray] = {}
    for feature in contract.features:
        values = typed[feature.name]
        missing = values.isna().to_numpy(dtype=bool)
        flag = unparsed_flag(feature.name)
        failing = _flags(typed, flag)
        if feature.required:
            failing = failing | missing
        if feature.role == "numeric" and (feature.min is not None or feature.max is not None):
            numbers = pd.to_numeric(values, errors="coerce")
            outside = pd.Series(False, index=numbers.index)
            if feature.min is not None:
                outside |= numbers < feature.min
            if feature.max is not None:
                outside |= numbers > feature.max
            failing = failing | outside.fillna(False).to_numpy(dtype=bool)
        if failing.any():
            failures[feature.name] = failing
    return failures


def _flags(typed: pd.DataFrame, flag: str) -> np.ndarray:
    """A parse marker column as a bool mask (all False when the column cannot fail to parse)."""
    if flag not in typed.columns:
        return np.zeros(len(typed), dtype=bool)
    return typed[flag].fillna(False).to_numpy(dtype=bool)
