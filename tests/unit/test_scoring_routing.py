"""Canary routing: deterministic per lead, the asked-for share, nested as it grows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tasks.scoring.routing import canary_position, route_to_canary

IDS = [f"L{i:09d}" for i in range(20_000)]


@pytest.mark.parametrize("fraction", [0.10, 0.50])
def test_canary_share_matches_the_fraction_within_sampling_error(fraction: float) -> None:
    share = route_to_canary(IDS, salt="7", fraction=fraction).mean()
    sigma = math.sqrt(fraction * (1 - fraction) / len(IDS))
    assert abs(share - fraction) < 4 * sigma


def test_raising_the_fraction_keeps_every_canary_lead_in_the_canary() -> None:
    at_10 = route_to_canary(IDS, "9", 0.10)
    at_50 = route_to_canary(IDS, "9", 0.50)
    assert at_50[at_10].all()
    assert at_50.sum() > at_10.sum()


def test_a_new_rollout_salt_draws_a_new_canary() -> None:
    first = route_to_canary(IDS, "3", 0.5)
    second = route_to_canary(IDS, "4", 0.5)
    overlap = (first & second).mean()
    assert abs(overlap - 0.25) < 0.03  # independent draws, not the same leads again


def test_edge_fractions() -> None:
    assert not route_to_canary(IDS[:100], "1", 0.0).any()
    assert route_to_canary(IDS[:100], "1", 1.0).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        route_to_canary(IDS[:1], "1", 1.5)
    assert np.all(np.array([canary_position(i, "x") for i in IDS[:100]]) < 1)
