"""The @task entry points of the score flow: thin wrappers over the plain functions.

Loading models and reading a batch file retry on transient I/O only (registry, S3:
leadops.errors.is_transient); a missing champion or a bad file stays bad. The
scoring step itself does not retry: its lake transaction already undoes a failed
run, and a rerun of the flow picks up exactly the leads still unscored.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from leadops.errors import retry_if_transient
from leadops.inputs.contract import load_contract
from leadops.inputs.sources import SourceFile
from leadops.models.model_state import Stage
from leadops.runners import dask_client, uses_dask
from leadops.settings import get_settings
from leadops.storage.local import open_lake
from tasks.scoring.batch import RunOptions, run_score
from tasks.scoring.batch_file import load_batch_file, resolve_batch_file
from tasks.scoring.model_access import load_serving_set
from tasks.scoring.results import ScoreResult
from tasks.scoring.scorer import ServingSet
from tasks.scoring.sources import FileBatch


@task(
    name="load-serving-models",
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
)
def load_models(watch_as_of: datetime | None = None) -> ServingSet:
    """The champion and any shadow / canary challenger, from the configured registry."""
    serving = load_serving_set(get_settings(), watch_as_of=watch_as_of or datetime.now(UTC))
    challenger = serving.challenger
    get_run_logger().info(
        "serving champion v%s%s",
        serving.champion.version,
        f"; challenger v{challenger.version} in {challenger.stage}"
        + (f" at {challenger.fraction:.0%}" if challenger.stage == Stage.CANARY else "")
        if challenger
        else "",
    )
    return serving


@task(
    name="find-batch-file",
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
)
def find_batch_file(batch: str) -> SourceFile:
    """The one leads file BATCH names (local or s3://): the run's one resolution."""
    return resolve_batch_file(batch, get_settings().s3_endpoint_url)


@task(
    name="read-batch-file",
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
)
def read_batch_file(source: SourceFile, as_of: datetime | None = None) -> FileBatch:
    """A leads file typed like silver (one line naming the file and its bad columns otherwise)."""
    settings = get_settings()
    contract = load_contract(settings.contract_path)
    return load_batch_file(source, contract, settings.score_chunk_rows, as_of=as_of)


@task(name="score-batch", cache_policy=NO_CACHE)
def score_batch(
    serving: ServingSet,
    file_batch: FileBatch | None,
    out: str | None,
    output_format: str,
    scored_at: datetime,
    reasons_mode: str | None = None,
) -> ScoreResult:
    """Rank, score, explain and write the batch; append the prediction log atomically.

    ``reasons_mode``: this run's reasons (exact, approx, tiered, none); default
    LEADOPS_REASONS_MODE.
    """
    settings = get_settings()
    options = RunOptions(
        scored_at=scored_at,
        reasons_mode=reasons_mode or settings.reasons_mode,
        output_format=output_format,
        out=out,
        endpoint_url=settings.s3_endpoint_url,
        rank_by=settings.rank_by,
    )
    lake, contract = open_lake(settings), load_contract(settings.contract_path)
    if uses_dask(settings):
        with dask_client(settings.dask_address, settings.dask_workers) as client:
            result = run_score(
                lake, contract, serving, options, settings.score_chunk_rows, file_batch, client
            )
    else:
        result = run_score(lake, contract, serving, options, settings.score_chunk_rows, file_batch)
    logger = get_run_logger()
    if result.skipped:
        logger.info("batch %s: nothing scored (%s)", result.batch_id, result.skipped)
    else:
        logger.info(
            "batch %s: %d leads scored → %s (arms %s)",
            result.batch_id,
            result.rows,
            result.output,
            result.arms,
        )
    return result


@task(name="publish-score-summary", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def publish_summary(result: ScoreResult) -> None:
    """A markdown artifact for the Prefect UI: what was scored, by which models, where it went."""
    lines = [
        f"# Score batch `{result.batch_id}`",
        "",
        "| what | value |",
        "|---|---|",
        f"| leads scored | {result.rows} |",
        f"| of them degraded (failing features scored as unknown) | {result.degraded} |",
        f"| unscorable (no usable id or creation time) | {result.rejected} |",
        f"| output | {result.output or '(none)'} |",
        f"| prediction log rows | {result.log_rows} |",
        f"| scored at | {result.scored_at} |",
        f"| reasons | {result.reasons_mode} |",
    ]
    lines += [f"| model {role} | v{version} |" for role, version in result.model_versions.items()]
    if result.challenger_stage:
        lines.append(f"| challenger stage | {result.challenger_stage} |")
    lines += [f"| arm {arm} | {count} leads |" for arm, count in sorted(result.arms.items())]
    if result.skipped:
        lines.append(f"| note | {result.skipped} |")
    create_markdown_artifact(
        "\n".join(lines), key="score-summary", description=f"score batch {result.batch_id}"
    )
