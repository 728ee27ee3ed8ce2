"""A big landing file streams: ingest memory stays near that of a file 16 times smaller.

Each ingest runs in its own child process so its peak RSS is its own (the test
process holds pytest, fixtures and whatever earlier tests left). The big file
(512 MB, 3.35M leads) is 16 times the small one. Before gold was built incrementally and
streamed, this ingest peaked at 5.4 GB (gold rebuilt from all of silver in memory).
Measured now (Arrow strings from the reader, silver's id index, gold written chunk by
chunk on the write thread): 787 MB for a 32 MB file, 1,088 MB for 512 MB and 1,147 MB
for the 1 GB one; the growth is allocator retention that levels off after ~3M rows
(per-chunk RSS traces in the issue 10 note). The bounds leave room for that noise,
not for any stage that holds the file, silver or gold whole.

The test ingests 512 MB (past that level-off; ~45 s of ingest): a stage holding the
file whole would show at any size. `bench/bench_ingest.py --bytes 1073741824`
measures the 1 GB file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from deltalake import DeltaTable

from app.demo.synthetic import write_big_leads_csv

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
BIG_BYTES = 1 << 29
# Chunks, Arrow buffers and the GX / Delta working sets are per chunk, not per file.
GROWTH_ALLOWED = 2.0
PEAK_LIMIT_MB = 2_400

INGEST = """
import json, resource, sys
from datetime import UTC, datetime
from pathlib import Path
from leadops.inputs.contract import load_contract
from leadops.settings import Settings
from leadops.storage.local import open_lake
from tasks.ingest import ingest_files

settings = Settings(home=Path(sys.argv[1]))
result = ingest_files(settings, open_lake(settings), load_contract(settings.contract_path),
                      [sys.argv[2]], as_of=datetime(2027, 1, 1, tzinfo=UTC))
totals = {k: result.total(k) for k in ("rows_in", "silver", "quarantined", "duplicates")}
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps({"peak_mb": peak_mb,
                  "failed": [f.reason for f in result.files if f.status == "failed"],
                  "seconds": result.seconds, **totals}))
"""


def ingest_in_child(home: Path, source: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", INGEST, str(home), str(source)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def rows_in_table(home: Path, name: str) -> int:
    return DeltaTable(str(home / "lake" / "tables" / name)).to_pyarrow_dataset().count_rows()


def test_a_big_csv_ingests_in_the_memory_of_a_small_one(tmp_path: Path) -> None:
    small_file, big_file = tmp_path / "small.csv", tmp_path / "big.csv"
    small_rows = write_big_leads_csv(small_file, BIG_BYTES // 16)
    big_rows = write_big_leads_csv(big_file, BIG_BYTES)
    assert big_file.stat().st_size >= BIG_BYTES

    small = ingest_in_child(tmp_path / "small-home", small_file)
    big = ingest_in_child(tmp_path / "big-home", big_file)
    print(
        f"\nsmall: {small_rows:,} rows, peak {small['peak_mb']:,} MB; "
        f"big: {big_rows:,} rows ({big_file.stat().st_size / 1e9:.2f} GB), "
        f"peak {big['peak_mb']:,} MB; "
        f"big steps {big['seconds']}"
    )

    assert (big["rows_in"], big["silver"], big["failed"]) == (big_rows, big_rows, [])
    for name in ("bronze/leads", "silver/leads", "gold/leads"):
        assert rows_in_table(tmp_path / "big-home", name) == big_rows, name
    assert big["peak_mb"] < small["peak_mb"] * GROWTH_ALLOWED, (small["peak_mb"], big["peak_mb"])
    assert big["peak_mb"] < PEAK_LIMIT_MB
