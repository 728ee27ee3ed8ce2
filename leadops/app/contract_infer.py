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

from leadops.normalise import FALSE_WORDS, TRUE_WORDS, parse_frame, split_multi_valued
from tasks.ingest.suites import EMAIL_REGEX

SAMPLE_ROWS = 50_000
ID_NAME = re.compile(r"(^|[\s_.-])(id|key|number|no)$|^id[\s_.-]|lead.?id", re.IGNORECASE)
TIME_NAME = re.compile(r"(date|time|_at$|^at$|created|updated|closed|won_on|stamp)", re.IGNORECASE)
CREATED_NAME = re.compile(r"creat|added|submitted|signup|first", re.IGNORECASE)
LABEL_NAME = re.compile(r"won|convert|label|outcome|status|stage|result|closed|^is_", re.IGNORECASE)
POSITIVE_WORDS = frozenset(
    {
        "won",
        "closed won",
        "closed-won",
        "converted",
        "success",
        "successful",
        "win",
        "yes",
        "y",
        "true",
        "t",
        "1",
    }
)
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
    features: list[tuple[str, str]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def propose(samples: dict[str, pd.DataFrame]) -> Proposal:
    """A proposal from raw sample frames (file name -> strings), leads and/or outcomes."""
    proposal, seen = Proposal(), set()
    for name, frame in samples.items():
        frame = frame.rename(columns=lambda c: str(c).strip())
        label = _label_column(frame)
        kind = "outcomes" if label and len(frame.columns) <= 5 else "leads"
        if kind in seen:
            proposal.reasons.append(f"{name}: another {kind} file; the first one was read")
            continue
        seen.add(kind)
        if kind == "outcomes":
            _outcomes(name, frame, label, proposal)
        else:
            _leads(name, frame, proposal)
    return proposal


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
    found = []
    for column in frame.columns:
        values = frame[[column]].dropna()
        if values.empty or not TIME_NAME.search(column):
            continue
        typed = parse_frame(values, {column: "timestamp"})
        if (~typed[f"{column}__unparsed"]).mean() >= SHARE:
            found.append(column)
    return found


def _label_column(frame: pd.DataFrame) -> str | None:
    for column in frame.columns:
        values = frame[column].dropna().astype(str).str.strip().str.casefold()
        if LABEL_NAME.search(column) and 1 <= values.nunique() <= 2 and len(values):
            return column
    return None


def _outcomes(name: str, frame: pd.DataFrame, label: str, proposal: Proposal) -> None:
    proposal.reasons.append(
        f"{name}: an outcomes file ({len(frame.columns)} columns, {label} holds two values)"
    )
    proposal.entity_id = proposal.entity_id or _unique_id(frame, name, proposal)
    proposal.label = label
    spellings = sorted(frame[label].dropna().astype(str).str.strip().unique())
    positive = [v for v in spellings if v.casefold() in POSITIVE_WORDS]
    if positive and not {v.casefold() for v in spellings} <= TRUE_WORDS | FALSE_WORDS:
        proposal.positive_values = positive
    proposal.reasons.append(
        f"label: {label} (values {', '.join(spellings)}; positive: "
        f"{', '.join(positive) or 'none recognised, set positive_values'})"
    )
    times = [t for t in _times(frame) if t != label]
    if times:
        proposal.label_time = times[0]
        proposal.reasons.append(f"label_time: {times[0]} (name says time, values parse as times)")


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
        proposal.reasons.append(f"{column}: {role} ({why})")


def _role(values: pd.Series, proposal: Proposal) -> tuple[str, str]:
    words = values.str.casefold()
    distinct = values.nunique()
    if words.isin(TRUE_WORDS | FALSE_WORDS).all() and words.nunique() <= 4:
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
        "# Days after creation when a lead's outcome is final.",
        "outcome_window_days: 30",
        "features:",
    ]
    lines += [
        f"  - {{name: {json.dumps(column)}, role: {role}}}" for column, role in proposal.features
    ]
    return "\n".join(lines) + "\n"
