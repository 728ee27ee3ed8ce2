"""Settings: one frozen object, env prefix LEADOPS_, every default under home."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from leadops.settings import Settings


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
