"""A fitted calibrator: a model's log-odds in, a calibrated conversion probability out.

It lives in the core because three places apply it and must agree bit for bit: the
logged model (``tasks.training.model.LeadScoringModel``), batch scoring
(``tasks.scoring.scorer.ServingModel``) and the online service through it. Fitting is
the training stage's job (``tasks.training.calibrate``).

Two forms, both monotone in the log-odds (so the ranking, ROC-AUC and the SHAP reasons,
which stay in the booster's log-odds, are unchanged):

- ``platt``: p = sigmoid(slope x log-odds + intercept), two numbers;
- ``isotonic``: a non-decreasing curve through (log-odds, probability) knots, linear
  between them and flat beyond them (as scikit-learn's IsotonicRegression predicts).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import xgboost as xgb


PLATT, ISOTONIC = "platt", "isotonic"


@dataclass(frozen=True)
class Calibrator:
    """How log-odds map to probabilities, and what it was fitted on (for the report)."""

    method: str  # platt | isotonic
    slope: float = 1.0
    intercept: float = 0.0
    knots: tuple[float, ...] = ()  # isotonic: log-odds, ascending
    values: tuple[float, ...] = ()  # isotonic: the probability at each knot
    fitted_on: dict = field(default_factory=dict)  # leads, conversions, window, why this method

    def apply(self, log_odds: np.ndarray) -> np.ndarray:
        """Calibrated probabilities (float64) for the model's raw log-odds."""
        margin = np.asarray(log_odds, dtype=np.float64)
        if self.method == ISOTONIC:
            return np.interp(margin, np.asarray(self.knots), np.asarray(self.values))
        return 1.0 / (1.0 + np.exp(-(self.slope * margin + self.intercept)))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Calibrator:
        data = json.loads(text)
        if data.get("method") not in (PLATT, ISOTONIC):
            raise ValueError(
                f"calibrator: method {data.get('method')!r} is not {PLATT} or {ISOTONIC}"
            )
        data["knots"], data["values"] = tuple(data.get("knots", ())), tuple(data.get("values", ()))
        return cls(**data)


def probabilities(
    booster: xgb.Booster, encoded: np.ndarray, calibrator: Calibrator | None
) -> np.ndarray:
    """The served probability of encoded rows: the booster's own, or its log-odds calibrated.

    The one place a calibrator is applied: the logged model and batch scoring both call it.
    """
    if calibrator is None:
        return np.asarray(booster.inplace_predict(encoded), dtype=np.float64)
    return calibrator.apply(booster.inplace_predict(encoded, predict_type="margin"))
