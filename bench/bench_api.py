"""Online scoring benchmark: the real service over HTTP vs the bare model on the same rows.

Starts ``leadops api`` (uvicorn, loopback, a temporary LEADOPS_HOME with a registered
champion: depth 6, 200 trees) and measures with a real HTTP client (httpx, keep-alive):
- p50 / p95 / p99 latency of one-lead requests, with exact reasons and without;
- leads/s of 100-lead requests without reasons;
and, in the same run on the same leads, bare XGBoost: ``inplace_predict`` of one encoded
row, ``pred_contribs`` (exact TreeSHAP) of one row, ``inplace_predict`` of 100 rows.
Ratios printed: service / bare. Targets on 2 cores: p99 <= 25 ms for one lead with
exact reasons, and within 2x its p50 (the log flush off the request path: it set the
tail), >= 2,000 leads/s in 100-lead requests without reasons. The bare model's own
p99 / p50 is printed beside it: what the host's other load alone does to a tail.

``--flush-control N`` adds N pairs of runs in turns, the default flush and the flush
deferred past the run, and prints each one's p99 / p50: the flush's share of the tail,
read against the host's in the same minutes.

Bounded: at most --requests requests and --max-seconds per phase.
Usage: python bench/bench_api.py [--requests 300] [--max-seconds 60] [--workers 1] [--clients 1]
                                 [--flush-control 0]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# As the service runs (leadops api sets it): one OpenMP thread, so the bare model is
# measured under the same threading as the service it is compared with.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from app.demo.synthetic import GeneratorConfig, generate_week  # noqa: E402
from app.servers.servers import free_port  # noqa: E402
from leadops.inputs.contract import load_contract  # noqa: E402
from leadops.settings import BUNDLED_CONTRACT, Settings  # noqa: E402

CONTRACT = load_contract(BUNDLED_CONTRACT)


def register_champion(settings: Settings, leads, won: set[str]) -> tuple:
    """Train depth 6 x 200 trees on the leads, log it as training does, make it champion."""
    import xgboost as xgb

    from leadops.inputs.normalise import parse_frame
    from leadops.models import registry
    from leadops.models.cutpoints import score_cutpoints
    from tasks.features.encoder import FeatureEncoder
    from tasks.training import tracking

    frame = parse_frame(leads.astype(str), CONTRACT.roles("leads"))[CONTRACT.lead_columns]
    encoder = FeatureEncoder.fit(frame, CONTRACT, cap=20)
    matrix = xgb.DMatrix(
        encoder.transform(frame),
        frame[CONTRACT.entity_id].isin(won).to_numpy(),
        feature_names=encoder.feature_names,
    )
    params = {"max_depth": 6, "eta": 0.1, "objective": "binary:logistic", "nthread": 2, "seed": 0}
    booster = xgb.train(params, matrix, 200)
    run_id = tracking.start_run(settings, "bench", {})
    cuts = score_cutpoints(booster.inplace_predict(encoder.transform(frame)))
    info = tracking.log_model(settings, run_id, booster, encoder, CONTRACT, frame.head(3), cuts)
    client = registry.registry_client(settings)
    version = registry.register_version(
        client, settings.model_name, info.model_uri, run_id, model_id=info.model_id
    ).version
    registry.move_alias(client, settings.model_name, registry.CHAMPION, version)
    return booster, encoder, frame


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {f"p{q}": round(float(np.percentile(ms, q)), 2) for q in (50, 95, 99)}


def timed(call, requests: int, max_seconds: float) -> list[float]:
    took, deadline = [], time.monotonic() + max_seconds
    for i in range(requests):
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        call(i)
        took.append(time.perf_counter() - started)
    return took


def bare_model(booster, encoder, frame, requests: int) -> dict:
    import xgboost as xgb

    booster.set_param({"nthread": 1})  # as the service does (one core per worker)
    encoded = encoder.transform(frame)
    n = len(encoded)
    one = timed(lambda i: booster.inplace_predict(encoded[i % n : i % n + 1]), requests, 30)
    contribs = timed(
        lambda i: booster.predict(
            xgb.DMatrix(encoded[i % n : i % n + 1], feature_names=encoder.feature_names),
            pred_contribs=True,
        ),
        requests,
        30,
    )
    hundred = timed(
        lambda i: booster.inplace_predict(encoded[(i * 100) % (n - 100) :][:100]), requests, 30
    )
    return {
        "predict_one_ms": percentiles(one),
        "pred_contribs_one_ms": percentiles(contribs),
        "leads_per_s_100": round(100 * len(hundred) / sum(hundred)),
    }


def service(url: str, records: list[dict], requests: int, max_seconds: float, clients: int) -> dict:
    import httpx

    n = len(records)
    with httpx.Client(base_url=url, timeout=30) as http:
        for i in range(20):  # warm-up: imports, first SHAP pass, connection
            http.post("/v1/leads/score", json=records[i])
        exact = timed(
            lambda i: _ok(http.post("/v1/leads/score", json=records[i % n])), requests, max_seconds
        )
        plain = timed(
            lambda i: _ok(
                http.post("/v1/leads/score", params={"reasons": "false"}, json=records[i % n])
            ),
            requests,
            max_seconds,
        )
    hundred: list[float] = []

    def client_loop(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            hundred.extend(
                timed(
                    lambda i: _ok(
                        http.post(
                            "/v1/leads/score",
                            params={"reasons": "false"},
                            json=records[((i + offset) * 100) % (n - 100) :][:100],
                        )
                    ),
                    requests // clients,
                    max_seconds,
                )
            )

    started = time.perf_counter()
    threads = [threading.Thread(target=client_loop, args=(k * 7,)) for k in range(clients)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    wall = time.perf_counter() - started
    return {
        "one_lead_exact_reasons_ms": percentiles(exact),
        "one_lead_no_reasons_ms": percentiles(plain),
        "leads_per_s_100": round(100 * len(hundred) / wall),
        "requests": len(exact) + len(plain) + len(hundred),
    }


# Deferred past any run: rows wait in memory and reach the log at shutdown.
NO_FLUSH = {"LEADOPS_API_LOG_FLUSH_SECONDS": "3600", "LEADOPS_API_LOG_FLUSH_ROWS": "1000000000"}


def run_service(home: Path, env: dict, records: list[dict], args: argparse.Namespace) -> dict:
    """One `leadops api` process, measured by ``service`` and stopped."""
    port = free_port()
    log = (home / "api.log").open("a")
    command = ["-m", "app.cli.main", "api", "--port", str(port), "--workers", str(args.workers)]
    proc = subprocess.Popen(
        [sys.executable, *command], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc)
        return service(url, records, args.requests, args.max_seconds, args.clients)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()


def tail_ratio(online: dict) -> float:
    exact = online["one_lead_exact_reasons_ms"]
    return round(exact["p99"] / exact["p50"], 2)


def _ok(response) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--max-seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument(
        "--flush-control",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="also run ROUNDS pairs (default flush, flush deferred) in turns: p99/p50 of each",
    )
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-api-")) / "home"
    settings = Settings(home=home)
    leads, outcomes = generate_week(GeneratorConfig(leads_per_week=5000, seed=5), 1)
    won = set(outcomes.loc[outcomes[CONTRACT.label], CONTRACT.entity_id])
    booster, encoder, frame = register_champion(settings, leads, won)
    records = json.loads(leads.head(2000).to_json(orient="records"))
    base_env = {**os.environ, "LEADOPS_HOME": str(home), "LEADOPS_API_RATE_LIMIT_PER_MINUTE": "0"}
    online = run_service(home, base_env, records, args)
    # The control: the same service with its log flush deferred past the run, in turns with
    # the default one, so the flush's share of the one-lead tail is read against the host's.
    control = []
    for _ in range(args.flush_control):
        control.append((run_service(home, base_env, records, args), False))
        control.append((run_service(home, {**base_env, **NO_FLUSH}, records, args), True))
    bare = bare_model(booster, encoder, frame.head(2000), args.requests)
    ratios = {
        "p50_exact_vs_bare_contribs": round(
            online["one_lead_exact_reasons_ms"]["p50"] / bare["pred_contribs_one_ms"]["p50"], 1
        ),
        "p50_no_reasons_vs_bare_predict": round(
            online["one_lead_no_reasons_ms"]["p50"] / bare["predict_one_ms"]["p50"], 1
        ),
        "leads_per_s_100_service_vs_bare": round(
            online["leads_per_s_100"] / bare["leads_per_s_100"], 4
        ),
    }
    exact = online["one_lead_exact_reasons_ms"]
    ratios["p99_over_p50_exact"] = tail_ratio(online)
    ratios["p99_over_p50_bare_contribs"] = round(
        bare["pred_contribs_one_ms"]["p99"] / bare["pred_contribs_one_ms"]["p50"], 2
    )
    targets = {
        "p99_exact_one_lead_le_25ms": exact["p99"] <= 25,
        "p99_exact_one_lead_le_2x_p50": exact["p99"] <= 2 * exact["p50"],
        "leads_per_s_100_ge_2000": online["leads_per_s_100"] >= 2000,
    }
    print(
        json.dumps(
            {
                "cpus": os.cpu_count(),
                "load_avg": os.getloadavg(),
                "workers": args.workers,
                "clients": args.clients,
                "service": online,
                "bare_xgboost": bare,
                "ratios": ratios,
                "targets_met": targets,
                **({"flush_control": flush_control(control)} if control else {}),
            },
            indent=2,
        )
    )


def flush_control(control: list[tuple[dict, bool]]) -> dict:
    """p99/p50 of one lead with reasons, with the default flush and with it deferred."""
    flushing = [tail_ratio(run) for run, deferred in control if not deferred]
    deferred = [tail_ratio(run) for run, deferred in control if deferred]
    return {
        "p99_over_p50_flushing": flushing,
        "p99_over_p50_flush_deferred": deferred,
        "median_difference": round(float(np.median(flushing) - np.median(deferred)), 2),
    }


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"leadops api exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"leadops api not ready at {url} within {timeout:.0f} s")


if __name__ == "__main__":
    main()
