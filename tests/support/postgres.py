"""A throwaway PostgreSQL on loopback for tests (the helper lives in the app shell, where
bench/bench_crm.py, which must not import tests/, uses it too)."""

from app.demo.local_postgres import USER, Unavailable, ensure_installed, postgres

__all__ = ["USER", "Unavailable", "ensure_installed", "postgres"]
