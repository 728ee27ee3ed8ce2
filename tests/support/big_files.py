"""Large landing files for memory tests, written fast: one generated block repeated.

Each repetition prefixes the block's lead ids with its number, so every row is a
distinct lead (silver and gold grow with the file, as with a real export).
"""

from __future__ import annotations

import io
from pathlib import Path

BLOCK_LEADS = 50_000


def write_leads_csv(path: Path, target_bytes: int, seed: int = 11) -> int:
    """Write a leads CSV of at least ``target_bytes``; returns its number of rows."""
    from leadops.app import synthetic

    leads, _ = synthetic.generate_week(
        synthetic.GeneratorConfig(weeks=1, leads_per_week=BLOCK_LEADS, seed=seed), 1
    )
    flags = leads.select_dtypes(bool).columns
    leads = leads.assign(**{c: leads[c].map({True: "true", False: "false"}) for c in flags})
    text = io.StringIO()
    leads.to_csv(text, index=False, date_format="%Y-%m-%dT%H:%M:%S", lineterminator="\n")
    header, _, body = text.getvalue().encode().partition(b"\n")
    lines = body.rstrip(b"\n").split(b"\n")
    assert all(line.startswith(b"L") for line in lines[:3]), "lead_id must be the first column"
    rows, written = 0, 0
    with path.open("wb") as out:
        out.write(header + b"\n")
        repetition = 0
        while written < target_bytes:
            prefix = b"R%04d" % repetition
            chunk = b"\n".join(prefix + line for line in lines) + b"\n"
            out.write(chunk)
            written, rows, repetition = written + len(chunk), rows + len(lines), repetition + 1
    return rows
