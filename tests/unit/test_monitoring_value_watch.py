"""The monitor's watch of the deal-value champion: its realised / predicted ratio on won
deals since it began serving (with n and interval), and the drift of predicted values."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from leadops.inputs.contract import load_contract
from leadops.storage.local import open_lake
from tasks.monitoring.value_watch import predicted_value_psi, watch_value
from tasks.training.value import ValueFit, fit_value
from tests.support.value import PARAMS, register_value, value_history, write_silver_history

SERVING_SINCE = datetime(2026, 1, 26, tzinfo=UTC)  # week 4 of the generator's default start
AS_OF = datetime(2026, 2, 16, tzinfo=UTC)  # the day after the last week of leads
LOG_PARAMS = {**PARAMS, "objective": "reg:squarederror"}


@pytest.fixture(scope="module")
def history():
    return value_history(SERVING_SINCE)


def _watch(settings, history, fit):
    typed, outcomes, encoder, *_ = history
    write_silver_history(settings, typed, outcomes)
    register_value(settings, fit, encoder, "champion", "production", SERVING_SINCE, typed.head(2))
    contract = load_contract(settings.contract_path)
    return watch_value(settings, open_lake(settings), contract, AS_OF)


def _calibrated_times(history, scale: float) -> ValueFit:
    """A log-amount model whose mean correction makes its predictions sum to ``scale`` x
    the realised amounts of the deals the watch will see (created since it serves)."""
    typed, outcomes, encoder, *_ = history
    won = typed.merge(outcomes[outcomes["converted"]], on="lead_id")
    fit = fit_value(encoder.transform(won), won["deal_amount"].to_numpy(), LOG_PARAMS)
    seen = won[
        (won["created_at"] >= SERVING_SINCE)
        & (pd.to_datetime(won["converted_at"], utc=True) <= AS_OF)
    ]
    medians = np.exp(fit.model.predict(encoder.transform(seen)))
    spread = 2 * np.log(scale * seen["deal_amount"].sum() / medians.sum())
    return ValueFit(fit.model, fit.objective, True, float(spread))


def test_a_champion_calibrated_on_the_deals_holds(settings, registry_db, history) -> None:
    watch = _watch(settings, history, _calibrated_times(history, 1.0))
    assert watch.version == "1" and not watch.shifted and watch.deals >= 100
    low, high = watch.interval
    assert low < 1 < high and "holds" in watch.line
    assert f"on {watch.deals} won deals since 2026-01-26 (bootstrap 95% CI" in watch.line
    assert len(watch.by_decile) == 10 and watch.psi is not None and watch.psi < 0.1


def test_a_champion_that_doubles_every_deal_is_a_shift(settings, registry_db, history) -> None:
    watch = _watch(settings, history, _calibrated_times(history, 2.0))
    assert watch.shifted and watch.ratio == pytest.approx(0.5) and watch.interval[1] < 1
    assert "SHIFT (beyond +-20%)" in watch.line


def test_no_value_champion_is_said_not_failed(settings, registry_db) -> None:
    contract = load_contract(settings.contract_path)
    watch = watch_value(settings, open_lake(settings), contract, AS_OF)
    assert (watch.version, watch.line) == (None, "no deal-value champion to watch")


def test_predicted_values_that_moved_show_in_the_psi() -> None:
    rng = np.random.default_rng(1)
    reference = np.exp(rng.normal(9, 1, 2000))
    assert predicted_value_psi(reference, np.exp(rng.normal(9, 1, 500))) < 0.1
    assert predicted_value_psi(reference, np.exp(rng.normal(10, 1, 500))) > 0.25


def test_the_registered_revenue_correction_is_what_serving_and_the_monitor_use(
    settings, registry_db, history
) -> None:
    from dataclasses import replace

    from leadops.models import registry
    from tasks.scoring.value import load_value_champion

    doubled = replace(_calibrated_times(history, 1.0), revenue_scale=2.0)
    watch = _watch(settings, history, doubled)
    assert watch.shifted and watch.ratio == pytest.approx(0.5)
    served = load_value_champion(settings, registry.registry_client(settings))
    assert served.revenue_scale == 2.0


@pytest.fixture(scope="module")
def trained_history():
    # ~360 won deals before it serves (train asks for 200): at 600 leads a week (~220) the
    # heavy tail alone put a stable champion's ratio at 1.38 [1.11, ...], a false shift.
    return value_history(SERVING_SINCE, leads_per_week=1000)


def _value_shift_request(settings, history, amounts_times: float, as_of=AS_OF):
    """Register a value model searched on the won deals before it serves, watch it on
    deals whose amounts are ``amounts_times`` the generator's, and take the monitor's
    retrain decision with a conversion model that asks for none."""
    from tasks.monitoring.trigger import RetrainDecision, request_retrain
    from tasks.monitoring.value_watch import with_value_shift
    from tasks.training.value import search_value

    typed, outcomes, encoder, *_ = history
    won = typed.merge(outcomes[outcomes["converted"]], on="lead_id")
    old = won[won["created_at"] < SERVING_SINCE]
    fit = search_value(encoder.transform(old), old["deal_amount"].to_numpy(), 4, 0)
    moved = outcomes.assign(deal_amount=outcomes["deal_amount"] * amounts_times)
    write_silver_history(settings, typed, moved)
    register_value(settings, fit, encoder, "champion", "production", SERVING_SINCE, typed.head(2))
    lake = open_lake(settings)
    watch = watch_value(settings, lake, load_contract(settings.contract_path), as_of)
    calm = RetrainDecision(False, None, "max PSI 0.010 (industry) <= 0.25; conversion holds", [])
    decision = with_value_shift(calm, watch)
    return watch, decision, request_retrain(lake, decision, as_of, None, 7.0, "1")


def test_stable_deal_values_ask_for_no_retrain(settings, registry_db, trained_history) -> None:
    watch, decision, request = _value_shift_request(settings, trained_history, 1.0)
    low, high = watch.interval
    assert watch.deals >= 100 and low < 1 < high and not watch.shifted
    assert not decision.retrain and not request.claimed


def test_doubled_deal_values_ask_for_one_retrain_per_cooldown(
    settings, registry_db, trained_history
) -> None:
    from datetime import timedelta

    from tasks.monitoring.trigger import request_retrain

    watch, decision, request = _value_shift_request(settings, trained_history, 2.0)
    assert watch.shifted and watch.interval[0] > 1
    assert decision.reason == "deal-value-shift" and request.claimed
    assert decision.explanation.startswith("deal value shift: value model v1: realised")
    again = request_retrain(open_lake(settings), decision, AS_OF + timedelta(days=1), None, 7, "1")
    assert not again.claimed and "cooldown" in again.why
