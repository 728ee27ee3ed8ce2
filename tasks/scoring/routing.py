"""Canary routing: which leads get the challenger's score.

A lead's arm is a pure function of its id and the rollout's salt, so the same
lead lands in the same arm on every run, on every machine, in every process.
Python's ``hash()`` is salted per process, so a keyed blake2b digest is used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

_SCALE = float(1 << 64)


def canary_position(entity_id: str, salt: str) -> float:
    """Where a lead falls in [0, 1) for a rollout: uniform over ids, fixed per (id, salt)."""
    digest = hashlib.blake2b(
        str(entity_id).encode("utf-8"), digest_size=8, key=str(salt).encode("utf-8")[:64]
    ).digest()
    return int.from_bytes(digest, "big") / _SCALE


def canary_positions(entity_ids: Iterable[str], salt: str) -> np.ndarray:
    """``canary_position`` for many ids at once (float64 array)."""
    return np.fromiter(
        (canary_position(entity_id, salt) for entity_id in entity_ids), dtype=np.float64
    )


def route_to_canary(entity_ids: Iterable[str], salt: str, fraction: float) -> np.ndarray:
    """True where a lead is routed to the canary arm at ``fraction`` (0 to 1).

    Raising the fraction from 10% to 50% keeps every lead that was already in the
    canary there: a lead is in the canary while its position is below the fraction.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"canary fraction {fraction!r}: must be between 0 and 1")
    return canary_positions(entity_ids, salt) < fraction
