"""What a rollout run did: the rollout flow's return value and the CLI's one line about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leadops.models.model_state import VersionState
from leadops.models.transitions import Transition
from tasks.rollout.state_machine import RolloutState


@dataclass
class RolloutResult:
    """One run of the rollout flow; ``as_dict()`` is the CLI's JSON (the keys it always had).

    ``requested`` is the flow's ``action`` parameter ("auto" or an override); ``action`` is
    what happened ("advance", "wait", ... or the override's name).
    """

    requested: str
    as_of: str
    action: str
    transition: str | None  # one line, or None when nothing moved
    reason: str | None
    state: RolloutState  # champion and challenger after the run
    moved: list[Transition] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)  # the step's evidence (auto runs)
    decision: dict | None = None  # the step test (leadops.decisions.verdict.Decision)
    version: str | None = None
    watch: dict | None = None  # the watch after a promotion, when one ran
    value_rollout: str | None = None  # the deal-value challenger's step, in one line

    @property
    def champion(self) -> VersionState | None:
        return self.state.champion

    @property
    def challenger(self) -> VersionState | None:
        return self.state.challenger

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "as_of": self.as_of,
            "action": self.action,
            "transition": self.transition,
            "reason": self.reason,
        }
        if self.requested == "auto":  # an override has no evidence, watch or value step
            data |= {
                "metrics": self.metrics,
                "decision": self.decision,
                "version": self.version,
                "watch": self.watch,
                "value_rollout": self.value_rollout,
            }
        return data | {"moved": [t.__dict__ for t in self.moved], **self.state.as_dict()}

    def line(self) -> str:
        """ "rollout (auto): v2: shadow → canary 10% (...) [evidence: ...]" and the value step."""
        summary = self.transition or f"no transition: {self.reason or self.action}"
        value = f"\n{self.value_rollout}" if self.value_rollout else ""
        return f"rollout ({self.requested}): {summary}{self.evidence()}{value}"

    def evidence(self) -> str:
        """ " [evidence: 286 matured leads created after 2026-02-16, scored
        2026-03-02..2026-03-09]" ("" when the step read no evidence window)."""
        metrics = self.metrics or {}
        if "evidence_created_after" not in metrics:
            return ""
        n = metrics.get("matured_leads")
        leads = f"{n:,} matured leads" if isinstance(n, int) else "matured leads"
        return (
            f" [evidence: {leads} created after {_day(metrics['evidence_created_after'])}, "
            f"scored {_day(metrics.get('evidence_scored_since'))}.."
            f"{_day(metrics.get('evidence_until'))}]"
        )


def _day(iso: str | None) -> str:
    """The date part of an ISO time ("?" when unknown)."""
    return (iso or "?")[:10]
