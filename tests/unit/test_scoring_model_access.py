"""Serving models come from the configured registry, or the run stops with one clear line."""

from __future__ import annotations

import numpy as np
import pytest

from leadops.models import registry
from leadops.models.model_loader import ModelLoadError
from leadops.models.registry import NoChampionError
from leadops.settings import Settings, get_settings
from tasks.scoring.model_access import load_serving_set
from tests.support.models import register
from tests.support.scoring import artifact_folder, train_tiny, typed_week, write_crm


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory):
    """One registry for the module (MLflow's first start costs seconds): v1 champion, v2 canary."""
    table = typed_week(write_crm(tmp_path_factory.mktemp("crm")), 1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEADOPS_HOME", str(tmp_path_factory.mktemp("home")))
        get_settings.cache_clear()
        settings = get_settings()
        v1 = register(settings, *train_tiny(table, rounds=10, seed=0))
        v2 = register(
            settings,
            *train_tiny(table, rounds=12, depth=4, seed=1),
            alias="challenger",
            stage="canary",
            fraction=0.25,
            salt="v2-abc",
        )
        yield settings, table, v1, v2
    get_settings.cache_clear()


def test_no_champion_tells_the_user_to_train_first(registered) -> None:
    settings = Settings(home=registered[0].home, model_name="never-trained")
    with pytest.raises(NoChampionError) as info:
        load_serving_set(settings)
    assert (
        str(info.value)
        == "no champion model registered for never-trained: run `leadops train` first"
    )


def test_champion_and_canary_challenger_load_with_their_tags(registered) -> None:
    import mlflow

    settings, table, v1, v2 = registered
    serving = load_serving_set(settings)
    assert (serving.champion.version, serving.champion.role) == (v1, "champion")
    canary = serving.canary
    assert (canary.version, canary.stage, canary.fraction, canary.salt) == (
        v2,
        "canary",
        0.25,
        "v2-abc",
    )
    # What we serve is what MLflow's own loader predicts for the champion alias.
    frame = table.to_pandas().head(200)
    expected = mlflow.pyfunc.load_model(f"models:/{settings.model_name}@champion").predict(frame)
    np.testing.assert_allclose(serving.champion.predict(serving.champion.encode(frame)), expected)


def test_an_archived_challenger_is_neither_shadowed_nor_served(registered) -> None:
    settings, _, _, v2 = registered
    client = registry.registry_client(settings)
    registry.set_stage(client, settings.model_name, v2, "archived", 0.0, "test")
    try:
        assert load_serving_set(settings).challenger is None
    finally:
        registry.set_stage(client, settings.model_name, v2, "canary", 0.25, "test")


def test_a_corrupt_artifact_fails_with_one_line_and_serves_nothing(registered) -> None:
    settings, table, _, v2 = registered
    v3 = register(
        settings, *train_tiny(table, rounds=5, seed=2), alias="challenger", stage="shadow"
    )
    try:
        for booster_file in artifact_folder(settings, v3).rglob("booster.json"):
            booster_file.write_text("{not json")
        with pytest.raises(ModelLoadError) as info:
            load_serving_set(settings)
        message = str(info.value)
        assert message.startswith(
            f"model {settings.model_name} version {v3}: artifact missing or unreadable"
        )
        assert "\n" not in message
    finally:
        registry.move_alias(
            registry.registry_client(settings), settings.model_name, "challenger", v2
        )
