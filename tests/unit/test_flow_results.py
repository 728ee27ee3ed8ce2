"""The flows return typed results; ``--json`` still prints the keys it always printed."""

from __future__ import annotations

from tasks.monitoring.results import MonitorResult
from tasks.scoring.results import ScoreResult
from tasks.training.results import TrainResult

TRAINED = {
    "run_id": "r1",
    "model_name": "m",
    "model_version": "3",
    "decision": "challenger",
    "reason": "ROC-AUC +4.1%",
    "trigger": "drift",
    "metrics": {"roc_auc": 0.81, "precision_at_capacity": 0.4},
    "baseline_metrics": {"roc_auc": 0.7, "precision_at_capacity": 0.3},
    "champion_version": "2",
    "trials": {"completed": 4, "pruned": 1, "failed": 0, "total": 5},
    "train_rows": 2400,
    "test_rows": 600,
    "train_leads_created": ["2026-01-05T10:00:00", "2026-02-16T09:00:00"],
    "test_leads_created": ["2026-02-24T08:00:00", "2026-03-09T07:00:00"],
    "late_wins_warning": None,
    "value_model": None,
}


def test_a_trained_run_prints_the_same_json_it_is_built_from() -> None:
    result = TrainResult.from_summary(TRAINED)
    assert result.model_version == "3" and result.details["trials"]["total"] == 5
    assert result.as_dict() == TRAINED
    assert result.line().startswith("m v3: challenger (ROC-AUC +4.1%); test ROC-AUC 0.8100")


def test_a_recalibrated_run_names_the_champion_it_recalibrated() -> None:
    result = TrainResult(
        "recalibrated", "m", "miscalibration", "challenger", "better calibrated", "4", "r2",
        metrics={"roc_auc": 0.8}, recalibrated_from="2", calibrator="600 leads",
    )  # fmt: skip
    assert set(result.as_dict()) == {
        "decision", "reason", "trigger", "metrics", "model_name", "model_version",
        "run_id", "recalibrated_from", "calibrator",
    }  # fmt: skip
    assert result.line() == "m v4: challenger (v2 recalibrated: better calibrated); MLflow run r2"


def test_the_monitor_json_carries_the_train_it_started_as_json() -> None:
    summary = {
        "model_name": "m",
        "model_version": "2",
        "window": "batch week-8",
        "psi": {"industry": 0.41},
        "drift_detected": True,
        "retrain_triggered": True,
        "reason": "drift",
        "conversion": {"note": "no drop", "rate": 0.1},
        "retrain": {"route": "subflow", "why": "claimed"},
        "rows": {"current": 700, "degraded": 0},
        "report": "file:///h/report.html",
        "max_psi": 0.41,
    }
    trained = TrainResult.from_summary(TRAINED)
    result = MonitorResult.from_summary(summary, trained, ["/h/reports/model-m.html"])
    data = result.as_dict()
    assert data["train"] == TRAINED and data["max_psi"] == 0.41 and data["psi"] == summary["psi"]
    assert result.train.model_version == "3" and result.details == {"max_psi": 0.41}
    line = result.line()
    assert "max PSI 0.410 (industry)" in line and "retrain (drift): v3 challenger" in line


def test_a_score_run_sent_nowhere_has_no_delivered_key() -> None:
    assert "delivered" not in ScoreResult("b1", rows=3).as_dict()
    sent = ScoreResult("b1", rows=3, delivered=[{"sink": "webhook", "parts": 1}])
    assert sent.as_dict()["delivered"] == [{"sink": "webhook", "parts": 1}]
