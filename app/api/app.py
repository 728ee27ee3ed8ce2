"""The FastAPI app: ``create_app()`` builds it from the settings and the data contract.

Routes: ``POST /v1/leads/score``, ``GET /health``, ``GET /ready``, ``GET /metrics`` and the
OpenAPI page at ``/docs``. Run it with ``leadops api`` (uvicorn, ``factory=True``).
"""

# No `from __future__ import annotations` here: FastAPI reads the route's annotations at
# runtime, and the request model is a local class built from the contract at start-up.

import gc
import logging
import time
import uuid
from contextlib import asynccontextmanager
from typing import Any

from fastapi import BackgroundTasks, FastAPI, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.security import APIKeyHeader

from app.api.answer import (
    FALLBACK,
    fallback_answer,
    score_leads,
    shadow_rows,
    typed_leads,
    utc_now,
    with_degraded,
)
from app.api.crm_outbox import CrmOutbox
from app.api.docs import mount_docs
from app.api.log_buffer import LogBuffer
from app.api.log_writer import LogWriter
from app.api.metrics import ApiMetrics
from app.api.models import field_names, ignored_fields, lead_model, leads_body, score_model
from app.api.problems import SCORE_RESPONSES, Problem, validation_problem
from app.api.request_timer import ARMS_STATE, REQUEST_ID_STATE, RequestTimer
from app.api.security import Gate, RateLimiter, parse_keys
from app.api.serving import Serving, ServingHolder
from leadops.errors import LeadOpsError
from leadops.inputs.contract import Contract, load_contract
from leadops.settings import Settings, get_settings
from leadops.storage.local import open_lake

log = logging.getLogger(__name__)
SCORE_ROUTE = "/v1/leads/score"
# Requests answered on the event loop (see ``score``): about 10 ms of work at most.
INLINE_LEADS_WITH_REASONS = 1
INLINE_LEADS = 100
# Declared so the OpenAPI page (and its clients) know to send X-API-Key; the gate
# (security.Gate) checks it, so the dependency itself never refuses (auto_error=False).
API_KEY = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="Required when LEADOPS_API_KEYS is set"
)


class FallbackColumnError(LeadOpsError):
    """LEADOPS_API_FALLBACK_COLUMN names no numeric column of the contract."""


def check_fallback(contract: Contract, column: str | None) -> None:
    if column is not None and column not in contract.by_role("numeric"):
        raise FallbackColumnError(
            f"LEADOPS_API_FALLBACK_COLUMN={column}: not a numeric column of contract "
            f"{contract.name} ({', '.join(contract.by_role('numeric'))})"
        )


def freeze_loaded_objects() -> None:
    """Exempt what startup loaded (libraries, the models) from the cyclic GC: a full
    collection over it took ~220 ms in the service, once in each 40 s bench_api run,
    stalling the requests it landed in; after this one no full collection was seen.
    Cost: a reloaded model's objects caught in a reference cycle are never collected."""
    gc.collect()  # what is garbage already is not frozen
    gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The scoring service for the settings' registry, lake and contract."""
    settings = settings or get_settings()
    contract = load_contract(settings.contract_path)
    check_fallback(contract, settings.api_fallback_column)
    lake = open_lake(settings)
    holder = ServingHolder(settings, contract, lake)
    writer = LogWriter(settings)  # the buffers' Delta appends, off the requests' interpreter
    buffer = LogBuffer(
        lake, settings.api_log_flush_seconds, settings.api_log_flush_rows, writer=writer
    )
    requests = LogBuffer.for_requests(
        lake, settings.api_log_flush_seconds, settings.api_log_flush_rows, writer
    )
    metrics = ApiMetrics()
    outbox = CrmOutbox.configured(settings, lake, contract)  # None without a CRM sink

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        writer.start()
        await run_in_threadpool(holder.start)  # the first load may take a second or two
        freeze_loaded_objects()  # after the first model load
        buffer.start()
        requests.start()
        if outbox is not None:
            outbox.start()
        yield
        # uvicorn runs this after in-flight requests finish (SIGTERM, Ctrl-C):
        # nothing answered is lost.
        holder.stop()
        gc.unfreeze()  # an app run in a test process leaves its GC as it found it
        await run_in_threadpool(buffer.close)
        await run_in_threadpool(requests.close)
        await run_in_threadpool(writer.close)
        if outbox is not None:
            await run_in_threadpool(outbox.close)

    app = FastAPI(
        title=f"LeadOps online scoring ({contract.name})",
        lifespan=lifespan,
        description="Score leads with the registered champion (and canary challenger). "
        "Send X-API-Key when LEADOPS_API_KEYS is set.",
        docs_url=None,  # mount_docs serves the page with local files
        redoc_url=None,
    )
    mount_docs(app)
    app.add_middleware(
        Gate,
        keys=parse_keys(settings.api_keys.get_secret_value()),
        limiter=RateLimiter(settings.api_rate_limit_per_minute),
        max_body=settings.api_max_body_bytes,
        on_reject=metrics.error,
        body_timeout=settings.api_body_timeout_seconds,
    )
    app.add_exception_handler(RequestValidationError, validation_problem)
    # Outermost: the requests the gate rejects count in serving health too.
    app.add_middleware(RequestTimer, path=SCORE_ROUTE, record=requests.add)
    app.state.holder, app.state.buffer, app.state.requests = holder, buffer, requests
    app.state.log_writer = writer
    _routes(app, settings, contract, holder, buffer, metrics, outbox)
    return app


def _routes(
    app: FastAPI,
    settings: Settings,
    contract: Contract,
    holder: ServingHolder,
    buffer: LogBuffer,
    metrics: ApiMetrics,
    outbox: CrmOutbox | None = None,
) -> None:
    Leads = leads_body(lead_model(contract), settings.api_max_leads)
    names = field_names(contract)
    fallback = settings.api_fallback_column

    @app.post(
        SCORE_ROUTE,
        response_model=score_model(contract),
        summary="Score one lead or a list of leads",
        responses=SCORE_RESPONSES,
        dependencies=[Security(API_KEY)],
    )
    async def score(
        leads: Leads,  # type: ignore[valid-type]
        request: Request,
        background: BackgroundTasks,
        reasons: bool = True,
    ) -> Response:
        """One lead object, or a list of up to ``api_max_leads``, with the contract's columns."""
        rows = leads.root
        # A small answer (a few ms) runs on the event loop: handing it to a thread and back
        # costs two thread wake-ups, which on a busy host wait for a core (measured: several
        # ms of a one-lead request). A larger one goes to the threadpool so it does not hold
        # up /health and other requests.
        if len(rows) <= (INLINE_LEADS_WITH_REASONS if reasons else INLINE_LEADS):
            return respond(rows, request, background, reasons)
        return await run_in_threadpool(respond, rows, request, background, reasons)

    def respond(
        rows: list[Any], request: Request, background: BackgroundTasks, reasons: bool
    ) -> Response:
        started, now, state = time.perf_counter(), utc_now(), holder.current
        table = typed_leads(
            contract, {c: [getattr(r, n) for r in rows] for c, n in names.items()}, now
        )
        table = with_degraded(table, [r.degraded for r in rows])
        if isinstance(state, Serving):
            mode = settings.reasons_mode if reasons else None
            answer, scored = score_leads(
                contract, state.answering, state.cutpoints, table, now, mode
            )
            # After the response: shadow scores are logged, never returned.
            if state.shadow is not None:
                value = state.answering.value
                version = value.version if value is not None else None
                background.add_task(
                    lambda: buffer.add(shadow_rows(state.shadow, table, scored, now, version))
                )
        elif fallback is not None:
            answer = fallback_answer(contract, fallback, settings.model_name, table, now)
        else:
            return JSONResponse({"detail": f"not ready: {state.reason}"}, status_code=503)
        buffer.add(answer.log_rows)
        if outbox is not None:
            outbox.add(answer.results, now)
        request_id = uuid.uuid4().hex
        setattr(request.state, ARMS_STATE, answer.arms)
        setattr(request.state, REQUEST_ID_STATE, request_id)
        metrics.observe(SCORE_ROUTE, answer.arms, time.perf_counter() - started)
        body = {
            "request_id": request_id,
            "leads": answer.results,
            "ignored_fields": ignored_fields(rows),
        }
        return JSONResponse(body, headers={"X-Request-ID": request_id}, background=background)

    @app.get("/health", summary="The process answers")
    def health() -> dict:
        return {"status": "ok"}

    @app.get(
        "/ready",
        summary="A model (or the fallback column) is loaded and answers",
        responses={503: {"model": Problem, "description": "Not ready, with the reason"}},
    )
    def ready() -> JSONResponse:
        state = holder.current
        extra = {
            "reload_error": holder.last_error,
            "log": {"pending_rows": buffer.pending_rows, "error": buffer.last_error},
        }
        if isinstance(state, Serving):
            return JSONResponse({**state.describe(), **extra})
        if fallback is not None:
            return JSONResponse(
                {
                    "ready": True,
                    "mode": FALLBACK,
                    "column": fallback,
                    "reason": state.reason,
                    **extra,
                }
            )
        return JSONResponse({"ready": False, "reason": state.reason, **extra}, status_code=503)

    @app.get(
        "/metrics",
        summary="Prometheus metrics (text exposition format)",
        response_class=PlainTextResponse,
    )
    def prometheus() -> Response:
        state = holder.current
        served = (
            []
            if not isinstance(state, Serving)
            else [
                (m.role, m.stage, m.version)
                for m in [*state.answering.models, *([state.shadow] if state.shadow else [])]
            ]
        )
        metrics.serving(served)
        return Response(metrics.render(buffer.pending_rows), media_type=metrics.content_type)
