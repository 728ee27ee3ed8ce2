"""Error answers of the scoring API: their bodies, the bounded 422, and their OpenAPI entries.

Every refusal is ``{"detail": "<one line naming the input and the cause>"}``, except the
422, whose ``detail`` lists the failing fields. FastAPI's own 422 echoed each failing
input whole (141 KB for 1,001 leads) and could not be written at all when an input was
NaN or Infinity (JSON has no such values): it answered 500 instead. This one names at
most ``MAX_ERRORS`` errors, never echoes an input, and counts the rest.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field

MAX_ERRORS = 20  # enough to fix a request; a 1,000-lead batch with one bad field each is not
MAX_MESSAGE = 300  # characters of one message (a message may quote the value it refuses)


class Problem(BaseModel):
    detail: str = Field(description="One line naming the input and the cause")


class FieldError(BaseModel):
    loc: list[str | int] = Field(description='Where: ["body", lead index, field]')
    msg: str
    type: str


class ValidationProblem(BaseModel):
    detail: list[FieldError] = Field(description=f"The first {MAX_ERRORS} errors")
    error_count: int = Field(description="How many errors the request had in all")


def bounded_errors(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The first ``MAX_ERRORS`` errors as loc / msg / type (no input, no context)."""
    return {
        "detail": [
            {
                "loc": [p if isinstance(p, int) else str(p)[:MAX_MESSAGE] for p in e["loc"]],
                "msg": str(e["msg"])[:MAX_MESSAGE],
                "type": str(e["type"]),
            }
            for e in errors[:MAX_ERRORS]
        ],
        "error_count": len(errors),
    }


async def validation_problem(_request: Request, exc: Exception) -> Response:
    """The app's handler for ``RequestValidationError``."""
    assert isinstance(exc, RequestValidationError)
    # ensure_ascii: a message quoting any text stays writable (escaped), never a 500.
    body = json.dumps(bounded_errors(list(exc.errors())), ensure_ascii=True)
    return Response(body, status_code=422, media_type="application/json")


def _problem(description: str, model: type[BaseModel] = Problem) -> dict[str, Any]:
    return {"model": model, "description": description}


# What the score route may answer besides 200, for the OpenAPI page (and schemathesis,
# which checks every answer against it).
SCORE_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem("A string holds a lone UTF-16 surrogate (not Unicode)"),
    401: _problem("Missing or invalid X-API-Key (when LEADOPS_API_KEYS is set)"),
    408: _problem("The body did not arrive within LEADOPS_API_BODY_TIMEOUT_SECONDS"),
    413: _problem("The body is over LEADOPS_API_MAX_BODY_BYTES"),
    415: _problem("The body is not JSON"),
    422: _problem(
        "A lead without a usable id or creation time, more leads than LEADOPS_API_MAX_LEADS, "
        "or a body that does not parse",
        ValidationProblem,
    ),
    429: _problem("Over LEADOPS_API_RATE_LIMIT_PER_MINUTE; see the Retry-After header"),
    503: _problem("No model is loaded yet (and no fallback column): see /ready"),
}
