"""The logged model: raw silver lead rows in, conversion probability out.

``LeadScoringModel`` is an ``mlflow.pyfunc.PythonModel`` carrying two small
artifacts, the scorer (XGBoost JSON, or the logistic family's JSON) and the encoder
(JSON), and a third when the version was recalibrated (``leadops.models.calibrator``, JSON:
applied to the scorer's log-odds, so SHAP reasons stay in the scorer's log-odds), so

    mlflow.pyfunc.load_model("models:/<name>@champion").predict(silver_rows)

returns probabilities, and the score stage gets the parts it needs through
``load_model(...).unwrap_python_model()``: ``predict_proba`` (no MLflow schema
enforcement, for large batches), ``explain``, ``booster`` and ``encoder``.
Loading reads two JSON files and imports no plotting or SHAP library.

The scorer is the chosen model family: an XGBoost booster (``booster.json``) or the
regularised logistic model (``logistic.json``, ``tasks.features.linear``). Both answer
``inplace_predict`` and give log-odds contributions (TreeSHAP; coef x standardised
deviation from the training mean), so ``booster`` keeps its name and every caller works.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
import xgboost as xgb

from leadops.models.calibrator import Calibrator, probabilities
from tasks.features.encoder import FeatureEncoder
from tasks.features.linear import LogisticScorer
from tasks.features.reasons import reason_units, top_reasons

BOOSTER_ARTIFACT = "booster"
ENCODER_ARTIFACT = "encoder"
CALIBRATOR_ARTIFACT = "calibrator"
LOGISTIC_FILE = "logistic.json"  # the booster artifact's name when the family is logistic


class LeadScoringModel(mlflow.pyfunc.PythonModel):
    """Encoder + scorer (``booster``); every method takes raw lead rows (a DataFrame)."""

    def __init__(self) -> None:
        self.booster: xgb.Booster | LogisticScorer | None = None
        self.encoder: FeatureEncoder | None = None
        self.calibrator: Calibrator | None = None  # None: the booster's own probabilities

    @classmethod
    def from_parts(
        cls,
        booster: xgb.Booster | LogisticScorer,
        encoder: FeatureEncoder,
        calibrator: Calibrator | None = None,
    ) -> LeadScoringModel:
        """A ready model without a save/load round trip (training, tests)."""
        model = cls()
        model.booster, model.encoder, model.calibrator = booster, encoder, calibrator
        return model

    def load_context(self, context: Any) -> None:
        self.encoder = FeatureEncoder.from_json(
            Path(context.artifacts[ENCODER_ARTIFACT]).read_text()
        )
        self.booster = load_scorer(Path(context.artifacts[BOOSTER_ARTIFACT]))
        if CALIBRATOR_ARTIFACT in context.artifacts:
            path = Path(context.artifacts[CALIBRATOR_ARTIFACT])
            self.calibrator = Calibrator.from_json(path.read_text())

    # A DataFrame hint is one MLflow infers no schema from: the signature (built from
    # the contract) stays the only input check, and MLflow's "add type hints" nag stays quiet.
    def predict(
        self,
        context: Any,  # noqa: ARG002 (mlflow pyfunc signature)
        model_input: pd.DataFrame,
        params: dict | None = None,  # noqa: ARG002 (mlflow pyfunc signature)
    ) -> np.ndarray:
        """Conversion probability per row (1-D float array).

        Raises:
            ValueError: a numeric column holds a value that is not a number (the
                signature types numeric columns loosely, so the check is made here).
        """
        frame = pd.DataFrame(model_input)
        check_numbers(frame, self.encoder.spec["numeric"])
        return self.predict_proba(frame)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Probabilities for raw lead rows, skipping MLflow's per-row schema checks."""
        return probabilities(self.booster, self.encoder.transform(frame), self.calibrator)

    def contributions(
        self, frame: pd.DataFrame, approx: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """(encoded rows, SHAP contributions in log-odds incl. a trailing bias column).

        ``approx=True`` uses XGBoost's approximate contributions (~100x faster).
        """
        encoded = self.encoder.transform(frame)
        return encoded, encoded_contributions(self.booster, self.encoder, encoded, approx)

    def explain(self, frame: pd.DataFrame, top_k: int = 3, approx: bool = False) -> pd.DataFrame:
        """The ``top_k`` reasons per row, e.g. "uses Salesforce (+0.12)" (log-odds)."""
        encoded, contribs = self.contributions(frame, approx=approx)
        reasons = top_reasons(contribs, encoded, reason_units(self.encoder), top_k)
        reasons.index = frame.index
        return reasons


def load_scorer(path: Path) -> xgb.Booster | LogisticScorer:
    """The saved scorer: the logistic model by its file name, else an XGBoost booster."""
    if path.name == LOGISTIC_FILE:
        return LogisticScorer.from_json(path.read_text())
    booster = xgb.Booster()
    booster.load_model(path)
    return booster


def encoded_contributions(
    booster: xgb.Booster | LogisticScorer,
    encoder: FeatureEncoder,
    encoded: np.ndarray,
    approx: bool = False,
) -> np.ndarray:
    """Log-odds contributions of encoded rows, a trailing bias column, for either family."""
    if isinstance(booster, LogisticScorer):
        return booster.contributions(encoded)
    data = xgb.DMatrix(encoded, feature_names=encoder.feature_names)
    return booster.predict(data, pred_contribs=True, approx_contribs=approx)


def check_numbers(frame: pd.DataFrame, columns: list[str]) -> None:
    """Refuse numeric columns holding text that is not a number ("abc"); ints and floats pass.

    Raises:
        ValueError: one line naming the column, the count and an example value.
    """
    for name in columns:
        if name not in frame.columns or frame[name].dtype.kind in "iufb":
            continue
        values = frame[name]
        bad = values.notna() & pd.to_numeric(values, errors="coerce").isna()
        if bad.any():
            raise ValueError(
                f"column {name}: {int(bad.sum())} value(s) not a number, "
                f"e.g. {values[bad].iloc[0]!r}"
            )


def save_parts(
    booster: xgb.Booster | LogisticScorer,
    encoder: FeatureEncoder,
    folder: Path,
    calibrator: Calibrator | None = None,
) -> dict[str, str]:
    """Write the artifacts; returns the ``artifacts`` mapping for ``log_model``."""
    folder.mkdir(parents=True, exist_ok=True)
    encoder_path = folder / "encoder.json"
    if isinstance(booster, LogisticScorer):
        booster_path = folder / LOGISTIC_FILE
        booster_path.write_text(booster.to_json())
    else:
        booster_path = folder / "booster.json"
        booster.save_model(booster_path)
    encoder_path.write_text(encoder.to_json())
    artifacts = {BOOSTER_ARTIFACT: str(booster_path), ENCODER_ARTIFACT: str(encoder_path)}
    if calibrator is not None:
        calibrator_path = folder / "calibrator.json"
        calibrator_path.write_text(calibrator.to_json())
        artifacts[CALIBRATOR_ARTIFACT] = str(calibrator_path)
    return artifacts


def input_signature(contract: Any) -> Any:
    """The model signature from the contract: raw lead columns in, one probability out.

    Columns the contract marks required stay required; the rest are optional, so
    rows from a CRM export that lacks a column still score (the encoder fills it).
    """
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, DataType, Schema
    from mlflow.types.schema import AnyType

    # Numeric and multi-valued columns are typed loosely (AnyType): MLflow refuses to cast
    # int64 to double ("Can not safely convert"), so a frame read from a CSV or from JSON
    # records with whole numbers would be refused; ``predict`` checks the numbers itself.
    # A multi-valued column arrives as a list (silver, JSON) or a "a|b" string (CSV).
    types = {
        "numeric": AnyType(),
        "boolean": DataType.boolean,
        "categorical": DataType.string,
        "email": DataType.string,
        "text": DataType.string,
    }
    required = set(contract.required_lead_columns)
    specs = [
        ColSpec(DataType.string, contract.entity_id, required=False),
        # AnyType, not datetime: MLflow's datetime type refuses the tz-aware UTC
        # timestamps silver holds; the encoder parses any timestamp form itself.
        ColSpec(AnyType(), contract.event_time, required=contract.event_time in required),
    ]
    for column in contract.features:
        kind = AnyType() if column.role == "multi_valued" else types[column.role]
        specs.append(ColSpec(kind, column.name, required=column.name in required))
    return ModelSignature(inputs=Schema(specs), outputs=Schema([ColSpec(DataType.double)]))
