"""Registered model versions: the MLflow registry, their state, loading, transitions, events."""
