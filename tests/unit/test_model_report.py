"""The model page's figures: rates with intervals, the label-free estimate, the page itself."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pandas as pd
from scipy.stats import binom

from leadops.decisions.metrics import rank_auc
from leadops.models.transitions import HISTORY_KEY
from leadops.storage.local import open_lake
from tasks.monitoring.report import sections
from tasks.monitoring.report.build import write_page
from tasks.monitoring.report.estimates import (
    label_free_estimate,
    poisson_binomial_interval,
    wilson_interval,
)
from tasks.monitoring.report.served import MONTH, TIER, served_outcomes
from tests.support.model_page import WEEK0, scored_lake
from tests.support.rollout import NAME


def test_wilson_interval_matches_the_published_value_and_stays_inside_0_1() -> None:
    low, high = wilson_interval(10, 100)
    assert (round(low, 4), round(high, 4)) == (0.0552, 0.1744)  # Newcombe (1998), 95%
    assert wilson_interval(0, 20)[0] == 0.0 and wilson_interval(20, 20)[1] == 1.0


def test_expected_conversions_interval_is_the_binomial_one_when_every_score_is_equal() -> None:
    assert poisson_binomial_interval(np.full(400, 0.12), 0.90) == (
        int(binom.ppf(0.05, 400, 0.12)),
        int(binom.ppf(0.95, 400, 0.12)),
    )


def test_label_free_intervals_cover_realised_weeks_of_calibrated_scores() -> None:
    """90% intervals on 120 simulated weeks where outcomes follow the scores: ~90% covered."""
    rng = np.random.default_rng(7)
    covered_conversions = covered_auc = 0
    weeks = 120
    for week in range(weeks):
        scores = 1 / (1 + np.exp(-(rng.normal(-2.2, 1.1, 600))))
        labels = rng.random(600) < scores
        estimate = label_free_estimate(scores, 0.1, draws=200, seed=week)
        covered_conversions += estimate.conversions_low <= labels.sum() <= estimate.conversions_high
        covered_auc += estimate.auc_low <= rank_auc(labels, scores) <= estimate.auc_high
    assert 0.82 <= covered_conversions / weeks <= 0.97
    assert 0.82 <= covered_auc / weeks <= 0.97


def test_tiers_are_judged_on_matured_leads_and_recent_weeks_get_an_estimate(settings) -> None:
    lake, contract = scored_lake(settings)
    as_of = WEEK0 + timedelta(weeks=4)  # week 3's leads are all inside their window
    served = served_outcomes(lake, contract, NAME, as_of)
    assert len(served) == 1200
    by_tier = sections.conversion_by_tier(served)
    assert by_tier.leads.sum() == 600  # the maturing week is not counted as non-converting
    rates = by_tier.set_index(TIER).rate
    assert rates["A"] > rates["D"] and by_tier.set_index(TIER).lift["A"] > 1.5
    assert (by_tier.low <= by_tier.rate).all() and (by_tier.rate <= by_tier.high).all()
    weekly = sections.weekly_estimates(served, 0.1)
    assert list(weekly.matured) == [True, False]
    assert pd.isna(weekly.conversions.iloc[1]) and weekly.est_conversions.iloc[1] > 0
    accuracy = sections.accuracy_by_month(served, 0.1)
    assert list(accuracy[MONTH]) == ["2026-03"] and accuracy.auc.iloc[0] > 0.7


def test_page_has_every_section_its_figures_and_a_readiness_line(settings) -> None:
    lake, _ = scored_lake(settings)
    gate = {"version": "1", "stage": "production", "fraction": 1.0, "as_of": WEEK0.isoformat()}
    gate.update(reason="first model", metrics={"roc_auc": 0.8, "precision_at_capacity": 0.4})
    lake.write_bytes(HISTORY_KEY, json.dumps([gate]).encode())
    path = write_page(settings, NAME, WEEK0 + timedelta(weeks=4))
    page = path.read_text()
    for section in ("readiness", "conversion", "accuracy", "estimate", "quality", "decisions"):
        assert f'id="{section}"' in page
    assert page.count('src="data:image/png;base64,') == 6  # one per figure
    assert "ready: AUC 0." in page and "600 leads" not in page  # newest 20% of 600 = 120 leads
    assert "120 leads" in page and "first model" in page
    assert path.stat().st_size < 2_000_000


def test_leadops_report_writes_the_page_and_serve_gives_it_an_address(
    home, settings, capsys, monkeypatch
) -> None:
    import urllib.request

    from app.cli.report import pages_server
    from tests.unit.test_cli import run

    scored_lake(settings)
    code, out, err = run(
        capsys, monkeypatch, "report", "--as-of", (WEEK0 + timedelta(weeks=4)).isoformat(), "--json"
    )
    assert code == 0, err
    pages = json.loads(out.strip().splitlines()[-1])["pages"]
    assert [p.rsplit("/", 1)[-1] for p in pages] == [f"model-{NAME}.html"]
    monkeypatch.setenv("LEADOPS_REPORT_PORT", "0")  # any free port: tests run side by side
    from leadops.settings import get_settings

    get_settings.cache_clear()
    with (
        pages_server(get_settings(), "127.0.0.1") as url,
        urllib.request.urlopen(f"{url}/model-{NAME}.html", timeout=10) as response,
    ):
        assert b'id="estimate"' in response.read()


def test_quarantine_share_is_per_check_of_the_rows_ingested(settings) -> None:
    from tasks.monitoring.report.records import quarantine_shares

    lake, _ = scored_lake(settings)
    shares = quarantine_shares(lake).set_index("check").share
    assert shares.to_dict() == {"company_size:range": 0.003, "email:format": 0.002}


def test_a_year_of_weekly_batches_fits_in_a_small_page() -> None:
    """52 weekly batches of 1,000 leads, 15 drifting features, 30 decisions: under ~2 MB."""
    from datetime import UTC, datetime

    from leadops.inputs.maturity import LABEL, MATURED
    from leadops.models.cutpoints import TIER_BY_DECILE
    from tasks.monitoring.report.layout import PageInputs
    from tasks.monitoring.report.page import render
    from tasks.monitoring.report.served import (
        DECILE,
        SCORE,
        SCORED_AT,
        TIER,
        VERSION,
        WEEK,
        batch_deciles,
    )

    rng = np.random.default_rng(3)
    weeks = pd.date_range("2026-01-05", periods=52, freq="W-MON", tz="UTC")
    scored = np.repeat(weeks, 1000)
    scores = 1 / (1 + np.exp(-rng.normal(-2.2, 1.1, len(scored))))
    served = pd.DataFrame({SCORED_AT: scored, SCORE: scores, VERSION: "1"})
    served[DECILE] = batch_deciles(pd.Series(scored), served[SCORE])
    served[TIER] = TIER_BY_DECILE[served[DECILE].to_numpy()]
    served[MONTH] = served[SCORED_AT].dt.strftime("%Y-%m")
    served[WEEK] = served[SCORED_AT].dt.tz_localize(None).dt.date
    served[LABEL] = (rng.random(len(served)) < scores).astype(int)
    served[MATURED] = served[SCORED_AT] < weeks[-2]
    runs = pd.DataFrame({"as_of": weeks})
    features = pd.DataFrame({"feature": [f"feature_{i}" for i in range(15)]})
    drift = runs.merge(features, how="cross").assign(psi=0.1, report="file:///r.html")
    quarantine = runs.assign(rows_in=1000, quarantined=5, check="email:format", share=0.005)
    decisions = pd.DataFrame(
        {
            "as_of": weeks[:30],
            "version": "1",
            "stage": "canary",
            "fraction": 0.1,
            "reason": "x" * 200,
        }
    )
    page = render(
        PageInputs(
            "leadops-lead-scorer",
            datetime(2027, 1, 1, tzinfo=UTC),
            served,
            quarantine,
            drift,
            decisions,
            "ready: AUC 0.80",
            0.1,
            0.25,
        )
    )
    assert page.count("data:image/png;base64,") == 6
    assert len(page.encode()) < 2_000_000


def test_drift_per_feature_is_read_back_from_the_monitor_workspace(settings) -> None:
    from tasks.monitoring.publish import report_key
    from tasks.monitoring.report.records import drift_records
    from tasks.monitoring.workspace import add_to_workspace, trigger_psi_snapshot

    lake, workspace = open_lake(settings), settings.home / "evidently"
    first, second = WEEK0, WEEK0 + timedelta(weeks=1)
    psi = {"company_size": 0.02, "technographics": 0.61}
    add_to_workspace(workspace, [trigger_psi_snapshot(psi, first)], list(psi))
    add_to_workspace(workspace, [trigger_psi_snapshot(psi, second)], list(psi))
    lake.write_bytes(report_key(second), b"<html></html>")  # the first run's report was pruned

    drift = drift_records(workspace, lake)

    assert list(drift.psi) == [0.02, 0.61, 0.02, 0.61]
    assert list(drift.feature) == ["company_size", "technographics"] * 2
    assert drift.report.iloc[0] is None and drift.report.iloc[-1].endswith(".html")
