"""Registry helpers and the gate applied for real: aliases, stage tags, history."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow import MlflowClient

from leadops.decisions.metrics import score_metrics
from leadops.inputs.contract import load_contract
from leadops.models import registry
from leadops.models.model_state import (
    PAUSED_TAG,
    PREVIOUS_CHAMPION_TAG,
    SALT_TAG,
    STAGE_SINCE_TAG,
    RegistryTagError,
    Stage,
    VersionState,
    stage_tags,
)
from leadops.settings import Settings
from leadops.storage.local import LocalLake
from tasks.training import dataset as D
from tasks.training import tracking
from tasks.training.promotion import register_and_gate
from tests.support.gold import as_of_after, small_model, write_gold


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("registry-home")
    settings = Settings(home=home, gate_bootstrap_samples=1000)
    contract = load_contract(settings.contract_path)
    lake = LocalLake(home / "lake")
    frame = write_gold(lake, weeks=8, leads_per_week=250)
    training = D.build_training_set(
        lake, contract, as_of_after(frame, contract), test_window_days=14
    )
    tracking.configure_mlflow(settings)
    return {
        "settings": settings,
        "contract": contract,
        "lake": lake,
        "training": training,
        "client": registry.registry_client(settings),
    }


def _gate(world: dict, shuffle_labels: bool, seed: int, rounds: int = 40) -> tuple:
    settings, contract, training = world["settings"], world["contract"], world["training"]
    booster, encoder = small_model(
        training.dev, contract, D.LABEL, shuffle_labels=shuffle_labels, seed=seed, rounds=rounds
    )
    test = training.test[contract.lead_columns]
    scores = booster.inplace_predict(encoder.transform(test))
    labels = training.test[D.LABEL].to_numpy()
    metrics = score_metrics(labels, scores, settings.capacity_fraction)
    run_id = tracking.start_run(settings, "manual", {})
    info = tracking.log_model(settings, run_id, booster, encoder, contract, test.head(2))
    outcome = register_and_gate(
        settings, world["lake"], info, run_id, test, labels, scores, metrics, 0.02
    )
    return outcome, metrics


def test_first_model_then_better_then_worse(world: dict) -> None:
    client: MlflowClient = world["client"]
    name = world["settings"].model_name
    assert registry.get_champion(client, name) is None

    first, weak_metrics = _gate(world, shuffle_labels=True, seed=1)  # a poor model, but the first
    assert first.gate.decision == "champion" and first.champion_metrics is None
    assert str(registry.get_champion(client, name).version) == first.version

    better, _ = _gate(world, shuffle_labels=False, seed=2)
    assert better.gate.decision == "challenger", better.gate.reason
    assert better.champion_version == first.version
    assert better.champion_metrics["roc_auc"] == pytest.approx(
        weak_metrics["roc_auc"]
    )  # same test rows
    assert better.auc_diff_ci["low"] > 0
    assert str(registry.get_challenger(client, name).version) == better.version
    assert str(registry.get_champion(client, name).version) == first.version  # champion untouched

    worse, _ = _gate(world, shuffle_labels=True, seed=1)  # the same weak model again: no gain
    assert worse.gate.decision == "rejected"
    assert "below the required +2.0%" in worse.gate.reason
    assert str(registry.get_challenger(client, name).version) == better.version

    rows = {row["version"]: row for row in registry.history(client, name)}
    assert [r["version"] for r in registry.history(client, name)] == [3, 2, 1]
    assert (rows[1]["stage"], rows[1]["fraction"], rows[1]["aliases"]) == (
        "production",
        1.0,
        ["champion"],
    )
    assert (rows[2]["stage"], rows[2]["fraction"], rows[2]["aliases"]) == (
        "shadow",
        0.0,
        ["challenger"],
    )
    assert rows[3]["stage"] == "archived" and "below the required" in rows[3]["reason"]
    assert all(r["decided_at"] and r["metrics"]["roc_auc"] > 0 for r in rows.values())
    assert (
        rows[2]["metrics"]["gate_precision_diff_ci_low"]
        < rows[2]["metrics"]["gate_precision_diff_ci_high"]
    )

    # A manual retrain must also beat the challenger already in rollout (old rule: only the
    # champion, so each weekly model restarted the rollout).
    rival, _ = _gate(world, shuffle_labels=False, seed=2)  # as good as challenger v2, no better
    assert rival.gate.decision == "rejected" and rival.rival_version == better.version
    assert f"does not beat challenger v{better.version} already in rollout" in rival.gate.reason
    assert str(registry.get_challenger(client, name).version) == better.version


def test_a_gate_killed_between_its_registry_writes_is_finished_by_the_next_one(
    world: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Old code: tags and aliases written one by one, none journaled."""
    from leadops.models import events, transitions

    client, name = world["client"], world["settings"].model_name
    sent: list[tuple] = []
    monkeypatch.setattr(events, "gate_decided", lambda *args, **kw: sent.append(args))
    real, calls = MlflowClient.set_model_version_tag, []

    def dies_on_third(self, *args, **kwargs):
        calls.append(args)
        if len(calls) == 3:
            raise KeyboardInterrupt("killed")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(MlflowClient, "set_model_version_tag", dies_on_third)
    with pytest.raises(KeyboardInterrupt):
        _gate(world, shuffle_labels=True, seed=5)
    monkeypatch.setattr(MlflowClient, "set_model_version_tag", real)
    left = transitions.pending(world["lake"])
    assert left is not None and sent == []  # no event for a decision not yet committed
    killed = left["version"]
    assert client.get_model_version(name, killed).tags.get("stage") is None
    transitions.finish_interrupted(client, world["lake"])
    assert client.get_model_version(name, killed).tags["stage"] == "archived"
    _gate(world, shuffle_labels=True, seed=6)
    assert [args[1] for args in sent] == [str(int(killed) + 1)] and sent[0][2] == "rejected"


def test_set_stage_and_move_alias(world: dict) -> None:
    client, name = world["client"], "stage-helpers"
    client.create_registered_model(name)
    run_id = tracking.start_run(world["settings"], "manual", {})
    for _ in range(2):
        client.create_model_version(name, f"runs:/{run_id}/none", run_id=run_id)
    registry.set_stage(client, name, 1, "canary", 0.1, "canary step 1", {"roc_auc": 0.8})
    registry.move_alias(client, name, registry.CHALLENGER, 1)
    registry.move_alias(client, name, registry.CHALLENGER, 2)
    tags = client.get_model_version(name, "1").tags
    assert (tags["stage"], tags["fraction"], tags["reason"]) == ("canary", "0.1", "canary step 1")
    state = VersionState.from_version(client.get_model_version(name, "1"))
    assert (state.version, state.stage, state.fraction) == ("1", Stage.CANARY, 0.1)
    assert state.run_id == run_id
    assert state.metrics == {"roc_auc": 0.8} and state.decided_at
    assert str(registry.get_challenger(client, name).version) == "2"
    with pytest.raises(ValueError, match="stage 'live'"):
        registry.set_stage(client, name, 1, "live", 1.0, "nope")


def test_unknown_model_has_no_champion_or_history(world: dict) -> None:
    assert registry.get_champion(world["client"], "never-registered") is None
    assert registry.history(world["client"], "never-registered") == []


def test_promotions_wait_for_the_registry_lock(world: dict, tmp_path: Path) -> None:
    from leadops.storage.journal import LockTimeout, lake_lock

    lake = LocalLake(tmp_path / "lake")
    with (
        registry.promotion_lock(lake),
        pytest.raises(LockTimeout),
        lake_lock(lake, "registry", timeout=0.3),
    ):
        pass


def test_an_unreachable_tracking_server_fails_fast_in_one_line(settings, monkeypatch) -> None:
    import time as clock

    from app.servers.servers import free_port
    from leadops.models import registry
    from leadops.models.registry import TrackingUnavailable, ensure_reachable

    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setattr(registry, "_REACHABLE", set())
    started = clock.monotonic()
    with pytest.raises(TrackingUnavailable) as caught:
        ensure_reachable(uri, attempts=2, timeout=1)
    message = str(caught.value)
    assert (
        message.startswith(f"MLflow tracking server {uri}: unreachable (") and "\n" not in message
    )
    assert "nothing was trained, registered or scored" in message
    assert clock.monotonic() - started < 10


def test_a_version_state_reads_back_every_tag_the_rollout_writes() -> None:
    tags = {
        **stage_tags(Stage.CANARY, 0.25, "canary step 2", {"challenger_auc": 0.71}),
        STAGE_SINCE_TAG: "2026-03-09T00:00:00+00:00",
        SALT_TAG: "v3-ab12",
        PAUSED_TAG: "true",
        PREVIOUS_CHAMPION_TAG: "2",
    }
    state = VersionState.from_tags("scorer", "3", tags, run_id="r1")
    assert state == VersionState(
        version="3",
        stage=Stage.CANARY,
        fraction=0.25,
        reason="canary step 2",
        since="2026-03-09T00:00:00+00:00",
        salt="v3-ab12",
        paused=True,
        previous_champion="2",
        metrics={"challenger_auc": 0.71},
        run_id="r1",
        decided_at=tags["decided_at"],
    )
    assert state.in_rollout
    plain = state.as_dict()
    assert plain["stage"] == "canary" and type(plain["stage"]) is str  # JSON as the CLI prints it


def test_missing_or_unknown_tags_read_as_unset_and_a_bad_fraction_is_one_line() -> None:
    bare = VersionState.from_tags("scorer", "4", {})
    assert (bare.stage, bare.fraction, bare.paused, bare.metrics) == (None, 0.0, False, {})
    assert not bare.in_rollout
    assert VersionState.from_tags("scorer", "4", {"stage": "live"}).stage is None
    assert VersionState.from_tags("scorer", "4", {"metrics": "{oops"}).metrics == {"raw": "{oops"}
    with pytest.raises(
        RegistryTagError, match=r"^model scorer version 4: fraction tag 'half' is not a number$"
    ):
        VersionState.from_tags("scorer", "4", {"fraction": "half"})
    with pytest.raises(RegistryTagError, match="fraction tag 1.5 is outside 0..1"):
        VersionState.from_tags("scorer", "4", {"fraction": "1.5"})


def test_every_stage_says_no_champion_with_the_one_error(world: dict) -> None:
    from tasks.monitoring.champion import current_champion
    from tasks.scoring.model_access import load_serving_set

    settings = Settings(home=world["settings"].home, model_name="never-trained")
    expected = "no champion model registered for never-trained: run `leadops train` first"
    with pytest.raises(registry.NoChampionError, match=expected.replace("`", ".")):
        current_champion(world["client"], settings)
    with pytest.raises(registry.NoChampionError, match=expected.replace("`", ".")):
        load_serving_set(settings)


def test_no_champion_and_model_load_errors_are_defined_once() -> None:
    import ast

    root = Path(__file__).resolve().parents[2]
    homes: dict[str, list[str]] = {}
    for folder in ("leadops", "tasks", "flows"):
        for path in root.joinpath(folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ClassDef) and node.name in (
                    "NoChampionError",
                    "ModelLoadError",
                ):
                    homes.setdefault(node.name, []).append(path.relative_to(root).as_posix())
    assert homes == {
        "NoChampionError": ["leadops/models/registry.py"],
        "ModelLoadError": ["leadops/models/model_loader.py"],
    }


def test_status_history_lists_each_versions_training_and_gate_decision_in_order(
    world: dict,
) -> None:
    from app.cli.status import registry_status, status_text

    if not registry.history(world["client"], world["settings"].model_name):
        _gate(world, shuffle_labels=True, seed=1)
    state = registry_status(world["settings"], limit=100)
    versions = {
        str(v["version"]) for v in registry.history(world["client"], world["settings"].model_name)
    }
    for version in versions:
        kinds = [e["event"] for e in state["history"] if e["version"] == version]
        assert kinds[:2] == ["trained", "gate"], (version, kinds)
    first_gate = next(e for e in state["history"] if e["event"] == "gate")
    assert first_gate["reason"].startswith("first model: there is no champion yet")
    text = status_text(state)
    assert f"v{first_gate['version']}: gate → production 100%" in text
    assert "(first model: there is no champion yet" in text
