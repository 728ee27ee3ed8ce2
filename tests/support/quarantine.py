"""Helpers for the quarantine tests: a contract with a count column inferred as boolean.

The real history: ``previous`` (earlier contacts) held only 0 and 1 in month 1, so
inference called it boolean; from month 7 the exports held 2..58 and those leads were
quarantined unseen.
"""

from __future__ import annotations

from pathlib import Path

from leadops.inputs.contract import Contract, load_contract
from leadops.settings import BUNDLED_CONTRACT
from tests.support.ingest import lead, write_csv

COUNT_COLUMN = "previous"


def narrow_contract(folder: Path) -> Contract:
    """The bundled contract plus ``previous`` as a boolean, written as the user's own file
    (one line per feature, as `contract init` writes them)."""
    text = BUNDLED_CONTRACT.read_text(encoding="utf-8")
    path = folder / "my-contract.yaml"
    path.write_text(text + f"  - {{name: {COUNT_COLUMN}, role: boolean}}\n", encoding="utf-8")
    return load_contract(path)


def month_export(path: Path, month: int, rows: int, counts: list[int]) -> Path:
    """``rows`` leads of one month; the first len(counts) have those ``previous`` values,
    the rest 0 or 1."""
    leads = []
    for n in range(rows):
        value = counts[n] if n < len(counts) else n % 2
        leads.append(
            lead(
                f"M{month}-{n}",
                created_at=f"2026-{month:02d}-05T10:00:00",
                **{COUNT_COLUMN: str(value)},
            )
        )
    return write_csv(path, leads)
