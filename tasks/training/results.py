"""What a train run did: the train flow's return value (and the monitor's, when it retrained)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

# The keys each kind of run has always put in its JSON (``leadops train --json``).
_SKIPPED_KEYS = ("decision", "reason", "trigger", "metrics", "model_name", "model_version")
_RECALIBRATED_KEYS = (*_SKIPPED_KEYS, "run_id", "recalibrated_from", "calibrator")


@dataclass
class TrainResult:
    """A trained (or recalibrated, or skipped) challenger and the gate's decision on it.

    ``details`` holds the rest of a trained run's numbers (gate intervals and checks, the
    search's trials and parameters, data lineage) as the markdown report and --json show them.
    """

    outcome: Literal["trained", "recalibrated", "skipped"]
    model_name: str
    trigger: str
    decision: str
    reason: str
    model_version: str | None = None
    run_id: str | None = None
    metrics: dict[str, float] | None = None
    baseline_metrics: dict[str, float] | None = None
    recalibrated_from: str | None = None  # recalibrated: the champion whose booster it kept
    calibrator: Any = None  # recalibrated: what the new calibrator was fitted on
    late_wins_warning: str | None = None
    value_model: dict[str, Any] | None = None  # the deal-value model beside it, or why none
    train_rows: int | None = None
    test_rows: int | None = None
    train_leads_created: list[str] | None = None  # [first, last] creation time (ISO)
    test_leads_created: list[str] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_summary(cls, summary: dict[str, Any]) -> TrainResult:
        """A trained run from ``tasks.training.report.result_summary``'s numbers."""
        typed = {name for name in cls.__dataclass_fields__ if name not in ("outcome", "details")}
        fields = {k: v for k, v in summary.items() if k in typed}
        details = {k: v for k, v in summary.items() if k not in typed}
        return cls(outcome="trained", **fields, details=details)

    def as_dict(self) -> dict[str, Any]:
        """The JSON of the run: the same keys ``leadops train --json`` always printed."""
        everything = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("outcome", "details")
        }
        if self.outcome == "skipped":
            return {k: everything[k] for k in _SKIPPED_KEYS}
        if self.outcome == "recalibrated":
            return {k: everything[k] for k in _RECALIBRATED_KEYS}
        del everything["recalibrated_from"], everything["calibrator"]
        return {**everything, **self.details}

    def line(self) -> str:
        """The run in one line (the CLI's summary): decision, test metrics, windows, run."""
        if self.metrics is None:
            text = f"{self.model_name}: {self.decision} ({self.reason})"
        elif self.recalibrated_from:
            text = (
                f"{self.model_name} v{self.model_version}: {self.decision} "
                f"(v{self.recalibrated_from} recalibrated: {self.reason}); MLflow run {self.run_id}"
            )
        else:
            text = self._trained_line()
        if self.late_wins_warning:  # wins after the outcome window, counted as negatives
            text += f"; WARNING: {self.late_wins_warning}"
        if self.value_model:  # the deal-value model beside it, or why there is none
            text += f"\n{self.value_model['line']}"
        return text

    def brief(self) -> str:
        """ "v3 challenger (value model v2: champion)": the decision in a few words (the
        demo's weekly line); without a version, the decision and why."""
        if self.model_version is None:
            return f"{self.decision} ({self.reason})"
        return f"v{self.model_version} {self.decision}{self.value_note()}"

    def value_note(self) -> str:
        """The deal-value model of this training in a few words ("" when there is none)."""
        value = self.value_model
        if not value:
            return ""
        if value.get("version") is None:  # not trained: the one line says why
            return f" (value model: {value['line']})"
        if value["decision"] != "archived":
            return f" (value model v{value['version']}: {value['decision']})"
        # Archived: the gate's own why, without its evidence. The generator's deal amounts
        # keep one relationship to company size, industry and source through the drift, so a
        # later value model is rarely significantly better than v1 on ~300 won test deals,
        # and the gate (pass = ranks clearly better, or no worse and sizes better) keeps v1.
        line = value.get("line") or ""
        why = line.split("archived: ", 1)[-1].split("; vs ", 1)[0]
        deals = re.search(r"n=([\d,]+) won deals", line)
        on = f" on {deals.group(1)} won deals" if deals else ""
        return f" (value model v{value['version']} archived: {why}{on})"

    def _trained_line(self) -> str:
        metrics, baseline = self.metrics or {}, self.baseline_metrics or {}
        return (
            f"{self.model_name} v{self.model_version}: {self.decision} ({self.reason}); "
            f"test ROC-AUC {metrics['roc_auc']:.4f} "
            f"(logistic baseline {baseline.get('roc_auc', float('nan')):.4f}), "
            f"precision at capacity {metrics['precision_at_capacity']:.3f} "
            f"(baseline {baseline.get('precision_at_capacity', float('nan')):.3f}); "
            f"{self.windows()}MLflow run {self.run_id}"
        )

    def windows(self) -> str:
        """ "trained on 2,400 leads created 2026-01-05..2026-02-16, tested on 600 created
        2026-02-24..2026-03-09; " ("" when the spans are unknown)."""
        train, test = self.train_leads_created, self.test_leads_created
        if not train or not test:
            return ""
        return (
            f"trained on {self.train_rows:,} leads created {_day(train[0])}..{_day(train[1])}, "
            f"tested on {self.test_rows:,} created {_day(test[0])}..{_day(test[1])}; "
        )


def _day(iso: str | None) -> str:
    """The date part of an ISO time ("?" when unknown)."""
    return (iso or "?")[:10]
