"""The best model family is registered, and the logistic one scores and explains like a booster."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import mlflow.pyfunc
import numpy as np
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from leadops.inputs.contract import load_contract
from leadops.models.model_state import Stage
from leadops.settings import Settings
from leadops.storage.local import LocalLake
from tasks.features.linear import LogisticScorer
from tasks.scoring.scorer import ServingModel
from tasks.training import dataset as D
from tasks.training import pipeline, tracking
from tasks.training.family import choose_family
from tasks.training.model import LeadScoringModel
from tasks.training.search import SearchConfig
from tests.support.gold import as_of_after, write_gold


def _linear_data(n: int = 1500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)) * [1, 10, 100, 0.1]
    x[rng.random((n, 4)) < 0.05] = np.nan  # missing numbers, as the encoder leaves them
    logit = -1.5 + np.nan_to_num(x) @ [0.8, -0.05, 0.004, 3.0]
    return x, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


def test_logistic_scorer_is_the_old_baseline_and_its_reasons_sum_to_its_log_odds() -> None:
    x, y = _linear_data()
    scorer = LogisticScorer.fit(x[:1000], y[:1000], list("abcd"), seed=3)
    sklearn = make_pipeline(
        SimpleImputer(strategy="median", keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(max_iter=2000, random_state=3),
    ).fit(x[:1000], y[:1000])
    probs = scorer.inplace_predict(x[1000:])
    assert probs == pytest.approx(sklearn.predict_proba(x[1000:])[:, 1], abs=1e-9)
    contributions = scorer.contributions(x[1000:])
    assert contributions.shape == (500, 5)
    assert contributions.sum(axis=1) == pytest.approx(np.log(probs / (1 - probs)), abs=1e-9)
    again = LogisticScorer.from_json(scorer.to_json())
    assert again.inplace_predict(x[1000:]) == pytest.approx(probs, abs=1e-12)


def test_the_family_with_the_better_cv_auc_is_chosen_the_logistic_one_on_a_tie() -> None:
    x, y = _linear_data()
    folds = [(np.arange(0, 500), np.arange(500, 1000)), (np.arange(0, 1000), np.arange(1000, 1500))]
    logistic = choose_family(x, y, folds, list("abcd"), 0.5, 0).cv_auc["logistic"]
    assert logistic > 0.7
    assert choose_family(x, y, folds, list("abcd"), logistic - 0.01, 0).family == "logistic"
    assert choose_family(x, y, folds, list("abcd"), logistic, 0).family == "logistic"
    assert choose_family(x, y, folds, list("abcd"), logistic + 0.01, 0).family == "xgboost"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A real search on synthetic gold, then the logistic family fitted and logged."""
    home = tmp_path_factory.mktemp("family-home")
    settings = Settings(home=home)
    contract = load_contract(settings.contract_path)
    lake = LocalLake(home / "lake")
    frame = write_gold(lake, weeks=8, leads_per_week=300)
    training = D.build_training_set(lake, contract, as_of_after(frame, contract), 14)
    config = SearchConfig("family-test", f"journal:{home}/optuna.log", seed=0, trials=2)
    outcome = pipeline.search_candidate(training, contract, config, 20, 3)
    as_logistic = SimpleNamespace(
        **{
            **vars(outcome),
            "family": SimpleNamespace(family="logistic", cv_auc=outcome.family.cv_auc),
        }
    )
    candidate = pipeline.fit_candidate(training, as_logistic, 0, 0.1)
    run_id = tracking.start_run(settings, "manual", {})
    rows = training.test[contract.lead_columns]
    info = tracking.log_model(
        settings, run_id, candidate.booster, candidate.encoder, contract, rows.head(3)
    )
    return SimpleNamespace(outcome=outcome, candidate=candidate, info=info, rows=rows)


def test_search_reports_both_families_on_the_same_folds(trained: SimpleNamespace) -> None:
    family = trained.outcome.family
    assert set(family.cv_auc) == {"xgboost", "logistic"}
    assert family.cv_auc["xgboost"] == trained.outcome.search.best_value
    best = max(family.cv_auc, key=lambda name: (family.cv_auc[name], name == "logistic"))
    assert family.family == best


def test_a_logistic_win_registers_the_logistic_model_not_the_booster(
    trained: SimpleNamespace,
) -> None:
    """Old pipeline: the registered model was always the XGBoost booster; the logistic model
    that beat it was only a baseline."""
    candidate = trained.candidate
    assert isinstance(candidate.booster, LogisticScorer)
    # The registered model is the baseline itself, so the gate's baseline check holds.
    assert candidate.test_scores == pytest.approx(candidate.baseline_scores)
    assert candidate.metrics["roc_auc"] == candidate.baseline_metrics["roc_auc"]


def test_logged_logistic_model_scores_raw_rows_and_explains_them(
    trained: SimpleNamespace, tmp_path: Path
) -> None:
    pyfunc = mlflow.pyfunc.load_model(trained.info.model_uri)
    scores = np.asarray(pyfunc.predict(trained.rows))
    assert scores == pytest.approx(trained.candidate.test_scores, abs=1e-9)
    model = pyfunc.unwrap_python_model()
    assert isinstance(model, LeadScoringModel) and isinstance(model.booster, LogisticScorer)
    reasons = model.explain(trained.rows.head(20))
    assert len(reasons) == 20 and reasons.notna().all().all()
    # Batch scoring and the API hold it as a ServingModel: same scores, same contributions.
    serving = ServingModel("m", "1", "champion", Stage.PRODUCTION, model.booster, model.encoder)
    encoded = serving.encode(trained.rows.head(20))
    assert serving.predict(encoded) == pytest.approx(scores[:20], abs=1e-9)
    _, contributions = model.contributions(trained.rows.head(20))
    assert serving.contributions(encoded) == pytest.approx(contributions)
    assert serving.booster.num_features() == len(model.encoder.feature_names)
