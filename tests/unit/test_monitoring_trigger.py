"""The retrain rule and its cooldown: one incident, one retrain."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from leadops.storage.local import LocalLake
from tasks.monitoring.conversion import ConversionCheck
from tasks.monitoring.trigger import (
    RetrainDecision,
    claim_retrain,
    read_state,
    release_retrain,
    request_retrain,
    trigger_rule,
)

AS_OF = datetime(2026, 3, 9, tzinfo=UTC)
FLAT = ConversionCheck(0.12, 0.12, 0.0, ["2026-02-23"], 2000, 0.0, False, "flat")
DROPPED = ConversionCheck(0.12, 0.08, -1 / 3, ["2026-02-23"], 2000, 5.5, True, "8% vs 12%")


def test_rule_text_states_both_thresholds() -> None:
    rule = trigger_rule(0.25, 0.10)
    assert "any feature's PSI > 0.25" in rule and "10%" in rule


def test_second_trigger_inside_cooldown_is_refused_then_allowed_after(tmp_path) -> None:
    lake = LocalLake(tmp_path / "lake")
    assert claim_retrain(lake, AS_OF, "drift", cooldown_days=7, model_version="1")[0]
    claimed, why = claim_retrain(
        lake, AS_OF + timedelta(days=3), "drift", cooldown_days=7, model_version="1"
    )
    assert not claimed and "cooldown" in why
    assert read_state(lake)["last_trigger"] == AS_OF.isoformat()  # the refused run changed nothing
    assert claim_retrain(lake, AS_OF + timedelta(days=7), "conversion-drop", 7, "1")[0]
    assert read_state(lake)["reason"] == "conversion-drop"


def test_an_earlier_as_of_does_not_reopen_the_cooldown(tmp_path) -> None:
    lake = LocalLake(tmp_path / "lake")
    claim_retrain(lake, AS_OF, "drift", 7, "1")
    assert not claim_retrain(lake, AS_OF - timedelta(days=1), "drift", 7, "1")[0]


def test_two_concurrent_monitor_runs_claim_one_retrain(tmp_path) -> None:
    lake = LocalLake(tmp_path / "lake")
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        results.append(claim_retrain(lake, AS_OF, "drift", 7, "1")[0])

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]


def test_a_failed_retrain_gives_the_cooldown_back(tmp_path) -> None:
    lake = LocalLake(tmp_path / "lake")
    claim_retrain(lake, AS_OF, "drift", 7, "1")
    later = AS_OF + timedelta(days=10)
    assert claim_retrain(lake, later, "drift", 7, "1")[0]
    assert release_retrain(lake, later)
    assert read_state(lake)["last_trigger"] == AS_OF.isoformat()  # back to the earlier claim
    assert claim_retrain(lake, later + timedelta(days=1), "drift", 7, "1")[0]


def test_a_moment_earlier_than_one_already_evaluated_is_reported_as_the_past(tmp_path) -> None:
    from tasks.monitoring.trigger import mark_evaluated

    lake = LocalLake(tmp_path / "lake")
    assert mark_evaluated(lake, AS_OF) is None
    assert mark_evaluated(lake, AS_OF) is None  # the same moment again: still the present
    assert mark_evaluated(lake, AS_OF + timedelta(weeks=5)) is None
    # A replayed week, long after a retrain's cooldown has run out: not a new decision.
    assert (
        mark_evaluated(lake, AS_OF + timedelta(weeks=2)) == (AS_OF + timedelta(weeks=5)).isoformat()
    )
    assert read_state(lake)["last_evaluated"] == (AS_OF + timedelta(weeks=5)).isoformat()


DRIFT = RetrainDecision(True, "drift", "PSI of lead_source is 0.600 > 0.25", ["lead_source"])
STABLE = RetrainDecision(False, None, "max PSI 0.010 (lead_source) <= 0.25", [])


def _request(lake, decision, as_of, in_rollout=None):
    return request_retrain(lake, decision, as_of, in_rollout, cooldown_days=7, champion_version="1")


def test_the_retrain_decision_runs_without_prefect_and_claims_once_per_incident(tmp_path) -> None:
    lake = LocalLake(tmp_path / "lake")
    quiet = _request(lake, STABLE, AS_OF)
    assert not quiet.claimed and quiet.why == "no retrain needed" and quiet.route is None
    assert read_state(lake) == {"last_evaluated": AS_OF.isoformat()}  # judged, nothing claimed

    first = _request(lake, DRIFT, AS_OF + timedelta(days=1))
    assert first.claimed and "retrain started (drift)" in first.why
    assert read_state(lake)["last_trigger"] == (AS_OF + timedelta(days=1)).isoformat()
    again = _request(lake, DRIFT, AS_OF + timedelta(days=2))
    assert not again.claimed and "cooldown" in again.why


def test_no_retrain_for_the_past_or_while_a_challenger_is_in_rollout(tmp_path) -> None:
    lake = LocalLake(tmp_path / "lake")
    _request(lake, STABLE, AS_OF + timedelta(weeks=5))
    replay = _request(lake, DRIFT, AS_OF)
    assert not replay.claimed and "a re-run of the past" in replay.why

    busy = _request(
        lake, DRIFT, AS_OF + timedelta(weeks=6), in_rollout="challenger v2 is in shadow"
    )
    assert not busy.claimed and busy.why == "challenger v2 is in shadow"
    assert "last_trigger" not in read_state(lake)


def test_a_failed_train_run_turns_the_claim_into_no_retrain(tmp_path) -> None:
    claimed = _request(LocalLake(tmp_path / "lake"), DRIFT, AS_OF).routed("subflow", None)
    failed = claimed.train_failed()
    assert claimed.claimed and not failed.claimed and failed.route == "subflow"
    assert "cooldown was released" in failed.why
    assert set(failed.as_dict()) == {"claimed", "why", "route", "event_id", "escalation", "reason"}
