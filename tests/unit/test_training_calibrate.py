"""Recalibration: the fitted calibrator, and calibrated probabilities wherever a version serves."""

from __future__ import annotations

import mlflow.pyfunc
import numpy as np
import pytest

from leadops.inputs.contract import load_contract
from leadops.inputs.maturity import label_matured
from leadops.models.calibrator import ISOTONIC, PLATT, Calibrator
from leadops.settings import Settings
from leadops.storage.local import LocalLake
from tasks.scoring.model_access import load_version
from tasks.training import dataset as D
from tasks.training import tracking
from tasks.training.calibrate import fit_calibrator
from tests.support.gold import as_of_after, small_model, write_gold


def drifted_funnel(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds of a model trained at ~4% conversion, on leads that now convert ~10x more."""
    rng = np.random.default_rng(seed)
    margin = rng.normal(-3.2, 1.0, n)
    truth = 1 / (1 + np.exp(-(margin + 2.6)))  # same ranking, a level shift of log-odds
    return margin, (rng.random(n) < truth).astype(int)


def test_platt_brings_served_probabilities_to_the_observed_rate() -> None:
    margin, labels = drifted_funnel(1500)
    before = 1 / (1 + np.exp(-margin))
    fitted = fit_calibrator(margin, labels, isotonic_min_each=1000)
    after = fitted.apply(margin)
    assert fitted.method == PLATT and "Platt" in fitted.fitted_on["why"]
    assert before.mean() < 0.1 < labels.mean()  # the miss the monitor saw
    assert abs(after.mean() - labels.mean()) < 0.01
    assert (np.argsort(after, kind="stable") == np.argsort(margin, kind="stable")).all()
    assert Calibrator.from_json(fitted.to_json()) == fitted


def test_isotonic_only_with_enough_leads_in_each_class() -> None:
    margin, labels = drifted_funnel(20_000, seed=1)
    fitted = fit_calibrator(margin, labels, isotonic_min_each=1000)
    assert fitted.method == ISOTONIC and fitted.fitted_on["leads"] == 20_000
    assert abs(fitted.apply(margin).mean() - labels.mean()) < 0.005
    with pytest.raises(ValueError, match="2,000 matured leads with 0 conversions"):
        fit_calibrator(margin[:2000], np.zeros(2000), 1000)


@pytest.fixture(scope="module")
def recalibrated(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("calibrated-home")
    settings = Settings(home=home)
    contract = load_contract(settings.contract_path)
    frame = write_gold(LocalLake(home / "lake"), weeks=4, leads_per_week=200)
    rows = label_matured(frame, contract, as_of_after(frame, contract))
    booster, encoder = small_model(rows, contract, D.LABEL)
    calibrator = Calibrator(PLATT, slope=0.5, intercept=1.0)
    run_id = tracking.start_run(settings, "miscalibration", {})
    info = tracking.log_model(
        settings, run_id, booster, encoder, contract, None, calibrator=calibrator
    )
    leads = rows[contract.lead_columns].head(100)
    margin = booster.inplace_predict(encoder.transform(leads), predict_type="margin")
    return {
        "info": info,
        "leads": leads,
        "expected": calibrator.apply(margin),
        "settings": settings,
    }


def test_the_logged_model_serves_calibrated_probabilities(recalibrated: dict) -> None:
    model = mlflow.pyfunc.load_model(recalibrated["info"].model_uri)
    served = np.asarray(model.predict(recalibrated["leads"]))
    np.testing.assert_allclose(served, recalibrated["expected"], rtol=1e-9)
    python_model = model.unwrap_python_model()
    np.testing.assert_allclose(
        python_model.predict_proba(recalibrated["leads"]), recalibrated["expected"], rtol=1e-9
    )
    # SHAP reasons stay in the booster's log-odds: they still sum to its raw margin.
    _, contribs = python_model.contributions(recalibrated["leads"])
    margin = python_model.booster.inplace_predict(
        python_model.encoder.transform(recalibrated["leads"]), predict_type="margin"
    )
    np.testing.assert_allclose(contribs.sum(axis=1), margin, rtol=1e-4, atol=1e-4)


def test_batch_scoring_loads_the_calibrator_with_the_version(recalibrated: dict) -> None:
    settings = recalibrated["settings"]
    version = mlflow.register_model(recalibrated["info"].model_uri, settings.model_name)
    serving = load_version(settings, version, "champion", "production")
    served = serving.predict(serving.encode(recalibrated["leads"]))
    np.testing.assert_allclose(served, recalibrated["expected"], rtol=1e-9)


@pytest.fixture(scope="module")
def training_set(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    lake = LocalLake(tmp_path_factory.mktemp("recalibration") / "lake")
    contract = load_contract(Settings().contract_path)
    frame = write_gold(lake, weeks=10, leads_per_week=400)
    training = D.build_training_set(lake, contract, as_of_after(frame, contract), 14)
    booster, encoder = small_model(training.dev, contract, D.LABEL)
    return training, contract, booster, encoder


def test_a_champion_serving_a_tenth_of_the_rate_is_recalibrated_into_a_challenger(
    training_set,
) -> None:
    from tasks.training.recalibration import recalibrate

    training, contract, booster, encoder = training_set
    # Served as the real champion was: log-odds shifted down, ~10x lower probabilities.
    served = Calibrator(PLATT, slope=1.0, intercept=-2.5)
    result = recalibrate(booster, encoder, served, training, contract, Settings())
    assert result.gate.decision == "challenger", result.gate.reason
    assert result.metrics["brier"] < result.champion_metrics["brier"]
    assert result.metrics["roc_auc"] == pytest.approx(result.champion_metrics["roc_auc"])
    assert abs(result.test_scores.mean() - result.test_labels.mean()) < 0.03
    assert result.champion_scores.mean() < result.test_labels.mean() / 3
    assert "better calibrated" in result.gate.reason and "Brier" in result.gate.reason


def test_an_already_calibrated_champion_is_not_replaced_by_a_recalibration(training_set) -> None:
    from tasks.training.recalibration import recalibrate

    training, contract, booster, encoder = training_set
    refit = recalibrate(booster, encoder, None, training, contract, Settings())
    again = recalibrate(booster, encoder, refit.calibrator, training, contract, Settings())
    assert again.gate.decision == "rejected"
    assert again.gate.reason.startswith("Brier not significantly lower")
