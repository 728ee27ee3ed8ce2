"""The gate's paired test rows, kept as the first evidence of the challenger's rollout.

A challenger is registered after a paired comparison with the champion on the newest
matured leads (the gate's out-of-time test window). At a few hundred leads a month a
rollout step that starts from zero evidence waits months for enough matured leads of
its own. So the gate stores its rows (id, creation time, label and both models'
probabilities) and each rollout step tests them together with the step's own paired
leads (``LEADOPS_ROLLOUT_GATE_ROWS``).

Why that is sound: a challenger is promoted only if it passed the gate on these rows
and then every rollout step; a challenger worse than the margin is promoted no more
often than the gate lets it through, whatever the steps add. The steps still FAIL a
challenger that scores worse on the live leads, fails to score, or misroutes leads.
The rows are disjoint from the step's: a step only counts leads created after the
challenger's training data (its test window included) ended.

``rollout_forecast`` tells a team at shadow start how many matured leads an equally good
challenger needs to pass a step, and how many weeks that is at its volume.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadops.decisions import stats
from leadops.storage.lake import Lake

ENTITY_ID, EVENT_TIME, LABEL = "entity_id", "event_time", "label"
CHAMPION_SCORE, CHALLENGER_SCORE = "champion_score", "challenger_score"
CHAMPION_VERSION = "champion_version"


def key(name: str, version: str) -> str:
    return f"rollout/gate_evidence/{name}/v{version}.parquet"


def save(
    lake: Lake,
    name: str,
    version: str,
    champion_version: str,
    rows: pd.DataFrame,
) -> None:
    """Store the gate's paired rows (columns ENTITY_ID, EVENT_TIME, LABEL and both scores)."""
    frame = rows[[ENTITY_ID, EVENT_TIME, LABEL, CHAMPION_SCORE, CHALLENGER_SCORE]].copy()
    frame[ENTITY_ID] = frame[ENTITY_ID].astype(str)
    frame[EVENT_TIME] = pd.to_datetime(frame[EVENT_TIME], utc=True)
    frame[CHAMPION_VERSION] = str(champion_version)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    lake.write_bytes(key(name, version), buffer.getvalue())


def load(lake: Lake, name: str, version: str, champion_version: str) -> pd.DataFrame | None:
    """The gate's rows of ``version`` against ``champion_version``; None when absent.

    Rows compared with another champion (the champion changed since the gate) are no
    evidence about the current pair.
    """
    if not lake.exists(key(name, version)):
        return None
    frame = pd.read_parquet(io.BytesIO(lake.read_bytes(key(name, version))))
    if frame.empty or set(frame[CHAMPION_VERSION].astype(str)) != {str(champion_version)}:
        return None
    return frame.drop(columns=[CHAMPION_VERSION])


@dataclass(frozen=True)
class Forecast:
    """Matured leads an equally good challenger needs to pass a step, at 80% power."""

    gate_rows: int
    needed: int  # in total, the gate's rows included
    leads_per_week: float | None  # matured leads a week in the gate's window

    @property
    def beyond_gate(self) -> int:
        return max(0, self.needed - self.gate_rows)

    @property
    def weeks(self) -> float | None:
        if not self.beyond_gate:
            return 0.0
        if not self.leads_per_week:
            return None
        return self.beyond_gate / self.leads_per_week

    def line(self, max_wait_days: float | None = None) -> str:
        head = (
            f"rollout forecast: an equally good challenger passes a step (DeLong, 80% power) "
            f"at ~{self.needed:,} matured leads"
        )
        if not self.beyond_gate:
            return f"{head}; the gate's {self.gate_rows:,} rows already hold them"
        weeks = self.weeks
        pace = (
            f", ~{weeks:.1f} weeks a step at ~{self.leads_per_week:,.0f} leads a week"
            if weeks is not None
            else ""
        )
        text = f"{head}: {self.beyond_gate:,} beyond the gate's {self.gate_rows:,}{pace}"
        if weeks is not None and max_wait_days is not None and weeks * 7 > max_wait_days:
            text += (
                f"; longer than the {max_wait_days:g}-day wait limit: steps will likely end "
                "inconclusive (LEADOPS_ROLLOUT_MAX_WAIT_DAYS)"
            )
        return text


def rollout_forecast(
    labels: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray,
    *,
    margin: float,
    alpha: float,
    window_days: float | None,
    power: float = 0.8,
) -> Forecast | None:
    """How many matured leads a step needs, from the gate's own paired rows.

    DeLong's variance of the AUC difference scales as 1/n, so the n at which an equal
    challenger's lower bound clears -margin x AUC(champion) with ``power`` is
    n x ((z_alpha + z_power) x se / bound)^2. None when a class is missing.
    """
    labels = np.asarray(labels).astype(int)
    n = len(labels)
    if n == 0 or labels.min() == labels.max():
        return None
    _, auc_old, variance = stats.delong_paired(labels, challenger, champion)
    bound = margin * auc_old
    if bound <= 0:
        return None
    z = stats.z_of(alpha) + stats.z_of(1 - power)
    needed = math.ceil(n * (z * math.sqrt(max(variance, 0.0)) / bound) ** 2)
    per_week = n / (window_days / 7) if window_days and window_days > 0 else None
    return Forecast(n, max(needed, 1), per_week)
