"""Faults: a stage killed mid-write (no cleanup at all, like SIGKILL) leaves every table,
log and registry state as before the run or complete, and re-running completes the work
without duplicates.

Each stage runs in a child process (``sys.executable -c``) whose write primitive is
patched to call ``os._exit(137)`` once K writes have gone through: no ``finally``, no
context-manager exit, no lock release. The test process then inspects the lake and the
registry and re-runs the stage as the next scheduled run would.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from leadops.inputs.contract import load_contract
from leadops.models import registry
from leadops.settings import BUNDLED_CONTRACT
from leadops.storage import tables
from leadops.storage.journal import recover
from leadops.storage.lake import Lake
from leadops.storage.local import LocalLake, open_lake
from tests.support.ingest import lead, write_csv
from tests.support.rollout import NAME, add_version, leads, log_scores, model_scores, write_outcomes

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
KILLED = 137

# Run in the child: count calls of the patched primitive, die before call K+1.
PRELUDE = r"""
import json, os, sys
spec = json.loads(sys.argv[1])
sys.path[:0] = [spec["root"]]
calls = {"n": 0}

def dying(real):
    def wrapper(*args, **kwargs):
        if calls["n"] >= spec["kill_after"]:
            os._exit(137)  # no cleanup: journals, locks and temp files stay behind
        calls["n"] += 1
        return real(*args, **kwargs)
    return wrapper
"""


def run_child(body: str, **spec: Any) -> int:
    """Run ``body`` after PRELUDE in a fresh interpreter on this test's LEADOPS_HOME."""
    code = PRELUDE + body
    env = dict(os.environ)
    assert not Path(env["LEADOPS_HOME"]).resolve().is_relative_to(ROOT), (
        "a test home, never the repo's"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps({"root": str(ROOT), **spec})],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode not in (0, KILLED):
        raise AssertionError(f"child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.returncode


def table_names(lake: Lake) -> list[str]:
    return sorted(
        {
            key.split("/_delta_log/")[0].removeprefix("tables/")
            for key in lake.list("tables")
            if "/_delta_log/" in key
        }
    )


def snapshot(lake: Lake, drop: tuple[str, ...] = ()) -> dict[str, pd.DataFrame]:
    """Every table's rows, in a stable order, without columns that differ per run.

    An empty table counts as no table: restoring one the dead run created leaves it empty.
    """
    out = {}
    for name in table_names(lake):
        frame = lake.read_table(name)
        if frame.empty:
            continue
        frame = frame.drop(columns=[c for c in drop if c in frame.columns])
        frame = frame.astype({c: str for c in frame.columns if frame[c].dtype == object})
        out[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


def assert_same(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    assert sorted(left) == sorted(right)
    for name in left:
        pd.testing.assert_frame_equal(left[name], right[name], check_dtype=False, obj=name)


# -- ingest ----------------------------------------------------------------------

INGEST = r"""
from datetime import datetime
from leadops.inputs.contract import load_contract
from leadops.settings import BUNDLED_CONTRACT, get_settings
from leadops.storage.lake import Lake
from leadops.storage.local import open_lake
from tasks.ingest import ingest_files
import leadops.storage.table_stream as table_stream
Lake._write = dying(Lake._write)  # every Delta append / overwrite of every table
table_stream.commit = dying(table_stream.commit)  # gold's commit, after its files are put
settings = get_settings()
ingest_files(settings, open_lake(settings), load_contract(BUNDLED_CONTRACT), spec["files"],
             as_of=datetime.fromisoformat(spec["as_of"]), chunk_rows=2)
"""
INGEST_AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
PER_RUN = (tables.INGESTED_AT, tables.RUN_ID, "ingested_at", "run_id", "first_seen", "recorded_at")


def ingest_inputs(folder: Path) -> tuple[list[str], list[str]]:
    """Two runs' files: the first lays down state the killed second run must keep."""
    first = write_csv(folder / "week1.csv", [lead("L1"), lead("L2")])
    # The update of a known id (a silver merge) comes last: a filtered silver read after a
    # merge in the same run fails on deltalake 1.6 (string vs string_view), a separate bug.
    second = [
        write_csv(
            folder / "a.csv", [lead("L3"), lead("L4", created_at="2030-01-01T00:00:00"), lead("L5")]
        ),
        write_csv(folder / "b.csv", [lead("L6"), lead("L2", form_fills="7")]),
    ]
    return [str(first)], [str(p) for p in second]


def ingest(settings, lake: Lake, files: list[str]):
    from tasks.ingest import ingest_files

    return ingest_files(
        settings, lake, load_contract(BUNDLED_CONTRACT), files, as_of=INGEST_AS_OF, chunk_rows=2
    )


def manifest_rows(lake: Lake) -> pd.DataFrame:
    frame = lake.read_table(tables.MANIFEST)
    return frame.drop(columns=[c for c in frame.columns if "at" in c.split("_") or c in PER_RUN])


def test_ingest_killed_between_table_writes_is_undone_and_rerun_adds_no_duplicates(
    tmp_path: Path, settings
) -> None:
    first, second = ingest_inputs(tmp_path / "landing")
    # The reference: a clean lake, the same two runs, counting the second run's table writes.
    clean = LocalLake(tmp_path / "clean-lake")
    ingest(settings, clean, first)
    import leadops.storage.table_stream as table_stream
    from leadops.storage.lake import Lake as LakeClass

    writes = []
    real_write, real_commit = LakeClass._write, table_stream.commit
    with pytest.MonkeyPatch.context() as patch:  # not the fixture: its undo would drop LEADOPS_HOME
        patch.setattr(
            LakeClass,
            "_write",
            lambda self, name, frame, mode: (
                writes.append(name),
                real_write(self, name, frame, mode),
            )[1],
        )
        patch.setattr(
            table_stream,
            "commit",
            lambda lake, name, *rest: (writes.append(name), real_commit(lake, name, *rest))[1],
        )
        ingest(settings, clean, second)
    assert writes[0] == tables.bronze("leads") and writes[-1] == tables.GOLD_LEADS, writes
    complete = snapshot(clean, PER_RUN)
    assert len(complete[tables.quarantine("leads")]) == 1  # the future lead

    lake = open_lake(settings)
    ingest(settings, lake, first)
    # Right after the first bronze append, and with gold's files put but not committed.
    for kill_after in (1, len(writes) - 1):
        before = snapshot(lake)
        assert (
            run_child(INGEST, files=second, kill_after=kill_after, as_of=INGEST_AS_OF.isoformat())
            == KILLED
        )
        assert lake.exists("_journal/ingest.json"), "the dead run's journal must stay behind"
        assert lake.exists("_locks/ingest.lock")
        # What the next run does first: every table back to exactly before the dead run.
        assert recover(lake, "ingest")
        assert_same(snapshot(lake), before)
        assert len(lake.list(tables.INGEST_REPORTS)) == 1  # the first run's report only

    # (b) killed mid-way (some silver written); the re-run finds the dead run's lock and
    # journal on the lake, undoes it, and completes without duplicates.
    assert (
        run_child(INGEST, files=second, kill_after=len(writes) // 2, as_of=INGEST_AS_OF.isoformat())
        == KILLED
    )
    result = ingest(settings, lake, second)
    assert [f.status for f in result.files] == ["accepted", "accepted"], result.files
    assert_same(snapshot(lake, PER_RUN), complete)
    assert lake.read_table(tables.silver("leads"))["lead_id"].is_unique
    assert not lake.exists("_journal/ingest.json") and not lake.exists("_locks/ingest.lock")
    # Once more: everything is already ingested, nothing changes.
    again = ingest(settings, lake, second)
    assert [f.status for f in again.files] == ["skipped", "skipped"]
    assert_same(snapshot(lake, PER_RUN), complete)


# -- score -----------------------------------------------------------------------

SCORE = r"""
import pickle
from datetime import datetime
from leadops.storage.local import LocalLake
from leadops.logs import prediction_log as plog
from tasks.scoring.batch import RunOptions, run_score
from tasks.scoring.output import ScoresWriter
from tasks.scoring.scorer import ServingSet
from tests.support.scoring import contract, serving_model

if spec["where"] == "log":  # die before prediction-log append K+1
    plog.append_log = dying(plog.append_log)
else:  # die right after the scores file is published, before the run commits
    real_commit = ScoresWriter.commit
    def commit_then_die(self):
        real_commit(self)
        os._exit(137)
    ScoresWriter.commit = commit_then_die
champion, challenger = pickle.loads(open(spec["models"], "rb").read())
serving = ServingSet(serving_model(*champion, version="1"),
                     serving_model(*challenger, version="2", role="challenger", stage="shadow"))
options = RunOptions(scored_at=datetime.fromisoformat(spec["as_of"]), reasons_mode="approx")
run_score(LocalLake(spec["lake"]), contract(), serving, options, spec["chunk_rows"])
"""
SCORE_AS_OF = datetime(2026, 2, 1, tzinfo=UTC)
CHUNK = 500


@pytest.fixture(scope="module")
def scoring(tmp_path_factory: pytest.TempPathFactory):
    from tests.support.scoring import train_tiny, typed_week, write_crm

    folder = write_crm(tmp_path_factory.mktemp("crm"))
    week1 = typed_week(folder, 1)
    models = (
        train_tiny(week1, rounds=5, depth=2, seed=0),
        train_tiny(week1, rounds=8, depth=3, seed=1),
    )
    path = tmp_path_factory.mktemp("models") / "models.pkl"
    path.write_bytes(pickle.dumps(models))
    return week1, models, path


def score(lake: LocalLake, scoring, as_of: datetime):
    from tasks.scoring.batch import RunOptions, run_score
    from tasks.scoring.scorer import ServingSet
    from tests.support.scoring import contract, serving_model

    champion, challenger = scoring[1]
    serving = ServingSet(
        serving_model(*champion, version="1"),
        serving_model(*challenger, version="2", role="challenger", stage="shadow"),
    )
    options = RunOptions(scored_at=as_of, reasons_mode="approx")
    return run_score(lake, contract(), serving, options, CHUNK)


def published_scores(lake: LocalLake) -> pd.DataFrame:
    """Every scores file delivered so far (temp files are not deliveries)."""
    files = sorted((Path(lake.root) / tables.SCORES).glob("[!.]*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files]) if files else pd.DataFrame()


LOG_PER_RUN = ("scored_at", "batch_id")


@pytest.mark.parametrize("where", ["log", "published"])
def test_score_killed_mid_log_or_after_publishing_leaves_one_delivery_per_lead(
    tmp_path: Path, home, scoring, where: str
) -> None:
    from tests.support.scoring import write_silver

    week1 = scoring[0]
    clean = LocalLake(tmp_path / "clean")
    write_silver(clean, [week1])
    reference = score(clean, scoring, SCORE_AS_OF)
    assert (
        reference.log_rows == 2 * week1.num_rows and week1.num_rows > 2 * CHUNK
    )  # several appends
    complete_log = snapshot(clean, LOG_PER_RUN)[tables.PREDICTION_LOG]

    lake = LocalLake(tmp_path / "lake")
    write_silver(lake, [week1])
    before = snapshot(lake)
    rc = run_child(
        SCORE,
        where=where,
        kill_after=1,
        models=str(scoring[2]),
        lake=lake.root,
        as_of=SCORE_AS_OF.isoformat(),
        chunk_rows=CHUNK,
    )
    assert rc == KILLED
    assert lake.exists("_locks/score.lock")  # nothing released it
    delivered = published_scores(lake)
    if where == "log":
        assert delivered.empty  # the dead run published nothing
        recover(lake, "score")  # the next run's first step
        assert_same(snapshot(lake), before)  # the log exactly as before: the partial append undone
    else:
        assert len(delivered) == week1.num_rows  # the file went out: the run's work is complete
        recover(lake, "score")
        log = snapshot(lake, LOG_PER_RUN)[tables.PREDICTION_LOG]
        # Complete, not rolled back: undoing the log under a delivered file would have the
        # next run deliver every lead a second time.
        pd.testing.assert_frame_equal(log, complete_log, check_dtype=False)

    # The next scheduled run (a later as-of, so a different batch id) completes the work.
    rerun = score(lake, scoring, SCORE_AS_OF + timedelta(hours=6))
    delivered = published_scores(lake)
    ids = delivered["lead_id"] if "lead_id" in delivered else delivered.iloc[:, 0]
    assert len(delivered) == week1.num_rows and ids.is_unique, "a lead was delivered twice"
    log = snapshot(lake, LOG_PER_RUN)[tables.PREDICTION_LOG]
    pd.testing.assert_frame_equal(log, complete_log, check_dtype=False)
    assert (rerun.rows == 0) == (where == "published")
    assert not lake.exists("_journal/score.json") and not lake.exists("_locks/score.lock")


# -- rollout ---------------------------------------------------------------------

ROLLOUT = r"""
from datetime import datetime
from mlflow import MlflowClient
from leadops.models import registry
from leadops.inputs.contract import load_contract
from leadops.settings import get_settings
from leadops.storage.local import open_lake
from tasks.rollout.run import advance
for method in ("set_model_version_tag", "set_registered_model_alias",
               "delete_registered_model_alias"):
    setattr(MlflowClient, method, dying(getattr(MlflowClient, method)))
settings = get_settings()
advance(registry.registry_client(settings), open_lake(settings),
        load_contract(settings.contract_path), settings, datetime.fromisoformat(spec["as_of"]))
"""
WEEK0 = datetime(2026, 3, 2, tzinfo=UTC)
LIVE = ("shadow", "canary")


def canary_at_full(settings) -> tuple[Any, Lake, datetime]:
    """Champion v1; challenger v2 at canary 100% with a week of good matured evidence."""
    client = registry.registry_client(settings)
    lake = open_lake(settings)
    contract = load_contract(settings.contract_path)
    champion = add_version(client, "production", 1.0, alias="champion")
    challenger = add_version(client, "canary", 1.0, alias="challenger")
    client.set_model_version_tag(NAME, challenger, "salt", "s")
    client.set_model_version_tag(NAME, challenger, "stage_since", WEEK0.isoformat())
    frame = leads(4000, WEEK0, seed=2)
    scored_at = WEEK0 + timedelta(weeks=1)
    log_scores(
        lake,
        frame,
        scored_at,
        champion,
        challenger,
        model_scores(frame, 1.0, 1002),
        model_scores(frame, 0.4, 102),
        stage="canary",
        fraction=1.0,
        salt="s",
    )
    write_outcomes(lake, contract, frame)
    return client, lake, scored_at + timedelta(days=contract.outcome_window_days + 1)


def registry_view(client) -> dict[str, Any]:
    """Aliases and each version's rollout tags (timestamps left out)."""
    versions = {}
    for mv in client.search_model_versions(f"name='{NAME}'"):
        tags = {k: v for k, v in (mv.tags or {}).items() if k not in ("decided_at",)}
        versions[str(mv.version)] = tags
    aliases = {
        alias: str(v) for alias, v in (client.get_registered_model(NAME).aliases or {}).items()
    }
    return {"aliases": aliases, "versions": versions}


def consistent(view: dict[str, Any]) -> bool:
    """Alias and tags agree: the champion is tagged production, the challenger (if any) is
    the one and only version tagged shadow/canary, and no other version is live."""
    aliases, versions = view["aliases"], view["versions"]
    champion, challenger = aliases.get("champion"), aliases.get("challenger")
    live = [v for v, t in versions.items() if t.get("stage") in LIVE]
    producing = [v for v, t in versions.items() if t.get("stage") == "production"]
    return (
        producing == [champion]
        and champion != challenger
        and live == ([challenger] if challenger else [])
    )


def history_view(lake: Lake) -> list[dict]:
    from leadops.models.transitions import read_history

    return [{k: v for k, v in step.items() if k != "recorded_at"} for step in read_history(lake)]


def test_rollout_step_killed_between_registry_writes_is_completed_by_the_next_run(
    settings, registry_db, tmp_path: Path
) -> None:
    from app.cli.status import registry_status
    from tasks.rollout.run import advance

    contract = load_contract(settings.contract_path)
    # The reference: the same promotion in this process, counting its registry writes.
    client, lake, as_of = canary_at_full(settings)
    start = (registry_view(client), history_view(lake))
    db = Path(registry_db).read_bytes()  # the registry before the promotion
    from mlflow import MlflowClient

    counted = []
    with pytest.MonkeyPatch.context() as patch:  # not the fixture: its undo would drop LEADOPS_HOME
        for method in (
            "set_model_version_tag",
            "set_registered_model_alias",
            "delete_registered_model_alias",
        ):
            real = getattr(MlflowClient, method)
            patch.setattr(
                MlflowClient,
                method,
                (lambda real, method: lambda *a, **k: (counted.append(method), real(*a, **k))[1])(  # noqa: B023
                    real, method
                ),
            )
        plan, done = advance(client, lake, contract, settings, as_of)
    assert plan.action == "promote" and [t.stage for t in done] == ["archived", "production"]
    assert {"set_registered_model_alias", "delete_registered_model_alias"} <= set(counted)
    complete = (registry_view(client), history_view(lake))
    assert consistent(complete[0]) and complete[0]["aliases"] == {"champion": "2"}

    # Kill after each prefix of the writes: first alias / tag, between tags and alias moves, last.
    kill_points = sorted({1, len(counted) // 2, len(counted) - 1})
    for kill_after in kill_points:
        Path(registry_db).write_bytes(db)  # back to the registry before the promotion...
        _reset_rollout_lake(lake, start[1])  # ...and its history
        assert (registry_view(client), history_view(lake)) == start
        rc = run_child(ROLLOUT, kill_after=kill_after, as_of=as_of.isoformat())
        assert rc == KILLED, kill_after
        view = registry_view(client)
        status = registry_status(settings)
        # Half-written state is never silent: either it is consistent, or status names the
        # interrupted transition the next run will complete.
        assert consistent(view) or status.get("interrupted"), (kill_after, view, status)
        if not consistent(view):
            assert status["interrupted"]["version"] == "2"
        plan, _ = advance(client, lake, contract, settings, as_of)
        assert (registry_view(client), history_view(lake)) == complete, kill_after
        assert registry_status(settings).get("interrupted") is None
        assert not lake.exists("_locks/registry.lock")
        # And the run after that has nothing left to do.
        plan, done = advance(client, lake, contract, settings, as_of)
        assert plan.action == "idle" and done == []


def _reset_rollout_lake(lake: Lake, history: list[dict]) -> None:
    from leadops.models.transitions import HISTORY_KEY

    assert history == []
    lake.delete(HISTORY_KEY)
    for key in lake.list("_journal") + lake.list("_locks"):
        lake.delete(key)


# -- score to S3 and through Dask: the delivery guard ---------------------------------

SCORE_DELIVERY = r"""
import pickle
from datetime import datetime
from leadops.storage.local import LocalLake
from leadops.logs import prediction_log as plog
import tasks.scoring.dask_batch as dask_batch
from tasks.scoring.batch import RunOptions, run_score
from tasks.scoring.output import ScoresWriter
from tasks.scoring.scorer import ServingSet
from tests.support.scoring import contract, serving_model

def then_die(real):
    def wrapper(*args, **kwargs):
        real(*args, **kwargs)
        os._exit(137)
    return wrapper

if spec["kill"] == "mid-log":  # some parts written, the log half appended
    plog.append_log = dying(plog.append_log)
elif spec["dask"]:  # right after the folder of parts is published
    dask_batch._publish = then_die(dask_batch._publish)
else:  # right after the one file is uploaded
    ScoresWriter.commit = then_die(ScoresWriter.commit)
client = None
if spec["dask"]:
    from distributed import Client
    client = Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None)
champion, challenger = pickle.loads(open(spec["models"], "rb").read())
serving = ServingSet(serving_model(*champion, version="1"),
                     serving_model(*challenger, version="2", role="challenger", stage="shadow"))
options = RunOptions(scored_at=datetime.fromisoformat(spec["as_of"]), reasons_mode="approx",
                     out=spec["out"], endpoint_url=spec["endpoint"])
run_score(LocalLake(spec["lake"]), contract(), serving, options, spec["chunk_rows"], client=client)
"""


@pytest.fixture(scope="module")
def dask_client():
    from distributed import Client

    client = Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None)
    yield client
    client.close()


def delivered_rows(out: str, endpoint: str | None) -> pd.DataFrame:
    """Every score row delivered under ``out`` (a folder or s3:// prefix); hidden and
    underscore names (temp files, staging, _SUCCESS) are not deliveries."""
    import pyarrow.parquet as pq

    if out.startswith("s3://"):
        import boto3

        bucket, _, prefix = out.removeprefix("s3://").partition("/")
        s3 = boto3.client("s3", endpoint_url=endpoint)
        keys = [
            o["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in page.get("Contents", [])
        ]
        keys = [
            k
            for k in keys
            if k.endswith(".parquet") and not any(p.startswith(("_", ".")) for p in k.split("/"))
        ]
        frames = [
            pq.read_table(pa_buffer(s3.get_object(Bucket=bucket, Key=k)["Body"].read())).to_pandas()
            for k in keys
        ]
    else:
        files = [
            f
            for f in Path(out).rglob("*.parquet")
            if f.is_file()
            if not any(p.startswith(("_", ".")) for p in f.relative_to(out).parts)
        ]
        frames = [pd.read_parquet(f) for f in files]
    return pd.concat(frames) if frames else pd.DataFrame()


def pa_buffer(data: bytes):
    import pyarrow as pa

    return pa.BufferReader(data)


@pytest.mark.parametrize(
    "target, dask, kill",
    [
        ("s3", False, "published"),
        ("local", True, "published"),
        ("s3", True, "published"),
        ("s3", True, "mid-log"),
    ],
)
def test_score_to_s3_or_dask_killed_leaves_one_delivery_per_lead(
    tmp_path: Path,
    home,
    scoring,
    request: pytest.FixtureRequest,
    target: str,
    dask: bool,
    kill: str,
) -> None:
    from tasks.scoring.batch import RunOptions, run_score
    from tasks.scoring.scorer import ServingSet
    from tests.support.scoring import contract, serving_model, write_silver

    endpoint = None
    (tmp_path / "delivered").mkdir()  # --out never creates a missing folder
    out = str(tmp_path / "delivered") + "/"
    if target == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        endpoint = os.environ["LEADOPS_S3_ENDPOINT_URL"]
        out = f"s3://{bucket}/delivered/"
    week1 = scoring[0]
    lake = LocalLake(tmp_path / "lake")
    write_silver(lake, [week1])
    rc = run_child(
        SCORE_DELIVERY,
        kill=kill,
        dask=dask,
        kill_after=1,
        models=str(scoring[2]),
        lake=lake.root,
        as_of=SCORE_AS_OF.isoformat(),
        chunk_rows=CHUNK,
        out=out,
        endpoint=endpoint,
    )
    assert rc == KILLED
    if kill == "published":
        assert (
            len(delivered_rows(out, endpoint)) == week1.num_rows
        )  # it went out, then the run died
    elif target == "s3":
        assert 0 < len(delivered_rows(out, endpoint)) < week1.num_rows  # some parts already there

    # The next scheduled run (a later as-of, so another batch id) recovers, then completes.
    champion, challenger = scoring[1]
    serving = ServingSet(
        serving_model(*champion, version="1"),
        serving_model(*challenger, version="2", role="challenger", stage="shadow"),
    )
    options = RunOptions(
        scored_at=SCORE_AS_OF + timedelta(hours=6),
        reasons_mode="approx",
        out=out,
        endpoint_url=endpoint,
    )
    client = request.getfixturevalue("dask_client") if dask else None
    rerun = run_score(lake, contract(), serving, options, CHUNK, client=client)
    delivered = delivered_rows(out, endpoint)
    assert len(delivered) == week1.num_rows and delivered["lead_id"].is_unique, (
        "a lead was delivered twice"
    )
    assert (rerun.rows == 0) == (kill == "published")
    log = lake.read_table(tables.PREDICTION_LOG)
    assert len(log) == 2 * week1.num_rows  # champion + shadow, once each
    assert not lake.exists("_journal/score.json") and not lake.exists("_locks/score.lock")
