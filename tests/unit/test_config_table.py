"""The README's Configuration table is the settings object, generated, never hand-kept."""

from __future__ import annotations

from pathlib import Path

from app.cli.config_table import configuration_table, readme_table
from leadops.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_configuration_table_matches_the_settings() -> None:
    # On failure: python -m app.cli.config_table --write README.md
    assert readme_table(README.read_text(encoding="utf-8")) == configuration_table()


def test_every_setting_has_a_row_with_its_variable_and_a_description() -> None:
    table = configuration_table()
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description"
        assert f"| `LEADOPS_{name.upper()}` |" in table


def test_defaults_under_the_home_read_leadops_home_not_the_shells_home() -> None:
    table = configuration_table()
    assert "`LEADOPS_HOME/lake`" in table
    assert "`sqlite:///LEADOPS_HOME/mlflow.db`" in table
    assert "$HOME" not in table


def test_readme_explains_every_score_file_column_as_the_file_does() -> None:
    from leadops.inputs.contract import load_contract
    from leadops.settings import BUNDLED_CONTRACT
    from tasks.scoring.table import column_meanings

    readme = README.read_text(encoding="utf-8")
    for column, meaning in column_meanings(load_contract(BUNDLED_CONTRACT)).items():
        assert f"| `{column}` | {meaning} |" in readme, column
