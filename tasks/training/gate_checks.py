"""The gate's statistical checks, each one line naming its test, n, estimate and interval.

Every check compares the new model with the champion on the same test rows (paired
bootstrap, 95% percentile intervals of new - champion), except the champion's own
calibration test, which asks whether the champion is stale on those rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadops.decisions.stats import CalibrationCheck


@dataclass(frozen=True)
class PairedIntervals:
    """Paired bootstrap intervals of new - champion on the same test rows (diff, low, high).

    ``precision`` is precision at capacity; ``brier`` and ``log_loss`` are proper scoring
    rules (lower is better). ``converted`` / ``not_converted`` count the test rows.
    """

    auc: dict[str, float] | None = None
    precision: dict[str, float] | None = None
    brier: dict[str, float] | None = None
    log_loss: dict[str, float] | None = None
    converted: int | None = None
    not_converted: int | None = None

    def sample(self) -> str:
        if self.converted is None or self.not_converted is None:
            return "the test rows"
        n = self.converted + self.not_converted
        return f"n={n:,} ({self.converted:,} converted / {self.not_converted:,} not)"


@dataclass(frozen=True)
class Check:
    """One check's verdict and its line for the gate's reason and report."""

    passed: bool
    line: str


def _ci(ci: dict[str, float] | None) -> str:
    ci = ci or {}
    nan = float("nan")
    return (
        f"{ci.get('diff', nan):+.4f}, 95% CI [{ci.get('low', nan):+.4f}, "
        f"{ci.get('high', nan):+.4f}]"
    )


def _paired(name: str, new: float, old: float, ci: dict | None, sample: str) -> str:
    return f"{name} {new:.4f} vs {old:.4f}, paired bootstrap on {sample}: {_ci(ci)}"


def ranking(
    new: dict, champion: dict, ci: PairedIntervals, min_gain: float, margin: float, who: str
) -> tuple[Check, Check]:
    """(clearly better, non-inferior) in ROC-AUC: low > 0 with the relative gain; low > -margin."""
    auc, gain = ci.auc, (new["roc_auc"] - champion["roc_auc"]) / champion["roc_auc"]
    low = auc["low"] if auc else float("nan")
    text = _paired(
        f"ROC-AUC (of {who}, {gain:+.1%} relative)",
        new["roc_auc"],
        champion["roc_auc"],
        auc,
        ci.sample(),
    )
    better = low > 0 and gain >= min_gain
    inferior = not low > -margin
    if better:
        verdict = f"clearly better (lower bound > 0, gain >= {min_gain:+.1%})"
    else:
        why = []
        if gain < min_gain:
            why.append(f"{gain:+.1%} relative is below the required {min_gain:+.1%}")
        if not low > 0:
            why.append("the CI of the AUC gain does not exclude no gain")
        verdict = "not clearly better: " + " and ".join(why)
        verdict += (
            f"; not non-inferior: lower bound not above -{margin:.4f}"
            if inferior
            else f"; non-inferior (lower bound > -{margin:.4f})"
        )
    return Check(better, f"{text}: {verdict}"), Check(not inferior, "")


def log_loss_better(new: dict, champion: dict, ci: PairedIntervals) -> Check:
    """Better on the proper scoring rule that punishes a 0.04 served to a 50% lead most."""
    high = ci.log_loss["high"] if ci.log_loss else float("nan")
    better = high < 0
    text = _paired(
        "log-loss",
        new.get("log_loss", float("nan")),
        champion.get("log_loss", float("nan")),
        ci.log_loss,
        ci.sample(),
    )
    verdict = "better (upper bound < 0)" if better else "not significantly better"
    return Check(better, f"{text}: {verdict}")


def brier_noninferior(new: dict, champion: dict, ci: PairedIntervals, margin: float) -> Check:
    allowed = margin * champion["brier"]
    high = ci.brier["high"] if ci.brier else float("nan")
    ok = high <= allowed
    text = _paired("Brier", new["brier"], champion["brier"], ci.brier, ci.sample())
    verdict = (
        f"non-inferior (upper bound <= {allowed:+.4f})"
        if ok
        else f"Brier score not non-inferior: the increase reaches above the margin {allowed:+.4f}"
    )
    return Check(ok, f"{text}: {verdict}")


def precision_guard(new: dict, champion: dict, ci: PairedIntervals) -> Check:
    """Precision at capacity (the sales team's metric) must not be significantly lower."""
    high = ci.precision["high"] if ci.precision else float("nan")
    ok = high >= 0
    name = "precision at capacity" if ok else "precision at capacity significantly lower:"
    text = (
        f"{name} {new['precision_at_capacity']:.3f} vs {champion['precision_at_capacity']:.3f}, "
        f"paired bootstrap on {ci.sample()}: {_ci(ci.precision)}"
    )
    return Check(ok, f"{text}: not significantly lower" if ok else text)


def _calibration_text(c: CalibrationCheck, who: str) -> str:
    return (
        f"calibration of {who}: {c.converted:,} converted vs {c.expected:,.1f} predicted "
        f"(observed/predicted {c.ratio:.2f}, z={c.z:+.2f}, p={c.p_value:.2g}; "
        f"Poisson-binomial normal approximation on n={c.leads:,}: {c.converted:,} converted / "
        f"{c.leads - c.converted:,} not)"
    )


def champion_stale(calibration: CalibrationCheck | None, alpha: float, who: str) -> Check:
    """Is the champion significantly miscalibrated on the gate's own test window?"""
    if calibration is None:
        return Check(False, f"calibration of {who}: not tested")
    stale = calibration.p_value < alpha
    verdict = f"stale (p < {alpha:g})" if stale else f"not shown miscalibrated (p >= {alpha:g})"
    return Check(stale, f"{_calibration_text(calibration, who)}: {verdict}")


def new_calibrated(calibration: CalibrationCheck | None, alpha: float) -> Check:
    """The stale route needs the new model itself not shown miscalibrated on the same rows:
    a retrain as stale as the champion must not pass for the champion's staleness."""
    if calibration is None:
        return Check(False, "calibration of the new model: not tested")
    ok = calibration.p_value >= alpha
    verdict = (
        f"not shown miscalibrated (p >= {alpha:g})" if ok else f"miscalibrated (p < {alpha:g})"
    )
    return Check(ok, f"{_calibration_text(calibration, 'the new model')}: {verdict}")
