"""The train flow's result: the JSON-able summary and the markdown artifact."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from leadops.decisions.metrics import METRIC_NAMES
from tasks.training.results import TrainResult


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def metrics_table(result: dict[str, Any]) -> str:
    champion = result["champion_metrics"]
    head = f"champion v{result['champion_version']}" if champion else "champion"
    lines = [
        f"| metric | new v{result['model_version']} | {head} | logistic baseline |",
        "|---|---|---|---|",
    ]
    for name in (*METRIC_NAMES, "calibration_error"):  # ECE: reported, not gated
        label = f"{name} (ECE, 10 quantile bins)" if name == "calibration_error" else name
        lines.append(
            f"| {label} | {_number(result['metrics'].get(name))} | "
            f"{_number((champion or {}).get(name))} | "
            f"{_number(result['baseline_metrics'].get(name))} |"
        )
    return "\n".join(lines)


def intervals_table(intervals: dict[str, Any] | None) -> str:
    """The gate's paired bootstrap intervals (new - champion on the same test rows)."""
    if not intervals:
        return "No champion yet: no paired intervals."
    converted, not_converted = intervals.get("converted"), intervals.get("not_converted")
    n = (
        f" on {converted + not_converted:,} leads ({converted:,} converted / {not_converted:,} not)"
        if converted is not None and not_converted is not None
        else ""
    )
    lines = [
        f"| new - champion (paired bootstrap 95%{n}) | difference | low | high | resamples |",
        "|---|---|---|---|---|",
    ]
    for name, ci in intervals.items():
        if isinstance(ci, dict):
            lines.append(
                f"| {name} | {_number(ci['diff'])} | {_number(ci['low'])} | "
                f"{_number(ci['high'])} | {int(ci['samples'])} |"
            )
    return "\n".join(lines)


def family_line(result: dict[str, Any]) -> str:
    """Which family was registered and each family's CV AUC on the same time-ordered folds."""
    by_family = result.get("cv_auc_by_family") or {}
    aucs = ", ".join(f"{name} {_number(auc)}" for name, auc in by_family.items())
    return f"**Model family:** {result.get('model_family', 'xgboost')} (mean CV ROC-AUC: {aucs})"


def gate_lines(result: dict[str, Any]) -> str:
    """The gate's rule and one line per check (test, n, estimate, interval, verdict)."""
    checks = result.get("gate_checks") or []
    head = f"## Gate: {result.get('gate_rule') or 'first model, no champion to compare'}"
    if result.get("gate_route"):
        head += f"\n\nRoute taken: **{result['gate_route']}**"
    return "\n".join([head, "", *(f"- {line}" for line in checks)])


def trials_table(trials: list[dict[str, Any]], limit: int = 10) -> str:
    """The best ``limit`` trials (completed first, by CV AUC)."""
    ranked = sorted(trials, key=lambda t: (t["state"] != "COMPLETE", -(t["value"] or 0.0)))[:limit]
    lines = ["| trial | state | CV AUC | rounds | seconds |", "|---|---|---|---|---|"]
    for t in ranked:
        lines.append(
            f"| {t['number']} | {t['state']} | {_number(t['value'])} | "
            f"{_number(t.get('rounds'))} | {_number(t.get('duration_s'))} |"
        )
    return "\n".join(lines)


def markdown_report(result: dict[str, Any], trials: list[dict[str, Any]]) -> str:
    """What the Prefect UI shows for a train run: decision, metrics side by side, the search."""
    counts = result["trials"]
    ci = result.get("auc_diff_ci")
    ci_text = f" · AUC gain 95% CI [{ci['low']:+.4f}, {ci['high']:+.4f}]" if ci else ""
    return "\n\n".join(
        [
            (
                f"# Train: {result['model_name']} v{result['model_version']} "
                f"→ **{result['decision']}**"
            ),
            f"**Why:** {result['reason']}{ci_text}",
            *(
                [f"**WARNING:** {result['late_wins_warning']}"]
                if result.get("late_wins_warning")
                else []
            ),
            f"Trigger: `{result['trigger']}` · MLflow run `{result['run_id']}` · "
            f"gold/leads version {result['gold_version']} (digest `{result['data_digest']}`) · "
            f"as of {result['as_of']}",
            f"## Test window ({result['test_rows']} matured leads from {result['test_start']}; "
            f"{result['test_converted']} converted)",
            metrics_table(result),
            intervals_table(result.get("gate_intervals")),
            gate_lines(result),
            family_line(result),
            *(
                [f"## Deal-value model\n\n{result['value_model']['line']}"]
                if result.get("value_model")
                else []
            ),
            f"## Search `{result['study_name']}`: {counts['completed']} completed, "
            f"{counts['pruned']} pruned, {counts['failed']} failed; "
            f"best CV AUC {_number(result['best_cv_auc'])} "
            f"on {result['train_rows']} training leads",
            trials_table(trials),
        ]
    )


def result_summary(
    *,
    run_id: str,
    model_name: str,
    trigger: str,
    training: Any,
    candidate: Any,
    promotion: Any,
    value: Any = None,
) -> TrainResult:
    """The flow's return value (its ``as_dict()`` is the CLI's ``--json`` object)."""
    counts = candidate.search.counts
    # calibration_error (ECE) rides along: without it the report showed "-" for every model.
    names = (*METRIC_NAMES, "calibration_error")
    headline = lambda metrics: {k: metrics[k] for k in names if k in metrics} if metrics else None  # noqa: E731
    return TrainResult.from_summary(
        {
            "run_id": run_id,
            "model_name": model_name,
            "model_version": promotion.version,
            "decision": promotion.gate.decision,
            "reason": promotion.gate.reason,
            "stage": promotion.gate.stage,
            "trigger": trigger,
            "metrics": headline(candidate.metrics),
            "champion_metrics": headline(promotion.champion_metrics),
            "champion_version": promotion.champion_version,
            "baseline_metrics": headline(candidate.baseline_metrics),
            "relative_auc_gain": promotion.gate.relative_auc_gain,
            "auc_diff_ci": promotion.auc_diff_ci,
            "gate_intervals": asdict(promotion.intervals) if promotion.intervals else None,
            "calibration_error": candidate.metrics.get("calibration_error"),
            "gate_rule": promotion.rule,
            "gate_route": promotion.gate.route,
            "gate_checks": list(promotion.gate.checks),
            "rival_version": promotion.rival_version,
            "trials": {
                "completed": counts["COMPLETE"],
                "pruned": counts["PRUNED"],
                "failed": counts["FAIL"],
                "total": len(candidate.search.trials),
            },
            "best_cv_auc": candidate.search.best_value,
            "model_family": candidate.family.family,
            "cv_auc_by_family": candidate.family.cv_auc,
            "best_params": candidate.search.best_params,
            "best_rounds": candidate.search.best_rounds,
            "study_name": candidate.search.study_name,
            "train_rows": len(training.dev),
            "test_rows": len(training.test),
            "gold_version": training.gold_version,
            "data_digest": training.digest,
            "as_of": training.as_of.isoformat(),
            "test_start": training.test_start.isoformat(),
            "train_leads_created": _span_text(training.dev_span),
            "test_leads_created": _span_text(training.test_span),
            "test_converted": int(candidate.test_labels.sum()),
            # Wins after the outcome window count as not converted: said, never silent.
            "late_wins_warning": training.late_wins.warning if training.late_wins else None,
            # The deal-value model of the same run (tasks.training.value_run), or why none.
            "value_model": None if value is None else value_summary(value),
        }
    )


def value_summary(value: Any) -> dict[str, Any]:
    return {
        "decision": value.decision,
        "version": value.version,
        "objective": value.objective,
        "metrics": value.metrics,
        "line": value.line(),
    }


def _span_text(span: Any) -> list[str] | None:
    return None if span is None else [moment.isoformat() for moment in span]
