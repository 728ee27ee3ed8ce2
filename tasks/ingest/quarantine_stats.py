"""The quarantined share of an ingest run, per check: logged, and said on the CLI line.

A run that quarantines a third of its leads is not "accepted": the share is written to
the quarantine log (leadops.logs.quarantine_log) for the monitor, and the CLI line names it
with the check behind it, warning above ``LEADOPS_QUARANTINE_WARN_SHARE``.
"""

from __future__ import annotations

from typing import Any

from leadops.logs import quarantine_log
from leadops.storage.lake import Lake
from tasks.ingest.results import IngestResult


def record_shares(lake: Lake, result: IngestResult) -> None:
    """Append this run's rows in and quarantined rows per check to the quarantine log."""
    rows = quarantine_log.run_rows(
        result.run_id,
        result.kind,
        result.started_at,
        result.total("rows_in"),
        result.total("quarantined"),
        result.failed_expectations,
    )
    quarantine_log.record_run(lake, rows)


def worst_check(result: dict[str, Any]) -> tuple[str, int] | None:
    """The check that quarantined the most rows of the run (from its JSON), if any."""
    failed = result.get("failed_expectations") or {}
    if not failed:
        return None
    name = max(failed, key=failed.get)
    return name, int(failed[name])


def share_line(result: dict[str, Any], kind: str, warn_share: float) -> tuple[str, str | None]:
    """("accepted N leads, M% quarantined (check X)", a warning line or None).

    Args:
        result: the run's JSON (IngestResult.as_dict).
        warn_share: LEADOPS_QUARANTINE_WARN_SHARE.
    """
    rows_in, quarantined = result.get("rows_in", 0), result.get("quarantined", 0)
    share = quarantined / rows_in if rows_in else 0.0
    worst = worst_check(result)
    check = f" (check {worst[0]}: {worst[1]:,} rows)" if worst and quarantined else ""
    line = f"accepted {result.get('silver', 0):,} {kind}, {share:.1%} quarantined{check}"
    if not rows_in or share <= warn_share:
        return line, None
    warning = (
        f"{quarantined:,} of {rows_in:,} {kind} ({share:.1%}) were quarantined, above "
        f"LEADOPS_QUARANTINE_WARN_SHARE={warn_share:.0%}: they get no score and no training; "
        "see `leadops contract check`, then `leadops quarantine replay`"
    )
    return line, warning
