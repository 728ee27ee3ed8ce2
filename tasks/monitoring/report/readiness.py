"""The readiness line: is the serving model still as good as its training said?

Judged as Dynamics 365 judges a lead-scoring model, on the newest 20% of leads with known
outcomes: here the newest 20% (by creation) of the champion's matured served leads. Ready
when they hold at least MIN_CONVERSIONS conversions and their AUC's 95% interval reaches
the training test-window AUC less the rollout's relative non-inferiority margin (the
loss the rollout already accepts for a challenger).
"""

from __future__ import annotations

import pandas as pd

from leadops.inputs.maturity import LABEL, MATURED
from tasks.monitoring.report.sections import MIN_CONVERSIONS, accuracy_row
from tasks.monitoring.report.served import SCORE, VERSION

NEWEST_SHARE = 0.2


def champion_version(decisions: pd.DataFrame) -> str | None:
    """The version most recently moved to production (None before any model served)."""
    if decisions.empty:
        return None
    production = decisions[decisions.stage == "production"]
    return None if production.empty else str(production.version.iloc[-1])


def training_metrics(decisions: pd.DataFrame, version: str | None) -> dict[str, float]:
    """The version's test-window metrics as its gate recorded them ({} when unknown)."""
    if version is None or "test_roc_auc" not in decisions.columns:
        return {}  # no decision yet, or none recorded its metrics
    rows = decisions[(decisions.version == version) & decisions["test_roc_auc"].notna()]
    if rows.empty:
        return {}
    first = rows.iloc[0]
    return {
        k[5:]: float(first[k]) for k in rows.columns if k.startswith("test_") and pd.notna(first[k])
    }


def readiness_line(
    served: pd.DataFrame,
    event_time: str,
    version: str | None,
    training: dict[str, float],
    capacity: float,
    margin: float,
) -> str:
    """One line: "ready: ..." or "not ready: <the missing evidence>"."""
    if version is None:
        return "not ready: no model has served yet"
    mine = served[(served[VERSION] == version) & served[MATURED]] if not served.empty else served
    if mine.empty:
        return f"not ready: v{version} has no served lead whose outcome has matured yet"
    newest = mine.sort_values(event_time).tail(max(1, round(len(mine) * NEWEST_SHARE)))
    row = accuracy_row(newest[LABEL].to_numpy(), newest[SCORE].to_numpy(), capacity)
    facts = (
        f"AUC {row['auc']:.2f} [{row['auc_low']:.2f}, {row['auc_high']:.2f}] on the newest 20% "
        f"of v{version}'s matured leads ({row['leads']:,} leads, "
        f"{row['conversions']:,} conversions)"
    )
    if row["conversions"] < MIN_CONVERSIONS:
        return f"not ready: {facts}; needs {MIN_CONVERSIONS} conversions"
    trained = training.get("roc_auc")
    if trained is not None and row["auc_high"] < trained * (1 - margin):
        return f"not ready: {facts}; more than {margin:.0%} below training's {trained:.2f}"
    against = f" (training test window {trained:.2f})" if trained is not None else ""
    return f"ready: {facts}{against}"
