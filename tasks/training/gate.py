"""The promotion gate: may a new model challenge the champion? A pure function.

Both models are scored on the same test window. The new model becomes the
challenger (shadow) only if every check passes; otherwise it is archived and the
reason names every check that failed, not just the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from leadops.model_state import CHALLENGER, CHAMPION, Stage


class Decision(StrEnum):
    """What the new version becomes: the alias it takes, or rejected."""

    CHAMPION = CHAMPION
    CHALLENGER = CHALLENGER
    REJECTED = "rejected"


# Where each decision puts the version: its stage and traffic fraction.
_POSITION: dict[Decision, tuple[Stage, float]] = {
    Decision.CHAMPION: (Stage.PRODUCTION, 1.0),
    Decision.CHALLENGER: (Stage.SHADOW, 0.0),
    Decision.REJECTED: (Stage.ARCHIVED, 0.0),
}


@dataclass(frozen=True)
class GateResult:
    decision: Decision
    reason: str
    relative_auc_gain: float | None = None

    @property
    def stage(self) -> Stage:
        return _POSITION[self.decision][0]

    @property
    def fraction(self) -> float:
        return _POSITION[self.decision][1]


def decide(new: dict[str, float], champion: dict[str, float] | None,
           auc_diff_ci: dict[str, float] | None, min_relative_gain: float,
           champion_version: str | None = None) -> GateResult:
    """Decide what the new model version becomes.

    Args:
        new: the new model's test-window metrics (roc_auc, precision_at_capacity, ...).
        champion: the champion's metrics on the same rows, or None when there is none.
        auc_diff_ci: paired bootstrap of AUC(new) - AUC(champion): ``low``, ``high``.
        min_relative_gain: required relative ROC-AUC gain, e.g. 0.02 for +2%.
        champion_version: named in the reason.
    """
    if champion is None:
        return GateResult(Decision.CHAMPION, "first model: there is no champion yet")
    who = f"champion v{champion_version}" if champion_version else "the champion"
    gain = (new["roc_auc"] - champion["roc_auc"]) / champion["roc_auc"]
    failures = []
    if gain < min_relative_gain:
        failures.append(f"ROC-AUC {new['roc_auc']:.4f} vs {champion['roc_auc']:.4f} of {who} is "
                        f"{gain:+.1%} relative, below the required {min_relative_gain:+.1%}")
    if auc_diff_ci is None or not auc_diff_ci["low"] > 0:
        low, high = (auc_diff_ci or {}).get("low", float("nan")), (auc_diff_ci or {}).get("high", float("nan"))
        failures.append(f"bootstrap 95% CI of the AUC gain [{low:+.4f}, {high:+.4f}] does not exclude no gain")
    if new["precision_at_capacity"] < champion["precision_at_capacity"]:
        failures.append(f"precision at capacity drops from {champion['precision_at_capacity']:.3f} "
                        f"to {new['precision_at_capacity']:.3f}")
    if failures:
        return GateResult(Decision.REJECTED, "; ".join(failures), gain)
    return GateResult(Decision.CHALLENGER,
                      f"beats {who}: ROC-AUC {new['roc_auc']:.4f} vs {champion['roc_auc']:.4f} "
                      f"({gain:+.1%}, CI [{auc_diff_ci['low']:+.4f}, {auc_diff_ci['high']:+.4f}]), "
                      f"precision at capacity {new['precision_at_capacity']:.3f} vs "
                      f"{champion['precision_at_capacity']:.3f}", gain)
