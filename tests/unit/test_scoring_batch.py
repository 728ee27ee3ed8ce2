"""A score run end to end on a small lake: output, prediction log, shadow, canary,
reruns, a killed run, bad and unusual input."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadops.logs import prediction_log as plog
from leadops.storage import tables
from leadops.storage.local import LocalLake
from tasks.scoring.batch import RunOptions, run_score
from tasks.scoring.batch_file import load_batch_file
from tasks.scoring.scorer import ServingSet
from tasks.scoring.sources import BatchError
from tests.support.scoring import (
    contract,
    serving_model,
    train_tiny,
    typed_week,
    write_crm,
    write_silver,
)

AS_OF = datetime(2026, 2, 1, tzinfo=UTC)  # after both generated weeks
C = contract()


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory):
    folder = write_crm(tmp_path_factory.mktemp("crm"))
    week1, week2 = typed_week(folder, 1), typed_week(folder, 2)
    champion = train_tiny(week1, rounds=15, depth=3, seed=0)
    challenger = train_tiny(week1, rounds=25, depth=4, seed=1)
    return folder, week1, week2, champion, challenger


@pytest.fixture
def lake(tmp_path: Path, crm) -> LocalLake:
    lake = LocalLake(tmp_path / "lake")
    write_silver(lake, [crm[1]])
    return lake


def _serving(crm, stage: str | None = None, fraction: float = 0.0) -> ServingSet:
    champion = serving_model(*crm[3], version="1")
    if stage is None:
        return ServingSet(champion)
    return ServingSet(
        champion,
        serving_model(*crm[4], version="2", role="challenger", stage=stage, fraction=fraction),
    )


def _run(lake, serving, chunk_rows=1000, mode="exact", **kw):
    file_batch = kw.pop("file_batch", None)
    options = RunOptions(scored_at=kw.pop("as_of", AS_OF), reasons_mode=mode, **kw)
    return run_score(lake, C, serving, options, chunk_rows, file_batch=file_batch)


def test_every_unscored_silver_lead_gets_one_row_with_reasons(lake, crm) -> None:
    result = _run(lake, _serving(crm))
    out = pd.read_parquet(result.output)
    assert result.rows == len(out) == crm[1].num_rows == out[C.entity_id].nunique()
    assert result.output == lake.uri(f"scores/{result.batch_id}.parquet")
    counts = out["decile"].value_counts().sort_index()
    assert (
        counts.index.tolist() == list(range(1, 11)) and counts.between(120, 180).all()
    )  # ties move a few
    best = out.sort_values("score", ascending=False)
    assert best["decile"].is_monotonic_increasing  # a higher score never gets a worse decile
    assert (best["tier"].head(100) == "A").all() and (best["tier"].tail(100) == "D").all()
    assert set(out["tier"]) == {"A", "B", "C", "D"}
    assert out[["reason_1", "reason_2", "reason_3"]].notna().all().all()
    assert (out["model_version"] == "1").all() and (out["arm"] == "champion").all()
    assert (out["scored_at"] == pd.Timestamp(AS_OF)).all()
    logged = lake.read_table(tables.PREDICTION_LOG)
    assert len(logged) == result.log_rows == len(out) and logged[plog.SERVED].all()


def test_shadow_challenger_is_logged_but_never_served(lake, crm) -> None:
    result = _run(lake, _serving(crm, "shadow"))
    out = pd.read_parquet(result.output)
    assert (out["model_version"] == "1").all() and result.arms == {"champion": len(out)}
    logged = lake.read_table(tables.PREDICTION_LOG)
    shadow = logged[logged[plog.MODEL_VERSION] == "2"]
    assert len(shadow) == len(out) and not shadow[plog.SERVED].any()
    assert set(shadow[plog.STAGE]) == {"shadow"} and set(shadow[plog.ROLE]) == {"challenger"}
    assert not np.allclose(
        shadow[plog.SCORE].to_numpy(), out.sort_values(C.entity_id)["score"].to_numpy()
    )


def test_canary_routes_its_share_and_logs_both_scores(lake, crm) -> None:
    result = _run(lake, _serving(crm, "canary", fraction=0.3))
    out = pd.read_parquet(result.output).set_index(C.entity_id)
    share = (out["arm"] == "canary").mean()
    assert abs(share - 0.3) < 4 * np.sqrt(0.3 * 0.7 / len(out))
    assert ((out["arm"] == "canary") == (out["model_version"] == "2")).all()
    logged = lake.read_table(tables.PREDICTION_LOG)
    assert len(logged) == 2 * len(out)
    served = logged[logged[plog.SERVED]].set_index(plog.ENTITY_ID).loc[out.index]
    assert len(served) == len(out)  # exactly one served score per lead
    assert (served[plog.MODEL_VERSION] == out["model_version"]).all()
    np.testing.assert_allclose(served[plog.SCORE], out["score"])


def test_rerun_scores_nothing_and_new_leads_only_afterwards(lake, crm) -> None:
    first = _run(lake, _serving(crm))
    second = _run(lake, _serving(crm))
    assert second.rows == 0 and second.output is None and "already scored" in second.skipped
    assert len(lake.read_table(tables.PREDICTION_LOG)) == first.log_rows
    write_silver(lake, [crm[1], crm[2]])  # the next week is ingested
    third = _run(lake, _serving(crm))
    assert third.rows == crm[2].num_rows
    assert set(pd.read_parquet(third.output)[C.entity_id]) == set(
        crm[2].column(C.entity_id).to_pylist()
    )


def test_two_runs_at_once_do_not_double_the_log(lake, crm) -> None:
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(_run(lake, _serving(crm)))) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.rows for r in results) == [0, crm[1].num_rows]
    assert len(lake.read_table(tables.PREDICTION_LOG)) == crm[1].num_rows


def test_a_run_killed_mid_batch_leaves_the_log_as_before(lake, crm, monkeypatch) -> None:
    write_silver(lake, [crm[1], crm[2]])
    _run(lake, _serving(crm), as_of=datetime(2026, 1, 12, tzinfo=UTC))  # week 1 only
    before = lake.read_table(tables.PREDICTION_LOG)
    calls = {"n": 0}
    real_append = plog.append_log

    def dying_append(lake_, rows):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed")
        return real_append(lake_, rows)

    monkeypatch.setattr(plog, "append_log", dying_append)
    with pytest.raises(KeyboardInterrupt):
        _run(lake, _serving(crm), chunk_rows=1000)
    after = lake.read_table(tables.PREDICTION_LOG)
    assert len(after) == len(before) == crm[1].num_rows
    assert calls["n"] == 2
    outputs = sorted(p.name for p in (Path(lake.root) / "scores").iterdir())
    assert len(outputs) == 1 and outputs[0].startswith("20260112")  # no output, no temp file left


def test_leads_created_after_as_of_wait_for_a_later_run(lake, crm) -> None:
    write_silver(lake, [crm[1], crm[2]])
    result = _run(lake, _serving(crm), as_of=datetime(2026, 1, 12, tzinfo=UTC))
    assert result.rows == crm[1].num_rows


def test_chunked_run_gives_the_same_scores_and_deciles(tmp_path, crm) -> None:
    outs = []
    for chunk_rows in (1000, 100_000):
        lake = LocalLake(tmp_path / f"lake{chunk_rows}")
        write_silver(lake, [crm[1]])
        outs.append(
            pd.read_parquet(_run(lake, _serving(crm), chunk_rows=chunk_rows).output)
            .sort_values(C.entity_id)
            .reset_index(drop=True)
        )
    pd.testing.assert_frame_equal(outs[0], outs[1])


def test_unseen_categories_and_new_technologies_score(tmp_path, lake, crm) -> None:
    raw = pd.read_csv(crm[0] / "leads" / "leads_week_02.csv", dtype=str).head(50)
    raw["lead_source"] = "tiktok"
    raw["industry"] = "space mining"
    raw["technographics"] = '["Clay","QuantumCRM"]'
    path = tmp_path / "new_world.csv"
    raw.to_csv(path, index=False)
    batch = load_batch_file(str(path), C, 1000)
    result = _run(
        lake, _serving(crm), file_batch=batch, out=str(tmp_path / "scored.csv"), output_format="csv"
    )
    out = pd.read_csv(result.output)
    assert len(out) == 50 and out["score"].between(0, 1).all()
    reasons = " ".join(out[["reason_1", "reason_2", "reason_3"]].astype(str).to_numpy().ravel())
    assert "tiktok" not in reasons  # an unseen value is "another value", never a made-up column


def test_a_batch_file_scored_twice_is_logged_once(tmp_path, lake, crm) -> None:
    batch = load_batch_file(str(crm[0] / "leads" / "leads_week_02.csv"), C, 1000)
    first = _run(lake, _serving(crm), file_batch=batch)
    second = _run(lake, _serving(crm), file_batch=batch)
    assert first.rows == crm[2].num_rows and second.rows == 0
    assert len(lake.read_table(tables.PREDICTION_LOG)) == crm[2].num_rows
    # The file's own leads are kept once, for the monitor (they are in no silver table).
    kept = lake.read_table(tables.SCORED_FILE_LEADS)
    assert len(kept) == crm[2].num_rows and set(kept[tables.BATCH_ID]) == {first.batch_id}


def test_the_monitor_reads_a_scored_files_own_leads(tmp_path, crm) -> None:
    from tasks.monitoring.window import served_window, with_features

    lake = LocalLake(tmp_path / "lake")
    write_silver(lake, [crm[1]])  # week 1 in silver; week 2 only ever scored as a file
    batch = load_batch_file(str(crm[0] / "leads" / "leads_week_02.csv"), C, 1000)
    result = _run(lake, _serving(crm), file_batch=batch)
    rows, window = served_window(lake, AS_OF, None, min_rows=1)
    current = with_features(rows, lake, C)
    assert window == f"batch {result.batch_id}" and len(current) == crm[2].num_rows
    expected = crm[2].to_pandas().set_index(C.entity_id)["page_views"]
    got = current.set_index(C.entity_id)["page_views"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)


def test_a_batch_file_without_contract_columns_fails_with_one_line(tmp_path, crm) -> None:
    raw = pd.read_csv(crm[0] / "leads" / "leads_week_01.csv", dtype=str).head(20)
    raw.drop(columns=["country", "email"]).to_csv(tmp_path / "missing.csv", index=False)
    with pytest.raises(
        BatchError, match=r"^batch missing.csv: missing column\(s\) country, email$"
    ):
        load_batch_file(str(tmp_path / "missing.csv"), C, 1000)


def test_unusable_rows_are_rejected_with_a_reason_and_the_rest_scored(tmp_path, lake, crm) -> None:
    import os

    raw = pd.read_csv(crm[0] / "leads" / "leads_week_02.csv", dtype=str).head(500)
    raw.loc[[3, 7], "page_views"] = "many"
    raw.to_csv(tmp_path / "types.csv", index=False)
    with (tmp_path / "types.csv").open("a") as handle:
        handle.write("L9,2026-01-05,web\n")  # a ragged line: 3 fields
    batch = load_batch_file(str(tmp_path / "types.csv"), C, 1000)
    assert batch.table.num_rows == 500  # "many" page views: scored as unknown, not rejected
    old = os.umask(0o022)
    try:
        result = _run(
            lake,
            _serving(crm),
            file_batch=batch,
            out=str(tmp_path / "scored.csv"),
            output_format="csv",
        )
    finally:
        os.umask(old)
    assert (result.rows, result.rejected, result.degraded) == (500, 1, 2)
    rejected = pd.read_csv(result.rejected_output, dtype=str)
    assert rejected["_rejected_because"].iloc[0].startswith("malformed line (3 fields")
    assert rejected["_row"].iloc[0] == "502"  # header + 500 rows + this line
    assert os.stat(result.output).st_mode & 0o777 == 0o644  # readable per the umask
    written = [tables.PREDICTION_LOG, tables.SCORED_FILE_LEADS]
    versions = [lake.table_version(t) for t in written]
    with pytest.raises(
        Exception, match=r"^--out .*/nowhere/x.csv: folder .*nowhere does not exist$"
    ):
        _run(
            lake,
            _serving(crm),
            file_batch=batch,
            out=str(tmp_path / "nowhere" / "x.csv"),
            output_format="csv",
        )
    assert not (tmp_path / "nowhere").exists()
    # Refused before any write: nothing to undo (a warning about an undone run is noise).
    assert [lake.table_version(t) for t in written] == versions


def test_silver_with_a_wrong_type_fails_naming_the_column(tmp_path, crm) -> None:
    lake = LocalLake(tmp_path / "lake")
    frame = crm[1].to_pandas().assign(page_views=lambda f: f["page_views"].astype(str))
    lake.overwrite_table(tables.silver("leads"), frame)
    with pytest.raises(BatchError, match=r"page_views \(string, expected numeric\)"):
        _run(lake, _serving(crm))
    assert (
        not lake.table_exists(tables.PREDICTION_LOG) or lake.read_table(tables.PREDICTION_LOG).empty
    )


@pytest.mark.parametrize("mode", ["approx", "tiered"])
def test_fast_reason_modes(tmp_path, crm, mode) -> None:
    outs = {}
    for m in ("exact", mode):
        lake = LocalLake(tmp_path / m)
        write_silver(lake, [crm[1]])
        outs[m] = pd.read_parquet(_run(lake, _serving(crm), mode=m).output).set_index(C.entity_id)
    exact, fast = outs["exact"], outs[mode].loc[outs["exact"].index]
    assert fast[["reason_1", "reason_2", "reason_3"]].notna().all().all()
    np.testing.assert_allclose(fast["score"], exact["score"])
    top = exact["decile"] <= 3
    if mode == "tiered":  # the leads sales will call get exact reasons
        assert (fast.loc[top, "reason_1"] == exact.loc[top, "reason_1"]).all()


@pytest.mark.parametrize("stage,fraction", [(None, 0.0), ("canary", 0.3)])
def test_no_reasons_mode_gives_the_same_rows_and_log_without_reasons(
    tmp_path, crm, stage, fraction
) -> None:
    outs, logs = {}, {}
    for mode in ("exact", "none"):
        lake = LocalLake(tmp_path / mode)
        write_silver(lake, [crm[1]])
        # Small chunks: the rows must come back right across chunk boundaries.
        result = _run(lake, _serving(crm, stage, fraction), chunk_rows=400, mode=mode)
        assert result.reasons_mode == mode
        outs[mode] = pd.read_parquet(result.output)
        logs[mode] = (
            lake.read_table(tables.PREDICTION_LOG)
            .sort_values([plog.ENTITY_ID, plog.MODEL_VERSION])
            .reset_index(drop=True)
        )
    reasons = ["reason_1", "reason_2", "reason_3"]
    assert outs["none"][reasons].isna().all().all()
    pd.testing.assert_frame_equal(
        outs["none"].drop(columns=reasons), outs["exact"].drop(columns=reasons)
    )
    pd.testing.assert_frame_equal(
        logs["none"].drop(columns=plog.BATCH_ID), logs["exact"].drop(columns=plog.BATCH_ID)
    )


def test_a_terminal_sees_the_leads_scored_so_far(tmp_path, crm, monkeypatch) -> None:
    import io

    from leadops import progress

    monkeypatch.setattr(progress, "_MIN_INTERVAL_S", 0.0)
    stream = io.StringIO()
    progress.enable(stream)
    try:
        lake = LocalLake(tmp_path / "lake")
        write_silver(lake, [crm[1]])
        result = _run(lake, _serving(crm), chunk_rows=500, mode="none")
        total = f"{result.rows:,}"
        assert progress.line("score") == f"score: leads {total}/{total}, reasons none"
        assert f"score: leads 500/{total}" in stream.getvalue()  # after the first chunk
    finally:
        progress.disable()


def _values_file(crm, tmp_path: Path) -> tuple[pd.DataFrame, Path]:
    raw = pd.read_csv(crm[0] / "leads" / "leads_week_02.csv", dtype=str).head(20)
    raw.loc[1, "company_size"] = "-5"
    raw.loc[2, "lead_source"] = None
    raw.loc[3, "created_at"] = "2031-01-01T00:00:00"
    raw.loc[4, "legacy_lead_score"] = "140"
    raw.loc[5, "page_views"] = "many"
    raw.loc[6, "technographics"] = '["Slack", '
    raw.loc[7, "lead_id"] = None
    raw.loc[8, "created_at"] = "last tuesday"
    raw.to_csv(tmp_path / "values.csv", index=False)
    return raw, tmp_path / "values.csv"


def test_leads_failing_a_feature_check_are_scored_as_degraded_not_rejected(
    crm, tmp_path: Path
) -> None:
    # These five used to be rejected unscored (ingest quarantines them); only a lead
    # without a usable id or creation time cannot be scored.
    raw, path = _values_file(crm, tmp_path)
    batch = load_batch_file(str(path), C, 1000, as_of=datetime(2026, 6, 1, tzinfo=UTC))
    assert batch.table.num_rows == 17
    reasons = batch.rejected.column("_rejected_because").to_pylist()
    assert reasons == [
        "created_at: after the evaluation time 2026-06-01 00:00:00 UTC (2031-01-01T00:00:00+00:00)",
        "lead_id: missing",
        "created_at: not timestamp ('last tuesday')",
    ]
    leads = batch.table.to_pandas().set_index("lead_id")
    ids = raw["lead_id"].tolist()
    degraded = leads["_degraded"].dropna().to_dict()
    assert degraded == {
        ids[1]: "company_size",
        ids[2]: "lead_source",
        ids[4]: "legacy_lead_score",
        ids[5]: "page_views",
        ids[6]: "technographics",
    }
    # The failing values are gone, not kept: the model reads them as unknown.
    assert pd.isna(leads.loc[ids[1], "company_size"])
    assert pd.isna(leads.loc[ids[4], "legacy_lead_score"])


def test_a_degraded_lead_scores_as_if_its_failing_features_were_left_out(
    crm, lake, tmp_path: Path
) -> None:
    raw, path = _values_file(crm, tmp_path)
    as_of = datetime(2026, 6, 1, tzinfo=UTC)
    batch = load_batch_file(str(path), C, 1000, as_of=as_of)
    result = _run(lake, _serving(crm), file_batch=batch, as_of=as_of)
    assert (result.rows, result.rejected, result.degraded) == (17, 3, 5)
    out = pd.read_parquet(result.output).set_index("lead_id")
    ids = raw["lead_id"].tolist()
    assert out.loc[ids[4], "degraded"] == "legacy_lead_score"
    assert pd.isna(out.loc[ids[0], "degraded"])
    blank = raw.copy()
    blank.loc[4, "legacy_lead_score"] = None
    blank.loc[[4]].to_csv(tmp_path / "blank.csv", index=False)
    left_out = load_batch_file(str(tmp_path / "blank.csv"), C, 1000, as_of=as_of)
    again = _run(lake, _serving(crm), file_batch=left_out, as_of=as_of)
    assert pd.read_parquet(again.output)["score"].iloc[0] == out.loc[ids[4], "score"]
    logged = lake.read_table(tables.PREDICTION_LOG)
    by_id = logged[logged[plog.BATCH_ID] == result.batch_id].set_index(plog.ENTITY_ID)
    assert by_id.loc[ids[6], plog.DEGRADED] == "technographics"
    assert by_id[plog.DEGRADED].notna().sum() == 5
