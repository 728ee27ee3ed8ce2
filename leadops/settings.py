"""One typed, frozen settings object for every layer.

Values come from ``LEADOPS_*`` environment variables or an optional ``.env`` file;
nothing is read or created at import time. Every default path lives under
``home`` so a test or a user isolates a whole run by pointing LEADOPS_HOME elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BUNDLED_CONTRACT = Path(__file__).parent / "contracts" / "synthetic_crm.yaml"


class Settings(BaseSettings):
    """Every knob LeadOps reads. Derived locations are properties, not fields."""

    # strict=False on purpose: environment values arrive as strings ("0.25"), and
    # strict mode would refuse to parse them into floats and ints.
    model_config = SettingsConfigDict(
        env_prefix="LEADOPS_", env_file=".env", frozen=True, extra="forbid"
    )

    home: Path = Field(Path("leadops-home"), description="Root of every default path.")
    lake_root: str | None = Field(None, description="Lake root: a folder or s3://bucket/prefix.")
    artifact_root: str | None = Field(None, description="MLflow artifact root: folder or s3://.")
    landing_root: str | None = Field(None, description="Where CRM exports land: folder or s3://.")
    mlflow_tracking_uri: str | None = Field(None, description="Default sqlite under home.")
    optuna_storage: str | None = Field(None, description="Default journal file under home.")
    s3_endpoint_url: str | None = Field(None, description="S3-compatible endpoint (MinIO, moto).")
    contract_path: Path = Field(BUNDLED_CONTRACT, description="Data contract YAML.")
    model_name: str = "leadops-lead-scorer"

    # training
    trials: int = Field(20, ge=1)
    train_timeout_seconds: float | None = Field(None, gt=0)
    test_window_days: int = Field(14, ge=1)
    cv_folds: int = Field(3, ge=2)
    seed: int = 42
    capacity_fraction: float = Field(0.10, gt=0, lt=1, description="Share of leads sales can work.")
    gate_min_relative_auc_gain: float = Field(0.02, ge=0)
    gate_bootstrap_samples: int = Field(300, ge=50)
    technographics_cap: int = Field(20, ge=1)

    # scoring
    score_chunk_rows: int = Field(100_000, ge=1_000)
    reasons_mode: Literal["exact", "approx", "tiered", "none"] = "exact"

    # monitoring and rollout
    psi_threshold: float = Field(0.25, gt=0)
    conversion_drop_threshold: float = Field(0.10, gt=0, lt=1)
    retrain_cooldown_days: float = Field(7, ge=0)
    rollout_min_matured_per_arm: int = Field(200, ge=1)
    canary_steps: tuple[float, ...] = (0.10, 0.50, 1.00)
    canary_tolerance: float = Field(0.05, ge=0)

    # orchestration
    task_runner: Literal["thread", "dask"] = "thread"
    dask_address: str | None = Field(None, description="Dask scheduler (tcp://host:8786); none: a LocalCluster per run.")
    dask_workers: int = Field(2, ge=1, description="Workers of the LocalCluster started when no dask_address.")

    # online scoring API (leadops api)
    api_keys: SecretStr = Field(SecretStr(""), description="Comma-separated API keys; needed beyond loopback.")
    api_rate_limit_per_minute: int = Field(6000, ge=0, description="Requests per key per minute; 0: no limit.")
    api_max_body_bytes: int = Field(2_000_000, ge=1_024, description="Larger request bodies answer 413.")
    api_max_leads: int = Field(1000, ge=1, le=1000, description="Leads per request.")
    api_reload_seconds: float = Field(5.0, gt=0, description="How often the registry aliases are re-read.")
    api_fallback_column: str | None = Field(None, description="Contract column answered without a model.")
    api_log_flush_seconds: float = Field(2.0, gt=0, description="Prediction-log buffer flush interval.")
    api_log_flush_rows: int = Field(5000, ge=1, description="Flush the buffer early at this many rows.")

    # logging
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = Field(
        None, description="Adds a root log handler at this level; DEBUG/INFO keep library chatter."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

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
        """The folder (or s3:// prefix) the scheduled ingest deployments read: leads/ and outcomes/."""
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
    notify_webhook_url: SecretStr | None = Field(None, description="Generic webhook: one JSON per alert.")
    notify_slack_webhook_url: SecretStr | None = Field(None, description="Slack incoming webhook URL.")
    notify_email_to: str | None = Field(None, description="Alert e-mail recipients, comma-separated.")
    notify_email_from: str = Field("leadops@localhost", description="Sender of alert e-mails.")
    notify_sendgrid_api_key: SecretStr | None = Field(None, description="Key for Prefect's e-mail block.")
    lock_stale_seconds: float = Field(120.0, gt=0, description="A lock not refreshed for this long is taken over.")
    lock_heartbeat_seconds: float = Field(10.0, gt=0, description="How often a lock's holder refreshes it.")


_SCOPED: ContextVar[Settings | None] = ContextVar("leadops_settings", default=None)


@lru_cache(maxsize=1)
def _environment_settings() -> Settings:
    return Settings()


def get_settings() -> Settings:
    """The settings in force: those of an enclosing ``settings_scope``, else the process-wide
    ones, read from the environment once on first use (never at import)."""
    scoped = _SCOPED.get()
    return scoped if scoped is not None else _environment_settings()


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
