"""One typed, frozen settings object for every layer.

Values come from ``LEADOPS_*`` environment variables or an optional ``.env`` file in
the current folder; nothing is read or created at import time. A ``.env`` may hold any
other variable (AWS_PROFILE, PREFECT_API_URL): LeadOps reads its own and leaves the rest.
An unknown ``LEADOPS_*`` variable is warned about once, with the closest setting. Every
default path lives under ``home`` so a test or a user isolates a whole run by pointing
LEADOPS_HOME elsewhere.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

BUNDLED_CONTRACT = Path(__file__).parent / "contracts" / "synthetic_crm.yaml"
ENV_PREFIX = "LEADOPS_"
DOTENV_FILE = ".env"

log = logging.getLogger(__name__)


# How batch scoring explains each lead (the settings default; `leadops score --reasons`).
ReasonsMode = Literal["exact", "approx", "tiered", "none"]


class Settings(BaseSettings):
    """Every knob LeadOps reads. Derived locations are properties, not fields."""

    # strict=False on purpose: environment values arrive as strings ("0.25"), and
    # strict mode would refuse to parse them into floats and ints.
    # extra="forbid" refuses unknown keyword arguments; the .env file keeps only the
    # variables that are settings (dotenv_filtering), so AWS_PROFILE there is left alone.
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=DOTENV_FILE,
        frozen=True,
        extra="forbid",
        dotenv_filtering="only_existing",
    )

    home: Path = Field(
        Path("leadops-home"),
        description="Root of every default path below; relative to the current folder.",
    )
    lake_root: str | None = Field(
        None,
        description="Bronze/silver/gold, quarantine, scores and "
        "the prediction log: a folder or s3://bucket/prefix.",
    )
    artifact_root: str | None = Field(
        None,
        description="MLflow artifacts: a folder or "
        "s3://bucket/prefix (a tracking server's own store when unset).",
    )
    landing_root: str | None = Field(
        None,
        description="Where the scheduled ingest deployments "
        "look for leads/ and outcomes/: a folder or s3://.",
    )
    mlflow_tracking_uri: str | None = Field(
        None, description="MLflow tracking and registry (http://mlflow:5000 for a server)."
    )
    optuna_storage: str | None = Field(
        None, description="Optuna study storage (postgresql://... to share across hosts)."
    )
    s3_endpoint_url: str | None = Field(
        None, description="Any S3-compatible endpoint (MinIO, Ceph, moto); unset: AWS."
    )
    # The CRM's PostgreSQL, both directions (leadops.inputs.db_source, tasks/delivery). The URL
    # holds no password: it is a Prefect parameter of the database ingest deployment.
    crm_database_url: str | None = Field(
        None, description="postgresql://user@host:5432/crm (no password); unset: files only."
    )
    crm_password: SecretStr | None = Field(
        None, description="The CRM database password (else libpq's PGPASSWORD or ~/.pgpass)."
    )
    crm_leads_table: str = Field("leads", description="Table (schema.table) or SELECT of leads.")
    crm_outcomes_table: str = Field("outcomes", description="Table or SELECT of outcomes.")
    crm_watermark_overlap_seconds: float = Field(
        300.0,
        ge=0,
        description="Each pull re-reads this much before the last watermark: a transaction "
        "that committed late, or rows tied on the watermark (5 min outlasts a normal CRM write).",
    )
    crm_connect_timeout_seconds: int = Field(
        10, ge=1, description="Seconds to wait for the CRM database before failing the run."
    )
    crm_scores_mapping: Path | None = Field(
        None,
        description="Mapping file of the CRM scores table (table, columns); with "
        "LEADOPS_CRM_DATABASE_URL every score run upserts its scores there.",
    )
    crm_webhook_url: SecretStr | None = Field(
        None, description="Webhook that receives every score run's scores as signed JSON parts."
    )
    crm_webhook_secret: SecretStr | None = Field(
        None, description="Shared secret of the webhook's X-LeadOps-Signature (HMAC-SHA256)."
    )
    crm_delivery_part_rows: int = Field(
        1_000, ge=1, description="Scores per delivered part (one transaction / one POST)."
    )
    crm_delivery_attempts: int = Field(
        5,
        ge=1,
        description="Tries per part before the run fails (backoff doubles from the next setting).",
    )
    crm_delivery_backoff_seconds: float = Field(
        1.0, ge=0, description="First wait between tries; 1 s and 5 tries ride out ~15 s down."
    )
    contract_path: Path = Field(
        BUNDLED_CONTRACT, description="The data contract YAML of your CRM export."
    )
    expectations_dir: Path | None = Field(
        None,
        description="A folder of your own leads.json / "
        "outcomes.json GX suites (`leadops suites --out DIR`).",
    )
    # Quarantine is watched, not only counted: a contract too narrow for a later export
    # (a count column inferred boolean) once quarantined 17-50% of a month's leads unseen.
    # 5%: well above the few broken rows a healthy export has, low enough to catch that.
    quarantine_warn_share: float = Field(
        0.05, ge=0, le=1, description="Quarantined share of an ingest run that is warned about."
    )
    # The monitor's jump rule: a check under the baseline share over earlier runs whose
    # latest run's share is above the jump share at the lower end of its 95% interval.
    quarantine_jump_share: float = Field(
        0.05, gt=0, le=1, description="A check's share of a run that is a jump (lower bound)."
    )
    quarantine_baseline_share: float = Field(
        0.01, gt=0, le=1, description="A check's share over earlier runs below which it was quiet."
    )
    model_name: str = Field("leadops-lead-scorer", description="Registered model name.")

    # training
    trials: int = Field(20, ge=1, description="Optuna trials per training run.")
    # The deal-value model: few trials, since it must stay seconds beside the conversion
    # search; 200 won deals keep the out-of-time test window's Gini interval usable.
    value_trials: int = Field(6, ge=1, description="Optuna trials of the deal-value model.")
    value_min_won_deals: int = Field(
        200, ge=1, description="Won deals with an amount needed to train the deal-value model."
    )
    # The value gate's non-inferiority margin on normalised Gini (absolute): a newer model
    # that sizes deals better (MAE on log value) may rank them this much worse; 0.02 is
    # about a tenth of the spread of the Gini interval at 200 test deals, so it is a real bar.
    value_gini_margin: float = Field(
        0.02, ge=0, lt=1, description="Normalised Gini a value model may lose and still pass."
    )
    # The monitor calls the value champion shifted when realised / predicted deal amounts
    # differ from 1 significantly and by more than this: 20% is about the spread of the
    # ratio's interval at 200 won deals of the generator's heavy tail, so noise rarely passes.
    value_shift_tolerance: float = Field(
        0.2, gt=0, lt=1, description="Realised / predicted deal value off by more is a shift."
    )
    # Which order the score file and the API list leads in: probability (as before the value
    # model existed) or expected value = P(convert) x E[value | won] when a value champion exists.
    rank_by: Literal["probability", "expected_value"] = Field(
        "probability", description="Order scored leads by probability or by expected value."
    )
    train_timeout_seconds: float | None = Field(
        None, gt=0, description="Search time budget in seconds; unset: no limit."
    )
    test_window_days: int = Field(
        14,
        ge=1,
        description="The newest matured days held out as the test set the gate judges on "
        "(more when they hold fewer than LEADOPS_MIN_TEST_* leads).",
    )
    # The least history training accepts, per class, for its training side and for the
    # gate's test window (which grows back in time until it holds them). 40/40 is Dynamics
    # 365's documented floor for predictive lead scoring; Salesforce Einstein asks 120
    # conversions. Fewer and the gate's intervals rest on a handful of leads.
    min_train_converted: int = Field(
        40, ge=1, description="Converted leads the training side must hold."
    )
    min_train_not_converted: int = Field(
        40, ge=1, description="Not-converted leads the training side must hold."
    )
    min_test_converted: int = Field(
        40, ge=1, description="Converted matured leads the test window grows back to hold."
    )
    min_test_not_converted: int = Field(
        40, ge=1, description="Not-converted matured leads the test window grows back to hold."
    )
    cv_folds: int = Field(3, ge=2, description="Time-ordered cross-validation folds in the search.")
    seed: int = Field(42, description="Seed of the search, bootstrap and SHAP samples.")
    capacity_fraction: float = Field(0.10, gt=0, lt=1, description="Share of leads sales can work.")
    gate_min_relative_auc_gain: float = Field(
        0.02, ge=0, description="Relative ROC-AUC gain a challenger needs over the champion."
    )
    # The relative gain alone blocked a recent model as good at ranking and far better
    # calibrated; these let it through on evidence (tasks/training/gate.py states the rule).
    gate_auc_margin: float = Field(
        0.02,
        ge=0,
        lt=1,
        description=(
            "Non-inferiority margin (absolute ROC-AUC): a new model may be this much below the "
            "champion's AUC (paired bootstrap lower bound) and still pass on a better log-loss; "
            "0.02 (~2.5% of an AUC of 0.8, as the rollout's relative 2%): with 0.01 an equal "
            "model passed in few runs below ~1,000 test leads (tasks/training/gate_simulation.py)."
        ),
    )
    gate_stale_alpha: float = Field(
        0.01,
        gt=0,
        lt=0.5,
        description=(
            "Two-sided error of the champion's calibration test on the gate's test window "
            "(observed vs predicted conversions); below it the champion is stale and a new model "
            "needs only non-inferior AUC and Brier. Small: a false 'stale' lowers the bar."
        ),
    )
    gate_drift_stale_rejections: int = Field(
        2,
        ge=0,
        description=(
            "Rejected drift retrains against one champion after which it counts as stale "
            "(the monitor's persisting drift) and a new model needs only non-inferior AUC and "
            "Brier; 0 turns the route off. 2: the first rejection is often the label delay."
        ),
    )
    gate_bootstrap_samples: int = Field(
        1000,
        ge=1000,
        description=(
            "Paired bootstrap resamples of the gate's intervals "
            "(the 2.5th percentile rests on ~25)."
        ),
    )
    gate_brier_margin: float = Field(
        0.05,
        ge=0,
        lt=1,
        description=(
            "How much higher (relative to the champion's) a new model's Brier score may be."
        ),
    )
    technographics_cap: int = Field(
        20,
        ge=1,
        description="Most frequent technologies kept as features; the rest count as other.",
    )
    # Why: a feature never missing in training got an arbitrary push when absent at scoring
    # (tasks.training.missingness). 10% left each blanked feature's mean push on the synthetic
    # CRM at most 0.15 log-odds (0.81 before; 2% and 5% left 0.43 and 0.22) for a test ROC-AUC
    # of 0.8334 vs 0.8339 unmasked (mean of 3 seeds; the seeds alone spread 0.002).
    missing_mask_share: float = Field(
        0.10,
        ge=0,
        lt=0.5,
        description="Share of each never-missing feature blanked while training, so an "
        "absent value scores as unknown (0: off).",
    )

    # scoring
    score_chunk_rows: int = Field(
        100_000, ge=1_000, description="Rows scored per chunk (bounds memory on big files)."
    )
    reasons_mode: ReasonsMode = Field(
        "exact",
        description="SHAP reasons: exact, approx (approximate: see the README), tiered "
        "(exact for the top tiers) or none (no reasons: fastest).",
    )

    # monitoring and rollout
    psi_threshold: float = Field(
        0.25, gt=0, description="Feature PSI above which drift starts a retrain."
    )
    conversion_drop_threshold: float = Field(
        0.10, gt=0, lt=1, description="Relative drop in matured conversion that starts a retrain."
    )
    retrain_cooldown_days: float = Field(
        7, ge=0, description="One incident starts one retrain per this many days."
    )
    # NoDecode: the validator parses the JSON itself, so a bad value names the variable.
    canary_steps: Annotated[tuple[float, ...], NoDecode] = Field(
        (0.10, 0.50, 1.00),
        description="Traffic shares of the canary steps (JSON list in the variable).",
    )

    @field_validator("canary_steps", mode="before")
    @classmethod
    def _canary_steps_from_json(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            steps = json.loads(value)
        except ValueError:
            steps = None
        numbers = isinstance(steps, list) and all(
            isinstance(s, (int, float)) and not isinstance(s, bool) for s in steps
        )
        if not numbers:
            raise PydanticCustomError(
                "canary_steps_json",
                "expected a JSON list of traffic shares such as [0.1, 0.5, 1.0], got {got}",
                {"got": repr(value)},
            )
        return steps

    @field_validator("canary_steps")
    @classmethod
    def _canary_steps_rise_to_full_traffic(cls, steps: tuple[float, ...]) -> tuple[float, ...]:
        problem = canary_steps_problem(steps)
        if problem:
            raise PydanticCustomError(
                "canary_steps_order",
                "{problem}, such as [0.1, 0.5, 1.0], got {got}",
                {"problem": problem, "got": json.dumps(list(steps))},
            )
        return steps

    # orchestration
    task_runner: Literal["thread", "dask"] = Field(
        "thread", description="dask: run trials and scoring partitions on a Dask cluster."
    )
    dask_address: str | None = Field(
        None, description="Dask scheduler (tcp://host:8786); none: a LocalCluster per run."
    )
    dask_workers: int = Field(
        2, ge=1, description="Workers of the LocalCluster started when no dask_address."
    )

    # online scoring API (leadops api)
    api_keys: SecretStr = Field(
        SecretStr(""), description="Comma-separated API keys; needed beyond loopback."
    )
    api_rate_limit_per_minute: int = Field(
        6000, ge=0, description="Requests per key per minute; 0: no limit."
    )
    api_max_body_bytes: int = Field(
        2_000_000, ge=1_024, description="Larger request bodies answer 413."
    )
    # A client that opens a request and stalls mid-body would hold a connection (and its
    # memory) forever; 10 s is ~100x a 2 MB body's upload time on a slow office line.
    api_body_timeout_seconds: float = Field(
        10.0, gt=0, description="A request body not received within this answers 408."
    )
    api_max_leads: int = Field(1000, ge=1, le=1000, description="Leads per request.")
    api_reload_seconds: float = Field(
        5.0, gt=0, description="How often the registry aliases are re-read."
    )
    api_fallback_column: str | None = Field(
        None, description="Contract column answered without a model."
    )
    api_log_flush_seconds: float = Field(
        2.0, gt=0, description="Prediction-log buffer flush interval."
    )
    api_log_flush_rows: int = Field(
        5000, ge=1, description="Flush the buffer early at this many rows."
    )

    # the home's background Prefect server (app.servers.home_server)
    prefect_server_idle_minutes: float = Field(
        120,
        ge=0,
        description="Stop a home's background Prefect server after this many minutes "
        "with no command connected and no flow run running, pending or paused; 0: never. "
        "Two hours outlast a lunch break between commands, not a forgotten trial.",
    )

    # logging
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = Field(
        None, description="Adds a root log handler at this level; DEBUG/INFO keep library chatter."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    # statistical decisions (leadops.decisions.verdict; error rates measured by
    # bench/bench_decisions.py)
    decision_alpha: float = Field(
        0.05,
        gt=0,
        lt=0.5,
        description=(
            "One-sided error of each rollout bound, per weekly look: PASS needs the lower bound of "
            "challenger - champion above -margin."
        ),
    )
    decision_fail_alpha: float = Field(
        0.0005,
        gt=0,
        lt=0.5,
        description=(
            "One-sided error of the upper bound, per weekly look: "
            "FAIL (the challenger is archived) "
            "needs it below 0. Small, because a rollout looks weekly over four steps."
        ),
    )
    rollout_noninferiority_margin: float = Field(
        0.02,
        ge=0,
        lt=1,
        description=(
            "How much lower (relative to the champion's ROC-AUC) a challenger's AUC "
            "may be and still pass."
        ),
    )
    rollout_precision_margin: float | None = Field(
        None,
        ge=0,
        lt=1,
        description=(
            "Relative non-inferiority margin on precision at capacity; none: it only fails a step "
            "when significantly worse."
        ),
    )
    # On by default: at a few hundred leads a month a step that starts from nothing waits
    # months; a worse challenger still cannot be promoted more often than the gate passes it.
    rollout_gate_rows: bool = Field(
        True,
        description=(
            "Each rollout step tests the gate's paired test-window rows together with the "
            "step's own matured leads (leadops.decisions.gate_evidence)."
        ),
    )
    rollout_max_wait_days: float = Field(
        56,
        gt=0,
        description=("A rollout step still undecided after this many days stops as inconclusive."),
    )
    drift_family_alpha: float = Field(
        0.01,
        gt=0,
        lt=1,
        description=(
            "Chance that an unchanged distribution fires the drift trigger in one monitor run, "
            "all features together (Bonferroni)."
        ),
    )
    drift_min_batch_rows: int = Field(
        300,
        ge=100,
        description=(
            "Smaller latest batches are pooled with the batches before them until this many rows."
        ),
    )
    conversion_alpha: float = Field(
        0.009,
        gt=0,
        lt=0.5,
        description=(
            "Chance that a stable conversion rate is called a drop in one monitor run (all "
            "pools together). With drift's 1%, 52 weekly runs start under one false retrain "
            "a year."
        ),
    )
    conversion_power: float = Field(
        0.8,
        gt=0.5,
        lt=1,
        description=(
            "Power at which the detectable drop is computed; no-drop is only claimed when it is "
            "at most conversion_drop_threshold."
        ),
    )
    conversion_lookback_weeks: int = Field(
        26, ge=1, description=("Matured cohorts of the champion the conversion monitor may pool.")
    )
    conversion_early_outcomes: bool = Field(
        True,
        description=(
            "Count conversions already seen among leads whose outcome window is still open, "
            "against the share the champion's conversion-delay curve expects by their age "
            "(a drop shows sooner). Turn off when outcome exports only carry closed leads."
        ),
    )
    # Calibration watch (a real champion served ~0.04 for 18 months to leads converting at
    # 40-60%; the conversion monitor only looks for drops, and a 10x rise is as wrong).
    calibration_miss_threshold: float = Field(
        0.25,
        gt=0,
        description=(
            "Relative miss |observed / predicted conversions - 1| of the served probabilities "
            "that, when also significant, starts a recalibration. 25%: a smaller miss that is "
            "significant only because of volume (3,000 leads a week) is reported, not acted on."
        ),
    )
    calibration_alpha: float = Field(
        0.002,
        gt=0,
        lt=0.5,
        description=(
            "Chance that calibrated probabilities are called miscalibrated in one monitor run "
            "(both directions, all pools together). Small beside drift's 1% and conversion's "
            "0.9%: a 10x miss is found at any alpha, and each false alarm is a retrain."
        ),
    )
    recalibration_isotonic_min_each: int = Field(
        1000,
        ge=10,
        description=(
            "Recalibration fits isotonic regression once both the converted and the other "
            "matured leads number this many, else Platt scaling (isotonic overfits with fewer "
            "than about a thousand; Niculescu-Mizil & Caruana 2005)."
        ),
    )
    recalibration_window_days: int = Field(
        56,
        ge=7,
        description=(
            "Recalibration fits on the matured leads created in this many days before the "
            "test window (recent: the miss is in today's funnel, not last year's)."
        ),
    )

    @field_validator("lake_root", "artifact_root", "landing_root")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @property
    def lake_uri(self) -> str:
        """Where bronze/silver/gold, quarantine and the prediction log live."""
        return self.lake_root or str((self.home / "lake").resolve())

    @property
    def landing_uri(self) -> str:
        """The folder (or s3:// prefix) scheduled ingest deployments read: leads/ and outcomes/."""
        return self.landing_root or str((self.home / "landing").resolve())

    @property
    def artifact_uri(self) -> str:
        return self.artifact_root or str((self.home / "artifacts").resolve())

    @property
    def tracking_uri(self) -> str:
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{(self.home / 'mlflow.db').resolve()}"

    @property
    def optuna_storage_uri(self) -> str:
        # A journal file lets several processes on one host share a study without
        # SQLite's write locking (Optuna FAQ); PostgreSQL serves several hosts.
        return self.optuna_storage or f"journal:{(self.home / 'optuna' / 'journal.log').resolve()}"

    @property
    def reports_dir(self) -> Path:
        return (self.home / "reports").resolve()

    # alerts (Prefect automations + notification blocks; a channel stays off while unset), locks
    notify_webhook_url: SecretStr | None = Field(
        None, description="Generic webhook: one JSON per alert."
    )
    notify_slack_webhook_url: SecretStr | None = Field(
        None, description="Slack incoming webhook URL."
    )
    notify_email_to: str | None = Field(
        None, description="Alert e-mail recipients, comma-separated."
    )
    notify_email_from: str = Field("leadops@localhost", description="Sender of alert e-mails.")
    notify_sendgrid_api_key: SecretStr | None = Field(
        None, description="Key for Prefect's e-mail block."
    )
    lock_stale_seconds: float = Field(
        120.0, gt=0, description="A lock not refreshed for this long is taken over."
    )
    lock_heartbeat_seconds: float = Field(
        10.0, gt=0, description="How often a lock's holder refreshes it."
    )
    approval: Literal["none", "before-canary", "before-production"] = Field(
        "none", description="A person approves the challenger before this rollout step."
    )
    approval_timeout_seconds: int = Field(
        86_400, gt=0, description="How long a paused rollout run waits for an approval."
    )
    watch_days: int = Field(
        14,
        ge=0,
        description="Days the previous champion keeps scoring in shadow after a promotion.",
    )
    drift_reports_keep: int = Field(
        60,
        ge=0,
        description="Drift reports (HTML, ~1 MB each beside one shared Evidently script) kept "
        "in the artifact store, newest first; older ones are deleted after each monitor run. "
        "0 keeps all.",
    )
    # The model pages (leadops report): `leadops serve` serves <home>/reports on this port so a
    # page keeps one bookmarkable address; 8585 is unused by Prefect (4200), MLflow (5000)
    # and the API (a free port). 0 = any free port.
    report_port: int = Field(
        8585,
        ge=0,
        le=65535,
        description="Port where `leadops serve` serves the model pages (`leadops report`); "
        "0 = any free port.",
    )


def canary_steps_problem(steps: tuple[float, ...]) -> str | None:
    """What is wrong with the canary traffic shares, or None when they are usable.

    Passing the last step promotes the challenger to production
    (``tasks.rollout.state_machine.next_position``), so the last step must be full traffic:
    otherwise production would start at 100% without a canary at 100%.
    """
    if not steps:
        return "expected at least one traffic share"
    if not all(0 < share <= 1 for share in steps):
        return "expected each traffic share in (0, 1]"
    if any(a >= b for a, b in pairwise(steps)):
        return "expected strictly increasing traffic shares"
    if steps[-1] != 1.0:
        return "expected the last traffic share to be 1.0 (passing it promotes to production)"
    return None


def check_home(home: Path) -> Path:
    """The home, resolved, once it is known to be a usable folder (it need not exist yet).

    Raises:
        LeadOpsError: one line naming LEADOPS_HOME when it, or the folder it would be made
            in, is a file or not writable (instead of "[Errno 17] File exists" later).
    """
    from leadops.errors import LeadOpsError

    resolved = home.expanduser().resolve()
    place = resolved
    while not place.exists() and place != place.parent:
        place = place.parent
    if not place.is_dir():
        what = "is a file" if place == resolved else f"is inside {place}, which is a file"
        raise LeadOpsError(
            f"LEADOPS_HOME {resolved} {what}, not a folder: set LEADOPS_HOME to a folder"
        )
    if not os.access(place, os.W_OK | os.X_OK):
        raise LeadOpsError(
            f"LEADOPS_HOME {resolved}: {place} is not writable: "
            "set LEADOPS_HOME to a folder you can write"
        )
    return resolved


def home_is_new(home: Path) -> bool:
    """True when the home folder does not exist yet or holds nothing: no LeadOps state."""
    resolved = home.expanduser().resolve()
    return not resolved.is_dir() or not any(resolved.iterdir())


_SCOPED: ContextVar[Settings | None] = ContextVar("leadops_settings", default=None)


@lru_cache(maxsize=1)
def _environment_settings() -> Settings:
    warn_unknown_variables()
    return Settings()


def get_settings() -> Settings:
    """The settings in force: those of an enclosing ``settings_scope``, else the process-wide
    ones, read from the environment once on first use (never at import)."""
    scoped = _SCOPED.get()
    return scoped if scoped is not None else _environment_settings()


def unknown_variables(
    environ: dict[str, str] | None = None, dotenv: Path | None = None
) -> dict[str, str | None]:
    """Every ``LEADOPS_*`` variable, in the environment or the .env file, that is no setting.

    Returns:
        The variable as written, mapped to the closest setting's variable (or None).
    """
    variables = os.environ if environ is None else environ
    dotenv = Path(DOTENV_FILE) if dotenv is None else dotenv
    written = [name for name in variables if name.upper().startswith(ENV_PREFIX)]
    if dotenv.is_file():
        from dotenv import dotenv_values

        written += [name for name in dotenv_values(dotenv) if name.upper().startswith(ENV_PREFIX)]
    known = [f"{ENV_PREFIX}{field}".upper() for field in Settings.model_fields]
    unknown = {}
    for name in dict.fromkeys(written):
        if name.upper() not in known:
            close = difflib.get_close_matches(name.upper(), known, n=1, cutoff=0.6)
            unknown[name] = close[0] if close else None
    return unknown


_WARNED: set[str] = set()


def warn_unknown_variables() -> None:
    """Warn once per process about each misspelt or retired ``LEADOPS_*`` variable."""
    for name, closest in unknown_variables().items():
        if name in _WARNED:
            continue
        _WARNED.add(name)
        hint = f"; did you mean {closest}?" if closest else ""
        log.warning("%s is not a LeadOps setting and is ignored%s", name, hint)


# Tests and callers that change LEADOPS_* variables re-read them with get_settings.cache_clear().
get_settings.cache_clear = _environment_settings.cache_clear  # type: ignore[attr-defined]


@contextmanager
def settings_scope(settings: Settings) -> Iterator[Settings]:
    """Run the enclosed work (flows, tasks, plain functions) with ``settings``.

    A caller with its own knobs (the demo's evidence size and search budget) passes a copy,
    ``settings.model_copy(update=...)``, instead of writing LEADOPS_* variables into the
    process environment. Prefect's thread-pool task runner copies the context into each
    task, so the tasks of a flow run started inside the scope see the same settings.
    """
    token = _SCOPED.set(settings)
    try:
        yield settings
    finally:
        _SCOPED.reset(token)
