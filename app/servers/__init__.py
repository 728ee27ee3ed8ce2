"""Local servers started for a person at a desk: Prefect, MLflow UI, serve, remote runs."""
