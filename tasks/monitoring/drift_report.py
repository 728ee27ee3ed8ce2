"""The Evidently report: drift, prediction drift and data quality, for people to read.

Evidently runs on a seeded sample of each side (``EVIDENTLY_SAMPLE_ROWS``): on 1M
rows its PSI preset alone takes ~40 s and ~2 GB here, and a picture does not need
every row. The retrain decision never comes from Evidently: it uses the fixed-bin
PSI over all rows (leadops.decisions.psi), shown in a table at the top of the HTML.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

EVIDENTLY_SAMPLE_ROWS = 50_000
SCORE = "score"


def count_column(name: str) -> str:
    """Evidently cannot bin lists, so a multi-valued column is shown as its length."""
    return f"{name}_count"


def evidently_frame(
    frame: pd.DataFrame, columns: dict[str, str], rows: int, seed: int
) -> pd.DataFrame:
    """A seeded sample of ``frame`` with the monitored columns (and score) in Evidently's types."""
    if len(frame) > rows:
        frame = frame.sample(n=rows, random_state=seed)
    out = pd.DataFrame(index=frame.index)
    for name, role in columns.items():
        if name not in frame:
            continue
        if role == "multi_valued":
            out[count_column(name)] = frame[name].map(
                lambda v: len(v) if hasattr(v, "__len__") else 0
            )
        elif role in ("categorical", "boolean"):
            out[name] = frame[name].astype("object").where(frame[name].notna(), None).astype(str)
        else:
            out[name] = pd.to_numeric(frame[name], errors="coerce")
    if SCORE in frame:
        out[SCORE] = frame[SCORE].astype("float64")
    return out.reset_index(drop=True)


def _definition(columns: dict[str, str], with_score: bool) -> Any:
    from evidently import DataDefinition

    numeric = [
        count_column(n) if r == "multi_valued" else n
        for n, r in columns.items()
        if r in ("numeric", "multi_valued")
    ]
    categorical = [n for n, r in columns.items() if r in ("categorical", "boolean")]
    return DataDefinition(
        numerical_columns=numeric + ([SCORE] if with_score else []), categorical_columns=categorical
    )


def run_evidently(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: dict[str, str],
    psi_threshold: float,
    as_of: datetime,
    seed: int,
    sample_rows: int = EVIDENTLY_SAMPLE_ROWS,
) -> Any:
    """Evidently 0.7 snapshot: DataDriftPreset (PSI), score drift, data quality.

    Data quality is DatasetStats (rows, empty / constant / duplicated columns and rows,
    missing values) and each column's missing values. Not DataSummaryPreset: its
    per-column statistics each draw the column's histogram again (six per number),
    beside the drift section's own; on the demo's data that was a third of a monitor run.
    """
    from evidently import Dataset, Report
    from evidently.metrics import MissingValueCount, ValueDrift
    from evidently.presets import DataDriftPreset, DatasetStats

    present = {n: r for n, r in columns.items() if n in current and n in reference}
    ref = evidently_frame(reference, present, sample_rows, seed)
    cur = evidently_frame(current, present, sample_rows, seed)
    with_score = SCORE in ref and SCORE in cur
    definition = _definition(present, with_score)
    features = [c for c in ref.columns if c != SCORE]
    # Evidently calls the dataset drifted when half its columns drift (drift_share 0.5); our
    # rule retrains on one drifted feature, so its widget is set to "any column" as well.
    any_column = 0.999 / max(len(features), 1)
    metrics: list[Any] = [
        DataDriftPreset(
            method="psi", threshold=psi_threshold, columns=features, drift_share=any_column
        )
    ]
    if with_score:
        metrics.append(ValueDrift(column=SCORE, method="psi", threshold=psi_threshold))
    metrics.append(DatasetStats())
    metrics.extend(MissingValueCount(column=name) for name in ref.columns)
    report = Report(metrics, tags=["leadops", "drift"])
    return report.run(
        Dataset.from_pandas(cur, data_definition=definition),
        Dataset.from_pandas(ref, data_definition=definition),
        timestamp=as_of.replace(tzinfo=None),
        name=f"drift {as_of:%Y-%m-%d %H:%M}",
    )


def evidently_summary(snapshot: Any) -> dict[str, Any]:
    """Evidently's own view: its PSI per column (moving bins) and the share of drifted columns."""
    psi: dict[str, float] = {}
    share = None
    for metric in snapshot.dict()["metrics"]:
        config = metric.get("config", {})
        kind = str(config.get("type", ""))
        if kind.endswith(":ValueDrift"):
            psi[config["column"]] = float(metric["value"])
        elif kind.endswith(":DriftedColumnsCount"):
            share = float(metric["value"]["share"])
    return {"psi": psi, "drifted_share": share}


@dataclass(frozen=True)
class ReportFacts:
    """What the header of the HTML states, above Evidently's own widgets."""

    as_of: datetime
    rule: str
    psi: dict[str, float]
    psi_threshold: float
    decision: str
    reference_rows: int
    current_rows: int
    sample_rows: int
    conversion_note: str
    # feature -> (PSI above which it counts as drift at this batch size, drifted?)
    drift_tests: dict[str, tuple[float, bool]] = field(default_factory=dict)
    serving_note: str | None = None  # online scoring service health (None: it did not run)


def header_html(facts: ReportFacts) -> str:
    """Fixed-bin PSI table and the retrain rule, as an HTML block."""

    def verdict(name: str, value: float) -> tuple[str, bool]:
        limit, drifted = facts.drift_tests.get(
            name, (facts.psi_threshold, value > facts.psi_threshold)
        )
        return f"{limit:.3f}", drifted

    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{value:.4f}</td>"
        f"<td>{verdict(name, value)[0]}</td>"
        f"<td>{'DRIFT' if verdict(name, value)[1] else 'ok'}</td></tr>"
        for name, value in sorted(facts.psi.items(), key=lambda item: -item[1])
    )
    sampled = (
        min(facts.sample_rows, facts.current_rows),
        min(facts.sample_rows, facts.reference_rows),
    )
    return (
        '<section style="font-family:sans-serif;margin:16px">'
        f"<h2>LeadOps drift monitor, as of {facts.as_of.isoformat()}</h2>"
        f"<p><b>Trigger rule:</b> {html.escape(facts.rule)}.</p>"
        f"<p><b>Decision:</b> {html.escape(facts.decision)}</p>"
        f"<p><b>Conversion (weekly cohorts):</b> {html.escape(facts.conversion_note)}</p>"
        + (
            f"<p><b>Online scoring:</b> {html.escape(facts.serving_note)}</p>"
            if facts.serving_note
            else ""
        )
        + "<p>The trigger uses the fixed-bin PSI below, computed on all rows "
        f"({facts.current_rows:,} current vs {facts.reference_rows:,} reference) with bins fixed "
        "from the champion's training reference. Evidently's widgets below use their own PSI "
        "(bins cut over both samples, so they move from batch to batch) on seeded samples of "
        f"{sampled[0]:,} current and {sampled[1]:,} reference rows; "
        "they are for reading, not for the trigger. Its 'Dataset Drift' line counts the "
        "dataset drifted when any column drifts by that PSI (as our rule does per feature), "
        "so it can still disagree with the table here on a borderline feature.</p>"
        '<table border="1" cellpadding="4" style="border-collapse:collapse">'
        "<tr><th>feature</th><th>PSI (fixed bins)</th>"
        f"<th>drift above (max of {facts.psi_threshold:g} and the no-change limit)</th>"
        f"<th>drift?</th></tr>{rows}</table>"
        "</section>"
    )


def report_html(snapshot: Any, facts: ReportFacts) -> str:
    """Evidently's standalone HTML with our header inserted at the top of the body."""
    page = snapshot.get_html_str(as_iframe=False)
    marker = page.find("<body")
    insert_at = page.find(">", marker) + 1 if marker >= 0 else 0
    return page[:insert_at] + header_html(facts) + page[insert_at:]


def psi_markdown(
    psi: dict[str, float], threshold: float, rule: str, drifted: list[str] | None = None
) -> str:
    """The PSI table for the Prefect artifact; ``drifted``: the drift tests' verdict."""
    lines = [f"**Rule:** {rule}", "", "| feature | PSI (fixed bins) | drift |", "|---|---:|---|"]
    for name, value in sorted(psi.items(), key=lambda item: -item[1]):
        fired = name in drifted if drifted is not None else value > threshold
        lines.append(f"| {name} | {value:.4f} | {'**yes**' if fired else 'no'} |")
    return "\n".join(lines)
