"""The quarantined share per check, watched beside drift: a check that jumps is a finding.

Real history: a count column inferred as boolean quarantined 17-50% of every month's
leads from month 7 on, and nothing said so. The monitor reads the quarantine log
(leadops.logs.quarantine_log) and compares the latest ingest run with the runs before it.

Rule: a check jumps when, over the earlier runs (pooled, n = their rows in), it
quarantined under ``LEADOPS_QUARANTINE_BASELINE_SHARE`` of the rows, and in the latest
run the lower end of the 95% Wilson interval of its share (n = that run's rows in) is
above ``LEADOPS_QUARANTINE_JUMP_SHARE``. The interval keeps 2 bad rows of 20 from being
an incident; a first run has no earlier runs, so no jump (its ingest line warns).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from leadops.logs import quarantine_log as qlog

# Two-sided 95%; a constant, not leadops.decisions.stats.z_of: status imports this, and
# scipy is slow.
Z_95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default); (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class CheckShare:
    """One check's share of the latest run against its share of the runs before."""

    check: str
    quarantined: int
    rows_in: int
    low: float
    high: float
    earlier_quarantined: int
    earlier_rows_in: int
    earlier_runs: int
    jump: bool

    @property
    def share(self) -> float:
        return self.quarantined / self.rows_in if self.rows_in else 0.0

    @property
    def earlier_share(self) -> float | None:
        return self.earlier_quarantined / self.earlier_rows_in if self.earlier_rows_in else None

    def text(self) -> str:
        before = (
            f"earlier {self.earlier_runs} run(s) {self.earlier_share:.1%} of "
            f"{self.earlier_rows_in:,}"
            if self.earlier_share is not None
            else "no earlier runs"
        )
        return (
            f"{self.check}: {self.share:.1%} of {self.rows_in:,} rows (95% CI "
            f"{self.low:.1%}-{self.high:.1%}); {before}"
        )


@dataclass
class QuarantineWatch:
    """The latest ingest run's quarantine, check by check, and the rule that judged it."""

    kind: str
    run_id: str | None
    ingested_at: str | None
    checks: list[CheckShare] = field(default_factory=list)
    rule: str = ""

    @property
    def jumps(self) -> list[CheckShare]:
        return [c for c in self.checks if c.jump and c.check != qlog.ANY_CHECK]

    def note(self) -> str:
        """One line: the latest run's share and the jumps, for the CLI and status."""
        if self.run_id is None:
            return f"no {self.kind} ingest run logged yet"
        total = next((c for c in self.checks if c.check == qlog.ANY_CHECK), None)
        share = f"{total.share:.1%} of {total.rows_in:,} {self.kind}" if total else "none"
        if self.jumps:
            jumped = "; ".join(c.text() for c in self.jumps)
            return f"latest ingest quarantined {share}; JUMP: {jumped}"
        worst = max((c for c in self.checks if c.check != qlog.ANY_CHECK), key=_share, default=None)
        top = f" (most: {worst.check} {worst.share:.1%})" if worst else ""
        return f"latest ingest quarantined {share}{top}; no check jumped"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "run_id": self.run_id,
            "ingested_at": self.ingested_at,
            "rule": self.rule,
            "note": self.note(),
            "checks": [{**asdict(c), "share": c.share} for c in self.checks],
            "jumps": [c.check for c in self.jumps],
        }


def _share(check: CheckShare) -> float:
    return check.share


def rule_text(jump_share: float, baseline_share: float) -> str:
    return (
        f"a check jumps when it quarantined under {baseline_share:.0%} of the rows of the "
        f"earlier runs (pooled) and the latest run's share is above {jump_share:.0%} at the "
        "lower end of its 95% Wilson interval"
    )


def watch_quarantine(
    log: pd.DataFrame, kind: str, jump_share: float, baseline_share: float
) -> QuarantineWatch:
    """Judge the latest run of ``log`` (quarantine_log.read_log) against the runs before it."""
    rule = rule_text(jump_share, baseline_share)
    if log.empty:
        return QuarantineWatch(kind, None, None, rule=rule)
    latest_id = log[qlog.RUN_ID].iloc[-1]
    latest = log[log[qlog.RUN_ID] == latest_id]
    earlier = log[log[qlog.RUN_ID] != latest_id]
    totals = earlier[earlier[qlog.CHECK] == qlog.ANY_CHECK]
    earlier_rows, runs = int(totals[qlog.ROWS_IN].sum()), len(totals)
    checks = []
    for row in latest.itertuples(index=False):
        check, count = getattr(row, qlog.CHECK), int(getattr(row, qlog.QUARANTINED))
        rows_in = int(getattr(row, qlog.ROWS_IN))
        before = int(earlier.loc[earlier[qlog.CHECK] == check, qlog.QUARANTINED].sum())
        low, high = wilson(count, rows_in)
        quiet = runs > 0 and before < baseline_share * earlier_rows
        checks.append(
            CheckShare(
                check, count, rows_in, low, high, before, earlier_rows, runs,
                jump=quiet and low > jump_share,
            )
        )  # fmt: skip
    stamp = pd.Timestamp(latest[qlog.INGESTED_AT].iloc[0]).isoformat()
    return QuarantineWatch(kind, str(latest_id), stamp, checks, rule)


def markdown(watch: dict[str, Any]) -> str:
    """The monitor artifact's quarantine section (from QuarantineWatch.as_dict)."""
    lines = ["## Quarantine (latest ingest run)", "", watch["note"], "", f"Rule: {watch['rule']}."]
    if watch["checks"]:
        lines += ["", "| check | quarantined | rows in | share (95% CI) | earlier share | jump |"]
        lines.append("|---|---:|---:|---|---|---|")
    for c in watch["checks"]:
        earlier = (
            f"{c['earlier_quarantined'] / c['earlier_rows_in']:.1%} of {c['earlier_rows_in']:,} "
            f"({c['earlier_runs']} runs)"
            if c["earlier_rows_in"]
            else "-"
        )
        lines.append(
            f"| `{c['check']}` | {c['quarantined']:,} | {c['rows_in']:,} | {c['share']:.1%} "
            f"({c['low']:.1%}-{c['high']:.1%}) | {earlier} | {'JUMP' if c['jump'] else ''} |"
        )
    return "\n".join(lines) + "\n"
