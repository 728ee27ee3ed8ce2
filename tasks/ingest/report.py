"""The validation report kept beside the data, and its markdown form for Prefect.

Row values reach people here (a spreadsheet opening the sample CSV, a browser
showing the artifact), so formula-like text is neutralised on the way out: the
lake keeps "=HYPERLINK(...)" verbatim as data; exports show "'=HYPERLINK(...)".
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pandas as pd

from leadops.inputs.contract import Contract
from leadops.storage import tables
from leadops.storage.lake import Lake
from tasks.ingest.late_wins import late_wins_line
from tasks.ingest.results import IngestResult

SAMPLE_ROWS = 20
MARKDOWN_SAMPLE_ROWS = 5
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def inert(value: Any) -> Any:
    """Prefix formula-like text with a single quote so a spreadsheet shows, not runs, it."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.match(value):
        return "'" + value
    return value


def sample_rows(rejected: pd.DataFrame, failures: pd.Series, source: str, limit: int) -> list[dict]:
    """Up to ``limit`` quarantined rows as received, with their file, row and failures."""
    rows = []
    for number, row in rejected.head(limit).iterrows():
        values = {k: v for k, v in row.items() if isinstance(v, str)}
        rows.append(
            {
                tables.SOURCE_FILE: source,
                tables.ROW_NUMBER: int(number),
                tables.FAILED_EXPECTATIONS: list(failures.loc[number]),
                **values,
            }
        )
    return rows


def inert_sample(sample: list[dict]) -> list[dict]:
    return [
        {k: [inert(x) for x in v] if isinstance(v, list) else inert(v) for k, v in row.items()}
        for row in sample
    ]


def report_document(result: IngestResult) -> dict[str, Any]:
    """Counts, failed expectations and the (neutralised) quarantine sample."""
    return {
        **result.as_dict(),
        "started_at": result.started_at.isoformat(),
        "failed_expectations": dict(result.failed_expectations.most_common()),
        "quarantine_sample": inert_sample(result.quarantine_sample),
    }


def write_report(lake: Lake, result: IngestResult) -> str:
    """Write reports/ingest/<run_id>.json (and the sample as CSV); returns the JSON key."""
    key = f"{tables.INGEST_REPORTS}/{result.run_id}.json"
    sample_key = f"{tables.INGEST_REPORTS}/{result.run_id}-quarantine-sample.csv"
    result.report_key, result.report_path = key, lake.uri(key)
    result.quarantine_sample_path = lake.uri(sample_key) if result.quarantine_sample else None
    document = report_document(result)
    lake.write_bytes(key, json.dumps(document, indent=2, default=str).encode())
    if document["quarantine_sample"]:
        lake.write_bytes(sample_key, sample_csv(document["quarantine_sample"]).encode())
    return key


def other_kind_hint(contract: Contract, kind: str, columns: list[str]) -> str:
    """ "; this looks like an outcomes file: add --kind outcomes" when the header holds the
    other kind's key columns, else ""."""
    other = "leads" if kind == "outcomes" else "outcomes"
    keys = (
        contract.label_columns  # an outcomes file need not carry the value column
        if other == "outcomes"
        else [contract.entity_id, contract.event_time]
    )
    if set(keys) <= set(columns):
        return (
            f"; this looks like {'an' if other == 'outcomes' else 'a'} {other} file: "
            f"add --kind {other}"
        )
    return ""


def ingest_summary(result: dict[str, Any], kind: str, top: int = 3) -> str:
    """The CLI's lines: counts, the top quarantine reasons, and where the report and the
    quarantine sample are (full paths, not lake keys)."""
    files = result["files"]
    failed = sum(f["status"] == "failed" for f in files)
    skipped = sum(f["status"] == "skipped" for f in files)
    lines = [
        (
            f"ingested {len(files) - failed - skipped} of {len(files)} {kind} files ({failed} "
            f"failed, {skipped} skipped): {result['rows_in']} rows in -> {result['silver']} "
            f"silver ({_new_updated(result)}), {result['quarantined']} quarantined, "
            f"{result['duplicates']} duplicates"
        )
    ]
    if late := late_wins_line(result):
        lines.append(late)
    every = list(result.get("failed_expectations", {}).items())
    reasons = every[:top]
    if result["quarantined"] and reasons:
        more = len(every) - len(reasons)
        rest = f"; and {more} more check(s), in the report" if more else ""
        lines.append(
            "  quarantined because: "
            + "; ".join(f"{name} ({rows} rows)" for name, rows in reasons)
            + rest
        )
    if result.get("quarantine_sample_path"):
        lines.append(f"  quarantine sample: {_local(result['quarantine_sample_path'])}")
    lines.append(f"  report: {_local(result.get('report_path') or result['report'])}")
    return "\n".join(lines)


def _local(uri: str) -> str:
    return uri.removeprefix("file://")


def sample_csv(sample: list[dict]) -> str:
    """The already-neutralised sample as CSV text (failed expectations joined by '; ')."""
    columns = list(dict.fromkeys(name for row in sample for name in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in sample:
        writer.writerow({k: "; ".join(v) if isinstance(v, list) else v for k, v in row.items()})
    return buffer.getvalue()


def _new_updated(result: dict[str, Any]) -> str:
    """ "1,200 new, 3 updated": an export that reuses ids shows up as updates, not silently."""
    updated = result.get("updated", 0)
    return f"{result['silver'] - updated} new, {updated} updated"


def summary_markdown(result: IngestResult) -> str:
    """The Prefect artifact: per-file counts, top failed expectations, a few rejected rows."""
    totals = result.as_dict()
    lines = [
        f"# Ingest {result.kind}: run `{result.run_id}`",
        "",
        f"**{totals['rows_in']}** rows in → **{totals['silver']}** silver "
        f"({_new_updated(totals)}), "
        f"**{totals['quarantined']}** quarantined, **{totals['duplicates']}** duplicates "
        f"(as of {result.as_of:%Y-%m-%d %H:%M} UTC)",
        *filter(None, [late_wins_line(totals)]),
        "",
        "| file | status | rows in | silver | quarantined | duplicates | reason |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {_cell(f.name)} | {f.status} | {f.rows_in} | {f.silver} | {f.quarantined} "
        f"| {f.duplicates} | {_cell(f.reason)} |"
        for f in result.files
    ]
    if result.failed_expectations:
        lines += ["", "## Top failed expectations", "", "| expectation | rows |", "|---|---:|"]
        lines += [f"| `{name}` | {n} |" for name, n in result.failed_expectations.most_common(10)]
    sample = inert_sample(result.quarantine_sample[:MARKDOWN_SAMPLE_ROWS])
    if sample:
        lines += ["", "## Quarantined rows (sample)", ""]
        lines += [
            f"- {_cell(row[tables.SOURCE_FILE].rsplit('/', 1)[-1])} row "
            f"{row[tables.ROW_NUMBER]}: {', '.join(row[tables.FAILED_EXPECTATIONS])} — "
            f"`{_cell(json.dumps(_values(row), ensure_ascii=False))[:300]}`"
            for row in sample
        ]
    if totals["versions"]:
        versions = ", ".join(f"{t} v{v}" for t, v in totals["versions"].items() if v is not None)
        lines += ["", f"Table versions: {versions}. Full report: `{result.report_key}`"]
    return "\n".join(lines) + "\n"


def _values(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").replace("`", "'")
