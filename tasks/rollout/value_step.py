"""One rollout step of the deal-value challenger: shadow → production, or archived.

Its evidence is paired, as the shadow step's is: every won deal created after the
challenger entered shadow, and decided by the as-of time, is sized by both the value
champion and the challenger (the models are re-run on the deal's silver lead row, so no
log is needed), and ``leadops.decisions.value_gate.judge_value`` decides on the realised amounts.
There is no canary for it: a canary compares the arms' conversions, while every won
deal already gives both models' predictions against the one realised amount, which is
the stronger test. PASS promotes it (the champion is archived), a significantly worse
ranking archives it, anything else waits until ``rollout_max_wait_days``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from leadops.clock import utc
from leadops.decisions.value_gate import (
    MIN_DEALS,
    ValueVerdict,
    judge_value,
    value_scores,
    won_deals_since,
)
from leadops.inputs.contract import Contract
from leadops.models import registry
from leadops.models.model_state import (
    CHALLENGER,
    CHAMPION,
    STAGE_SINCE_TAG,
    Stage,
    VersionState,
    stage_tags,
)
from leadops.models.transitions import commit, registry_transaction
from leadops.settings import Settings
from leadops.storage.lake import Lake


@dataclass(frozen=True)
class ValueStep:
    decision: str  # promoted, archived, wait, or none (no value challenger in shadow)
    reason: str
    version: str | None = None

    def line(self) -> str:
        head = f"value challenger v{self.version}: " if self.version else ""
        return f"{head}{self.decision} ({self.reason})"


def value_rollout_step(
    settings: Settings, lake: Lake, contract: Contract, as_of: datetime
) -> ValueStep:
    """Judge the value challenger in shadow on the won deals since it entered, and act."""
    client, moment = registry.registry_client(settings), utc(as_of)
    name = registry.value_model_name(settings.model_name)
    challenger, champion = (
        registry.get_challenger(client, name),
        registry.get_champion(client, name),
    )
    state = VersionState.from_version(challenger) if challenger is not None else None
    if state is None or state.stage != Stage.SHADOW or champion is None or not contract.value:
        return ValueStep("none", "no deal-value challenger in shadow")
    since = datetime.fromisoformat(state.since) if state.since else moment
    deals = won_deals_since(lake, contract, since, moment)
    overdue = moment - since > timedelta(days=settings.rollout_max_wait_days)
    if len(deals) < MIN_DEALS and not overdue:
        why = f"{len(deals)} won deals since {since:%Y-%m-%d}, need {MIN_DEALS}"
        return ValueStep("wait", why, state.version)
    verdict = _verdict(settings, name, str(champion.version), state.version, deals, contract)
    evidence = verdict.reason if verdict else f"only {len(deals)} won deals since {since:%Y-%m-%d}"
    if verdict is not None and verdict.passed:
        decision, reason = "promoted", evidence
    elif verdict is not None and verdict.gini.high < 0:  # ranks deals significantly worse
        decision, reason = "archived", evidence
    elif overdue:
        days = settings.rollout_max_wait_days
        decision, reason = "archived", f"inconclusive after {days:g} days: {evidence}"
    else:
        return ValueStep("wait", evidence, state.version)
    with registry_transaction(client, lake):
        ops = _ops(state.version, str(champion.version), decision, reason, moment)
        commit(client, lake, name, ops)
    return ValueStep(decision, reason, state.version)


def _verdict(
    settings: Settings,
    name: str,
    champion: str,
    challenger: str,
    deals: pd.DataFrame,
    contract: Contract,
) -> ValueVerdict | None:
    if len(deals) < MIN_DEALS:
        return None
    rows = deals[contract.lead_columns]
    return judge_value(
        deals[contract.value].to_numpy(np.float64),
        value_scores(settings, name, challenger, rows),
        value_scores(settings, name, champion, rows),
        f"value champion v{champion}",
        settings.value_gini_margin,
        settings.gate_bootstrap_samples,
        settings.seed,
    )


def _ops(challenger: str, champion: str, decision: str, reason: str, as_of: datetime) -> list[list]:
    when = {STAGE_SINCE_TAG: as_of.isoformat()}
    if decision == "archived":
        tags = {**stage_tags(Stage.ARCHIVED, 0.0, reason), **when}
        return [
            *(["tag", challenger, k, v] for k, v in tags.items()),
            ["drop_alias", CHALLENGER, challenger],
        ]
    new = {**stage_tags(Stage.PRODUCTION, 1.0, f"promoted from shadow: {reason}"), **when}
    old = stage_tags(Stage.ARCHIVED, 0.0, f"replaced by value v{challenger}")
    return [
        *(["tag", challenger, k, v] for k, v in new.items()),
        ["alias", CHAMPION, challenger],
        ["drop_alias", CHALLENGER, challenger],
        *(["tag", champion, k, v] for k, v in old.items()),
    ]
