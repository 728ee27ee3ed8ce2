"""The contract's checks on one lead's values, for leads scored without ingest.

Ingest runs the contract's expectation suite (Great Expectations) and quarantines a
lead that fails it, so the champion never learns from one. A lead scored straight
from a file (``leadops score FILE``) or by the online API skips ingest; these are the
same value checks, so such a lead is refused for the same reasons instead of being
scored outside what the model saw: a required column without a value, a number
outside the contract's min/max, an event time after the evaluation time. Types are
checked where the values are parsed. An email that is present but malformed is
scored (a CRM form with a typo still deserves a score); ingest keeps it out of
training only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from leadops.contract import Contract
from leadops.maturity import utc
from leadops.normalise import unparsed_flag


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


def frame_problems(contract: Contract, typed: pd.DataFrame, as_of: datetime) -> pd.Series:
    """Per row of a typed frame, "column: why; ..." for every failing value ("" when none).

    Only values that parsed are judged: one that did not (``<column>__unparsed``) is
    reported by its parse, not as missing.
    """
    reasons = pd.Series("", index=typed.index, dtype=object)
    times = pd.to_datetime(typed[contract.event_time], utc=True)
    late = (times > utc(as_of)).fillna(False).to_numpy(dtype=bool)
    reasons[late] += [
        f"{contract.event_time}: {value_problems(contract, contract.event_time, t, as_of)} "
        f"({t.isoformat()}); "
        for t in times[late]
    ]
    for feature in contract.features:
        values = typed[feature.name]
        checks = []
        if feature.required:
            missing = values.isna().to_numpy(dtype=bool)
            flag = unparsed_flag(feature.name)
            if flag in typed.columns:
                missing &= ~typed[flag].fillna(False).to_numpy(dtype=bool)
            checks.append(missing)
        if feature.role == "numeric" and (feature.min is not None or feature.max is not None):
            numbers = pd.to_numeric(values, errors="coerce")
            low = numbers < feature.min if feature.min is not None else False
            high = numbers > feature.max if feature.max is not None else False
            checks.append((low | high).fillna(False).to_numpy(dtype=bool))
        for bad in checks:
            for row, value in zip(typed.index[bad], values[bad], strict=True):
                why = value_problems(contract, feature.name, value, as_of)
                shown = "" if value is None or pd.isna(value) else f" ({value:g})"
                reasons[row] += f"{feature.name}: {why}{shown}; "
    return reasons.str.removesuffix("; ")
