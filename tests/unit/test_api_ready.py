"""`/ready` names each served model's share as `leadops status` does: the champion's is not 0%."""

from __future__ import annotations

from app.api.serving import Serving
from leadops.models.model_state import CHALLENGER, CHAMPION, Stage
from tasks.scoring.scorer import ServingModel, ServingSet

NAME = "leadops-lead-scorer"


def model(version: str, role: str, stage: Stage, fraction: float = 0.0) -> ServingModel:
    """A served version as ``load_serving_set`` builds it (no booster: nothing is scored)."""
    return ServingModel(NAME, version, role, stage, None, None, fraction=fraction, salt="s")


def ready_models(answering: ServingSet, shadow: ServingModel | None = None) -> dict[str, dict]:
    served = [*answering.models, *([shadow] if shadow else [])]
    serving = Serving(answering, shadow, {}, {m.version: "model" for m in served}, ())
    return {m["version"]: m for m in serving.describe()["models"]}


def test_a_lone_champion_is_reported_at_100_percent() -> None:
    ready = ready_models(ServingSet(model("1", CHAMPION, Stage.PRODUCTION)))
    assert ready["1"]["stage"] == "production"
    assert ready["1"]["fraction"] == 1.0 and ready["1"]["traffic_share"] == 1.0


def test_a_canary_takes_its_share_from_the_champion() -> None:
    champion = model("1", CHAMPION, Stage.PRODUCTION)
    canary = model("2", CHALLENGER, Stage.CANARY, fraction=0.7)
    ready = ready_models(ServingSet(champion, canary))
    # fraction: the rollout position `leadops status` prints; traffic_share: who answers.
    assert (ready["1"]["fraction"], ready["1"]["traffic_share"]) == (1.0, 0.3)
    assert (ready["2"]["fraction"], ready["2"]["traffic_share"]) == (0.7, 0.7)


def test_a_shadow_answers_no_lead() -> None:
    shadow = model("2", CHALLENGER, Stage.SHADOW)
    ready = ready_models(ServingSet(model("1", CHAMPION, Stage.PRODUCTION)), shadow)
    assert ready["1"]["traffic_share"] == 1.0
    assert (ready["2"]["fraction"], ready["2"]["traffic_share"]) == (0.0, 0.0)
