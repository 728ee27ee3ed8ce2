"""The page's five sections, each a heading, its figures, a line on how to read them and a
small table; "nothing yet" and why when a young home has no data for one."""

from __future__ import annotations

import html

import pandas as pd

from tasks.monitoring.report import figures, sections
from tasks.monitoring.report.layout import PageInputs, figure, nothing, section, table_html
from tasks.monitoring.report.readiness import training_metrics
from tasks.monitoring.report.served import MONTH, TIER, WEEK
from tasks.monitoring.report.timeline import decisions_figure


def conversion_section(data: PageInputs) -> str:
    by_tier = sections.conversion_by_tier(data.served) if not data.served.empty else pd.DataFrame()
    if by_tier.empty:
        return section("conversion", "Conversion by tier", [nothing("no matured served lead yet")])
    by_decile = sections.conversion_by_decile(data.served)
    return section(
        "conversion",
        "Conversion by tier and decile (matured leads, by scoring month)",
        [
            figure(figures.tier_figure(by_tier), "conversion rate by tier and month"),
            figure(figures.decile_figure(by_decile), "lift by decile and month"),
            "<p>Rates with Wilson 95% intervals; lift is over the month's matured base rate.</p>",
            table_html(
                by_tier,
                {
                    MONTH: "",
                    TIER: "",
                    "leads": ",",
                    "conversions": ",",
                    "rate": ".1%",
                    "low": ".1%",
                    "high": ".1%",
                    "lift": ".2f",
                },
            ),
        ],
    )


def accuracy_section(data: PageInputs) -> str:
    accuracy = (
        sections.accuracy_by_month(data.served, data.capacity) if not data.served.empty else None
    )
    if accuracy is None or accuracy.empty:
        return section("accuracy", "Accuracy over time", [nothing("no matured served lead yet")])
    return section(
        "accuracy",
        "Accuracy over time (served scores, matured leads, by scoring month)",
        [
            figure(
                figures.accuracy_figure(accuracy, _training_by_version(data, accuracy)),
                "served AUC by month",
            ),
            f"<p>Dashed: the test-window figure at training of the version that served most "
            f"of the month's leads. Precision at "
            f"capacity = conversion among the top {data.capacity:.0%} of each month's leads; "
            f"AUC intervals Hanley-McNeil 95%.</p>",
            table_html(
                accuracy,
                {
                    MONTH: "",
                    "version": "",
                    "leads": ",",
                    "conversions": ",",
                    "auc": ".3f",
                    "auc_low": ".3f",
                    "auc_high": ".3f",
                    "precision": ".1%",
                    "predicted_rate": ".1%",
                    "observed_rate": ".1%",
                },
            ),
        ],
    )


def _training_by_version(data: PageInputs, accuracy: pd.DataFrame) -> dict[str, dict]:
    return {v: training_metrics(data.decisions, v) for v in accuracy["version"].unique()}


def estimate_rows(weekly: pd.DataFrame) -> pd.DataFrame:
    """The weekly estimates as a reader scans them: estimate [interval] beside realised."""
    return pd.DataFrame(
        {
            WEEK: weekly[WEEK],
            "leads": weekly.est_leads,
            "expected conversions [90%]": [
                f"{e:.0f} [{lo}, {hi}]"
                for e, lo, hi in zip(
                    weekly.est_conversions,
                    weekly.est_conversions_low,
                    weekly.est_conversions_high,
                    strict=True,
                )
            ],
            "realised": weekly.conversions,
            "expected AUC [90%]": [
                f"{e:.3f} [{lo:.3f}, {hi:.3f}]"
                for e, lo, hi in zip(
                    weekly.est_auc, weekly.est_auc_low, weekly.est_auc_high, strict=True
                )
            ],
            "realised AUC": weekly.auc,
        }
    )


def estimate_section(data: PageInputs) -> str:
    weekly = (
        sections.weekly_estimates(data.served, data.capacity) if not data.served.empty else None
    )
    if weekly is None or weekly.empty:
        return section("estimate", "Estimate for recent weeks", [nothing("no served lead yet")])
    return section(
        "estimate",
        "Estimate for weeks not matured yet (from the scores alone)",
        [
            figure(figures.estimate_figure(weekly), "estimated vs realised conversions and AUC"),
            '<p class="estimate">An estimate, not an outcome: it reads each calibrated score '
            "as that lead's chance to convert (expected conversions with an exact "
            "Poisson-binomial 90% interval; AUC and precision at capacity simulated from the "
            "scores). It follows drift in the leads but cannot see concept drift (the same "
            "lead converting less). Dots: the realised figure once the week matured.</p>",
            table_html(
                estimate_rows(weekly),
                {
                    WEEK: "",
                    "leads": ",",
                    "expected conversions [90%]": "",
                    "realised": ".0f",
                    "expected AUC [90%]": "",
                    "realised AUC": ".3f",
                },
            ),
        ],
    )


def quality_section(data: PageInputs) -> str:
    if data.quarantine.empty and data.drift.empty:
        return section("quality", "Data quality", [nothing("no ingest report or monitor run yet")])
    links = data.drift.dropna(subset=["report"]).drop_duplicates("as_of").tail(6)
    items = "".join(
        f'<li><a href="{html.escape(r.report)}">drift report {r.as_of:%Y-%m-%d}</a></li>'
        for r in links.itertuples()
    )
    return section(
        "quality",
        "Data quality: quarantine and drift",
        [
            figure(
                figures.quality_figure(data.quarantine, data.drift, data.psi_threshold),
                "quarantined share per check and PSI per feature",
            ),
            "<p>Degraded scores are not recorded on this version; quarantined rows are.</p>",
            f"<ul>{items}</ul>" if items else "",
        ],
    )


def decisions_section(data: PageInputs) -> str:
    if data.decisions.empty:
        return section("decisions", "Decisions", [nothing("no gate or rollout decision yet")])
    return section(
        "decisions",
        "Decisions: every gate and rollout step",
        [
            figure(decisions_figure(data.decisions), "every gate and rollout step over time"),
            table_html(
                data.decisions,
                {"as_of": "%Y-%m-%d", "version": "", "stage": "", "fraction": ".0%", "reason": ""},
                limit=60,
            ),
        ],
    )
