"""The demo: a simulated timeline of weekly CRM exports through every flow.

A landing folder receives one week of files at a time and the clock (``as_of``)
advances a week per step, so label maturity, cooldowns and rollout evidence
behave as they would in real time. The flows get nothing demo-specific: only
files in a landing folder, an ``as_of`` and the settings any user could set.

Why 26 weeks rather than 12: labels mature 7 days after a lead, a retrain needs
matured post-drift weeks both to learn from and to be tested on (the first attempts,
with one and two drifted weeks, are rightly rejected by the gate; with an honest
outcome gap the first retrain that has seen the drift comes four weeks after it), and
shadow, three canary steps and the promotion each need one matured week of evidence.
The ``leadops demo`` help names ``DemoPlan.weeks``; tests/unit/test_cli.py keeps them equal.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

from app.demo import synthetic
from leadops import progress
from leadops.settings import Settings, settings_scope


@dataclass(frozen=True)
class DemoPlan:
    """The timeline's shape; ``fast`` is the one the test suite runs."""

    weeks: int = 26
    drift_week: int = 9
    first_train_week: int = 8
    leads_per_week: int = 3000
    trials: int = 12
    seed: int = 7
    scenario: str = "covariate-drift"  # bench/bench_weekly_loop.py also runs "stable"
    defect_share: float = 0.004  # a few broken rows a week, so quarantine has something to show

    @classmethod
    def fast(cls) -> DemoPlan:
        return cls(leads_per_week=1200, trials=4)


@dataclass
class WeekRecord:
    """What happened in one simulated week (one row of the summary)."""

    week: int
    as_of: datetime
    ingested: int = 0
    quarantined: int = 0
    max_psi: float | None = None
    conversion_rate: float | None = None
    baseline_rate: float | None = None
    champion: str | None = None
    challenger: str | None = None
    challenger_stage: str | None = None
    seconds: float = 0.0
    report: str | None = None
    workspace: str | None = None
    events: list[str] = field(default_factory=list)


def week_end(plan_start: datetime, week: int) -> datetime:
    """The simulated clock at the end of ``week`` (1-based): the next Monday 00:00 UTC."""
    return plan_start + timedelta(days=7 * week)


def demo_settings(settings: Settings, plan: DemoPlan) -> Settings:
    """``settings`` with what a user would set for this volume: the search budget.

    A value the user set (LEADOPS_TRIALS) wins; the process environment is left as it is.
    (Rollout steps need no volume setting: each is a test that waits until its n decides.)
    """
    volume = {"trials": plan.trials}
    unset = {name: value for name, value in volume.items() if name not in settings.model_fields_set}
    return settings.model_copy(update=unset)


def land_week(export: Path, landing: Path, week: int) -> None:
    """Copy week ``week``'s lead and outcome files into the landing folder."""
    for kind in ("leads", "outcomes"):
        source = export / kind / f"{kind}_week_{week:02d}.csv"
        if source.exists():
            (landing / kind).mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, landing / kind / source.name)


MARKER = "demo.json"


class DemoHomeInUse(RuntimeError):
    """LEADOPS_HOME already holds a demo run and --fresh was not given."""


def prepare_home(settings: Settings, fresh: bool, plan: DemoPlan) -> bool:
    """Make LEADOPS_HOME ready for ``plan``; True when it already holds a run of the same plan.

    Re-running the same plan replays its weeks: every step is idempotent (files already
    ingested are skipped, scored leads are not scored again, a champion is not trained
    again, the cooldown and the rollout state hold), so the end state is the same as after
    one run. A different plan needs ``--fresh``, which deletes the previous demo's folder.
    """
    home = settings.home
    marker = home / MARKER
    wanted = {"created_by": "leadops demo", "plan": asdict(plan)}
    if marker.exists():
        if fresh:
            shutil.rmtree(home)
        elif json.loads(marker.read_text()).get("plan") == wanted["plan"]:
            return True
        else:
            raise DemoHomeInUse(
                f"{home}: holds a demo run of another plan (--fast or not); pass --fresh to "
                "start over (it deletes that folder) or set LEADOPS_HOME to another folder"
            )
    elif home.exists() and any(home.iterdir()):
        raise DemoHomeInUse(
            f"{home}: not empty and not a demo run; set LEADOPS_HOME to an empty folder"
        )
    home.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(wanted, indent=2) + "\n")
    return False


def run_demo(
    plan: DemoPlan, settings: Settings, echo: Callable[[str], None] = print
) -> list[WeekRecord]:
    """Run the whole timeline; returns one record per simulated week from the first train.

    Every flow runs with ``demo_settings(settings, plan)`` (a copy; the environment is untouched).
    """
    scoped = demo_settings(settings, plan)
    if scoped.crm_database_url:  # in and out through the CRM's PostgreSQL (demo_crm)
        from app.demo.demo_crm import crm_settings

        scoped = crm_settings(scoped)
    with settings_scope(scoped) as scoped:
        return _run_weeks(plan, scoped, echo)


def _run_weeks(plan: DemoPlan, settings: Settings, echo: Callable[[str], None]) -> list[WeekRecord]:
    from flows.ingest import ingest
    from flows.monitor import monitor
    from flows.rollout import rollout
    from flows.score import score
    from flows.train import train

    export, landing = settings.home / "crm-export", settings.home / "landing"
    config = synthetic.GeneratorConfig(
        weeks=plan.weeks,
        leads_per_week=plan.leads_per_week,
        seed=plan.seed,
        scenario=plan.scenario,
        drift_week=plan.drift_week,
        defect_share=plan.defect_share,
    )
    synthetic.write_dataset(config, export)
    start = datetime.combine(config.start, time(), tzinfo=UTC)
    echo(
        f"generated {plan.weeks} weeks x {plan.leads_per_week} leads "
        + (f"(drift from week {plan.drift_week})" if plan.scenario != "stable" else "(no drift)")
    )

    records: list[WeekRecord] = []
    for week in range(1, plan.weeks + 1):
        progress.show("demo", week=f"{week}/{plan.weeks}")
        if settings.crm_database_url:
            from app.demo.demo_crm import land_week_in_crm

            land_week_in_crm(settings, export, week, week_end(start, week))
        else:
            land_week(export, landing, week)
        if week < plan.first_train_week:
            continue
        began = perf_counter()
        record = WeekRecord(week=week, as_of=week_end(start, week))
        _ingest_week(ingest, landing, record, settings.crm_database_url)
        if week == plan.first_train_week:
            if _has_champion(settings):
                record.events.append("champion already trained (replay)")
            else:
                result = train(reason="manual", as_of=record.as_of)
                record.events.append(
                    f"trained v{result.model_version}: {result.decision}{result.value_note()}"
                    if result.model_version
                    else f"trained: {result.brief()}"
                )
        else:
            _rollout_step(rollout, record)
        # The first week scores the backlog, so each later batch is one week of new leads.
        _score_and_monitor(score, monitor, record)
        _registry_state(settings, record)
        record.seconds = perf_counter() - began
        records.append(record)
        echo(_week_line(record))
    return records


def _ingest_week(ingest: Any, landing: Path, record: WeekRecord, crm: str | None) -> None:
    for kind in ("leads", "outcomes"):
        result = ingest(source=crm or str(landing / kind), kind=kind, as_of=record.as_of)
        if kind == "leads":
            record.ingested += result.total("rows_in")
            record.quarantined += result.total("quarantined")


def _rollout_step(rollout: Any, record: WeekRecord) -> None:
    result = rollout(as_of=record.as_of)
    if result.transition:
        record.events.append(f"rollout: {result.transition}")


def _score_and_monitor(score: Any, monitor: Any, record: WeekRecord) -> None:
    score(as_of=record.as_of)
    result = monitor(as_of=record.as_of)
    record.max_psi = max(result.psi.values()) if result.psi else None
    record.conversion_rate = result.conversion.get("rate")
    record.baseline_rate = result.conversion.get("baseline_rate")
    record.report, record.workspace = result.report, result.workspace
    if result.retrain_triggered:
        trained = result.train
        record.events.append(
            f"retrain ({result.reason}): {trained.brief()}"
            if trained is not None and trained.model_version
            else f"retrain requested ({result.reason})"
        )


def _has_champion(settings: Settings) -> bool:
    from leadops.models import registry

    return (
        registry.get_champion(registry.registry_client(settings), settings.model_name) is not None
    )


def _registry_state(settings: Settings, record: WeekRecord) -> None:
    from leadops.models import registry
    from leadops.models.model_state import Stage
    from tasks.rollout.run import rollout_state

    state = rollout_state(registry.registry_client(settings), settings.model_name)
    record.champion = state.champion.version if state.champion else None
    challenger = state.challenger
    record.challenger = challenger.version if challenger else None
    record.challenger_stage = (
        None
        if challenger is None
        else f"canary {challenger.fraction:.0%}"
        if challenger.stage == Stage.CANARY
        else challenger.stage
    )


def _week_line(record: WeekRecord) -> str:
    psi = f"{record.max_psi:.2f}" if record.max_psi is not None else "  - "
    rate = f"{record.conversion_rate:.1%}" if record.conversion_rate is not None else "  -  "
    serving = f"v{record.champion}" + (
        f" + v{record.challenger} ({record.challenger_stage})" if record.challenger else ""
    )
    events = "; ".join(record.events)
    return (
        f"week {record.week:>2} ({record.seconds:>4.0f} s) | "
        f"in {record.ingested:>5} q {record.quarantined:>3} | "
        f"PSI {psi} | conv {rate} | {serving:<24} | {events}"
    )


def summary_text(
    records: list[WeekRecord], settings: Settings, picture: Path | None, seconds: float
) -> str:
    """What the demo did, readable in ten seconds, and where to look next."""
    trains = [e for r in records for e in r.events if e.startswith(("trained", "retrain"))]
    rollout_steps = [
        f"week {r.week}: {e.removeprefix('rollout: ')}"
        for r in records
        for e in r.events
        if e.startswith("rollout")
    ]
    final = records[-1] if records else None
    reports = [r.report for r in records if r.report]
    workspace = next((r.workspace for r in reversed(records) if r.workspace), None)
    lines = [
        "",
        (
            f"LeadOps demo: {len(records)} simulated weeks after the first train, "
            f"in {seconds / 60:.1f} min"
        ),
        (
            f"  rows ingested {sum(r.ingested for r in records):,}, "
            f"quarantined {sum(r.quarantined for r in records):,}"
        ),
        f"  models trained: {len(trains)}",
        *(f"    - {t}" for t in trains),
        "  PSI (max feature) and the conversion the monitor tested, per week:",
        "    "
        + "  ".join(
            f"w{r.week}:{'-' if r.max_psi is None else f'{r.max_psi:.2f}'}/"
            f"{'-' if r.conversion_rate is None else f'{r.conversion_rate:.1%}'}"
            for r in records
        ),
        f"  rollout steps: {len(rollout_steps)}",
        *(f"    - {step}" for step in rollout_steps),
        f"  final champion: v{final.champion}"
        + (
            f", challenger v{final.challenger} ({final.challenger_stage})"
            if final and final.challenger
            else ""
        )
        if final
        else "  final champion: none",
        f"  deal-value champion: {_value_champion(settings)}",
        "",
        "Where to look:",
        f"  timeline picture:  {picture}" if picture else "  timeline picture:  (not written)",
        (
            "  MLflow UI:         .venv/bin/mlflow ui "
            f"--backend-store-uri {settings.tracking_uri} --port 5000"
        ),
        (
            f"  Prefect UI:        {_prefect_ui()} "
            "(every demo run; `leadops serve` uses the same server)"
        ),
        f"  Evidently reports: {len(reports)} weekly HTML reports"
        + (f", latest {reports[-1]}" if reports else ""),
        f"  Evidently UI:      .venv/bin/evidently ui --workspace {workspace}" if workspace else "",
        f"  registry state:    LEADOPS_HOME={settings.home} .venv/bin/leadops status",
    ]
    return "\n".join(lines)


def _value_champion(settings: Settings) -> str:
    """The value model serving expected revenue, or why there is none."""
    from leadops.models import registry

    name = registry.value_model_name(settings.model_name)
    champion = registry.get_champion(registry.registry_client(settings), name)
    if champion is None:
        return "none (the contract names no value column, or too few won deals so far)"
    return f"{name} v{champion.version} (scores carry expected_value = P(convert) x value)"


def _prefect_ui() -> str:
    """The UI of the server the demo's runs went to (the home's, unless PREFECT_API_URL is set)."""
    import os

    api = os.environ.get("PREFECT_API_URL", "")
    return api.rstrip("/").removesuffix("/api") or "leadops serve"
