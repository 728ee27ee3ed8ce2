"""The Evidently page agrees with LeadOps' own verdict on what 'drift' means."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from tasks.monitoring.drift_report import ReportFacts, evidently_summary, report_html, run_evidently


def test_one_drifted_feature_is_dataset_drift_on_the_evidently_page_too() -> None:
    """The page said "Dataset Drift is NOT detected" under LeadOps' DRIFT on one feature:
    Evidently's dataset verdict needed half of the columns to drift."""
    rng = np.random.default_rng(3)
    n = 2_000
    steady = {f"f{i}": rng.normal(0, 1, n) for i in range(5)}
    reference = pd.DataFrame({**steady, "annual_revenue": rng.lognormal(11, 0.5, n)})
    current = reference.copy()
    current["annual_revenue"] = rng.lognormal(13, 0.5, n)  # one feature moves far
    columns = {name: "numeric" for name in reference.columns}
    snapshot = run_evidently(reference, current, columns, 0.25, datetime(2026, 3, 1), seed=1)

    summary = evidently_summary(snapshot)
    assert summary["psi"]["annual_revenue"] > 0.25
    assert 0 < summary["drifted_share"] < 0.5
    page = report_html(
        snapshot,
        ReportFacts(
            as_of=datetime(2026, 3, 1, tzinfo=UTC),
            rule="PSI > 0.25 on any feature",
            psi={"annual_revenue": 1.24},
            psi_threshold=0.25,
            decision="retrain (drift)",
            reference_rows=n,
            current_rows=n,
            sample_rows=n,
            conversion_note="-",
        ),
    )
    assert "when any column drifts" in page
    assert "Dataset Drift is detected" in page and "Dataset Drift is NOT detected" not in page
