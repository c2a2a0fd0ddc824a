"""Pre-labeling jobs: ``prelabel``, ``jobs``, ``job ID``, ``job cancel ID`` and ``worker``."""

from __future__ import annotations

import signal
from functools import partial
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from referee.cli.common import (
    EXIT_RUNTIME,
    UserError,
    emit_json,
    fail,
    load_settings,
    open_database,
    stderr,
    stdout,
    user_errors,
)
from referee.jobs.summaries import job_calls, mark_orphaned_jobs, summarize_job, summarize_jobs
from workers.summaries import JobCalls, JobSummary

if TYPE_CHECKING:
    # Only ``prelabel`` and ``worker`` judge: they import the judge stack (litellm, instructor)
    # and the runners when they run; ``jobs`` and ``job ID`` read through the light
    # ``workers.summaries`` and load ``workers.jobs`` (the job machinery, the ORM) only when a
    # job is running, so they start as fast as ``status``.
    from collections.abc import Callable

    from sqlalchemy import Engine

    from referee.settings import Settings
    from workers.runner import TaskRunner


class _JobGroup(TyperGroup):
    """``referee job ID`` means ``referee job show ID``; ``referee job cancel ID`` cancels."""

    # ``ctx`` is click's base Context, which typer vendors without a public name (``typer.Context``
    # is a subclass, too narrow for an override); it is only passed on.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["show", *args]
        return super().parse_args(ctx, args)


#: ``workers.jobs.DEFAULT_CHUNK_SIZE``, repeated so that ``--help`` does not load the job machinery
#: (``tests/cli/test_lazy_cli.py`` checks they agree)
DEFAULT_CHUNK_SIZE = 50

job_app = typer.Typer(
    cls=_JobGroup,
    help="Show one pre-labeling job (`referee job ID [--json]`) or cancel it "
    "(`referee job cancel ID`).",
    no_args_is_help=True,
)


def _runner(settings: Settings, engine: Engine, concurrency: int | None) -> TaskRunner:
    from workers.runner import CeleryRunner, InProcessRunner

    if settings.broker_url:
        from workers.celery_app import make_celery_app

        runner = CeleryRunner(make_celery_app(settings.broker_url, settings.result_backend))
        runner.ping()
        return runner
    from referee.jobs.config import worker_config
    from referee.jobs.sql_store import SqlJobStore
    from workers.context import WorkerContext
    from workers.heap import freeze_startup_heap

    config = worker_config(settings, concurrency=concurrency)
    freeze_startup_heap(collect=False)  # this process judges: keep full GC passes short
    return InProcessRunner(WorkerContext(config, SqlJobStore(engine)))


class _ProgressBar:
    """A rich progress bar fed with job summaries: pairs done and failed, spend, ETA."""

    def __init__(self, job_id: int, total: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn(f"job {job_id}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed[/]"),
            TextColumn("${task.fields[cost]:.4f}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=stderr,
            transient=False,
        )
        self.task = self.progress.add_task("prelabel", total=total, failed=0, cost=0.0)

    def __call__(self, summary: JobSummary) -> None:
        self.progress.update(
            self.task,
            completed=summary.done + summary.failed,
            failed=summary.failed,
            cost=summary.cost,
        )


def _print_summary(summary: JobSummary) -> None:
    colour = {"done": "green", "failed": "red", "partial": "red"}.get(summary.status, "yellow")
    stdout.print(
        f"job {summary.id} [{colour}]{summary.status}[/]: {summary.done} done, "
        f"{summary.failed} failed, {summary.pending} pending of {summary.total}; "
        f"spend ${summary.cost:.4f}"
    )
    if summary.error:
        stdout.print(f"[red]error:[/] {summary.error}")
    for failure in summary.failures[:10]:
        stdout.print(f"  failed {failure['pair_id']}: {failure['error']}")


def _print_calls(calls: JobCalls) -> None:
    if not calls.verdicts:
        return
    latency = ", ".join(f"{k} {v:,.0f}" for k, v in calls.latency_ms.items())
    stdout.print(
        f"calls: {calls.verdicts} verdicts paid for ({calls.unparseable} unparseable), "
        f"{calls.tokens_in:,} tokens in, {calls.tokens_out:,} out; latency ms: {latency}; "
        f"{calls.deliveries} deliveries ({calls.redelivered} pairs delivered again)",
        markup=False,
        highlight=False,
    )


def _prelabel_subset(
    settings: Settings,
    engine: Engine,
    dataset: str,
    judges: list[str],
    api_base: str | None,
    concurrency: int | None,
    chunk_size: int,
    cascade: bool,
    as_json: bool,
) -> None:
    """``prelabel --gold-only`` (every judge on the gold pairs) or ``--cascade`` (stage by
    stage, :mod:`referee.app.cascade_prelabel`)."""
    from referee.app.cascade_prelabel import run_cascade
    from referee.jobs.sql_store import SqlJobStore
    from workers.jobs import start_prelabel, wait_for_job
    from workers.owner import this_process
    from workers.runner import InProcessRunner

    with user_errors():
        runner = _runner(settings, engine, concurrency)
        owner = this_process() if isinstance(runner, InProcessRunner) else None
        if not as_json:
            _warn_unpriced(judges)

        def start(spec_or_specs: str | list[str], only: list[str]) -> int:
            specs = [spec_or_specs] if isinstance(spec_or_specs, str) else spec_or_specs
            return start_prelabel(
                SqlJobStore(engine),
                dataset=dataset,
                judges=specs,
                runner=runner,
                api_base=api_base or settings.api_base,
                concurrency=concurrency,
                chunk_size=chunk_size,
                owner=owner,
                only=only,
            )

        try:
            if cascade:
                report = run_cascade(
                    engine,
                    dataset=dataset,
                    specs=judges,
                    start=start,
                    wait=lambda job_id: wait_for_job(SqlJobStore(engine), job_id, runner=runner),
                    say=_quiet if as_json else _say,
                )
            else:
                _judge_gold(engine, dataset, lambda gold: start(judges, gold), runner, as_json)
                return
        finally:
            if isinstance(runner, InProcessRunner):
                runner.close()
                runner.context.close()
    if as_json:
        emit_json(report)
        return
    _print_cascade(report)


def _say(text: str) -> None:
    stderr.print(text, markup=False, highlight=False)


def _quiet(text: str) -> None:
    pass


def _warn_unpriced(judges: list[str]) -> None:
    from referee.app.cost_report import unpriced_judge_warnings

    for warning in unpriced_judge_warnings(judges):  # judge calls costed at $0.00
        stderr.print(f"warning: {warning}", markup=False, highlight=False)


def _judge_gold(
    engine: Engine, dataset: str, start: Callable[[list[str]], int], runner: Any, as_json: bool
) -> None:
    """``prelabel --gold-only``: one job over the gold pairs, watched to its end."""
    from referee.app.gold import gold_pairs
    from referee.jobs.sql_store import SqlJobStore
    from workers.jobs import wait_for_job

    gold = gold_pairs(engine, dataset)
    if not gold:
        raise UserError(f"dataset {dataset!r} has no gold labels to judge")
    job_id = start(gold)
    summary = wait_for_job(SqlJobStore(engine), job_id, runner=runner)
    if as_json:
        emit_json(summary.to_json())
    else:
        _print_summary(summary)
    if not summary.succeeded:
        raise typer.Exit(EXIT_RUNTIME)


def _print_cascade(report: dict[str, Any]) -> None:
    for number, stage in enumerate(report["stages"], start=1):
        stdout.print(
            f"stage {number} {stage['judge']}: judged {stage['pairs']} pair(s), "
            f"${stage['cost']:.4f}; accepts {stage['accepted']}",
            markup=False,
            highlight=False,
        )
    estimate = report["strongest_only_cost_estimate"]
    line = (
        f"cascade: {report['auto_accepted']} of {report['pairs']} pairs auto-accepted, judge spend "
        f"${report['cost']:.4f}"
    )
    if estimate:
        line += (
            f" = {report['spend_ratio']:.1%} of the ${estimate:.4f} the last judge would cost on "
            "every pair"
        )
    stdout.print(line, markup=False, highlight=False)


def prelabel(
    dataset: str | None = typer.Option(None, "--dataset", help="Dataset to pre-label."),
    judge: list[str] = typer.Option(
        [], "--judge", help="Judge model or spec (repeat for a panel)."
    ),
    api_base: str | None = typer.Option(None, "--api-base", help="OpenAI-compatible base URL."),
    concurrency: int | None = typer.Option(
        None, "--concurrency", min=1, help="Concurrent calls per model (per worker process)."
    ),
    chunk_size: int = typer.Option(
        DEFAULT_CHUNK_SIZE, "--chunk-size", min=1, help="Pairs per task."
    ),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Show progress until it finishes."),
    resume: int | None = typer.Option(
        None, "--resume", metavar="JOB_ID", help="Finish a job's missing and failed pairs only."
    ),
    cascade: bool = typer.Option(
        False,
        "--cascade",
        help="Each --judge is a stage, cheapest first: a judge sees only the pairs the earlier "
        "stages' certified policy did not accept (needs `referee calibrate --cascade`).",
    ),
    gold_only: bool = typer.Option(
        False, "--gold-only", help="Judge only the gold pairs (e.g. to calibrate a cascade)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the final summary as JSON."),
) -> None:
    """Pre-label a dataset with LLM judges (both orders per judge), as a resumable job."""
    from judge.setup import configure_litellm

    configure_litellm()  # this process may judge (no broker), and prices judges either way
    settings = load_settings()
    engine = open_database(settings)
    _check_prelabel_flags(settings, dataset, judge, wait, resume, cascade, gold_only)
    if cascade or gold_only:
        assert dataset is not None
        _prelabel_subset(
            settings, engine, dataset, judge, api_base, concurrency, chunk_size, cascade, as_json
        )
        return
    start = partial(
        _start_or_resume,
        dataset=dataset,
        judges=judge,
        api_base=api_base or settings.api_base,
        concurrency=concurrency,
        chunk_size=chunk_size,
        resume=resume,
        as_json=as_json,
    )
    _prelabel_job(settings, engine, start, concurrency=concurrency, wait=wait, as_json=as_json)


def _check_prelabel_flags(
    settings: Settings,
    dataset: str | None,
    judge: list[str],
    wait: bool,
    resume: int | None,
    cascade: bool,
    gold_only: bool,
) -> None:
    if resume is None and (not dataset or not judge):
        fail("give --dataset NAME and at least one --judge MODEL (or --resume JOB_ID)")
    if not wait and not settings.broker_url:
        fail(
            "--no-wait needs workers: set REFEREE_BROKER_URL and run `referee worker`; "
            "without a broker the job runs in this process"
        )
    if cascade or gold_only:
        if resume is not None or not wait:
            fail("--cascade and --gold-only run to the end: leave out --resume and --no-wait")
        if cascade and gold_only:
            fail("--cascade and --gold-only do not go together: judge the gold pairs first")


def _prelabel_job(
    settings: Settings,
    engine: Engine,
    start: Callable[[Engine, TaskRunner, Any], int],
    *,
    concurrency: int | None,
    wait: bool,
    as_json: bool,
) -> None:
    """Start (or resume) the job with ``start(engine, runner, owner)``, then watch it to its
    end unless ``--no-wait``; Ctrl-C stops new calls first, then quits."""
    from workers.interrupts import InterruptGuard
    from workers.owner import this_process
    from workers.runner import InProcessRunner

    guard = InterruptGuard(
        "interrupted: no new judge calls; finishing the calls in flight (Ctrl-C again quits now)",
        "interrupted twice: quitting now",
    )
    with user_errors(), guard:
        runner = _runner(settings, engine, concurrency)
        owner = None
        if isinstance(runner, InProcessRunner):
            owner, guard.on_first = this_process(), runner.context.gate.close
        job_id = start(engine, runner, owner)
        if not wait:
            summary = summarize_job(engine, job_id)
            if as_json:
                emit_json(summary.to_json())
            else:
                stdout.print(
                    f"job {job_id} enqueued ({summary.total} pairs); `referee job {job_id}`"
                )
            return
        summary = _watch(engine, job_id, runner, guard, as_json)
    _report_outcome(summary, guard, job_id, as_json)


def _start_or_resume(
    engine: Engine,
    runner: TaskRunner,
    owner: Any,
    *,
    dataset: str | None,
    judges: list[str],
    api_base: str | None,
    concurrency: int | None,
    chunk_size: int,
    resume: int | None,
    as_json: bool,
) -> int:
    """The id of the job to watch: ``resume``'s (its missing and failed pairs requeued), or a
    new job's."""
    from referee.jobs.sql_store import SqlJobStore
    from workers.jobs import resume_prelabel, start_prelabel

    if resume is not None:
        count = resume_prelabel(
            SqlJobStore(engine), resume, runner=runner, concurrency=concurrency, owner=owner
        )
        if not as_json:
            stderr.print(f"job {resume}: resuming {count} pair(s)")
        return resume
    assert dataset is not None
    _warn_unpriced(judges)
    return start_prelabel(
        SqlJobStore(engine),
        dataset=dataset,
        judges=judges,
        runner=runner,
        api_base=api_base,
        concurrency=concurrency,
        chunk_size=chunk_size,
        owner=owner,
    )


def _watch(
    engine: Engine, job_id: int, runner: TaskRunner, guard: Any, as_json: bool
) -> JobSummary:
    """Wait for the job (with a progress bar unless ``--json``); after Ctrl-C an in-process
    job is marked interrupted."""
    from referee.jobs.sql_store import SqlJobStore
    from workers.jobs import interrupt_prelabel, wait_for_job
    from workers.runner import InProcessRunner

    total = summarize_job(engine, job_id).total
    stop = lambda: guard.requested  # noqa: E731
    try:
        if as_json:
            summary = wait_for_job(SqlJobStore(engine), job_id, runner=runner, should_stop=stop)
        else:
            bar = _ProgressBar(job_id, total)
            with bar.progress:
                summary = wait_for_job(
                    SqlJobStore(engine),
                    job_id,
                    runner=runner,
                    progress_callback=bar,
                    should_stop=stop,
                )
        if guard.requested and isinstance(runner, InProcessRunner):
            reason = f"interrupted by {signal.Signals(guard.signum or signal.SIGINT).name}"
            summary = interrupt_prelabel(SqlJobStore(engine), job_id, runner, reason=reason)
    finally:
        if isinstance(runner, InProcessRunner):
            runner.close()
            runner.context.close()
    return summary


def _report_outcome(summary: JobSummary, guard: Any, job_id: int, as_json: bool) -> None:
    from workers.jobs import outcome_message

    if as_json:
        emit_json(summary.to_json())
    else:
        _print_summary(summary)
    if guard.requested and not summary.finished:  # workers go on judging it
        stderr.print(f"stopped watching job {job_id}; it goes on: `referee job cancel {job_id}`")
    elif (message := outcome_message(summary)) is not None:
        stderr.print(message, markup=False, highlight=False)
    if guard.requested:
        raise typer.Exit(guard.exit_code)
    if not summary.succeeded:
        raise typer.Exit(EXIT_RUNTIME)


def jobs(
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """List pre-labeling jobs, newest first."""
    engine = open_database()
    mark_orphaned_jobs(engine)  # a killed in-process job shows as interrupted
    found = summarize_jobs(engine)
    if as_json:
        emit_json([s.to_json() for s in found])
        return
    if not found:
        stdout.print("no jobs yet; start one with `referee prelabel`")
        return
    from rich.table import Table

    table = Table("id", "dataset", "status", "done", "failed", "pending", "spend")
    # judge names are never cut: "gpt-4/vanilla" and "gpt-4/vanilla_norules" must stay apart
    table.add_column("judges", overflow="fold", min_width=24)
    for s in found:
        table.add_row(
            str(s.id), s.dataset, s.status, str(s.done), str(s.failed), str(s.pending),
            f"${s.cost:.4f}", "\n".join(s.judges),
        )  # fmt: skip
    stdout.print(table)


@job_app.command("show", hidden=True)
def job_show(
    job_id: int = typer.Argument(..., metavar="ID"),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Show one job: status, progress, spend, and failed pairs with their reasons."""
    engine = open_database()
    with user_errors():
        mark_orphaned_jobs(engine)
        summary = summarize_job(engine, job_id, failures=50)
        calls = job_calls(engine, job_id)
    if as_json:
        emit_json({**summary.to_json(), "calls": calls.to_json()})
        return
    _print_summary(summary)
    _print_calls(calls)


@job_app.command("cancel")
def job_cancel(job_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Cancel a job: chunks still queued do nothing; `prelabel --resume ID` picks it up again."""
    from referee.jobs.store import cancel_job

    engine = open_database()
    with user_errors():
        cancel_job(engine, job_id)
    stdout.print(f"job {job_id} cancelled")


def worker(
    concurrency: int | None = typer.Option(
        None, "--concurrency", min=1, help="Concurrent calls per model in this worker process."
    ),
    chunks: int = typer.Option(4, "--chunks", min=1, help="Chunks worked on at once."),
    queues: list[str] = typer.Option(["referee"], "--queues", "-Q", help="Queues to consume."),
    pool: str = typer.Option("threads", "--pool", help="Celery pool: threads, prefork or solo."),
    hostname: str | None = typer.Option(None, "--hostname", help="Worker name (node@host)."),
    loglevel: str = typer.Option(
        "INFO",
        "--log-level",
        "--loglevel",
        help="Log level of Celery's and Referee's loggers: DEBUG, INFO, WARNING or ERROR.",
    ),
    sweep_every: float = typer.Option(
        10.0, "--sweep-every", min=0.1, help="Seconds between checks for stalled jobs."
    ),
) -> None:
    """Start a Celery worker for pre-labeling chunks (prefetch 1, acks late)."""
    from referee.cli.main import configure_logging

    settings = load_settings()
    if not settings.broker_url:
        fail("no broker: set REFEREE_BROKER_URL=redis://host:6379/0 to run workers")
    if loglevel.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        fail(f"--log-level {loglevel!r}: use DEBUG, INFO, WARNING, ERROR or CRITICAL")
    configure_logging(loglevel)
    open_database(settings)
    from judge.setup import configure_litellm

    configure_litellm()  # before workers.celery_app imports the judge stack
    from referee.jobs.config import worker_config
    from referee.jobs.sql_store import open_job_store
    from workers.celery_app import make_celery_app, run_worker
    from workers.runner import CeleryRunner

    with user_errors():  # an unreachable broker: exit 1
        CeleryRunner(make_celery_app(settings.broker_url, settings.result_backend)).ping()
    config = worker_config(settings, concurrency=concurrency, chunk_threads=chunks)
    run_worker(
        config,
        open_job_store,
        settings.broker_url,
        settings.result_backend,
        queues=[q for item in queues for q in item.split(",") if q],
        pool=pool,
        loglevel=loglevel,
        hostname=hostname,
        sweep_every_s=sweep_every,
    )


def register(app: typer.Typer) -> None:
    """Add ``prelabel``, ``jobs``, ``job`` and ``worker`` to ``app``."""
    app.command("prelabel")(prelabel)
    app.command("jobs")(jobs)
    app.add_typer(job_app, name="job")
    app.command("worker")(worker)
