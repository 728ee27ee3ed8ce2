"""Settings: one frozen object, env prefix LEADOPS_, every default under home."""

from __future__ import annotations

import os
from pathlib import Path

import pydantic
import pytest

from leadops.settings import Settings, get_settings, settings_scope


def test_defaults_live_under_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADOPS_HOME", str(tmp_path / "h"))
    settings = Settings()
    home = str((tmp_path / "h").resolve())
    for location in (settings.lake_uri, settings.artifact_uri, settings.tracking_uri,
                     settings.optuna_storage_uri, str(settings.reports_dir)):
        assert home in location
    assert settings.tracking_uri.startswith("sqlite:///")


def test_env_overrides_are_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADOPS_PSI_THRESHOLD", "0.3")
    monkeypatch.setenv("LEADOPS_LAKE_ROOT", "s3://bucket/prefix/")
    monkeypatch.setenv("LEADOPS_TRIALS", "7")
    settings = Settings()
    assert settings.psi_threshold == 0.3
    assert settings.trials == 7
    assert settings.lake_uri == "s3://bucket/prefix"


def test_frozen_and_strict_about_unknown_keys() -> None:
    settings = Settings()
    with pytest.raises(pydantic.ValidationError):
        settings.trials = 3  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        Settings(not_a_setting=1)  # type: ignore[call-arg]


def test_invalid_value_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADOPS_CAPACITY_FRACTION", "1.5")
    with pytest.raises(pydantic.ValidationError, match="capacity_fraction"):
        Settings()


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("LEADOPS_MODEL_NAME=from-dotenv\n")
    assert Settings().model_name == "from-dotenv"


@pytest.mark.parametrize("written", ["DEBUG", "debug"])
def test_log_level_in_a_dotenv_file_is_a_setting(written: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # It used to be read from os.environ only: in .env it made every command fail
    # with "Extra inputs are not permitted".
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"LEADOPS_LOG_LEVEL={written}\n")
    assert Settings().log_level == "DEBUG"


def test_unknown_log_level_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADOPS_LOG_LEVEL", "LOUD")
    with pytest.raises(pydantic.ValidationError, match="log_level"):
        Settings()


def test_a_settings_scope_changes_what_get_settings_returns_and_nothing_else(home: Path) -> None:
    before = dict(os.environ)
    outside = get_settings()
    more = outside.trials + 1
    with settings_scope(outside.model_copy(update={"trials": more})) as scoped:
        assert get_settings() is scoped and get_settings().trials == more
        assert get_settings().home == outside.home  # everything else carried over
    assert get_settings() is outside and get_settings().trials == more - 1
    assert dict(os.environ) == before
