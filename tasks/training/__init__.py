"""The train stage: dataset and split, Optuna search over XGBoost, calibration, the gate,
registration."""
