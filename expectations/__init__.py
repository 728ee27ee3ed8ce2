"""The bundled contract's Great Expectations suites (JSON), the source of truth for
ingest's checks; installed with the package so a non-editable install finds them."""

from pathlib import Path

SUITES_DIR = Path(__file__).resolve().parent
