"""The progress line: drawn only where the CLI turned it on, counting what stages report."""

from __future__ import annotations

import io

import pytest

from leadops import progress


@pytest.fixture(autouse=True)
def _off_after() -> None:
    yield
    progress.disable()


def test_nothing_is_written_unless_enabled(capsys: pytest.CaptureFixture[str]) -> None:
    progress.show("ingest", files="1/2")
    progress.count("ingest", "rows", 500)
    assert capsys.readouterr() == ("", "")


def test_counts_add_up_and_begin_starts_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "_MIN_INTERVAL_S", 0.0)
    stream = io.StringIO()
    progress.enable(stream)
    progress.show("ingest", files="1/2")
    progress.count("ingest", "rows", 50_000)
    progress.count("ingest", "rows", 20_000)
    assert progress.line("ingest") == "ingest: files 1/2, rows 70,000"
    assert stream.getvalue().endswith("ingest: files 1/2, rows 70,000")
    progress.clear()
    assert stream.getvalue().endswith("\r\x1b[K")
    progress.begin("ingest")
    progress.count("ingest", "rows", 10)
    assert progress.line("ingest") == "ingest: rows 10"


def test_search_line_shows_trials_and_best_auc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "_MIN_INTERVAL_S", 0.0)
    progress.enable(io.StringIO())
    progress.show("search", trials_done=3, best_auc=0.81234)
    assert progress.line("search") == "search: trials done 3, best auc 0.8123"
