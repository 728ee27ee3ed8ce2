"""The deal-value champion in service: are its predicted values still what won deals bring?

Two checks, each stated with its n and interval:

- calibration: realised / predicted amount summed over the won deals decided since the
  value champion began serving (bootstrap 95% interval over deals), and by predicted-value
  decile. A shift is an interval that excludes 1 with the ratio more than
  ``value_shift_tolerance`` away from it: significant and large enough to matter.
- drift of predicted values: PSI of log predicted value, leads created in the newest 7 days
  against the 28 days before the champion began serving, in the reference's deciles.

A shift asks for a retrain (reason ``deal-value-shift``) when the conversion model's own
rule does not fire, through the same request, cooldown and persistence hold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from leadops.clock import utc
from leadops.decisions.psi import psi_value, smoothed_shares
from leadops.decisions.train_reasons import VALUE_SHIFT
from leadops.decisions.value_gate import MIN_DEALS, value_scores, won_deals_since
from leadops.decisions.value_metrics import decile_calibration
from leadops.inputs.contract import Contract
from leadops.models import registry
from leadops.models.model_state import VersionState
from leadops.settings import Settings
from leadops.storage.lake import Lake
from leadops.storage.tables import silver
from tasks.monitoring.trigger import RetrainDecision

CURRENT_DAYS, REFERENCE_DAYS = 7, 28
_PSI_SIDES = f"newest {CURRENT_DAYS} days vs the {REFERENCE_DAYS} before it served"


@dataclass(frozen=True)
class ValueWatch:
    line: str
    version: str | None = None
    deals: int = 0
    ratio: float | None = None  # realised / predicted, summed over won deals
    interval: tuple[float, float] | None = None
    shifted: bool = False
    psi: float | None = None
    by_decile: list[dict] | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def realised_ratio(
    amounts: np.ndarray, predicted: np.ndarray, samples: int, seed: int
) -> tuple[float, float, float]:
    """Sum of realised over sum of predicted amounts, with its 95% bootstrap interval."""
    rows = np.random.default_rng(seed).integers(0, len(amounts), size=(samples, len(amounts)))
    resampled = amounts[rows].sum(axis=1) / predicted[rows].sum(axis=1)
    low, high = np.percentile(resampled, [2.5, 97.5])
    return float(amounts.sum() / predicted.sum()), float(low), float(high)


def with_value_shift(decision: RetrainDecision, watch: ValueWatch | None) -> RetrainDecision:
    """The conversion model's decision, or a deal-value-shift retrain when only the value
    champion's realised / predicted ratio shifted (a conversion retrain retrains both)."""
    if decision.retrain or watch is None or not watch.shifted:
        return decision
    return RetrainDecision(True, VALUE_SHIFT, f"deal value shift: {watch.line}", [])


def predicted_value_psi(reference: np.ndarray, current: np.ndarray) -> float | None:
    """PSI of log predicted value in the reference's deciles (None: a side is empty)."""
    if len(reference) == 0 or len(current) == 0:
        return None
    edges = np.unique(np.quantile(np.log(reference), np.linspace(0.1, 0.9, 9)))
    shares = [
        smoothed_shares(np.bincount(np.searchsorted(edges, np.log(v)), minlength=len(edges) + 1))
        for v in (reference, current)
    ]
    return psi_value(shares[0], shares[1])


def watch_value(settings: Settings, lake: Lake, contract: Contract, as_of: datetime) -> ValueWatch:
    """Both checks for the value champion; a ValueWatch without version when none serves."""
    client, moment = registry.registry_client(settings), utc(as_of)
    name = registry.value_model_name(settings.model_name)
    champion = registry.get_champion(client, name) if contract.value else None
    if champion is None:
        return ValueWatch("no deal-value champion to watch")
    state = VersionState.from_version(champion)
    since = datetime.fromisoformat(state.promoted_at or state.since or moment.isoformat())
    psi = predicted_value_psi(
        *_psi_sides(settings, lake, contract, name, state.version, since, moment)
    )
    psi_text = "" if psi is None else f"; predicted-value PSI {psi:.3f} ({_PSI_SIDES})"
    deals = won_deals_since(lake, contract, since, moment)
    head = f"value model v{state.version}"
    if len(deals) < MIN_DEALS:
        line = (
            f"{head}: {len(deals)} won deals decided since {since:%Y-%m-%d}, "
            f"need {MIN_DEALS} to check its calibration{psi_text}"
        )
        return ValueWatch(line, state.version, len(deals), psi=psi)
    amounts = deals[contract.value].to_numpy(np.float64)
    predicted = value_scores(settings, name, state.version, deals[contract.lead_columns])
    ratio, low, high = realised_ratio(
        amounts, predicted, settings.gate_bootstrap_samples, settings.seed
    )
    tolerance = settings.value_shift_tolerance
    shifted = (low > 1 or high < 1) and abs(ratio - 1) > tolerance
    verdict = f"SHIFT (beyond +-{tolerance:.0%})" if shifted else "holds"
    line = (
        f"{head}: realised / predicted {ratio:.2f} on {len(deals)} won deals since "
        f"{since:%Y-%m-%d} (bootstrap 95% CI [{low:.2f}, {high:.2f}]): {verdict}{psi_text}"
    )
    table = decile_calibration(amounts, predicted).to_dict("records")
    return ValueWatch(line, state.version, len(deals), ratio, (low, high), shifted, psi, table)


def _psi_sides(
    settings: Settings,
    lake: Lake,
    contract: Contract,
    name: str,
    version: str,
    since: datetime,
    as_of: datetime,
) -> tuple[np.ndarray, np.ndarray]:
    leads = lake.read_table(silver("leads"), columns=contract.lead_columns)
    created = pd.to_datetime(leads[contract.event_time], utc=True)
    reference = leads[
        (created < pd.Timestamp(since))
        & (created >= pd.Timestamp(since - timedelta(days=REFERENCE_DAYS)))
    ]
    current = leads[
        (created > pd.Timestamp(as_of - timedelta(days=CURRENT_DAYS)))
        & (created <= pd.Timestamp(as_of))
    ]
    if reference.empty or current.empty:
        return np.empty(0), np.empty(0)
    return (
        value_scores(settings, name, version, reference),
        value_scores(settings, name, version, current),
    )
