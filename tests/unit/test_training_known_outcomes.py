"""A lead trains once its outcome is known; the test window holds enough; short data is named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from leadops.inputs.contract import load_contract
from leadops.inputs.maturity import KNOWN_AT, LABEL, MATURED, label_known
from leadops.settings import BUNDLED_CONTRACT
from leadops.storage.local import LocalLake
from tasks.training import dataset as D
from tasks.training.history import HistoryMinimums
from tests.support.gold import as_of_after, write_gold

CONTRACT = load_contract(BUNDLED_CONTRACT)
WINDOW = timedelta(days=CONTRACT.outcome_window_days)
CUTOFF = datetime(2026, 6, 1, tzinfo=UTC)


def _gold(rows: list[tuple[str, datetime, bool | None, datetime | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            CONTRACT.entity_id: [r[0] for r in rows],
            CONTRACT.event_time: pd.to_datetime([r[1] for r in rows], utc=True),
            CONTRACT.label: pd.array([r[2] for r in rows], dtype="boolean"),
            CONTRACT.label_time: pd.to_datetime([r[3] for r in rows], utc=True),
        }
    )


def test_a_lead_counts_once_its_outcome_is_known_with_the_label_known_then() -> None:
    young = CUTOFF - timedelta(days=3)  # its 7-day window is still open at the cutoff
    old = CUTOFF - WINDOW - timedelta(days=1)
    gold = _gold(
        [
            ("won-early", young, True, young + timedelta(days=1)),
            ("lost-early", young, False, young + timedelta(days=2)),
            ("wins-after-cutoff", young, True, CUTOFF + timedelta(days=1)),
            ("silent-young", young, None, None),
            ("silent-old", old, None, None),
            ("won-after-window", old, True, old + WINDOW + timedelta(hours=1)),
        ]
    )
    labelled = label_known(gold, CONTRACT, CUTOFF)
    known = dict(zip(labelled[CONTRACT.entity_id], labelled[LABEL], strict=True))
    # A lead that converts after the cutoff is not a known negative: it is not known yet.
    assert known == {"won-early": 1, "lost-early": 0, "silent-old": 0, "won-after-window": 0}
    at = dict(zip(labelled[CONTRACT.entity_id], labelled[KNOWN_AT], strict=True))
    assert at["won-early"] == pd.Timestamp(young + timedelta(days=1))
    assert at["silent-old"] == at["won-after-window"] == pd.Timestamp(old + WINDOW)
    matured = dict(zip(labelled[CONTRACT.entity_id], labelled[MATURED], strict=True))
    assert not matured["won-early"] and matured["silent-old"]


def test_the_outcome_watermark_still_keeps_silent_leads_out() -> None:
    # The outcome export stops 5 days before the cutoff: a silent lead whose window closed
    # after that may have converted in an export not ingested yet.
    lead = CUTOFF - WINDOW - timedelta(days=1)
    gold = _gold([("silent", lead, None, None), ("won", lead, True, lead + timedelta(days=1))])
    labelled = label_known(gold, CONTRACT, CUTOFF, watermark=CUTOFF - timedelta(days=5))
    assert labelled[CONTRACT.entity_id].tolist() == ["won"]


def _week_of_leads(week: int, converted: int, lost: int) -> list[tuple]:
    start = CUTOFF - timedelta(weeks=12 - week)
    rows = []
    for i in range(converted + lost):
        created = start + timedelta(hours=3 * i)
        rows.append((f"w{week}-{i}", created, i < converted, created + timedelta(hours=6)))
    return rows


def _weeks(first: int, converted: int = 10, lost: int = 30) -> pd.DataFrame:
    return label_known(
        _gold([r for w in range(first, 12) for r in _week_of_leads(w, converted, lost)]),
        CONTRACT,
        CUTOFF,
    )


def test_the_test_window_grows_back_until_it_holds_the_minimums() -> None:
    # 10 converted + 30 lost a week: 14 days hold only 20 converted, so the test window must
    # reach back four weeks for 40 (old rule: 14 days, a gate decision on 20 conversions).
    dev, test, test_start = D.split_by_time(_weeks(0), CONTRACT, 14)
    assert test[LABEL].sum() == 40 and len(test) >= 80
    created = test[CONTRACT.event_time]
    assert created.max() - created.min() > timedelta(days=21)
    assert dev[KNOWN_AT].max() <= pd.Timestamp(test_start) < created.min()
    assert dev[LABEL].sum() >= 40


def test_a_short_history_is_refused_with_the_counts_it_lacks() -> None:
    labelled = _weeks(5)
    with pytest.raises(D.TrainingDataError) as error:
        D.split_by_time(labelled, CONTRACT, 14)
    message = str(error.value)
    assert "have 20 converted, need 40 (LEADOPS_MIN_TRAIN_CONVERTED)" in message
    assert "LEADOPS_MIN_TRAIN_NOT_CONVERTED" not in message  # 40 lost leads are there
    # 70 conversions seen over ~6.6 weeks, 80 needed in all: at least one more week.
    assert "converted leads a week seen so far, at least 1 more week(s)" in message
    assert "\n" not in message
    # The minimums are settings: lower ones let the same history train.
    dev, _, _ = D.split_by_time(labelled, CONTRACT, 14, minimums=HistoryMinimums(20, 20, 20, 20))
    assert dev[LABEL].sum() >= 20


def test_wins_after_the_window_are_counted_and_named_in_one_line(tmp_path: Path) -> None:
    frame = write_gold(LocalLake(tmp_path / "lake"), weeks=8, leads_per_week=150)
    won = frame.index[frame[CONTRACT.label].fillna(False).astype(bool)]
    late = won[: len(won) // 4]  # a quarter of the wins came 3 days after the window
    frame.loc[late, CONTRACT.label_time] = frame.loc[late, CONTRACT.event_time] + WINDOW * 1.5
    lake = LocalLake(tmp_path / "late")
    lake.overwrite_table(D.GOLD_LEADS, frame)
    training = D.build_training_set(lake, CONTRACT, as_of_after(frame, CONTRACT), 14)
    assert training.late_wins.warning == (
        f"25% of wins ({len(late)} of {len(won)}) came after 7 days and count as not "
        "converted; raise outcome_window_days in the contract"
    )
    untouched = write_gold(LocalLake(tmp_path / "clean"), weeks=8, leads_per_week=150)
    clean = D.build_training_set(
        LocalLake(tmp_path / "clean"), CONTRACT, as_of_after(untouched, CONTRACT), 14
    )
    assert clean.late_wins.warning is None


def test_the_train_line_and_report_say_how_many_wins_came_after_the_window(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys
    import types

    from app.cli import main as cli
    from tasks.training.report import markdown_report
    from tasks.training.results import TrainResult

    warning = (
        "45% of wins (90 of 200) came after 14 days and count as not converted; "
        "raise outcome_window_days in the contract"
    )
    result = {
        "trigger": "manual",
        "model_name": "m",
        "model_version": "1",
        "decision": "champion",
        "reason": "first model",
        "metrics": {"roc_auc": 0.8, "precision_at_capacity": 0.3},
        "baseline_metrics": {"roc_auc": 0.7, "precision_at_capacity": 0.2},
        "run_id": "r1",
        "late_wins_warning": warning,
    }
    monkeypatch.setattr("app.cli.runtime.prepare_runtime", lambda: None)
    # A stand-in flow module: importing the real one would set Prefect's logging up on
    # this test's captured stderr, which later tests in the process would inherit.
    fake_flow = types.ModuleType("flows.train")
    fake_flow.train = lambda **_: TrainResult.from_summary(result)
    monkeypatch.setitem(sys.modules, "flows.train", fake_flow)
    monkeypatch.setattr("sys.argv", ["leadops", "train", "--trials", "1"])
    with pytest.raises(SystemExit) as done:
        cli.main()
    assert done.value.code in (0, None)
    line = capsys.readouterr().out.splitlines()[0]
    assert line.endswith(f"MLflow run r1; WARNING: {warning}")
    report = markdown_report(
        {
            **result,
            "champion_metrics": None,
            "trials": {"completed": 1, "pruned": 0, "failed": 0},
            "trigger": "manual",
            "gold_version": 0,
            "data_digest": "d",
            "as_of": "2026-06-01",
            "test_rows": 90,
            "test_converted": 41,
            "test_start": "2026-05-01",
            "study_name": "s",
            "best_cv_auc": 0.8,
            "train_rows": 300,
        },
        [],
    )
    assert f"**WARNING:** {warning}" in report
