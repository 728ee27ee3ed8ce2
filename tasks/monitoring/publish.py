"""Where a monitor run's findings go: the HTML in the artifact store, a summary, the JSON result."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime
from typing import Any

from leadops.storage.lake import Lake
from leadops.storage.local import LocalLake
from leadops.storage.tables import DRIFT_REPORTS
from tasks.monitoring.assess import Assessment
from tasks.monitoring.drift_report import psi_markdown


def report_key(as_of: datetime) -> str:
    """reports/drift/<as-of timestamp>.html: one report per evaluation time."""
    return f"{DRIFT_REPORTS}/{as_of:%Y%m%dT%H%M%SZ}.html"


def lake_link(lake: Lake, key: str) -> str:
    """A URI a person can open: file:// for a local lake, s3:// otherwise."""
    if isinstance(lake, LocalLake):
        return (lake.path / key).as_uri()
    return lake.uri(key)


# Evidently's page carries its JavaScript bundle inline (~3.5 MB of a ~4.5 MB report); it
# is the same in every report, so it is written once beside them and linked.
BUNDLE_MIN_CHARS = 500_000
SCRIPT_OPEN, SCRIPT_CLOSE = "<script>", "</script>"


def largest_script(page: str) -> tuple[int, int] | None:
    """(start of its ``<script>`` tag, end of its ``</script>`` tag) of the page's largest
    inline script, when it is over BUNDLE_MIN_CHARS (Evidently's bundle); else None.

    The bundle escapes its own closing tags ("<\\/script>"), so the first closing tag after
    an opening one ends that script; an opening tag inside the bundle gives a shorter match.
    """
    best: tuple[int, int] | None = None
    start = page.find(SCRIPT_OPEN)
    while start >= 0:
        end = page.find(SCRIPT_CLOSE, start)
        if end < 0:
            break
        if best is None or end - start > best[1] - best[0]:
            best = (start, end + len(SCRIPT_CLOSE))
        start = page.find(SCRIPT_OPEN, start + len(SCRIPT_OPEN))
    inner = len(SCRIPT_OPEN) + len(SCRIPT_CLOSE)
    return best if best is not None and best[1] - best[0] - inner >= BUNDLE_MIN_CHARS else None


def save_report(lake: Lake, html: str, as_of: datetime) -> str:
    """Write the HTML atomically to the lake, Evidently's bundle once beside it
    (``evidently-<content hash>.js``); returns the report's link.

    The report opens from its folder (file://, or a copy of the folder): the bundle is a
    relative ``<script src>``.
    """
    key = report_key(as_of)
    found = largest_script(html)
    if found is not None:
        start, end = found
        script = html[start + len(SCRIPT_OPEN) : end - len(SCRIPT_CLOSE)]
        name = f"evidently-{hashlib.sha256(script.encode('utf-8')).hexdigest()[:16]}.js"
        if not lake.exists(f"{DRIFT_REPORTS}/{name}"):
            lake.write_bytes(f"{DRIFT_REPORTS}/{name}", script.encode("utf-8"))
        html = f'{html[:start]}<script src="{name}" charset="utf-8"></script>{html[end:]}'
    lake.write_bytes(key, html.encode("utf-8"))
    return lake_link(lake, key)


def prune_reports(lake: Lake, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` drift reports (0 keeps all); returns the keys deleted.

    Each report is ~1 MB (its Evidently bundle is shared, see ``save_report``): on the daily
    schedule, unpruned, ~365 MB a year. The names sort by as-of time, so the oldest go first.
    """
    if keep <= 0:
        return []
    folder = f"{DRIFT_REPORTS}/"
    reports = sorted(
        k for k in lake.list(DRIFT_REPORTS) if k.startswith(folder) and k.endswith(".html")
    )
    stale = reports[:-keep]
    for key in stale:
        lake.delete(key)
    return stale


def _clean(value: Any) -> Any:
    """JSON-safe: NaN → None, numpy scalars → Python, dates → ISO strings."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def result_dict(assessment: Assessment, context: dict[str, Any]) -> dict[str, Any]:
    """The monitor's JSON result: PSI, drift, conversion, decision and ``context`` (ids, links)."""
    conversion = assessment.conversion.as_dict()
    conversion.update(
        rate=conversion["current_rate"], cohorts_detail=assessment.cohorts.to_dict("records")
    )
    result = {
        "psi": assessment.psi,
        "max_psi": max(assessment.psi.values(), default=None),
        "score_psi": assessment.score_psi,
        # Drift is the tests' verdict (PSI above the threshold *and* beyond chance at this n).
        "drift_detected": bool(assessment.decision.drifted_features),
        "decisions": [d.as_dict() for d in assessment.decisions],
        "drifted_features": assessment.decision.drifted_features,
        "evidently": assessment.evidently,
        "conversion": conversion,
        # Served probabilities vs outcomes, both directions (tasks.monitoring.calibration).
        "calibration": assessment.calibration.as_dict() if assessment.calibration else None,
        "decision": assessment.decision.explanation,
        # The retrain's cause: a held drift retrain may have given way to a recalibration.
        "reason": (context.get("retrain") or {}).get("reason") or assessment.decision.reason,
        "rule": assessment.rule,
        **context,
    }
    return _clean(result)


def summary_markdown(result: dict[str, Any], psi_threshold: float) -> str:
    """The Prefect artifact: decision, PSI table, conversion on matured and maturing cohorts."""
    conversion = result["conversion"]
    lines = [
        f"# Drift monitor, as of {result['as_of']}",
        f"**Champion:** {result['model_name']} v{result['model_version']} · "
        f"**window:** {result['window']} "
        f"({result['rows']['current']:,} leads vs {result['rows']['reference']:,} reference rows)",
        *(
            [f"**Degraded:** {degraded_text(result).removesuffix('; ')}"]
            if degraded_text(result)
            else []
        ),
        f"**Decision:** {result['decision']}",
        f"**Retrain:** {result['retrain']['why']}",
        *(
            [f"**ESCALATED:** {result['retrain']['escalation']}"]
            if result["retrain"].get("escalation")
            else []
        ),
        f"**Report:** {result['report']}",
        "",
        psi_markdown(result["psi"], psi_threshold, result["rule"], result.get("drifted_features")),
        "",
        f"Prediction drift (score PSI, fixed bins): {_fmt(result['score_psi'])}",
        "",
        f"**Conversion (weekly cohorts):** {conversion['note']}",
        "",
        *(
            [f"**Calibration (served vs observed):** {result['calibration']['note']}", ""]
            if result.get("calibration")
            else []
        ),
        *(
            [f"**Online scoring:** {result['serving_note']}", ""]
            if result.get("serving_note")
            else []
        ),
        "| cohort | matured leads | conversion | AUC | precision at capacity | maturing leads "
        "(converted so far) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for cohort in conversion["cohorts_detail"][-8:]:
        rate = cohort.get("rate")
        maturing = cohort.get("maturing") or 0
        so_far = f"{maturing} ({cohort.get('maturing_conversions', 0)})" if maturing else "-"
        lines.append(
            f"| {cohort['cohort']}{'' if cohort['complete'] else ' (partial)'} | "
            f"{cohort['leads']} | {'n/a' if rate is None else f'{rate:.2%}'} | "
            f"{_fmt(cohort['auc'])} | {_fmt(cohort['precision_at_capacity'])} | {so_far} |"
        )
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def retrain_text(result: dict[str, Any]) -> str:
    """What the monitor did about a retrain, and what that retrain decided when it ran here.

    "retrain (drift): v3 challenger (ROC-AUC +4.1% ...)", or where to look when a deployment
    trigger starts it, or why none was started.
    """
    retrain = result.get("retrain") or {}
    if retrain.get("escalation"):  # said once per persisting incident, before anything else
        return f"ESCALATED: {retrain['escalation']}; {_retrain_text(result)}"
    return _retrain_text(result)


def _retrain_text(result: dict[str, Any]) -> str:
    retrain = result.get("retrain") or {}
    reason = result.get("reason") or "rule"
    trained = result.get("train")
    if trained:
        return (
            f"retrain ({reason}): v{trained['model_version']} {trained['decision']} "
            f"({trained['reason']})"
        )
    if result.get("retrain_triggered") and retrain.get("route") == "event":
        return (
            f"retrain ({reason}) requested: a deployment trigger starts train; its decision "
            "shows in `leadops status` and the Prefect UI"
        )
    if retrain.get("why", "").startswith("the train run failed"):
        return f"retrain ({reason}) failed: {retrain['why']}"
    return retrain.get("why") or "no retrain needed"


def monitor_line(result: dict[str, Any]) -> str:
    """The CLI's human summary of a monitor run."""
    psi = result.get("psi") or {}
    worst = max(psi, key=psi.get, default=None)
    psi_text = f"max PSI {psi[worst]:.3f} ({worst})" if worst else "no PSI"
    return (
        f"monitor v{result['model_version']} on {result['window']}: {psi_text}; "
        f"conversion: {result['conversion']['note']}; "
        + (f"calibration: {result['calibration']['note']}; " if result.get("calibration") else "")
        + f"{retrain_text(result)}; "
        + (f"online: {result['serving_note']}; " if result.get("serving_note") else "")
        + (f"quarantine: {result['quarantine']['note']}; " if result.get("quarantine") else "")
        + degraded_text(result)
        + f"report {result['report']}"
    )


def degraded_text(result: dict[str, Any]) -> str:
    """ "12 leads degraded (failing features scored as unknown); " or "" when none."""
    count = (result.get("rows") or {}).get("degraded") or 0
    return f"{count} leads degraded (failing features scored as unknown); " if count else ""
