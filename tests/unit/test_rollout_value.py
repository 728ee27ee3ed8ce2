"""The deal-value challenger's rollout step: promoted, archived or kept waiting on the won
deals created after it entered shadow, judged paired against the value champion."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadops.inputs.contract import load_contract
from leadops.models import registry
from leadops.storage.local import open_lake
from tasks.rollout.value_step import value_rollout_step
from tests.support.value import register_value, value_history, write_silver_history

SHADOW_SINCE = datetime(2026, 1, 19, tzinfo=UTC)  # week 3 of the generator's default start
AS_OF = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def history():
    return value_history(SHADOW_SINCE)


def _setup(settings, history, champion_fit, challenger_fit, since=SHADOW_SINCE):
    typed, outcomes, encoder, *_ = history
    write_silver_history(settings, typed, outcomes)
    example = typed.head(2)
    versions = [
        register_value(settings, champion_fit, encoder, "champion", "production", since, example),
        register_value(settings, challenger_fit, encoder, "challenger", "shadow", since, example),
    ]
    client = registry.registry_client(settings)
    name = registry.value_model_name(settings.model_name)
    return client, name, open_lake(settings), load_contract(settings.contract_path), versions


def test_a_better_value_challenger_is_promoted_on_new_won_deals(
    settings, registry_db, history
) -> None:
    *_, good, bad = history
    client, name, lake, contract, (old, new) = _setup(settings, history, bad, good)
    done = value_rollout_step(settings, lake, contract, AS_OF)
    assert done.decision == "promoted", done.reason
    assert "paired bootstrap on n=" in done.reason and "vs value champion v1" in done.reason
    assert str(registry.get_champion(client, name).version) == new
    assert registry.get_challenger(client, name) is None
    assert client.get_model_version(name, old).tags["stage"] == "archived"


def test_a_value_challenger_that_ranks_worse_is_archived(settings, registry_db, history) -> None:
    *_, good, bad = history
    client, name, lake, contract, (old, new) = _setup(settings, history, good, bad)
    done = value_rollout_step(settings, lake, contract, AS_OF)
    assert done.decision == "archived" and "may rank deals worse" in done.reason
    assert str(registry.get_champion(client, name).version) == old
    assert client.get_model_version(name, new).tags["stage"] == "archived"


def test_without_enough_new_won_deals_it_waits(settings, registry_db, history) -> None:
    *_, good, bad = history
    client, name, lake, contract, (old, new) = _setup(settings, history, bad, good, since=AS_OF)
    done = value_rollout_step(settings, lake, contract, AS_OF)
    assert (done.decision, done.reason) == ("wait", "0 won deals since 2026-03-01, need 30")
    assert str(registry.get_challenger(client, name).version) == new
