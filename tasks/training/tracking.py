"""MLflow logging for a training run: lineage, params, metrics, trials, plots, model.

Everything goes to one parent run per training. Trials are logged as one table
(optuna/trials.csv), not as nested runs: hundreds of nested runs clutter the UI
and cost ~36 ms each on SQLite, and the table is what people compare anyway.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from leadops.inputs.contract import Contract
from leadops.models.cutpoints import METADATA_KEY
from leadops.models.model_loader import use_tracking_store
from leadops.models.registry import registry_client
from leadops.settings import Settings

EXPERIMENT = "leadops-train"
_MODEL_REQUIREMENTS = ("xgboost-cpu", "pandas", "numpy", "pyarrow", "mlflow")


def configure_mlflow(settings: Settings) -> str:
    """Point MLflow at the settings' store and return the experiment id (created once)."""
    from mlflow.exceptions import MlflowException

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    use_tracking_store(settings)
    client = registry_client(settings)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is not None:
        return experiment.experiment_id
    try:
        return client.create_experiment(EXPERIMENT, artifact_location=artifact_location(settings))
    except MlflowException:  # another run created it first
        return client.get_experiment_by_name(EXPERIMENT).experiment_id


def artifact_location(settings: Settings) -> str | None:
    """Where the experiment keeps artifacts; None lets a tracking server decide.

    A remote tracking server (http/https) with no LEADOPS_ARTIFACT_ROOT set keeps its own
    artifact store (``--artifacts-destination``, proxied): clients then need no bucket
    credentials, and a local default path would be wrong on every other host.
    """
    if settings.artifact_root is None and settings.tracking_uri.startswith(("http://", "https://")):
        return None
    root = settings.artifact_uri
    if "://" not in root:
        root = Path(root).resolve().as_uri()
    return f"{root}/{EXPERIMENT}"


def git_commit() -> str:
    """The code version: ``git rev-parse HEAD`` of this checkout, or "unknown"."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return done.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def file_sha256(path: str | Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "unknown"


def lineage_tags(
    contract: Contract,
    reason: str,
    gold_version: int | None,
    digest: str,
    flow_run_id: str | None,
    extra: dict[str, Any] | None = None,
) -> dict[str, str]:
    """Where the model came from: data version and digest, contract, code, trigger."""
    commit = git_commit()
    tags = {
        "leadops.trigger_reason": reason,
        "leadops.gold_table": "gold/leads",
        "leadops.gold_version": str(gold_version),
        "leadops.data_digest": digest,
        "leadops.contract": contract.name,
        "leadops.contract_sha256": file_sha256(contract.source),
        "leadops.git_commit": commit,
        "mlflow.source.git.commit": commit,
    }
    if flow_run_id:
        tags["leadops.prefect_flow_run_id"] = flow_run_id
    tags.update({k: str(v) for k, v in (extra or {}).items()})
    return tags


def start_run(settings: Settings, reason: str, tags: dict[str, str]) -> str:
    """Create the parent run for one training; returns its id."""

    experiment_id = configure_mlflow(settings)
    name = f"train-{reason}-{time.strftime('%Y%m%d-%H%M%S')}"
    return registry_client(settings).create_run(experiment_id, run_name=name, tags=tags).info.run_id


def end_run(settings: Settings, run_id: str, failed: bool = False) -> None:

    registry_client(settings).set_terminated(run_id, "FAILED" if failed else "FINISHED")


@contextmanager
def training_run(settings: Settings, reason: str, tags: dict[str, str]) -> Iterator[str]:
    """One parent run around a training; marked FAILED if the body raises."""
    run_id = start_run(settings, reason, tags)
    try:
        yield run_id
    except BaseException:
        end_run(settings, run_id, failed=True)
        raise
    end_run(settings, run_id)


def log_values(
    settings: Settings,
    run_id: str,
    params: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
    tags: dict[str, str] | None = None,
) -> None:
    """Params, metrics and tags in one batch call (one round trip, one transaction)."""
    from mlflow.entities import Metric, Param, RunTag

    now = int(time.time() * 1000)
    registry_client(settings).log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in (metrics or {}).items() if v is not None],
        params=[Param(k, str(v)[:6000]) for k, v in (params or {}).items()],
        tags=[RunTag(k, str(v)) for k, v in (tags or {}).items()],
    )


def log_files(
    settings: Settings, run_id: str, texts: dict[str, str], figures: dict[str, Any]
) -> None:
    """Text artifacts (path → content) and matplotlib figures (path → Figure)."""

    client = registry_client(settings)
    for path, text in texts.items():
        client.log_text(run_id, text, path)
    for path, figure in figures.items():
        client.log_figure(run_id, figure, path)


def study_summary(search: Any, storage_uri: str) -> str:
    """The Optuna study as JSON (storage scheme only: an RDB URL may hold a password)."""
    scheme = storage_uri.split(":", 1)[0]
    return json.dumps(
        {
            "study_name": search.study_name,
            "storage": scheme,
            "best_value": search.best_value,
            "best_params": search.best_params,
            "best_rounds": search.best_rounds,
            "trials": search.counts,
        },
        indent=2,
    )


def log_model(
    settings: Settings,
    run_id: str,
    booster: Any,
    encoder: Any,
    contract: Contract,
    input_example: Any,
    score_cutpoints: list[float] | None = None,
    calibrator: Any = None,
) -> Any:
    """Log the pyfunc model (booster + encoder artifacts) with signature and example.

    ``calibrator`` (``leadops.models.calibrator.Calibrator``, a recalibrated version's) is logged
    as a third artifact and applied to the booster's log-odds by every scorer.

    ``score_cutpoints`` (``leadops.models.cutpoints``, from the test-window scores) go into the
    MLmodel metadata: online scoring cuts deciles and tiers from them.

    Returns:
        MLflow's ModelInfo (``model_uri``, ``model_id``).
    """
    import mlflow

    from tasks.training.model import LeadScoringModel, input_signature, save_parts

    configure_mlflow(settings)
    # MLflow warns about cloudpickle for every Python-object model; ours pickles only the
    # LeadScoringModel class (the booster and encoder are separate files), and models are
    # loaded only from the configured registry, so the warning is silenced, not ignored.
    pyfunc_log = logging.getLogger("mlflow.pyfunc")
    with (
        tempfile.TemporaryDirectory() as folder,
        mlflow.start_run(run_id=run_id),
        _level(pyfunc_log, logging.ERROR),
    ):
        artifacts = save_parts(booster, encoder, Path(folder), calibrator)
        return mlflow.pyfunc.log_model(
            name="model",
            python_model=LeadScoringModel(),
            artifacts=artifacts,
            signature=input_signature(contract),
            input_example=input_example,
            # Pinned from this environment: inferring them would run the model in a subprocess.
            pip_requirements=[f"{p}=={metadata.version(p)}" for p in _MODEL_REQUIREMENTS],
            metadata={
                "contract": contract.name,
                "needs": "the leadops package (tasks.training.model)",
                **({METADATA_KEY: score_cutpoints} if score_cutpoints else {}),
            },
        )


@contextmanager
def _level(logger: logging.Logger, level: int) -> Iterator[None]:
    before = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(before)
