"""The logged deal-value model: raw silver lead rows in, E[deal amount | won] out.

``DealValueModel`` is a pyfunc model like ``LeadScoringModel``: the encoder (JSON), the
XGBoost booster (JSON) and how its output reads (``value.json``: a log-amount target or
an amount), so ``mlflow.pyfunc.load_model("models:/<name>-value@champion").predict(rows)``
returns amounts, and the score stage unwraps it for ``predict_value`` and ``explain``
(SHAP contributions in log amount, worded as the conversion reasons are).
"""

from __future__ import annotations

import json
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
import xgboost as xgb

from leadops.models.cutpoints import EXPECTED_VALUE_KEY
from tasks.features.encoder import FeatureEncoder
from tasks.features.reasons import VALUE_SCALE, reason_units, top_reasons
from tasks.training.model import check_numbers, input_signature
from tasks.training.value import ValueFit

BOOSTER_ARTIFACT, ENCODER_ARTIFACT, READING_ARTIFACT = "booster", "encoder", "value"
_REQUIREMENTS = ("xgboost-cpu", "pandas", "numpy", "mlflow")


class DealValueModel(mlflow.pyfunc.PythonModel):
    """Encoder + booster; ``on_log``: the booster predicts log amount (mean = exp(mu + s/2))."""

    def __init__(self) -> None:
        self.booster: xgb.Booster | None = None
        self.encoder: FeatureEncoder | None = None
        self.on_log = False
        self.log_spread = 0.0
        self.revenue_scale = 1.0  # ValueFit.revenue_scale; versions logged before it: 1

    @classmethod
    def from_fit(cls, fit: ValueFit, encoder: FeatureEncoder) -> DealValueModel:
        model = cls()
        model.booster, model.encoder = fit.model.get_booster(), encoder
        model.on_log, model.log_spread = fit.on_log, fit.log_spread
        model.revenue_scale = fit.revenue_scale
        return model

    def load_context(self, context: Any) -> None:
        self.encoder = FeatureEncoder.from_json(
            Path(context.artifacts[ENCODER_ARTIFACT]).read_text()
        )
        self.booster = xgb.Booster()
        self.booster.load_model(context.artifacts[BOOSTER_ARTIFACT])
        reading = json.loads(Path(context.artifacts[READING_ARTIFACT]).read_text())
        self.on_log, self.log_spread = bool(reading["on_log"]), float(reading["log_spread"])
        self.revenue_scale = float(reading.get("revenue_scale", 1.0))

    def predict(
        self,
        context: Any,  # noqa: ARG002 (mlflow pyfunc signature)
        model_input: pd.DataFrame,
        params: dict | None = None,  # noqa: ARG002 (mlflow pyfunc signature)
    ) -> np.ndarray:
        """E[deal amount | won] per row (1-D float array)."""
        frame = pd.DataFrame(model_input)
        check_numbers(frame, self.encoder.spec["numeric"])
        return self.predict_value(frame)

    def predict_value(self, frame: pd.DataFrame) -> np.ndarray:
        """Amounts for raw lead rows, skipping MLflow's per-row schema checks."""
        raw = np.asarray(self.booster.inplace_predict(self.encoder.transform(frame)), np.float64)
        mean = np.exp(raw + self.log_spread / 2) if self.on_log else raw
        return self.revenue_scale * mean

    def explain(self, frame: pd.DataFrame, top_k: int = 3, approx: bool = False) -> pd.DataFrame:
        """The ``top_k`` value reasons per row, e.g. "company size = 5,000: raises the deal
        value clearly (+0.41 log value)"; columns ``value_reason_1`` ..."""
        encoded = self.encoder.transform(frame)
        contribs = self.booster.predict(
            xgb.DMatrix(encoded), pred_contribs=True, approx_contribs=approx
        )
        reasons = top_reasons(contribs, encoded, reason_units(self.encoder), top_k, VALUE_SCALE)
        reasons.columns = [f"value_{name}" for name in reasons.columns]
        reasons.index = frame.index
        return reasons


def log_value_model(
    run_id: str, model: DealValueModel, contract: Any, example: pd.DataFrame, cutpoints: list
) -> Any:
    """Log the value model in the training's run (MLflow already points at the store)."""
    with tempfile.TemporaryDirectory() as folder, mlflow.start_run(run_id=run_id):
        root = Path(folder)
        model.booster.save_model(root / "value_booster.json")
        (root / "encoder.json").write_text(model.encoder.to_json())
        reading = {
            "on_log": model.on_log,
            "log_spread": model.log_spread,
            "revenue_scale": model.revenue_scale,
        }
        (root / "value.json").write_text(json.dumps(reading))
        return mlflow.pyfunc.log_model(
            name="value_model",
            python_model=DealValueModel(),
            artifacts={
                BOOSTER_ARTIFACT: str(root / "value_booster.json"),
                ENCODER_ARTIFACT: str(root / "encoder.json"),
                READING_ARTIFACT: str(root / "value.json"),
            },
            signature=input_signature(contract),
            input_example=example,
            pip_requirements=[f"{p}=={metadata.version(p)}" for p in _REQUIREMENTS],
            metadata={"contract": contract.name, EXPECTED_VALUE_KEY: cutpoints},
        )
