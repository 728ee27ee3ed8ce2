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
    for location in (
        settings.lake_uri,
        settings.artifact_uri,
        settings.tracking_uri,
        settings.optuna_storage_uri,
        str(settings.reports_dir),
    ):
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
def test_log_level_in_a_dotenv_file_is_a_setting(
    written: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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


def test_a_dotenv_may_hold_other_tools_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # AWS_PROFILE in .env made every command fail: "Extra inputs are not permitted".
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "AWS_PROFILE=sales\nPREFECT_API_URL=http://prefect:4200/api\nLEADOPS_TRIALS=3\n"
    )
    assert Settings().trials == 3


def test_a_misspelt_variable_is_warned_about_once_with_the_closest_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from leadops import settings as settings_module

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(settings_module, "_WARNED", set())
    monkeypatch.setenv("LEADOPS_TRAILS", "5")
    (tmp_path / ".env").write_text("LEADOPS_SEEED=1\nAWS_PROFILE=sales\n")
    with caplog.at_level("WARNING", logger="leadops.settings"):
        settings_module.warn_unknown_variables()
        settings_module.warn_unknown_variables()
    warnings = [r.getMessage() for r in caplog.records]
    assert (
        warnings.count(
            "LEADOPS_TRAILS is not a LeadOps setting and is ignored; did you mean LEADOPS_TRIALS?"
        )
        == 1
    )
    assert any("LEADOPS_SEEED" in w and "LEADOPS_SEED?" in w for w in warnings)
    assert not any("AWS_PROFILE" in w for w in warnings)
    assert Settings().trials == 20  # the misspelt value is not taken


def test_a_bad_value_in_dotenv_names_the_variable_the_user_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadops.errors import one_line

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("AWS_PROFILE=sales\nLEADOPS_TRIALS=zero\n")
    with pytest.raises(pydantic.ValidationError) as failure:
        Settings()
    message = one_line(failure.value)
    assert "LEADOPS_TRIALS" in message and "AWS" not in message


def test_canary_steps_that_are_not_a_json_list_name_the_variable_and_the_format(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from leadops.errors import one_line

    monkeypatch.setenv("LEADOPS_CANARY_STEPS", "0.1,0.5")
    with pytest.raises(pydantic.ValidationError) as failure:
        Settings()
    assert one_line(failure.value) == (
        "setting canary_steps (LEADOPS_CANARY_STEPS): expected a JSON list of traffic shares "
        "such as [0.1, 0.5, 1.0], got '0.1,0.5'"
    )


@pytest.mark.parametrize(
    ("written", "cause"),
    [
        ("[0.5, 0.1, 1.0]", "strictly increasing"),
        ("[0.1, 0.1, 1.0]", "strictly increasing"),
        ("[0.1, 0.5]", "last traffic share to be 1.0"),
        ("[0, 0.5, 1.0]", "in (0, 1]"),
        ("[0.5, 1.5]", "in (0, 1]"),
        ("[]", "at least one"),
    ],
)
def test_canary_steps_must_rise_to_full_traffic(
    written: str, cause: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadops.errors import one_line

    monkeypatch.setenv("LEADOPS_CANARY_STEPS", written)
    with pytest.raises(pydantic.ValidationError) as failure:
        Settings()
    message = one_line(failure.value)
    assert message.startswith("setting canary_steps (LEADOPS_CANARY_STEPS): expected")
    assert cause in message and "got [" in message


def test_canary_steps_are_read_from_json_in_the_environment_or_given_as_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEADOPS_CANARY_STEPS", "[0.25, 1]")
    assert Settings().canary_steps == (0.25, 1.0)
    assert Settings(canary_steps=(0.2, 0.6, 1.0)).canary_steps == (0.2, 0.6, 1.0)
    with pytest.raises(pydantic.ValidationError, match="strictly increasing"):
        Settings(canary_steps=(1.0, 0.5))
