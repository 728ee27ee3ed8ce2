import logging, sys
from typer.testing import CliRunner
from leadops.cli import app

def handlers():
    out = []
    for name in ["", "prefect", "prefect.flow_runs", "prefect.task_runs", "leadops", "tasks", "flows"]:
        for h in logging.getLogger(name).handlers:
            out.append((name, type(h).__name__, id(getattr(h, "stream", None))))
    return out

def test_dbg(home, tmp_path):
    before = handlers()
    p = tmp_path / "a.csv"; p.write_text("lead_id,created_at,lead_source\nA,2026-01-01,web\n")
    r = CliRunner().invoke(app, ["ingest", str(p), "--as-of", "2026-03-01"])
    after = handlers()
    print("BEFORE", before); print("AFTER", after, id(sys.stderr))
    assert before == after
