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


@dataclass(frozen=True)
class PairedIntervals:
    """Paired bootstrap intervals of new - champion on the same test rows (diff, low, high).

    ``precision`` is precision at capacity, ``brier`` the Brier score (lower is better).
    """

    auc: dict[str, float] | None = None
    precision: dict[str, float] | None = None
    brier: dict[str, float] | None = None


def _fmt(ci: dict[str, float] | None) -> str:
    ci = ci or {}
    return f"[{ci.get('low', float('nan')):+.4f}, {ci.get('high', float('nan')):+.4f}]"


def baseline_failure(new: dict[str, float], baseline: dict[str, float] | None) -> str | None:
    """Why the new model does not beat the logistic baseline on the same rows, or None."""
    if baseline is None or new["roc_auc"] > baseline["roc_auc"]:
        return None
    return (
        f"does not beat the logistic baseline trained on the same window: ROC-AUC "
        f"{new['roc_auc']:.4f} vs {baseline['roc_auc']:.4f}"
    )


def champion_failures(
    new: dict[str, float],
    champion: dict[str, float],
    ci: PairedIntervals,
    min_relative_gain: float,
    brier_margin: float,
    who: str,
) -> list[str]:
    """Every check against the champion that fails (empty: all pass)."""
    gain = (new["roc_auc"] - champion["roc_auc"]) / champion["roc_auc"]
    failures = []
    if gain < min_relative_gain:
        failures.append(
            f"ROC-AUC {new['roc_auc']:.4f} vs {champion['roc_auc']:.4f} of {who} is "
            f"{gain:+.1%} relative, below the required {min_relative_gain:+.1%}"
        )
    if ci.auc is None or not ci.auc["low"] > 0:
        failures.append(f"bootstrap 95% CI of the AUC gain {_fmt(ci.auc)} does not exclude no gain")
    if ci.precision is None or not ci.precision["high"] >= 0:
        failures.append(
            f"precision at capacity significantly lower: {new['precision_at_capacity']:.3f}"
            f" vs {champion['precision_at_capacity']:.3f}, paired 95% CI of the "
            f"difference {_fmt(ci.precision)}"
        )
    allowed = brier_margin * champion["brier"]
    if ci.brier is None or not ci.brier["high"] <= allowed:
        failures.append(
            f"Brier score not non-inferior: {new['brier']:.4f} vs "
            f"{champion['brier']:.4f}, paired 95% CI of the increase {_fmt(ci.brier)} "
            f"reaches above the margin {allowed:+.4f}"
        )
    return failures


def decide(
    new: dict[str, float],
    champion: dict[str, float] | None,
    intervals: PairedIntervals | None,
    min_relative_gain: float,
    champion_version: str | None = None,
    baseline: dict[str, float] | None = None,
    brier_margin: float = 0.05,
) -> GateResult:
    """Decide what the new model version becomes.

    Args:
        new: the new model's test-window metrics (roc_auc, precision_at_capacity, brier, ...).
        champion: the champion's metrics on the same rows, or None when there is none.
        intervals: paired bootstrap intervals of new - champion (AUC, precision, Brier).
        min_relative_gain: required relative ROC-AUC gain, e.g. 0.02 for +2%.
        champion_version: named in the reason.
        baseline: the logistic baseline's metrics on the same rows, always named in the
            reason; a model that does not beat it carries a WARNING in its reason (the CLI
            line and the train report show it), and is not blocked by it alone.
        brier_margin: relative: the new Brier score may exceed the champion's by this share.
    """
    versus = f"; logistic baseline ROC-AUC {baseline['roc_auc']:.4f}" if baseline else ""
    below_baseline = baseline_failure(new, baseline)
    if champion is None:
        # With no champion, archiving leaves nothing to serve at all; the first model serves
        # but says loudly that the baseline beside it was better (and a later model that beats
        # both replaces it through the usual gate).
        warning = (
            f"; WARNING: it {below_baseline}: train with more trials or more weeks"
            if below_baseline
            else ""
        )
        return GateResult(
            Decision.CHAMPION,
            f"first model: there is no champion yet (ROC-AUC "
            f"{new['roc_auc']:.4f}{versus}){warning}",
        )
    who = f"champion v{champion_version}" if champion_version else "the champion"
    gain = (new["roc_auc"] - champion["roc_auc"]) / champion["roc_auc"]
    ci = intervals or PairedIntervals()
    failures = champion_failures(new, champion, ci, min_relative_gain, brier_margin, who)
    if failures:
        return GateResult(Decision.REJECTED, "; ".join(failures), gain)
    # The baseline is reported, never silently: a challenger that beats the champion but not
    # the logistic baseline still enters shadow (the paired rollout tests decide), warned.
    versus += f"; WARNING: it {below_baseline}" if below_baseline else ""
    return GateResult(
        Decision.CHALLENGER,
        f"beats {who}: ROC-AUC {new['roc_auc']:.4f} vs {champion['roc_auc']:.4f} "
        f"({gain:+.1%}, CI {_fmt(ci.auc)}), precision at capacity "
        f"{new['precision_at_capacity']:.3f} vs {champion['precision_at_capacity']:.3f}"
        f" (CI {_fmt(ci.precision)}), Brier {new['brier']:.4f} vs "
        f"{champion['brier']:.4f}{versus}",
        gain,
    )
