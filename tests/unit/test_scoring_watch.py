"""The watch after promotion in batch scoring: the previous champion is scored, never served."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow.compute as pc

from leadops.logs import prediction_log as plog
from leadops.models import registry
from leadops.storage.local import open_lake
from tasks.rollout import manual
from tasks.scoring.model_access import load_serving_set
from tasks.scoring.scorer import chunk_log, score_chunk
from tests.support.models import register
from tests.support.scoring import contract, train_tiny, typed_week, write_crm

PROMOTED = datetime(2026, 4, 6, tzinfo=UTC)


def test_previous_champion_scores_in_shadow_during_the_watch_only(settings, tmp_path) -> None:
    table = typed_week(write_crm(tmp_path / "crm"), 1)
    old = register(settings, *train_tiny(table, rounds=10, seed=0))
    new = register(
        settings,
        *train_tiny(table, rounds=12, depth=4, seed=1),
        alias="challenger",
        stage="canary",
        fraction=0.5,
        salt="v2-abc",
    )
    client = registry.registry_client(settings)
    manual.promote(client, open_lake(settings), settings.model_name, PROMOTED)

    serving = load_serving_set(settings, watch_as_of=PROMOTED + timedelta(days=3))
    assert serving.champion.version == new and serving.challenger is None
    assert (serving.watch.version, serving.watch.role) == (old, "watch")
    c = contract()
    scored = score_chunk(table, c.entity_id, c.event_time, serving)
    np.testing.assert_allclose(scored.served, scored.scores[new])  # the champion serves
    context = plog.LogContext("b1", PROMOTED + timedelta(days=3), settings.model_name)
    rows = chunk_log(context, scored, serving)
    watch_rows = rows.filter(pc.equal(rows[plog.ROLE], "watch"))
    assert watch_rows.num_rows == table.num_rows
    assert not pc.any(watch_rows[plog.SERVED]).as_py()

    after = PROMOTED + timedelta(days=settings.watch_days + 1)
    assert load_serving_set(settings, watch_as_of=after).watch is None
    assert load_serving_set(settings).watch is None  # the online API: no watch model
    # A replayed week before the promotion: the new champion was not serving yet.
    before = PROMOTED - timedelta(weeks=2)
    assert load_serving_set(settings, watch_as_of=before).watch is None
