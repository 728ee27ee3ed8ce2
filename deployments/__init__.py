"""Prefect deployments as data: schedules, parameters, triggers and notification blocks."""
