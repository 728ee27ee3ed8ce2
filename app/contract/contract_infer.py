"""Propose a data contract from sample exports: which column is the id, the event time,
the label, and which role every other column plays, each with the reason why.

The proposal is a starting point the user edits; every rule is a plain heuristic
on names and on the values of the first rows of each sample.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pandas as pd

from app.contract import label_infer
from app.contract.label_infer import CREATED_NAME
from app.contract.outcome_window import DEFAULT_WINDOW_DAYS, proposed_window, win_delays
from leadops.inputs.normalise import FALSE_WORDS, TRUE_WORDS, split_multi_valued
from tasks.ingest.suites import EMAIL_REGEX

SAMPLE_ROWS = 50_000
ID_NAME = re.compile(r"(^|[\s_.-])(id|key|number|no)$|^id[\s_.-]|lead.?id", re.IGNORECASE)
# Only words make a boolean: a count that is 0 and 1 in the sample (previous contacts in
# a first month) is a number that grows later, and a boolean check would quarantine it.
BOOLEAN_WORDS = (TRUE_WORDS | FALSE_WORDS) - {"1", "0", "1.0", "0.0"}
CONSTANT = "constant in the sample: check it"
# More distinct values than this (or than half the rows) is free text, not a category.
MAX_CATEGORIES = 100
SHARE = 0.95  # share of non-empty values a role's rule must hold for


@dataclass
class Proposal:
    """What the samples suggest, with one reason per decision."""

    entity_id: str | None = None
    event_time: str | None = None
    label: str | None = None
    label_time: str | None = None
    positive_values: list[str] = field(default_factory=list)
    thousands_separator: str | None = None
    outcome_window_days: int = DEFAULT_WINDOW_DAYS
    window_reason: str = ""
    features: list[tuple[str, str]] = field(default_factory=list)
    constant: list[str] = field(default_factory=list)  # features with one value sampled
    reasons: list[str] = field(default_factory=list)


def propose(samples: dict[str, pd.DataFrame]) -> Proposal:
    """A proposal from raw sample frames (file name -> strings), leads and/or outcomes."""
    proposal, kept = Proposal(), {}
    frames = {n: f.rename(columns=lambda c: str(c).strip()) for n, f in samples.items()}
    labels = {n: _label_column(f) for n, f in frames.items()}
    outcomes = _outcomes_file(frames, labels)
    for name, frame in frames.items():
        kind = "outcomes" if name == outcomes else "leads"
        if kind in kept:
            proposal.reasons.append(f"{name}: another {kind} file; the first one was read")
            continue
        kept[kind] = frame
        if kind == "outcomes":
            _outcomes(name, frame, labels[name], proposal)
        else:
            _leads(name, frame, proposal)
    _window(kept, proposal)
    return proposal


def _outcomes_file(frames: dict[str, pd.DataFrame], labels: dict[str, str | None]) -> str | None:
    """The sample that is the outcomes file: a few columns, one of them two-valued. A small
    leads sample may look so too (an opt-in yes/no): then one without a creation time,
    else the one with fewest columns, is the outcomes file."""
    small = [n for n, f in frames.items() if labels[n] and len(f.columns) <= 5]

    def leads_like(name: str) -> tuple[bool, int]:
        created = any(CREATED_NAME.search(t) for t in _times(frames[name]))
        return created, len(frames[name].columns)

    return min(small, key=leads_like, default=None)


def _window(frames: dict[str, pd.DataFrame], proposal: Proposal) -> None:
    """outcome_window_days from the delays of wins, when both samples let them be measured."""
    keys = (proposal.entity_id, proposal.event_time, proposal.label, proposal.label_time)
    positive = {v.casefold() for v in proposal.positive_values} or TRUE_WORDS
    measurable = len(frames) == 2 and all(keys)
    delays = pd.Series(dtype="float64")
    if (
        measurable
        and all(k in frames["leads"] for k in keys[:2])
        and all(k in frames["outcomes"] for k in (keys[0], *keys[2:]))
    ):
        delays = win_delays(frames["leads"], frames["outcomes"], keys, positive)
    proposal.outcome_window_days, proposal.window_reason = proposed_window(delays)
    proposal.reasons.append(proposal.window_reason)


def _unique_id(frame: pd.DataFrame, name: str, proposal: Proposal) -> str | None:
    candidates = [c for c in frame.columns if frame[c].notna().all() and frame[c].is_unique]
    named = [c for c in candidates if ID_NAME.search(c)]
    chosen = (named or candidates or [None])[0]
    if chosen is None:
        proposal.reasons.append(
            f"{name}: no column is filled and unique in every row; set entity_id by hand"
        )
        return None
    why = "its name says id and " if chosen in named else ""
    proposal.reasons.append(
        f"entity_id: {chosen} ({why}every one of {len(frame)} rows has a distinct value)"
    )
    return chosen


def _times(frame: pd.DataFrame) -> list[str]:
    """Columns whose name says time and whose values parse as times (ISO, epoch, date-only)."""
    return label_infer.time_candidates(frame, set(), named_only=True)


def _label_column(frame: pd.DataFrame) -> str | None:
    """The best one- or two-valued column that is not a time (see label_infer)."""
    times = label_infer.time_candidates(frame, set(), named_only=False)
    return next(iter(label_infer.label_candidates(frame, set(times))), None)


def _outcomes(name: str, frame: pd.DataFrame, label: str, proposal: Proposal) -> None:
    times = label_infer.time_candidates(frame, set(), named_only=False)
    proposal.reasons.append(
        f"{name}: an outcomes file ({len(frame.columns)} columns, {label} holds two values)"
    )
    proposal.entity_id = proposal.entity_id or _unique_id(frame, name, proposal)
    proposal.label = label
    spellings = sorted(frame[label].dropna().astype(str).str.strip().unique())
    positive, why = label_infer.positive_spelling(spellings)
    if positive is not None:
        proposal.positive_values = [positive]
        why += "; any other value counts as not converted"
    candidates = label_infer.label_candidates(frame, set(times))
    others = [c for c in candidates if c not in (label, proposal.entity_id)]
    also = f"; also one or two values: {', '.join(others)}" if others else ""
    proposal.reasons.append(
        f"label: {label} (values {', '.join(spellings)}; positive: {positive or 'none'}, "
        f"{why}{also})"
    )
    chosen, why = label_infer.label_time_choice([t for t in times if t != proposal.entity_id])
    if chosen:
        proposal.label_time = chosen
        proposal.reasons.append(f"label_time: {chosen} ({why})")


def _leads(name: str, frame: pd.DataFrame, proposal: Proposal) -> None:
    proposal.reasons.append(
        f"{name}: a leads file ({len(frame.columns)} columns, {len(frame)} rows read)"
    )
    proposal.entity_id = _unique_id(frame, name, proposal) or proposal.entity_id
    times = _times(frame)
    created = [t for t in times if CREATED_NAME.search(t)] or times
    if created:
        proposal.event_time = created[0]
        proposal.reasons.append(
            f"event_time: {created[0]} (name says creation time, values parse as times)"
        )
    for column in frame.columns:
        if column in (proposal.entity_id, proposal.event_time):
            continue
        if column in times:
            # An absolute time is an extrapolation under a time-based split (the test window
            # is later than anything trained on), not signal; an age in days would be.
            proposal.reasons.append(
                f"{column}: left out (a point in time; export its age in days as a number "
                "if it matters)"
            )
            continue
        values = frame[column].dropna().astype(str).str.strip()
        values = values[values != ""]
        if values.empty:
            proposal.reasons.append(f"{column}: left out (empty in every sampled row)")
            continue
        role, why = _role(values, proposal)
        proposal.features.append((column, role))
        if values.nunique() == 1:
            proposal.constant.append(column)
            why += f"; {CONSTANT}"
        proposal.reasons.append(f"{column}: {role} ({why})")


def _role(values: pd.Series, proposal: Proposal) -> tuple[str, str]:
    words = values.str.casefold()
    distinct = values.nunique()
    if words.isin(BOOLEAN_WORDS).all() and words.nunique() <= 4:
        return "boolean", f"values {', '.join(sorted(words.unique())[:4])}"
    number = pd.to_numeric(values, errors="coerce")
    if number.notna().mean() >= SHARE:
        return "numeric", "values are numbers"
    grouped = values.str.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
    if (number.notna() | grouped).mean() >= SHARE and grouped.any():
        proposal.thousands_separator = ","
        return "numeric", "numbers with ',' between digit groups (thousands_separator: ',')"
    if values.str.match(EMAIL_REGEX, case=False).mean() >= SHARE:
        return "email", "values are e-mail addresses"
    if values.str.startswith("[").mean() >= SHARE and _lists(values):
        return "multi_valued", "values are JSON arrays"
    if values.str.contains(r"[;|]").mean() >= 0.3 and _lists(values):
        return "multi_valued", "values are lists split by ';' or '|'"
    if distinct <= min(MAX_CATEGORIES, max(2, len(values) // 2)):
        return "categorical", f"{distinct} distinct values in {len(values)} rows"
    return "text", f"{distinct} distinct values in {len(values)} rows: free text"


def _lists(values: pd.Series) -> bool:
    parsed = [split_multi_valued(v) for v in values.head(1000)]
    return sum(p is not None for p in parsed) >= SHARE * len(parsed)


def contract_yaml(proposal: Proposal, name: str) -> str:
    """The proposal as a contract YAML with a comment on what to check."""

    def pick(value: str | None, fallback: str) -> str:
        return json.dumps(value) if value else f"{fallback}  # NOT INFERRED: set it"

    lines = [
        "# Proposed by `leadops contract init` from sample exports; check every line.",
        f"name: {json.dumps(name)}",
        f"entity_id: {pick(proposal.entity_id, 'lead_id')}",
        f"event_time: {pick(proposal.event_time, 'created_at')}",
        f"label: {pick(proposal.label, 'converted')}",
        f"label_time: {pick(proposal.label_time, 'converted_at')}",
    ]
    if proposal.positive_values:
        lines.append(f"positive_values: {json.dumps(proposal.positive_values)}")
    if proposal.thousands_separator:
        lines.append(f"thousands_separator: {json.dumps(proposal.thousands_separator)}")
    lines += [
        "# Days after creation when a lead's outcome is final; a later win counts as a loss.",
        f"# {proposal.window_reason}",
        f"outcome_window_days: {proposal.outcome_window_days}",
        "features:",
    ]
    lines += [
        f"  - {{name: {json.dumps(column)}, role: {role}}}"
        + (f"  # {CONSTANT}" if column in proposal.constant else "")
        for column, role in proposal.features
    ]
    return "\n".join(lines) + "\n"
