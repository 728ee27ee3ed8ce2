"""Connecting to a CRM's PostgreSQL, and its failures as one line without a credential.

Shared by the database source (ingest) and the PostgreSQL score sink (delivery).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from leadops.errors import LeadOpsError, one_line

if TYPE_CHECKING:
    import psycopg

APPLICATION_NAME = "leadops"


class DatabaseUnavailable(LeadOpsError):
    """The CRM database cannot be reached or refused us; the message names it and why."""


def redacted(url: str) -> str:
    """The URL without its password (user, host, port and database stay: they help)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def connect(
    url: str, password: str | None, timeout_seconds: int, autocommit: bool = False
) -> psycopg.Connection:
    """A psycopg 3 connection; the password is passed apart from the URL.

    Raises:
        DatabaseUnavailable: one line naming the (redacted) URL and libpq's cause.
    """
    import psycopg

    try:
        return psycopg.connect(
            url,
            connect_timeout=timeout_seconds,
            application_name=APPLICATION_NAME,
            autocommit=autocommit,
            # libpq keyword: None leaves the URL's (or PGPASSWORD's) password in charge
            **({"password": password} if password else {}),  # type: ignore[arg-type]
        )
    except psycopg.Error as exc:
        raise database_error(url, exc) from None


def database_error(url: str, exc: BaseException) -> DatabaseUnavailable:
    """libpq's message on one line: 'connection failed: ... FATAL: password authentication
    failed for user "x"' names the cause; no password is ever part of it."""
    import psycopg

    if isinstance(exc, LeadOpsError):
        return DatabaseUnavailable(str(exc))
    text = " ".join(one_line_all(exc).split())
    error = DatabaseUnavailable(f"{redacted(url)}: {text}")
    # Refused or dropped connections may pass; a wrong password or a bad query will not.
    error.transient = isinstance(exc, psycopg.OperationalError) and "authentication" not in text
    return error


def one_line_all(exc: BaseException) -> str:
    """libpq spreads one cause over lines ('connection failed: ...\\n\\tIs the server ...')."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines[:2]) if lines else one_line(exc)
