"""The CLI fails in one line, never a traceback; its settings come from the typed object.

In-process: ``main()`` as the ``leadops`` script runs it. The process-level checks (what
``--help`` imports) are in tests/integration/test_cli_process.py.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.cli import main as cli
from app.cli import output, runtime
from leadops.models.model_state import VersionState
from leadops.settings import get_settings
from tasks.ingest.results import IngestResult
from tasks.rollout.results import RolloutResult
from tasks.rollout.state_machine import RolloutState
from tasks.scoring.results import ScoreResult
from tasks.training.results import TrainResult


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str, str]:
    """``leadops ARGS`` in this process: (exit code, stdout, stderr)."""
    monkeypatch.setattr("sys.argv", ["leadops", *args])
    get_settings.cache_clear()
    try:
        cli.main()
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    finally:
        get_settings.cache_clear()
    out, err = capsys.readouterr()
    return code, out, err


def test_bad_setting_is_one_line_and_nonzero(
    home: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("LEADOPS_CAPACITY_FRACTION", "7")
    code, _, err = run(
        capsys, monkeypatch, "generate", "--out", str(tmp_path / "x"), "--weeks", "1"
    )
    assert code != 0
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("leadops: error:")
    assert "capacity_fraction" in lines[0]
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("bad", [["generate", "--scenario", "chaos"], ["generate", "--weeks", "0"]])
def test_bad_option_is_rejected(
    bad: list[str], home: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    code, _, err = run(capsys, monkeypatch, *bad, "--out", str(tmp_path / "x"))
    assert code == 2
    assert "Traceback" not in err


def test_log_level_from_a_dotenv_file_does_not_break_commands(
    home: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("LEADOPS_LOG_LEVEL=DEBUG\n")
    code, out, err = run(
        capsys,
        monkeypatch,
        "generate",
        "--out",
        str(tmp_path / "x"),
        "--weeks",
        "1",
        "--leads-per-week",
        "10",
    )
    assert code == 0, err
    assert "wrote 3 files" in out  # one week of leads; outcomes arrive up to a week later
    assert (tmp_path / "x" / "leads" / "leads_week_01.csv").exists()


def test_prepare_runtime_forwards_the_package_loggers(home: Path, monkeypatch) -> None:
    for name in (
        "PREFECT_HOME",
        "PREFECT_LOGGING_EXTRA_LOGGERS",
        "MLFLOW_LOGGING_LEVEL",
        "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL",
    ):
        monkeypatch.setenv(name, "")  # restored after the test, whatever prepare_runtime sets
        monkeypatch.delenv(name)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # a set server: none started
    runtime.prepare_runtime()
    forwarded = os.environ["PREFECT_LOGGING_EXTRA_LOGGERS"].split(",")
    assert {"leadops", "tasks", "flows"} <= set(forwarded)
    # One Prefect home per LEADOPS_HOME: the one `leadops serve`'s server keeps its runs in.
    assert Path(os.environ["PREFECT_HOME"]) == (home / "prefect-server").resolve()
    assert os.environ["PREFECT_API_URL"] == "http://127.0.0.1:9/api"


def test_a_home_that_is_a_file_fails_in_one_line_naming_it(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    afile = tmp_path / "not-a-folder"
    afile.write_text("x")
    monkeypatch.setenv("LEADOPS_HOME", str(afile))
    code, _, err = run(capsys, monkeypatch, "status")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1, err
    assert f"LEADOPS_HOME {afile.resolve()} is a file" in lines[0]
    assert "Errno" not in lines[0]


def test_a_home_that_cannot_be_written_fails_in_one_line_naming_it(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    # The tests run as root, for whom a chmod changes nothing: the permission check itself
    # is what answers "no" here, as it does for a user without write access.
    import leadops.settings as settings_module

    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        settings_module.os,
        "access",
        lambda path, mode: False if Path(path) == locked else real_access(path, mode),
    )
    monkeypatch.setenv("LEADOPS_HOME", str(locked / "home"))
    code, _, err = run(capsys, monkeypatch, "status")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1, err
    assert f"{locked} is not writable" in lines[0] and "LEADOPS_HOME" in lines[0]
    assert not (locked / "home").exists()


def test_status_in_a_new_home_says_so_and_creates_nothing(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEADOPS_HOME", raising=False)
    code, out, err = run(capsys, monkeypatch, "status")
    assert code == 0, err
    home = (tmp_path / "leadops-home").resolve()
    assert f"(LEADOPS_HOME {home})" in out and "new or empty" in out
    assert not home.exists()  # a status from the wrong folder leaves no empty home behind
    code, out, _ = run(capsys, monkeypatch, "status", "--json")
    state = json.loads(out.strip().splitlines()[-1])
    assert state["home"] == str(home) and state["home_new"] is True


def test_version_is_printed(home: Path, capsys, monkeypatch) -> None:
    from importlib.metadata import version

    code, out, _ = run(capsys, monkeypatch, "--version")
    assert code == 0 and out.strip() == f"leadops {version('leadops')}"


def test_help_texts_are_specific_to_each_command(home: Path, capsys, monkeypatch) -> None:
    from app.demo.synthetic import DEFAULT_START

    monkeypatch.setenv("COLUMNS", "200")
    _, promote_help, _ = run(capsys, monkeypatch, "promote", "--help")
    _, monitor_help, _ = run(capsys, monkeypatch, "monitor", "--help")
    _, generate_help, _ = run(capsys, monkeypatch, "generate", "--help")
    assert "Time recorded on the decision" in " ".join(promote_help.split())
    assert "Used for maturity and windows" not in promote_help
    assert "End of the monitored window" in " ".join(monitor_help.split())
    assert DEFAULT_START.isoformat() in generate_help


def test_train_runs_are_named_by_trigger_and_time() -> None:
    from datetime import UTC, datetime

    from flows.train import train_run_name

    assert train_run_name("drift", "2026-03-02T06:00:00+00:00") == "train-drift-2026-03-02T0600"
    now = datetime(2026, 11, 26, 15, 4, tzinfo=UTC)
    assert train_run_name("manual", None, now) == "train-manual-2026-11-26T1504"


def test_the_score_line_says_which_model_served_how_many() -> None:
    result = ScoreResult(
        batch_id="b1",
        rows=3000,
        output="/s/b1.parquet",
        arms={"champion": 2700, "canary": 300},
        challenger_stage="canary",
        model_versions={"champion": "1", "challenger": "2"},
    )
    line = result.line()
    assert "champion v1 served 2700, canary v2 served 300" in line
    assert "champion 2700; champion v1" not in line
    shadow = replace(result, arms={"champion": 3000}, challenger_stage="shadow")
    assert "shadow v2 scored alongside, not served" in shadow.line()
    assert line.endswith("(sorted by score, best first)")
    valued = replace(result, value_model_version="3", ranked_by="expected_value")
    assert valued.line().endswith(
        "canary v2 served 300, deal value v3 -> /s/b1.parquet "
        "(sorted by expected value, best first)"
    )


def test_the_score_line_counts_degraded_and_unscorable_leads() -> None:
    result = ScoreResult("b1", degraded=4, rejected=2, rejected_output="/s/b1.rejected.csv")
    assert result.unscored_line() == (
        "; 4 degraded (failing features scored as unknown)"
        "; 2 unscorable (no usable id or creation time) -> /s/b1.rejected.csv"
    )
    assert ScoreResult("b1").unscored_line() == ""
    assert ScoreResult("b1", skipped="no new leads", degraded=1).line() == (
        "batch b1: nothing scored (no new leads); 1 degraded (failing features scored as unknown)"
    )


def test_a_canary_steps_variable_that_is_not_json_is_one_line_naming_it(
    home: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("LEADOPS_CANARY_STEPS", "0.1,0.5")
    code, _, err = run(capsys, monkeypatch, "status")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1, err
    assert lines[0] == (
        "leadops: error: setting canary_steps (LEADOPS_CANARY_STEPS): expected a JSON list "
        "of traffic shares such as [0.1, 0.5, 1.0], got '0.1,0.5'"
    )


def test_the_demo_help_names_the_timeline_the_demo_runs(home: Path, capsys, monkeypatch) -> None:
    from app.demo.demo import DemoPlan

    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(capsys, monkeypatch, "demo", "--help")
    text, plan = " ".join(out.split()), DemoPlan()
    assert code == 0
    assert f"simulated {plan.weeks}-week timeline" in text
    assert f"drift from week {plan.drift_week}" in text
    assert f"trains on the first {plan.first_train_week} weeks" in text


@pytest.fixture
def overrides_in_process(settings, registry_db, monkeypatch: pytest.MonkeyPatch):
    """A champion v1 and a canary challenger v2; `leadops pause` applies its override here
    as the rollout flow's override branch does (``manual.override``), without Prefect."""
    import sys
    import types

    from leadops.clock import utc
    from leadops.models.registry import registry_client
    from leadops.storage.local import open_lake
    from tasks.rollout import manual
    from tests.support.rollout import add_version

    client, lake = registry_client(settings), open_lake(settings)
    add_version(client, "production", 1.0, alias="champion")
    challenger = add_version(client, "canary", 0.1, alias="challenger")

    def rollout(as_of=None, action="auto", reason=None):
        done = manual.override(client, lake, settings.model_name, action, utc(as_of), reason)
        lines = [f"v{t.version}: {t.previous_stage} → {t.stage} ({t.reason})" for t in done]
        moved = "; ".join(lines) or None
        return RolloutResult(action, "", action, moved, reason, RolloutState(None, None), done)

    monkeypatch.setattr("app.cli.runtime.prepare_runtime", lambda *args, **kwargs: None)
    monkeypatch.setitem(sys.modules, "flows.rollout", types.SimpleNamespace(rollout=rollout))
    return lake, challenger


def test_pause_takes_a_reason_and_a_second_pause_is_an_error(
    overrides_in_process, capsys, monkeypatch
) -> None:
    from leadops.models.transitions import read_history

    lake, v2 = overrides_in_process
    code, out, err = run(capsys, monkeypatch, "pause", "--reason", "testing")
    assert code == 0, err
    assert "(rollout paused manually: testing)" in out
    entries = len(read_history(lake))
    code, _, err = run(capsys, monkeypatch, "pause")
    assert code == 1
    assert (
        err.strip()
        == f"leadops: error: model leadops-lead-scorer: challenger v{v2} is already paused"
    )
    assert len(read_history(lake)) == entries
    code, out, err = run(capsys, monkeypatch, "pause", "--resume", "--reason", "fixed")
    assert code == 0 and "(rollout resumed manually: fixed)" in out, err


def test_resume_of_a_rollout_never_paused_is_an_error_and_records_nothing(
    overrides_in_process, capsys, monkeypatch
) -> None:
    from leadops.models.transitions import read_history

    lake, v2 = overrides_in_process
    before = read_history(lake)
    code, out, err = run(capsys, monkeypatch, "pause", "--resume")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1, err
    assert lines[0] == (
        f"leadops: error: model leadops-lead-scorer: challenger v{v2} is not paused, "
        "nothing to resume"
    )
    assert "resumed" not in out and read_history(lake) == before


def test_a_bad_option_value_is_one_error_line_with_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(capsys, monkeypatch, "monitor", "--as-of", "nope")
    assert code == 2 and out == ""
    assert err == "leadops: error: --as-of 'nope': expected an ISO date or date-time\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["train", "--trials", "0"], "Invalid value for '--trials': "),
        (["train", "--trials", "abc"], "Invalid value for '--trials': "),
        (["nosuch"], "No such command 'nosuch'."),
    ],
)
def test_a_value_click_itself_rejects_is_one_error_line_too(
    args: list[str], expected: str, capsys, monkeypatch
) -> None:
    """A range or type error of an option printed Click's 4-line usage box."""
    code, out, err = run(capsys, monkeypatch, *args)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith(f"leadops: error: {expected}")


def test_a_json_command_that_fails_prints_a_json_error_object_last(capsys, monkeypatch) -> None:
    """`train --json` printed no JSON at all when it failed."""
    code, out, err = run(capsys, monkeypatch, "train", "--json", "--as-of", "nope")
    assert code == 2
    assert json.loads(out.splitlines()[-1]) == {
        "error": "--as-of 'nope': expected an ISO date or date-time",
        "ok": False,
    }
    assert err.startswith("leadops: error: --as-of 'nope'")


def test_score_of_a_missing_file_fails_before_any_run_starts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def no_runtime() -> None:
        raise AssertionError("the Prefect runtime was prepared for a file that does not exist")

    monkeypatch.setattr("app.cli.runtime.prepare_runtime", no_runtime)
    missing = tmp_path / "nope.csv"
    code, _, err = run(capsys, monkeypatch, "score", str(missing))
    assert code == 1 and err == f"leadops: error: source {missing}: no such file or folder\n"


def test_ingest_takes_several_sources_as_a_shell_expanded_glob_gives_them(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import flows.ingest

    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("lead_id,created_at\n")
    seen = {}

    def fake_flow(source: str, kind: str, as_of: datetime, files: list) -> IngestResult:
        seen.update(source=source, files=[f.name for f in files])
        now = datetime.now(UTC)
        return IngestResult("run-1", kind, as_of or now, now)

    monkeypatch.setattr("app.cli.runtime.prepare_runtime", lambda: None)
    monkeypatch.setattr(flows.ingest, "ingest", fake_flow)
    monkeypatch.setattr("tasks.ingest.report.ingest_summary", lambda result, kind: "ok")
    a, b = str(tmp_path / "a.csv"), str(tmp_path / "b.csv")
    code, _, err = run(capsys, monkeypatch, "ingest", a, b, a)
    assert code == 0, err
    assert seen == {"source": f"{a} {b} {a}", "files": ["a.csv", "b.csv"]}


def test_the_train_line_names_the_windows_it_learned_and_was_tested_on() -> None:
    result = TrainResult(
        "trained",
        "m",
        "manual",
        "champion",
        "first model",
        train_rows=2400,
        test_rows=600,
        train_leads_created=["2026-01-05T10:00:00+00:00", "2026-02-16T09:00:00+00:00"],
        test_leads_created=["2026-02-24T08:00:00+00:00", "2026-03-09T07:00:00+00:00"],
    )
    assert result.windows() == (
        "trained on 2,400 leads created 2026-01-05..2026-02-16, "
        "tested on 600 created 2026-02-24..2026-03-09; "
    )
    assert replace(result, train_leads_created=None).windows() == ""


def test_a_skipped_train_prints_the_keys_it_always_had() -> None:
    busy = "challenger v2 is in rollout (canary 50%)"
    skipped = TrainResult("skipped", "m", "schedule", "skipped", busy)
    assert skipped.line() == f"m: skipped ({busy})"
    assert skipped.as_dict() == {
        "decision": "skipped",
        "reason": busy,
        "trigger": "schedule",
        "metrics": None,
        "model_name": "m",
        "model_version": None,
    }


def test_the_rollout_line_names_its_evidence_window_and_n() -> None:
    metrics = {
        "matured_leads": 286,
        "evidence_created_after": "2026-02-16T00:00:00+00:00",
        "evidence_scored_since": "2026-03-02T06:00:00+00:00",
        "evidence_until": "2026-03-09T07:00:00+00:00",
    }
    assert _rollout(metrics).evidence() == (
        " [evidence: 286 matured leads created after 2026-02-16, scored 2026-03-02..2026-03-09]"
    )
    assert _rollout({}).evidence() == ""
    waiting = _rollout({}).line()
    assert waiting == "rollout (auto): no transition: not enough matured leads yet"


def _rollout(metrics: dict) -> RolloutResult:
    """An auto run that moved nothing, with this evidence."""
    state = RolloutState(VersionState("1"), VersionState("2"))
    reason = "not enough matured leads yet"
    return RolloutResult("auto", "2026-03-09", "wait", None, reason, state, metrics=metrics)


def test_a_summary_naming_a_path_under_the_home_still_ends_with_the_home_line(
    home: Path, capsys, monkeypatch
) -> None:
    """Ingest's summary names its lake under the home, and the (LEADOPS_HOME ...) line the
    README promises was left out because the home's path already occurred in it."""
    monkeypatch.setenv("LEADOPS_HOME", str(home))
    get_settings.cache_clear()
    lake = home.resolve() / "lake" / "silver" / "leads"
    output.emit({"accepted": 3}, False, f"3 leads accepted into {lake}")
    out = capsys.readouterr().out.splitlines()
    assert out == [f"3 leads accepted into {lake}", f"  (LEADOPS_HOME {home.resolve()})"]


def test_generate_of_one_week_says_one_week(
    home: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    """It said '1 weeks'."""
    out_dir = tmp_path / "one"
    code, out, _ = run(
        capsys,
        monkeypatch,
        "generate",
        "--out",
        str(out_dir),
        "--weeks",
        "1",
        "--leads-per-week",
        "50",
    )
    assert code == 0
    assert "(1 week x 50 leads," in out
