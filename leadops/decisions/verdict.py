"""Every automated decision is a test: PASS, FAIL or WAIT, with its error rate and its power.

A ``Decision`` says which test ran, on how many leads, the estimate with its
interval, the threshold it was held against, the minimum detectable effect at this
n and a one-line reason, so "why did it wait?" always has an answer.

FAIL means the thing under test failed: the challenger is worse, a feature drifted,
conversion dropped. WAIT means the evidence cannot decide yet; INCONCLUSIVE means it
still could not when the caller's maximum wait ran out.

Rollout (shadow and every canary step) compares challenger and champion on the same
matured leads (both models score every lead):

- ROC-AUC, DeLong's paired test: PASS when the one-sided lower bound of
  AUC(challenger) - AUC(champion) clears -margin x AUC(champion) (non-inferiority, the
  margin *relative* to the champion's AUC, as the gate's gain is); FAIL when the
  upper bound is below 0 (significantly worse); otherwise WAIT.
- precision at capacity (the business metric), a McNemar-like paired test on the two
  top-k sets: FAIL when significantly worse; with a margin, PASS also needs its lower
  bound above -margin x precision(champion).
- the step's decision: FAIL if either fails, PASS if both pass, else WAIT.

Each bound is one-sided per look: ``alpha`` for PASS (how often a challenger worse
than the margin passes a look), ``fail_alpha`` for FAIL (how often an equally good one
fails a look; smaller, because a FAIL archives the challenger and a rollout looks
weekly over four steps). The error rates per rollout are measured by
``bench/bench_decisions.py`` and published in the README.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from enum import Enum, StrEnum
from typing import Any

import numpy as np

from leadops.decisions import stats


class Verdict(StrEnum):
    """Outcome of one test; the values are the strings tags and JSON show."""

    PASS = "pass"
    FAIL = "fail"
    WAIT = "wait"
    INCONCLUSIVE = "inconclusive"  # still WAIT when the maximum wait ran out

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Decision:
    """What one automated test found, in a form for artifacts, MLflow tags and --json."""

    test: str
    verdict: Verdict
    reason: str
    n: int
    n_by_arm: dict[str, int] = field(default_factory=dict)
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    threshold: float | None = None
    mde: float | None = None
    alpha: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: the verdict as its string, NaN and inf as None."""
        return _json_safe({**asdict(self), "verdict": self.verdict.value})

    def as_tags(self, prefix: str = "leadops.decision") -> dict[str, str]:
        """Flat string tags (MLflow): verdict, reason, n, estimate, interval, threshold, MDE."""
        return decision_tags(self.as_dict(), prefix)


# MLflow keeps tag values up to 5,000 characters; a summary is far shorter.
TAG_LIMIT = 5000


def decision_tags(flat: dict[str, Any], prefix: str = "leadops.decision") -> dict[str, str]:
    """Two tags for ``Decision.as_dict()``: its verdict, and one line with the test, n,
    estimate, interval and MDE of it and of each combined part.

    One tag per field and part made ~27 truncated tags on every version in MLflow's list;
    the whole decision stays in the transitions journal and the Prefect artifact.
    """
    parts = [flat, *(flat.get("details") or {}).get("parts", [])]
    summary = "; ".join(decision_summary(part) for part in parts)
    return {prefix: summary[:TAG_LIMIT], f"{prefix}.verdict": str(flat["verdict"])}


def decision_summary(flat: dict[str, Any]) -> str:
    """ "paired_auc pass (n 1500, estimate 0.0123, CI [0.0041, 0.0208], MDE 0.0150)"."""
    stated = [f"n {flat['n']}"]
    if flat.get("estimate") is not None:
        stated.append(f"estimate {flat['estimate']:.4g}")
    if flat.get("ci_low") is not None and flat.get("ci_high") is not None:
        stated.append(f"CI [{flat['ci_low']:.4g}, {flat['ci_high']:.4g}]")
    if flat.get("threshold") is not None:
        stated.append(f"threshold {flat['threshold']:.4g}")
    if flat.get("mde") is not None:
        stated.append(f"MDE {flat['mde']:.4g}")
    return f"{flat['test']} {flat['verdict']} ({', '.join(stated)})"


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def with_max_wait(
    decision: Decision, elapsed_days: float | None, max_wait_days: float | None
) -> Decision:
    """A WAIT past the caller's maximum wait becomes INCONCLUSIVE, and says so."""
    if decision.verdict is not Verdict.WAIT or elapsed_days is None or max_wait_days is None:
        return decision
    if elapsed_days < max_wait_days:
        return decision
    reason = (
        f"inconclusive after {elapsed_days:g} days (max wait {max_wait_days:g}): {decision.reason}"
    )
    return replace(decision, verdict=Verdict.INCONCLUSIVE, reason=reason)


def _class_counts(labels: np.ndarray) -> tuple[int, int]:
    positives = int(np.asarray(labels).astype(bool).sum())
    return positives, len(labels) - positives


def paired_auc_test(
    labels: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray,
    margin: float = 0.02,
    alpha: float = 0.05,
    power: float = 0.8,
    min_per_class: int = 10,
    bootstrap_resamples: int = 0,
    seed: int = 0,
    fail_alpha: float | None = None,
) -> Decision:
    """Non-inferiority of the challenger's ROC-AUC on the same matured leads (DeLong, paired).

    Args:
        margin: relative: the challenger may be at most ``margin`` x AUC(champion) below.
        alpha: one-sided error of the lower bound (per look): a challenger worse than the
            margin passes a look with probability <= alpha.
        fail_alpha: one-sided error of the upper bound (per look), default ``alpha``: an
            equally good challenger fails a look with probability <= fail_alpha.
        min_per_class: fewer converted or unconverted leads than this: WAIT.
        bootstrap_resamples: > 0 replaces DeLong's interval by a paired bootstrap one.
    """
    labels = np.asarray(labels).astype(int)
    positives, negatives = _class_counts(labels)
    arms = {"converted": positives, "not_converted": negatives}
    if min(positives, negatives) < min_per_class:
        short = ", ".join(
            f"{min_per_class - c} more {k.replace('_', ' ')}"
            for k, c in arms.items()
            if c < min_per_class
        )
        return Decision(
            "paired_auc",
            Verdict.WAIT,
            f"{positives} converted and {negatives} not among "
            f"{len(labels)} matured leads; need {min_per_class} of each ({short})",
            len(labels),
            arms,
            alpha=alpha,
        )
    auc_new, auc_old, variance = stats.delong_paired(labels, challenger, champion)
    diff, se, z = auc_new - auc_old, math.sqrt(variance), stats.z_of(alpha)
    low, high = diff - z * se, diff + stats.z_of(fail_alpha or alpha) * se
    if bootstrap_resamples:
        low = stats.paired_bootstrap(
            labels, challenger, champion, "auc", bootstrap_resamples, seed, level=1 - 2 * alpha
        ).low
        high = stats.paired_bootstrap(
            labels,
            challenger,
            champion,
            "auc",
            bootstrap_resamples,
            seed,
            level=1 - 2 * (fail_alpha or alpha),
        ).high
    bound = -margin * auc_old
    mde = (z + stats.z_of(1 - power)) * se
    details = {
        "challenger_auc": auc_new,
        "champion_auc": auc_old,
        "se": se,
        "method": "bootstrap" if bootstrap_resamples else "delong",
    }
    text = f"AUC {auc_new:.4f} vs {auc_old:.4f} ({diff:+.4f}, bounds [{low:+.4f}, {high:+.4f}])"

    def decided(verdict: Verdict, reason: str) -> Decision:
        return Decision(
            "paired_auc",
            verdict,
            reason,
            len(labels),
            arms,
            diff,
            low,
            high,
            bound,
            mde,
            alpha,
            details,
        )

    if high < 0:
        return decided(Verdict.FAIL, f"challenger significantly worse: {text}")
    if low > bound:
        return decided(Verdict.PASS, f"non-inferior: {text}, lower bound > {bound:+.4f}")
    needed = math.ceil(len(labels) * (mde / abs(bound)) ** 2) if bound else math.inf
    details["leads_needed_if_equal"] = needed
    return decided(
        Verdict.WAIT,
        f"{text}: lower bound not above {bound:+.4f} yet; "
        f"an equally good challenger needs ~{needed:,} matured leads",
    )


def paired_precision_test(
    labels: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray,
    capacity: float,
    margin: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    fail_alpha: float | None = None,
) -> Decision:
    """Precision at capacity (conversion among the top ``capacity`` leads), paired.

    Args:
        margin: relative non-inferiority margin; None makes this a guard that passes
            unless the challenger is significantly worse.
        alpha / fail_alpha: one-sided errors of the lower / upper bound, as for the AUC.
    """
    labels = np.asarray(labels).astype(int)
    paired = stats.paired_precision(labels, challenger, champion, capacity)
    diff, se, z = paired.first - paired.second, math.sqrt(paired.variance), stats.z_of(alpha)
    low, high = diff - z * se, diff + stats.z_of(fail_alpha or alpha) * se
    bound = -margin * paired.second if margin is not None else None
    mde = (z + stats.z_of(1 - power)) * se
    arms = {"capacity_leads": paired.capacity_leads, "discordant": paired.discordant}
    details = {"challenger_precision": paired.first, "champion_precision": paired.second, "se": se}
    text = (
        f"precision at capacity {paired.first:.3f} vs {paired.second:.3f} on the top "
        f"{paired.capacity_leads} ({paired.discordant} picked by one model only; "
        f"bounds [{low:+.3f}, {high:+.3f}])"
    )
    args = (len(labels), arms, diff, low, high, bound, mde, alpha, details)
    if high < 0:
        return Decision(
            "paired_precision", Verdict.FAIL, f"challenger significantly worse: {text}", *args
        )
    if bound is None or low > bound:
        why = (
            "not significantly worse"
            if bound is None
            else f"non-inferior (lower bound > {bound:+.3f})"
        )
        return Decision("paired_precision", Verdict.PASS, f"{why}: {text}", *args)
    return Decision(
        "paired_precision", Verdict.WAIT, f"{text}: lower bound not above {bound:+.3f} yet", *args
    )


def combine(
    test: str,
    parts: list[Decision],
    elapsed_days: float | None = None,
    max_wait_days: float | None = None,
) -> Decision:
    """FAIL if any part fails, PASS if all pass, else WAIT (INCONCLUSIVE past the max wait).

    The combined decision carries the first part's numbers (the primary test) and every
    part's dict under ``details["parts"]``.
    """
    primary = parts[0]
    failed = [p for p in parts if p.verdict is Verdict.FAIL]
    waiting = [p for p in parts if p.verdict is not Verdict.PASS]
    verdict = Verdict.FAIL if failed else (Verdict.WAIT if waiting else Verdict.PASS)
    reason = "; ".join(p.reason for p in (failed or waiting or parts))
    decision = replace(
        primary,
        test=test,
        verdict=verdict,
        reason=reason,
        details={**primary.details, "parts": [p.as_dict() for p in parts]},
    )
    return with_max_wait(decision, elapsed_days, max_wait_days)


def rollout_step_test(
    labels: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray,
    *,
    capacity: float,
    margin: float = 0.02,
    precision_margin: float | None = None,
    alpha: float = 0.05,
    fail_alpha: float | None = None,
    elapsed_days: float | None = None,
    max_wait_days: float | None = None,
    min_per_class: int = 10,
) -> Decision:
    """The decision of one shadow or canary step on the matured leads since the step began.

    Phase-2 wiring is one call per step: the paired frame's matured labels and both
    models' scores, the settings' margin / alphas, and the days since the step began.
    """
    auc = paired_auc_test(
        labels,
        challenger,
        champion,
        margin,
        alpha,
        min_per_class=min_per_class,
        fail_alpha=fail_alpha,
    )
    if auc.details.get("challenger_auc") is None:  # too few of a class: nothing else to say
        return with_max_wait(replace(auc, test="rollout_step"), elapsed_days, max_wait_days)
    precision = paired_precision_test(
        labels, challenger, champion, capacity, precision_margin, alpha, fail_alpha=fail_alpha
    )
    return combine("rollout_step", [auc, precision], elapsed_days, max_wait_days)
