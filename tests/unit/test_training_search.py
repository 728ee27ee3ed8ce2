"""The Optuna search: shared journal storage, seeded, pruned, split across workers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import optuna
import pytest

from leadops.settings import Settings
from tasks.training import search as S


def _config(tmp_path: Path, name: str, **kwargs: object) -> S.SearchConfig:
    defaults = {"trials": 4, "max_rounds": 80, "seed": 7}
    return S.SearchConfig(
        study_name=name,
        storage_uri=f"journal:{tmp_path / 'optuna' / 'journal.log'}",
        **{**defaults, **kwargs},
    )


def test_search_records_every_trial_in_the_shared_study(tmp_path: Path, search_data: tuple) -> None:
    features, labels, folds = search_data
    result = S.run_search(features, labels, folds, _config(tmp_path, "run-a"))
    assert len(result.trials) == 4 and sum(result.counts.values()) == 4
    assert {
        "number",
        "state",
        "value",
        "duration_s",
        "rounds",
        "params_eta",
        "params_max_depth",
    } <= set(result.trials)
    assert 0.7 < result.best_value <= 1.0 and 1 <= result.best_rounds <= 80
    stored = optuna.load_study(
        study_name="run-a", storage=S.open_storage(_config(tmp_path, "x").storage_uri)
    )
    assert len(stored.trials) == 4 and stored.best_value == result.best_value


def test_same_seed_and_data_give_the_same_search_under_another_study_name(
    tmp_path: Path, search_data: tuple
) -> None:
    features, labels, folds = search_data
    first = S.run_search(features, labels, folds, _config(tmp_path, "run-1"))
    second = S.run_search(features, labels, folds, _config(tmp_path, "run-2"))
    assert first.best_params == second.best_params and first.best_value == second.best_value
    assert first.trials["state"].tolist() == second.trials["state"].tolist()


def test_hyperband_bracket_depends_on_seed_not_study_name() -> None:
    pruner = S.SeededHyperbandPruner(seed=1, min_resource=10, max_resource=400, reduction_factor=3)
    pruner._try_initialization(optuna.create_study())
    trial = optuna.trial.create_trial(value=0.5)
    brackets = {
        pruner._get_bracket_id(optuna.create_study(study_name=name), trial) for name in "abcdef"
    }
    assert len(brackets) == 1


@pytest.mark.slow
def test_hyperband_prunes_unpromising_trials(tmp_path: Path, search_data: tuple) -> None:
    features, labels, folds = search_data
    result = S.run_search(
        features, labels, folds, _config(tmp_path, "pruned", trials=14, max_rounds=90)
    )
    assert result.counts["PRUNED"] > 0
    pruned = result.trials[result.trials["state"] == "PRUNED"]
    assert (pruned["rounds"] < 90).all()


@pytest.mark.slow
def test_workers_share_one_study_and_split_the_trials(tmp_path: Path, search_data: tuple) -> None:
    features, labels, folds = search_data
    result = S.run_search(
        features, labels, folds, _config(tmp_path, "parallel", trials=5, workers=2)
    )
    assert len(result.trials) == 5 and sorted(result.trials["number"]) == [0, 1, 2, 3, 4]


def test_trials_are_shared_fairly_between_workers() -> None:
    assert S._shares(5, 2) == [3, 2]
    assert S._shares(1, 3) == [1, 0, 0]
    assert S._shares(None, 2) == [None, None]


def test_budget_only_timeout_means_as_many_trials_as_fit() -> None:
    assert S.search_budget(20, None, None, None) == (20, None)
    assert S.search_budget(20, 600.0, None, 60.0) == (None, 60.0)
    assert S.search_budget(20, 600.0, 5, None) == (5, 600.0)


def test_search_config_takes_the_run_options_over_the_settings(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, trials=20, train_timeout_seconds=600, seed=5)
    started = datetime(2026, 3, 9, 6, 30, tzinfo=UTC)
    config = S.search_config_from(
        settings, trials=None, timeout_seconds=None, workers=2, started=started
    )
    assert (config.trials, config.timeout_seconds, config.workers) == (20, 600, 2)
    assert (config.seed, config.runner) == (5, "process")
    assert config.storage_uri == settings.optuna_storage_uri
    assert config.study_name.startswith(f"{settings.model_name}-20260309-063000-")
    only_timeout = S.search_config_from(settings, timeout_seconds=60, started=started)
    assert (only_timeout.trials, only_timeout.timeout_seconds) == (None, 60)
    # Two runs started in the same second never share a study.
    assert only_timeout.study_name != config.study_name


def test_search_config_on_dask_gives_each_cluster_worker_a_share(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path, task_runner="dask", dask_workers=3, dask_address="tcp://127.0.0.1:8786"
    )
    config = S.search_config_from(settings, trials=6, workers=1)
    assert (config.runner, config.workers) == ("dask", 3)
    assert config.dask_address == "tcp://127.0.0.1:8786"
    assert S.search_config_from(settings, trials=6, workers=5).workers == 5


def test_a_study_without_a_completed_trial_is_one_clear_error(tmp_path: Path) -> None:
    study = optuna.create_study(study_name="empty", direction="maximize")
    with pytest.raises(S.SearchError, match="optuna study empty: no trial completed"):
        S.summarise(study)


def test_final_booster_carries_the_feature_names(search_data: tuple) -> None:
    features, labels, _ = search_data
    names = [f"f{i}" for i in range(features.shape[1])]
    booster = S.fit_booster(
        features, labels, {"eta": 0.1, "max_depth": 3}, 20, seed=1, feature_names=names
    )
    assert booster.feature_names == names and booster.num_boosted_rounds() == 20
