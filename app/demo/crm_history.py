"""What a real CRM history does to the bundled generator's leads (the ``real-history`` scenario).

Real exports are harsher than the other scenarios (SPEC section 12): over the months the
conversion rate rises several-fold while volume falls ~20x (the team stops buying cold
lists and works fewer, warmer leads), a contact channel appears that did not exist at the
start, a count column the CRM did not track at first is constant 0 and then grows past
anything seen early, and every lead gets an explicit won or lost row within days.
Each piece is a function of the week's place in the history, so week k of a 40-week
history is the same whatever the seed of another week.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadops.settings import BUNDLED_CONTRACT

SCENARIO = "real-history"
CONTRACT = BUNDLED_CONTRACT.parent / "real_history" / "real_history.yaml"
HISTORY_COLUMNS = ["contact_channel", "previous_contacts"]
DAY = 86_400  # seconds

VOLUME_FALL = 20.0  # the last week has 1/20 of the first week's leads
# Logit shift of the base rate over the history: about 5% converted at the start and
# about 40% at the end once the channel and returning-lead lifts below are added.
RATE_SHIFT_START, RATE_SHIFT_END = -1.15, 0.95
# (channel, share of the history before it exists, share weight once it does, lift).
# chat arrives a third of the way in and linkedin past half way: levels a first model
# never saw, and the warmer channels convert better.
CHANNELS = (
    ("email", 0.0, 4.0, -0.3),
    ("phone", 0.0, 2.0, 0.3),
    ("web_form", 0.0, 3.0, 0.0),
    ("chat", 0.35, 3.0, 0.6),
    ("linkedin", 0.55, 2.0, 0.4),
)
CONTACTS_TRACKED_FROM = 0.2  # the CRM records previous contacts only after a fifth of the history
CONTACTS_LIFT = 0.45  # per log(1 + previous contacts): returning leads are warmer


def progress(week: int, weeks: int) -> float:
    """Where ``week`` (1-based) sits in the history: 0 at the first week, 1 at the last."""
    return 0.0 if weeks <= 1 else (week - 1) / (weeks - 1)


def weekly_volume(first_week_leads: int, week: int, weeks: int) -> int:
    """Leads created in ``week``: a geometric fall from ``first_week_leads`` to 1/20 of it."""
    return max(1, round(first_week_leads * VOLUME_FALL ** -progress(week, weeks)))


def rate_shift(week: int, weeks: int) -> float:
    """Logit added to every lead of ``week``: the market warming up over the history."""
    t = progress(week, weeks)
    return RATE_SHIFT_START + (RATE_SHIFT_END - RATE_SHIFT_START) * t


def contact_history(
    rng: np.random.Generator, n: int, week: int, weeks: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """The week's ``contact_channel`` and ``previous_contacts`` columns and their logit lift."""
    t = progress(week, weeks)
    open_channels = [c for c in CHANNELS if t >= c[1]]
    weights = np.array([c[2] for c in open_channels])
    picked = rng.choice(len(open_channels), size=n, p=weights / weights.sum())
    channel = np.array([c[0] for c in open_channels], dtype=object)[picked]
    lift = np.array([c[3] for c in open_channels])[picked]
    if t < CONTACTS_TRACKED_FROM:
        contacts = np.zeros(n, dtype=int)
    else:
        # Returning leads pile up as the CRM ages: mean 0.3 when tracking starts, ~4 at the end.
        tracked = (t - CONTACTS_TRACKED_FROM) / (1 - CONTACTS_TRACKED_FROM)
        contacts = rng.poisson(0.3 + 3.7 * tracked**1.5, size=n)
    lift = lift + CONTACTS_LIFT * np.log1p(contacts)
    columns = pd.DataFrame({"contact_channel": channel, "previous_contacts": contacts})
    return columns, lift


def decision_delays(rng: np.random.Generator, n: int, window_days: int) -> np.ndarray:
    """Seconds from creation to the won or lost row: most within 2-5 days, all inside the window.

    Real CRMs close every lead explicitly; won deals and lost ones take about as long.
    """
    days = rng.gamma(6.0, 0.6, size=n)  # mean 3.6 days, ~75% within 2-5
    seconds = np.floor(np.clip(days, 2 / 24, window_days - 1 / 24) * DAY)
    return seconds.astype(np.int64)
