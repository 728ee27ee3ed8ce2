"""The deal-value champion as the score stage serves it: E[value | won], expected value,
value tiers and value reasons.

Loaded beside the conversion models when ``<model name>-value`` has a champion; without
one the score outputs are exactly as before. Expected value is the served probability x
the value champion's E[value | won]; its tier comes from the value version's fixed
cut-points (its test window's expected values), so a batch and an online answer agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from leadops.models import registry
from leadops.models.cutpoints import EXPECTED_VALUE_KEY, TIER_BY_DECILE, deciles_at
from leadops.models.model_loader import ModelLoadError, load_model
from leadops.settings import Settings
from tasks.scoring.reason_grouping import ReasonGrouping


@dataclass
class ValueServing(ReasonGrouping):
    """One registered deal-value version: booster, encoder, how its output reads, tiers."""

    name: str
    version: str
    booster: Any
    encoder: Any
    on_log: bool  # the booster predicts log amount; the mean is exp(mu + spread / 2)
    log_spread: float
    cutpoints: list[float]
    revenue_scale: float = 1.0  # the training's sum correction (DealValueModel.revenue_scale)

    def predict(self, encoded: np.ndarray) -> np.ndarray:
        raw = np.asarray(self.booster.inplace_predict(encoded), dtype=np.float64)
        mean = np.exp(raw + self.log_spread / 2) if self.on_log else raw
        return self.revenue_scale * mean

    def tiers(self, expected: np.ndarray) -> np.ndarray:
        return TIER_BY_DECILE[deciles_at(expected, self.cutpoints)]

    def contributions(self, encoded: np.ndarray, approx: bool = False) -> np.ndarray:
        """Contributions in log amount (rows x (columns + 1), bias last)."""
        import xgboost as xgb

        return self.booster.predict(
            xgb.DMatrix(encoded), pred_contribs=True, approx_contribs=approx
        )


def load_value_champion(settings: Settings, client: Any) -> ValueServing | None:
    """The value champion, or None when no deal-value model serves.

    Raises:
        ModelLoadError: the champion version is not a LeadOps deal-value model.
    """
    name = registry.value_model_name(settings.model_name)
    champion = registry.get_champion(client, name)
    if champion is None:
        return None
    version = str(champion.version)
    loaded = load_model(settings, name, version)
    model = loaded.unwrap_python_model()
    cutpoints = (loaded.metadata.metadata or {}).get(EXPECTED_VALUE_KEY)
    if getattr(model, "booster", None) is None or not cutpoints:
        raise ModelLoadError(
            f"model {name} version {version}: not a LeadOps deal-value model "
            "(no booster or no expected-value cut-points)"
        )
    return ValueServing(
        name,
        version,
        model.booster,
        model.encoder,
        model.on_log,
        model.log_spread,
        cutpoints,
        getattr(model, "revenue_scale", 1.0),
    )
