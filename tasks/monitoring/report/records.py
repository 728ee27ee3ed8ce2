"""What the other stages left behind: the quarantine log, drift records, the rollout history.

Each reader returns a plain frame (empty when nothing was recorded yet), so the page
shows "nothing yet" instead of failing on a young home.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from leadops.logs import quarantine_log
from leadops.models.transitions import read_history
from leadops.storage import tables
from leadops.storage.lake import Lake
from tasks.monitoring.publish import lake_link, report_key
from tasks.monitoring.workspace import PSI_PREFIX

PSI_TAG = "trigger-psi"  # the tag workspace.trigger_psi_snapshot gives its snapshot
HEAD_BYTES = 4096


def quarantine_shares(lake: Lake, kind: str = "leads") -> pd.DataFrame:
    """Per ingest run of ``kind``: rows in, and the share of them each failed check quarantined
    (from the quarantine log ingest writes, leadops.logs.quarantine_log).

    Columns: as_of, rows_in, quarantined, check, share (one row per run and check; a run
    with nothing quarantined has one row with check "" and share 0).
    """
    columns = ["as_of", "rows_in", "quarantined", "check", "share"]
    if not lake.table_exists(tables.QUARANTINE_LOG):
        return pd.DataFrame(columns=columns)
    log = quarantine_log.read_log(lake, kind)
    rows = []
    for _, run in log.groupby(quarantine_log.RUN_ID, sort=False):
        total = run[run[quarantine_log.CHECK] == quarantine_log.ANY_CHECK]
        rows_in = int(run[quarantine_log.ROWS_IN].iloc[0])
        base = {
            "as_of": pd.Timestamp(run[quarantine_log.INGESTED_AT].iloc[0]),
            "rows_in": rows_in,
            "quarantined": int(total[quarantine_log.QUARANTINED].sum()),
        }
        checks = run[run[quarantine_log.CHECK] != quarantine_log.ANY_CHECK]
        rows += [
            {**base, "check": c, "share": n / rows_in}
            for c, n in zip(
                checks[quarantine_log.CHECK], checks[quarantine_log.QUARANTINED], strict=True
            )
        ] or [{**base, "check": "", "share": 0.0}]
    return pd.DataFrame(rows, columns=columns)


def drift_records(workspace: Path, lake: Lake) -> pd.DataFrame:
    """The retrain trigger's fixed-bin PSI per feature per monitor run, from the Evidently
    workspace's trigger-PSI snapshots, with a link to that run's drift report.

    Columns: as_of, feature, psi, report (None when the report was pruned).
    """
    rows = []
    for path in sorted(workspace.glob("*/snapshots/*.json")):
        if not _names_trigger_psi(path):
            continue
        snapshot = json.loads(path.read_text())
        if PSI_TAG not in (snapshot.get("tags") or []):
            continue
        as_of = pd.Timestamp(snapshot["timestamp"], tz="UTC")
        key = report_key(as_of.to_pydatetime())
        link = lake_link(lake, key) if lake.exists(key) else None
        for result in snapshot.get("metric_results", {}).values():
            column = result["metric_value_location"]["metric"]["params"].get("column", "")
            if column.startswith(PSI_PREFIX):
                feature = column[len(PSI_PREFIX) :]
                rows.append(
                    {"as_of": as_of, "feature": feature, "psi": result["value"], "report": link}
                )
    frame = pd.DataFrame(rows, columns=["as_of", "feature", "psi", "report"])
    return frame.sort_values(["as_of", "feature"]).reset_index(drop=True)


def _names_trigger_psi(path: Path) -> bool:
    """Whether the snapshot's head carries the trigger-PSI tag. A trigger-PSI snapshot has
    no report items, so its tags come within the first bytes; the drift snapshots beside it
    are ~1 MB each and parsing them all cost 0.7 s of a 3 s page at 19 runs."""
    with path.open("rb") as handle:
        return f'"{PSI_TAG}"'.encode() in handle.read(HEAD_BYTES)


def decisions(lake: Lake) -> pd.DataFrame:
    """Every gate and rollout transition, oldest first: as_of, version, stage, fraction, reason,
    and the test-window metrics the gate recorded (``test_roc_auc``, ...). The lake keeps one
    history (one registered model per lake today)."""
    rows = [
        {
            "as_of": pd.Timestamp(t["as_of"]),
            "version": str(t["version"]),
            "stage": t["stage"],
            "fraction": t.get("fraction"),
            "reason": t.get("reason", ""),
            **{f"test_{k}": v for k, v in (t.get("metrics") or {}).items()},
        }
        for t in read_history(lake)
    ]
    return pd.DataFrame(rows)
