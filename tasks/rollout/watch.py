"""The watch after a promotion: roll back when the new champion is significantly worse.

For ``LEADOPS_WATCH_DAYS`` after a challenger becomes champion, the previous champion
(tag ``previous_champion``) keeps scoring beside it; ``check_watch`` compares the two on
the same matured leads with the paired AUC test, and on FAIL restores the previous
champion (one journaled transition, ``manual.rollback``) and emits the rollback event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from leadops.decisions.verdict import Decision, Verdict, paired_auc_test
from leadops.inputs.contract import Contract
from leadops.inputs.maturity import LABEL
from leadops.logs import prediction_log as plog
from leadops.models import events, registry
from leadops.models.model_state import VersionState
from leadops.settings import Settings
from leadops.storage.lake import Lake
from tasks.rollout import evidence, manual


def watched(client: Any, name: str, as_of: datetime, watch_days: int) -> VersionState | None:
    """The champion while its watch runs (it replaced a champion within ``watch_days``)."""
    model_version = registry.get_champion(client, name)
    if model_version is None:
        return None
    champion = VersionState.from_version(model_version)
    return champion if champion.watched_at(as_of, watch_days) else None


def check_watch(
    client: Any, lake: Lake, contract: Contract, settings: Settings, as_of: datetime
) -> tuple[Decision | None, list]:
    """Compare the watched champion with the one it replaced; roll back on a FAIL.

    Returns:
        the paired AUC decision (None when no watch runs) and the transitions made.
    """
    champion = watched(client, settings.model_name, as_of, settings.watch_days)
    if champion is None:
        return None, []
    previous = champion.previous_champion
    log = evidence.read_step_log(
        lake, champion.version, previous, datetime.fromisoformat(champion.since)
    )
    log = log[log[plog.SCORED_AT] <= pd.Timestamp(as_of)] if not log.empty else log
    paired = evidence.paired_scores(
        log, evidence.read_outcomes(lake, contract), contract, previous, champion.version, as_of
    )
    matured = paired[paired[evidence.MATURED]]
    decision = paired_auc_test(
        matured[LABEL].to_numpy(dtype=int),
        challenger=matured[evidence.CHALLENGER_SCORE].to_numpy(),
        champion=matured[evidence.CHAMPION_SCORE].to_numpy(),
    )
    if decision.verdict is not Verdict.FAIL:
        return decision, []
    reason = f"watch after promotion: v{champion.version} worse than v{previous}: {decision.reason}"
    done = manual.rollback(client, lake, settings.model_name, as_of, reason)
    events.rollback(settings.model_name, champion.version, reason, previous, as_of, automatic=True)
    return decision, done
