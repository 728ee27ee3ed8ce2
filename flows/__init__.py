"""Prefect flows, wiring only: each calls its stage's ``steps`` and returns the stage's typed
result."""
