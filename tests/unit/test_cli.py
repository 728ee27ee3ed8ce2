"""The CLI fails in one line, never a traceback; its settings come from the typed object.

In-process: ``main()`` as the ``leadops`` script runs it. The process-level checks (what
``--help`` imports) are in tests/integration/test_cli_process.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from leadops.app import cli
from leadops.settings import get_settings


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        *args: str) -> tuple[int, str, str]:
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


def test_bad_setting_is_one_line_and_nonzero(home: Path, tmp_path: Path, capsys,
                                             monkeypatch) -> None:
    monkeypatch.setenv("LEADOPS_CAPACITY_FRACTION", "7")
    code, _, err = run(capsys, monkeypatch, "generate", "--out", str(tmp_path / "x"),
                       "--weeks", "1")
    assert code != 0
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("leadops: error:")
    assert "capacity_fraction" in lines[0]
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("bad", [["generate", "--scenario", "chaos"], ["generate", "--weeks", "0"]])
def test_bad_option_is_rejected(bad: list[str], home: Path, tmp_path: Path, capsys,
                                monkeypatch) -> None:
    code, _, err = run(capsys, monkeypatch, *bad, "--out", str(tmp_path / "x"))
    assert code == 2
    assert "Traceback" not in err


def test_log_level_from_a_dotenv_file_does_not_break_commands(home: Path, tmp_path: Path, capsys,
                                                              monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("LEADOPS_LOG_LEVEL=DEBUG\n")
    code, out, err = run(capsys, monkeypatch, "generate", "--out", str(tmp_path / "x"),
                         "--weeks", "1", "--leads-per-week", "10")
    assert code == 0, err
    assert "wrote 3 files" in out  # one week of leads; outcomes arrive up to a week later
    assert (tmp_path / "x" / "leads" / "leads_week_01.csv").exists()


def test_prepare_runtime_forwards_the_package_loggers(home: Path, monkeypatch) -> None:
    for name in ("PREFECT_HOME", "PREFECT_LOGGING_EXTRA_LOGGERS", "MLFLOW_LOGGING_LEVEL",
                 "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"):
        monkeypatch.setenv(name, "")  # restored after the test, whatever prepare_runtime sets
        monkeypatch.delenv(name)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # a set server: none started
    cli.prepare_runtime()
    forwarded = os.environ["PREFECT_LOGGING_EXTRA_LOGGERS"].split(",")
    assert {"leadops", "tasks", "flows"} <= set(forwarded)
    # One Prefect home per LEADOPS_HOME: the one `leadops serve`'s server keeps its runs in.
    assert Path(os.environ["PREFECT_HOME"]) == (home / "prefect-server").resolve()
    assert os.environ["PREFECT_API_URL"] == "http://127.0.0.1:9/api"
