"""The regularised logistic model family: fitted by training, scored by scoring and the API.

It lives beside the encoder because both stages use it (a stage never imports another).
It holds its whole fit as numbers (medians for missing values, means and scales of the
standardisation, coefficients, intercept), so it saves as one small JSON file and scores
without scikit-learn:

    margin = intercept + sum_j coef_j * (x_j - mean_j) / scale_j        (log-odds)

and each term is the column's contribution in log-odds, the linear model's exact
counterpart of TreeSHAP (they sum, with the intercept as bias, to the margin).

It answers the few calls scoring and serving make on an XGBoost booster
(``inplace_predict``, ``feature_names``, ``num_features``, ``set_param``) plus
``contributions``, so ``ServingModel`` and ``LeadScoringModel`` hold either family.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

FAMILY = "logistic"


@dataclass(frozen=True)
class LogisticScorer:
    feature_names: list[str]
    medians: np.ndarray  # fills a missing number (NaN), as the training imputer did
    means: np.ndarray
    scales: np.ndarray
    coef: np.ndarray
    intercept: float
    C: float = 1.0  # inverse L2 strength it was fitted with (reported, not used to score)

    @classmethod
    def fit(
        cls, features: np.ndarray, labels: np.ndarray, names: list[str], seed: int, C: float = 1.0
    ) -> LogisticScorer:
        """Median-impute, standardise and fit an L2 logistic regression (scikit-learn)."""
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        imputer = SimpleImputer(strategy="median", keep_empty_features=True)
        filled = imputer.fit_transform(features)
        scaler = StandardScaler().fit(filled)
        model = LogisticRegression(C=C, max_iter=2000, random_state=seed)
        model.fit(scaler.transform(filled), labels)
        return cls(
            list(names),
            imputer.statistics_.astype(np.float64),
            scaler.mean_.astype(np.float64),
            scaler.scale_.astype(np.float64),
            model.coef_[0].astype(np.float64),
            float(model.intercept_[0]),
            C,
        )

    def _terms(self, encoded: np.ndarray) -> np.ndarray:
        x = np.asarray(encoded, dtype=np.float64)
        x = np.where(np.isnan(x), self.medians, x)
        return self.coef * (x - self.means) / self.scales

    def margin(self, encoded: np.ndarray) -> np.ndarray:
        """Log-odds of conversion per row."""
        return self._terms(encoded).sum(axis=1) + self.intercept

    def inplace_predict(self, encoded: np.ndarray, predict_type: str = "value") -> np.ndarray:
        """Conversion probabilities, or log-odds with ``predict_type="margin"`` (the
        booster's call of the same name, which a calibrator reads)."""
        margin = self.margin(encoded)
        return margin if predict_type == "margin" else 1 / (1 + np.exp(-margin))

    def contributions(
        self,
        encoded: np.ndarray,
        approx: bool = False,  # noqa: ARG002 (the tree explainer's signature; exact here)
    ) -> np.ndarray:
        """Per-column log-odds contributions with the intercept as a trailing bias column
        (the layout of XGBoost's ``pred_contribs``); exact, so ``approx`` changes nothing."""
        terms = self._terms(encoded)
        return np.hstack([terms, np.full((len(terms), 1), self.intercept)])

    def num_features(self) -> int:
        return len(self.feature_names)

    def set_param(self, params: dict[str, Any]) -> None:
        """Threads and other booster settings mean nothing here (numpy, one pass)."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "family": FAMILY,
                "feature_names": self.feature_names,
                "medians": self.medians.tolist(),
                "means": self.means.tolist(),
                "scales": self.scales.tolist(),
                "coef": self.coef.tolist(),
                "intercept": self.intercept,
                "C": self.C,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> LogisticScorer:
        data = json.loads(text)
        arrays = (np.asarray(data[k], dtype=np.float64) for k in ("medians", "means", "scales"))
        return cls(
            data["feature_names"],
            *arrays,
            np.asarray(data["coef"], dtype=np.float64),
            float(data["intercept"]),
            float(data.get("C", 1.0)),
        )


def model_family(model: Any) -> str:
    """``logistic`` or ``xgboost``: what a LeadOps model's scorer is."""
    return FAMILY if isinstance(model, LogisticScorer) else "xgboost"
