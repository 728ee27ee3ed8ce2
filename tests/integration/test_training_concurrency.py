"""Two train runs finishing at once: one registry decision at a time, never two winners."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from leadops.inputs.contract import load_contract
from leadops.inputs.maturity import LABEL
from leadops.models import registry
from leadops.storage.local import open_lake
from tasks.training import promotion, tracking
from tests.support.gold import as_of_after, write_gold
from tests.support.models import tiny_model


def _logged_model(settings, contract, frame, as_of, seed: int):
    """A tiny real model, logged (not registered) as the train flow does; with its test scores."""
    from leadops.inputs.maturity import label_matured

    rows = label_matured(frame, contract, as_of)
    booster, encoder = tiny_model(
        rows, rows[LABEL], contract, rounds=10 + seed, cap=5, nthread=1, seed=seed, subsample=0.8
    )
    run_id = tracking.start_run(settings, "manual", {})
    info = tracking.log_model(
        settings, run_id, booster, encoder, contract, rows[contract.lead_columns].head(3)
    )
    scores = booster.inplace_predict(encoder.transform(rows)).astype(float)
    return info, run_id, rows, scores


@pytest.mark.slow
@pytest.mark.parametrize("with_champion", [False, True])
def test_two_runs_finishing_at_once_cannot_both_win(
    settings, registry_db, monkeypatch, with_champion
) -> None:
    contract = load_contract(settings.contract_path)
    lake = open_lake(settings)
    frame = write_gold(lake, weeks=6, leads_per_week=200)
    as_of = as_of_after(frame, contract)
    client = registry.registry_client(settings)
    if with_champion:
        # A weak champion both candidates clearly beat: each alone would become challenger.
        info, run_id, rows, _ = _logged_model(settings, contract, frame.head(300), as_of, seed=0)
        first = registry.register_version(
            client, settings.model_name, info.model_uri, run_id, model_id=info.model_id
        )
        registry.move_alias(client, settings.model_name, registry.CHAMPION, first.version)
        monkeypatch.setattr(
            promotion, "champion_scores", lambda settings, version, test: np.full(len(test), 0.5)
        )
    candidates = [_logged_model(settings, contract, frame, as_of, seed) for seed in (1, 2)]

    # Widen the race: each run looks at the champion, then dawdles before deciding.
    real_get_champion = registry.get_champion

    def slow_get_champion(*args, **kwargs):
        found = real_get_champion(*args, **kwargs)
        time.sleep(0.5)
        return found

    monkeypatch.setattr(registry, "get_champion", slow_get_champion)
    outcomes, errors = [], []
    barrier = threading.Barrier(2)

    def finish(info, run_id, rows, scores) -> None:
        try:
            barrier.wait()
            labels = rows[LABEL].to_numpy(dtype=int)
            metrics = {"roc_auc": 0.9, "precision_at_capacity": 0.9, "brier": 0.05}
            outcomes.append(
                promotion.register_and_gate(
                    settings,
                    lake,
                    info,
                    run_id,
                    rows[contract.lead_columns],
                    labels,
                    scores,
                    metrics,
                    0.02,
                )
            )
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=finish, args=c) for c in candidates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    decisions = sorted(o.gate.decision for o in outcomes)
    versions = {str(v["version"]): v for v in registry.history(client, settings.model_name)}
    live = [v for v, row in versions.items() if row["stage"] in ("production", "shadow", "canary")]
    if with_champion:
        # Both beat the champion; the second to decide supersedes the first: one challenger.
        assert decisions == ["challenger", "challenger"]
        challenger = registry.get_challenger(client, settings.model_name)
        assert [row["stage"] for v, row in versions.items() if row["stage"] == "shadow"] == [
            "shadow"
        ]
        assert versions[str(challenger.version)]["stage"] == "shadow"
        assert any("superseded by challenger" in (row["reason"] or "") for row in versions.values())
    else:
        # No champion yet: the first becomes champion, the second is gated against it.
        assert decisions[0] != decisions[1] and "champion" in decisions
        assert len([v for v in live if versions[v]["stage"] == "production"]) == 1
    champion = registry.get_champion(client, settings.model_name)
    assert (
        champion is not None and versions[str(champion.version)]["aliases"].count("champion") == 1
    )
