"""The @task entry points of the recalibration path (flows/recalibrate.py).

Loading the champion retries (registry I/O); the refit and the gate never do: the same
leads give the same calibrator, and a retried registration would register twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from leadops.clock import utc
from leadops.errors import retry_if_transient
from leadops.inputs.contract import Contract
from leadops.models import events, registry
from leadops.models.model_loader import load_model
from leadops.models.transitions import commit, registry_transaction
from leadops.settings import Settings
from leadops.storage.lake import Lake
from tasks.training import promotion
from tasks.training.dataset import TrainingSet
from tasks.training.recalibration import Recalibration, recalibrate


@task(
    name="load-champion",
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
)
def load_champion(settings: Settings) -> tuple[str, Any]:
    """(version, LeadScoringModel) of the champion: its booster, encoder and calibrator."""
    version = str(
        registry.require_champion(registry.registry_client(settings), settings.model_name).version
    )
    return version, load_model(settings, settings.model_name, version).unwrap_python_model()


@task(name="refit-calibrator", cache_policy=NO_CACHE)
def refit_calibrator(
    settings: Settings, model: Any, training: TrainingSet, contract: Contract
) -> Recalibration:
    result = recalibrate(
        model.booster,
        model.encoder,
        getattr(model, "calibrator", None),
        training,
        contract,
        settings,
    )
    get_run_logger().info(
        "calibrator %s (%s): %s",
        result.calibrator.method,
        result.calibrator.fitted_on.get("why"),
        result.gate.reason,
    )
    return result


@task(name="register-recalibrated", cache_policy=NO_CACHE)
def register_recalibrated(
    settings: Settings,
    lake: Lake,
    model_info: Any,
    run_id: str,
    result: Recalibration,
    as_of: datetime,
) -> str:
    """Register the version and write its gate decision (shadow or archived), journaled as
    the training gate's; the gate's history entry carries ``as_of`` as any train's does."""
    client, name, moment = registry.registry_client(settings), settings.model_name, utc(as_of)
    with registry_transaction(client, lake):
        version = str(
            registry.register_version(
                client,
                name,
                model_info.model_uri,
                run_id,
                model_id=getattr(model_info, "model_id", None),
            ).version
        )
        commit(
            client,
            lake,
            name,
            promotion.gate_ops(client, name, version, result.gate, result.metrics, moment),
        )
    champion = str(registry.require_champion(client, name).version)
    events.gate_decided(
        name,
        version,
        str(result.gate.decision),
        result.gate.reason,
        moment,
        result.metrics,
        champion,
    )
    return version
