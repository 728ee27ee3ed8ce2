"""The monitor's one line says what a retrain it started decided, not only that it started."""

from __future__ import annotations

from tasks.monitoring.publish import monitor_line

BASE = {
    "model_version": "1",
    "window": "batch b9",
    "psi": {"company_size": 0.31, "x": 0.02},
    "conversion": {"note": "no matured cohort yet"},
    "report": "file:///h/report.html",
    "reason": "drift",
}


def test_a_retrain_run_here_shows_its_decision() -> None:
    result = {
        **BASE,
        "retrain_triggered": True,
        "retrain": {"claimed": True, "why": "retrain (drift) claimed", "route": "subflow"},
        "train": {
            "model_version": "3",
            "decision": "challenger",
            "reason": "ROC-AUC +4.1% over champion v1",
        },
    }
    line = monitor_line(result)
    assert "max PSI 0.310 (company_size)" in line
    assert "retrain (drift): v3 challenger (ROC-AUC +4.1% over champion v1)" in line


def test_a_retrain_left_to_a_deployment_says_where_its_decision_shows() -> None:
    result = {
        **BASE,
        "retrain_triggered": True,
        "train": None,
        "retrain": {"claimed": True, "why": "claimed", "route": "event"},
    }
    assert "leadops status" in monitor_line(result)


def test_a_failed_retrain_and_no_retrain_are_told_apart() -> None:
    failed = {
        **BASE,
        "retrain_triggered": False,
        "train": None,
        "retrain": {"claimed": False, "why": "the train run failed; the cooldown was released"},
    }
    assert "retrain (drift) failed" in monitor_line(failed)
    calm = {
        **BASE,
        "reason": None,
        "retrain_triggered": False,
        "train": None,
        "retrain": {"claimed": False, "why": "no retrain needed"},
    }
    assert monitor_line(calm).endswith("no retrain needed; report file:///h/report.html")


def test_an_escalation_leads_the_line() -> None:
    escalation = "drift persists since 2026-03-02; 2 retrains did not beat champion v1"
    result = {
        **BASE,
        "retrain_triggered": False,
        "retrain": {
            "claimed": False,
            "why": "no retrain: drift persists",
            "escalation": escalation,
        },
    }
    assert f"ESCALATED: {escalation}; no retrain: drift persists" in monitor_line(result)
