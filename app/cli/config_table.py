"""The README's Configuration table, generated from the settings object.

``python -m app.cli.config_table --write README.md`` rewrites the table between its
two markers; ``tests/unit/test_config_table.py`` fails when the README and the settings
drift apart (a new field, a changed default or description).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import SecretStr

from leadops.settings import BUNDLED_CONTRACT, ENV_PREFIX, Settings

START = (
    "<!-- settings-table:start (generated: python -m app.cli.config_table --write README.md) -->"
)
END = "<!-- settings-table:end -->"

# Settings left unset default to a place under the home; the property says which.
_DERIVED = {
    "lake_root": "lake_uri",
    "artifact_root": "artifact_uri",
    "landing_root": "landing_uri",
    "mlflow_tracking_uri": "tracking_uri",
    "optuna_storage": "optuna_storage_uri",
}
_HOME_MARK = "/LEADOPS_HOME"


def default_text(name: str, value: object) -> str:
    """A field's default as a reader sees it: paths under the home say ``LEADOPS_HOME/...``."""
    if name in _DERIVED:
        located = getattr(Settings.model_construct(home=Path(_HOME_MARK)), _DERIVED[name])
        return f"`{str(located).replace(_HOME_MARK, 'LEADOPS_HOME')}`"
    if name == "home":
        return f"`./{value}`"
    if value == BUNDLED_CONTRACT:
        return "bundled `synthetic_crm.yaml`"
    if isinstance(value, SecretStr):
        value = value.get_secret_value() or None
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return f"`{json.dumps(list(value))}`"
    return f"`{value}`"


def configuration_table() -> str:
    """The Markdown table: every field, its variable, default and description."""
    lines = ["| variable | default | what it is |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        description = (field.description or "").replace("|", "\\|")
        lines.append(
            f"| `{ENV_PREFIX}{name.upper()}` | {default_text(name, field.default)} "
            f"| {description} |"
        )
    return "\n".join(lines)


def readme_table(readme: str) -> str:
    """The table currently between the markers of ``readme``."""
    start, end = readme.index(START) + len(START), readme.index(END)
    return readme[start:end].strip()


def rewrite(readme: str) -> str:
    """``readme`` with the generated table between its markers."""
    start, end = readme.index(START) + len(START), readme.index(END)
    return f"{readme[:start]}\n{configuration_table()}\n{readme[end:]}"


def main(argv: list[str]) -> None:
    """Print the table, or with ``--write PATH`` rewrite it inside that file."""
    if len(argv) == 2 and argv[0] == "--write":
        path = Path(argv[1])
        path.write_text(rewrite(path.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(configuration_table())


if __name__ == "__main__":
    main(sys.argv[1:])
