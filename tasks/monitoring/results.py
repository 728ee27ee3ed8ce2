"""What a monitor run found and did: the monitor flow's return value and its one line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tasks.monitoring.publish import monitor_line


@dataclass
class MonitorResult:
    """The window's drift, conversion and calibration, and the retrain it started, if any.

    The headline fields are typed; ``details`` holds the rest of the JSON the report and
    ``--json`` show (per-feature decisions, Evidently values, serving health, quarantine).
    """

    model_name: str
    model_version: str
    window: str
    psi: dict[str, float]
    drift_detected: bool
    retrain_triggered: bool
    reason: str | None  # the retrain's cause (drift, conversion-drop, ...), or the rule's
    conversion: dict[str, Any]
    retrain: dict[str, Any]  # the request: route, why, escalation (tasks.monitoring.trigger)
    rows: dict[str, Any]
    report: str | None = None  # the HTML report's link
    workspace: str | None = None  # the Evidently workspace folder
    calibration: dict[str, Any] | None = None
    serving_note: str | None = None
    # The train flow's TrainResult when this run trained as a subflow (typed Any: a stage
    # never imports another stage; the flow wires them).
    train: Any = None
    value_model: dict[str, Any] | None = None  # the deal-value champion's watch
    model_pages: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_summary(
        cls, summary: dict[str, Any], train: Any, model_pages: list[str]
    ) -> MonitorResult:
        """From the JSON summary (``publish.result_dict``) and what the flow did after it."""
        typed = set(cls.__dataclass_fields__) - {"train", "model_pages", "details"}
        fields = {k: v for k, v in summary.items() if k in typed}
        details = {k: v for k, v in summary.items() if k not in typed and k != "train"}
        return cls(**fields, train=train, model_pages=model_pages, details=details)

    def as_dict(self) -> dict[str, Any]:
        """The JSON of the run (``leadops monitor --json``), the train's result inside it."""
        typed = {
            name: getattr(self, name) for name in self.__dataclass_fields__ if name != "details"
        }
        return {**self.details, **typed, "train": self.train.as_dict() if self.train else None}

    def line(self) -> str:
        """The CLI's summary: PSI, conversion, calibration, retrain, report (+ the value model)."""
        value = self.value_model or {}  # the deal-value champion's watch, when one serves
        return monitor_line(self.as_dict()) + (f"\n{value['line']}" if value.get("version") else "")
