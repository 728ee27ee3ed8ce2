"""What a score run did, and the one line that says so (the CLI's summary)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class ScoreResult:
    """What a run did: the score flow's return value; ``as_dict()`` is the CLI's JSON."""

    batch_id: str
    rows: int = 0
    output: str | None = None
    arms: dict[str, int] = field(default_factory=dict)
    model_versions: dict[str, str] = field(default_factory=dict)
    challenger_stage: str | None = None
    log_rows: int = 0
    scored_at: str = ""
    reasons_mode: str = "exact"
    skipped: str | None = None
    # Rows without a usable id or creation time (unscorable), written to rejected_output.
    rejected: int = 0
    rejected_output: str | None = None
    degraded: int = 0  # leads scored with failing features treated as missing
    value_model_version: str | None = None  # the deal-value champion, when one serves
    ranked_by: str = "probability"  # what the output is sorted by (LEADOPS_RANK_BY)
    delivered: list[dict] = field(default_factory=list)  # per sink, when the flow sent them

    def as_dict(self) -> dict:
        data = asdict(self)
        if not data["delivered"]:  # only when the sinks took the batch, as before
            data.pop("delivered")
        return data

    def line(self) -> str:
        """ "scored 3000 leads (batch b1): champion v1 served 2700, canary v2 served 300 ->
        file (sorted by score, best first); 4 degraded (...)": the run in one line."""
        return self._served_line() + self.unscored_line()

    def _served_line(self) -> str:
        if self.skipped:
            return f"batch {self.batch_id}: nothing scored ({self.skipped})"
        versions, arms = self.model_versions, self.arms
        parts = [f"champion v{versions['champion']} served {arms.get('champion', 0)}"]
        if "challenger" in versions:
            stage, served = self.challenger_stage or "challenger", arms.get("canary", 0)
            parts.append(
                f"{stage} v{versions['challenger']} "
                + (f"served {served}" if served else "scored alongside, not served")
            )
        if self.value_model_version:  # the deal-value champion sized every lead
            parts.append(f"deal value v{self.value_model_version}")
        order = "expected value" if self.ranked_by == "expected_value" else "score"
        return (
            f"scored {self.rows} leads (batch {self.batch_id}): {', '.join(parts)} "
            f"-> {self.output} (sorted by {order}, best first)"
        )

    def unscored_line(self) -> str:
        """ "; 4 degraded (...); 2 unscorable (...) -> file": leads scored on less, or not
        at all."""
        text = ""
        if self.degraded:
            text += f"; {self.degraded} degraded (failing features scored as unknown)"
        if self.rejected:
            text += (
                f"; {self.rejected} unscorable (no usable id or creation time) "
                f"-> {self.rejected_output}"
            )
        return text
