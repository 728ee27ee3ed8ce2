"""UTC moments: the one place a datetime from a user, a file or a request becomes aware UTC.

Kept free of heavy imports: ``leadops status`` reads times without loading pandas.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc(moment: datetime | None) -> datetime:
    """``moment`` as an aware UTC datetime (naive means UTC); now when None."""
    if moment is None:
        return datetime.now(UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
