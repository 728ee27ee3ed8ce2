"""The webhook sink: each part POSTed as one JSON document, signed with a shared secret.

Headers: ``X-LeadOps-Delivery`` (``<batch_id>:<part>``, the same on every retry and
re-run: the receiver's idempotency key) and ``X-LeadOps-Signature``
(``sha256=<hex HMAC-SHA256 of the body with LEADOPS_CRM_WEBHOOK_SECRET>``). A 2xx is the
acknowledgement; 408, 429 and 5xx answers and network errors are retried by the caller
with backoff, any other answer fails at once (the receiver refuses the data).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from pydantic import SecretStr

from leadops.errors import LeadOpsError
from tasks.scoring.sinks.records import Part

DELIVERY_HEADER = "X-LeadOps-Delivery"
SIGNATURE_HEADER = "X-LeadOps-Signature"
RETRIED_STATUS = {408, 425, 429}


class WebhookRefused(LeadOpsError):
    """The receiver answered; ``transient`` when asking again later may succeed."""


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body(part: Part) -> bytes:
    scores = [
        {**row, "scored_at": row["scored_at"].isoformat(), "reasons": _reasons(row["reasons"])}
        for row in part.rows.to_pylist()
    ]
    document = {"batch_id": part.batch_id, "part": part.number, "scores": scores}
    return json.dumps(document, separators=(",", ":")).encode()


def _reasons(joined: str | None) -> list[str]:
    from tasks.scoring.sinks.records import REASON_SEPARATOR

    return [r for r in (joined or "").split(REASON_SEPARATOR) if r]


class WebhookSink:
    name = "webhook"
    acks_in_target = False  # the lake ledger records each acknowledged part

    def __init__(self, url: str, secret: SecretStr | None, timeout: float) -> None:
        self.url, self.secret, self.timeout = url, secret, timeout
        self.client: Any = None

    @property
    def label(self) -> str:
        # The path may hold a token (as Slack's do): name the host only.
        from urllib.parse import urlsplit

        parts = urlsplit(self.url)
        return f"webhook sink {parts.scheme}://{parts.hostname}" + (
            f":{parts.port}" if parts.port else ""
        )

    def send(self, part: Part) -> bool:
        """POST ``part``; True on a 2xx.

        Raises:
            WebhookRefused: a non-2xx answer (transient for 408/425/429/5xx).
            httpx.HTTPError: no answer (the caller retries: a network error is transient).
        """
        import httpx

        if self.client is None:
            self.client = httpx.Client(timeout=self.timeout)
        data = body(part)
        headers = {"Content-Type": "application/json", DELIVERY_HEADER: part.key}
        if self.secret is not None:
            headers[SIGNATURE_HEADER] = signature(self.secret.get_secret_value(), data)
        answer = self.client.post(self.url, content=data, headers=headers)
        if 200 <= answer.status_code < 300:
            return True
        error = WebhookRefused(f"{self.label}: answered {answer.status_code} to part {part.key}")
        error.transient = answer.status_code in RETRIED_STATUS or answer.status_code >= 500
        raise error

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
