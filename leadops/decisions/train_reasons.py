"""Why a train run started: the one list the CLI, the flows, the monitor and its state share.

A reason is recorded on the MLflow run, the model version and the monitor's state, so a
spelling kept in two places would split one cause's history in two.
"""

from __future__ import annotations

MANUAL = "manual"
SCHEDULE = "schedule"  # the weekly deployment; skipped while a rollout collects evidence
DRIFT = "drift"  # a monitored feature's PSI above LEADOPS_PSI_THRESHOLD
CONVERSION_DROP = "conversion-drop"  # matured conversion significantly below the baseline
# Served probabilities off while the ranking holds: a new calibrator answers (train's
# recalibration path); off with the ranking degraded (or unchecked): a full retrain.
MISCALIBRATION = "miscalibration"
RANKING_LOSS = "ranking-loss"
# The deal-value champion's realised / predicted revenue moved (train fits both models).
VALUE_SHIFT = "deal-value-shift"

TRAIN_REASONS = (
    MANUAL,
    SCHEDULE,
    DRIFT,
    CONVERSION_DROP,
    MISCALIBRATION,
    RANKING_LOSS,
    VALUE_SHIFT,
)
