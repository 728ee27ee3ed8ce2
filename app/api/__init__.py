"""Online scoring: a FastAPI service that answers "how good is this lead?" in milliseconds.

It serves the same registered models, features, canary routing and reasons as batch
scoring (``tasks.scoring``), and appends every answer to the same prediction log.
Start it with ``leadops api``; ``leadops serve`` starts it beside the Prefect server.
"""
