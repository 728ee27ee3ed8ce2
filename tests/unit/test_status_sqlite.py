"""`leadops status` reads a local registry without mlflow, and reads it the same way."""

from __future__ import annotations

from pathlib import Path

from app.cli.status import registry_status, status
from leadops.models import registry
from leadops.storage.local import open_lake
from tests.support.rollout import NAME, add_version


def test_plain_sql_read_matches_the_mlflow_client(settings, registry_db) -> None:
    settings = settings.model_copy(update={"model_name": NAME})
    client = registry.registry_client(settings)
    add_version(client, "production", 1.0, alias="champion")
    add_version(client, "canary", 0.25, alias="challenger")
    fast = registry_status(settings)
    assert fast.pop("home") == str(settings.home.resolve()) and fast.pop("home_new") is False
    assert fast == status(client, open_lake(settings), NAME)  # roles and the whole history
    assert fast["challenger"]["stage"] == "canary" and fast["challenger"]["fraction"] == 0.25


def test_a_home_with_no_registry_yet_has_no_models(settings) -> None:
    assert not Path(settings.tracking_uri.removeprefix("sqlite:///")).exists()
    state = registry_status(settings)
    assert state["champion"] is None and state["challenger"] is None


def test_status_shows_the_deal_value_champion_beside_the_conversion_one(
    settings, registry_db
) -> None:
    from app.cli.status import status_text

    settings = settings.model_copy(update={"model_name": NAME})
    client = registry.registry_client(settings)
    add_version(client, "production", 1.0, alias="champion")
    assert registry_status(settings)["value_model"] is None  # none trained: nothing shown
    assert "value champion" not in status_text(registry_status(settings))
    value_name = registry.value_model_name(NAME)
    version = registry.register_version(client, value_name, "file:///nonexistent/value", None)
    registry.set_stage(client, value_name, version.version, "production", 1.0, "beats baseline")
    registry.move_alias(client, value_name, "champion", version.version)
    fast = registry_status(settings)
    assert fast["value_model"] == status(client, open_lake(settings), NAME)["value_model"]
    assert fast["value_model"]["champion"]["version"] == "1"
    assert fast["value_model"]["challenger"] is None
    text = status_text(fast)
    assert "  champion: v1 production 100%" in text
    assert "  value champion: v1 production 100% - beats baseline" in text
    assert "  value challenger: none" in text
