"""``wscli load``: many streaming users at once, on Locust, from one machine to many.

Thin: parse options, patch the process for gevent (Locust's concurrency), hand the
plan to :mod:`wscli.load.run`, then report with :mod:`wscli.load.report`. Locust and
gevent are imported only inside the command, never by ``wscli load --help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from wscli.durations import MILLISECONDS, POSITIVE_SECONDS, SECONDS, FiniteFloatRange
from wscli.errors import EXIT_CODE_HELP, BadUsage, WscliError, interrupt_status
from wscli.net.tap import Tap
from wscli.net.target import ConnectOptions
from wscli.options.connection import connection_options
from wscli.options.health import health_options
from wscli.options.help import GroupedCommand
from wscli.options.state import AppState, pass_state

if TYPE_CHECKING:
    from wscli.checks.health import HealthResult
    from wscli.load.report import Limits
    from wscli.load.run import LoadPlan, RunResult
    from wscli.output.terminal import Output

INSTALL_HINT = "install it with: pip install 'wscli-toolkit[load]'"
_positive = FiniteFloatRange(min=0, min_open=True)


@click.command(cls=GroupedCommand, epilog=EXIT_CODE_HELP)
@connection_options
@click.option(
    "-u",
    "--users",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Simulated users, each holding one stream.",
)
@click.option(
    "-r",
    "--spawn-rate",
    type=_positive,
    default=10.0,
    show_default=True,
    help="Users started per second.",
)
@click.option(
    "-t",
    "--duration",
    type=POSITIVE_SECONDS,
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="How long the run lasts, ramp-up included; then every user closes with 1000.",
)
@click.option(
    "--validate",
    is_flag=True,
    help="Check each message against the schema: any invalid or malformed one fails the run"
    " (exit 1) unless --max-failure-rate allows some.",
)
@click.option(
    "--schema",
    "schema_file",
    type=click.Path(exists=True, dir_okay=False),
    help="JSON Schema for --validate (default: the built-in sensor stream schema).",
)
@click.option("--fanout", is_flag=True, help="Check that every user got every message id.")
@click.option(
    "--id-field",
    default="data.id",
    show_default=True,
    metavar="PATH",
    help="The message id the fan-out check compares.",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Reconnect attempts per drop (and per user's first connect); 0 never reconnects.",
)
@click.option(
    "--backoff",
    type=SECONDS,
    default=0.5,
    show_default=True,
    metavar="SECONDS",
    help="Base of the exponential reconnect backoff (full jitter), as in tail.",
)
@click.option(
    "-o",
    "--output",
    "mode",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="The summary as a table, or one JSON document on stdout.",
)
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False), help="JUnit XML report.")
@click.option("--csv", "csv_prefix", metavar="PREFIX", help="Locust's CSV files, PREFIX_*.csv.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Locust's HTML report.")
# Thresholds
@click.option(
    "--max-failure-rate",
    type=FiniteFloatRange(0, 1),
    metavar="RATIO",
    help="Exit 1 above this share of failed requests (connects, messages, drops).",
)
@click.option(
    "--min-rate",
    type=FiniteFloatRange(min=0),
    metavar="MSG_PER_S",
    help="Exit 1 below this many messages per second per connected user.",
)
@click.option(
    "--max-connect-p99",
    type=MILLISECONDS,
    metavar="MS",
    help="Exit 1 when the 99th percentile connect time is above this.",
)
@click.option(
    "--max-delay-p99",
    type=MILLISECONDS,
    metavar="MS",
    help="Exit 1 when the 99th percentile delivery delay is above this.",
)
@click.option(
    "--max-missed",
    type=click.IntRange(min=0),
    metavar="N",
    help="With --fanout: exit 1 when users missed more than N messages in all (default 0).",
)
# Distributed: Locust's own runners and flag names
@click.option("--master", is_flag=True, help="Be Locust's master: workers run the users.")
@click.option(
    "--expect-workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="With --master: start once this many workers are connected.",
)
@click.option(
    "--master-bind-host",
    default="127.0.0.1",
    show_default=True,
    help="With --master: interface the workers connect to; workers on other machines need"
    " this machine's address (or * for every interface): each worker receives the URL and"
    " every connection option, --token included.",
)
@click.option(
    "--master-bind-port",
    type=click.IntRange(1, 65535),
    default=5557,
    show_default=True,
    help="With --master: port the workers connect to.",
)
@click.option("--worker", is_flag=True, help="Be a Locust worker; the master sends the settings.")
@click.option(
    "--master-host",
    default="127.0.0.1",
    show_default=True,
    help="With --worker: where the master runs.",
)
@click.option(
    "--master-port",
    type=click.IntRange(1, 65535),
    default=5557,
    show_default=True,
    help="With --worker: the master's --master-bind-port.",
)
@click.option(
    "--master-wait",
    type=POSITIVE_SECONDS,
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="With --worker: how long to wait for the master to answer; then exit 2.",
)
@health_options()
@click.option("--strict", is_flag=True, help="With --health, a suspect check fails too.")
@pass_state
def load(
    state: AppState,
    conn: ConnectOptions,
    tap: Tap,
    users: int,
    spawn_rate: float,
    duration: float,
    validate: bool,
    schema_file: str | None,
    fanout: bool,
    id_field: str,
    retries: int,
    backoff: float,
    mode: str,
    junit_file: str | None,
    csv_prefix: str | None,
    html_file: str | None,
    max_failure_rate: float | None,
    min_rate: float | None,
    max_connect_p99: float | None,
    max_delay_p99: float | None,
    max_missed: int | None,
    master: bool,
    expect_workers: int,
    master_bind_host: str,
    master_bind_port: int,
    worker: bool,
    master_host: str,
    master_port: int,
    master_wait: float,
    health_values: dict[str, Any],
    strict: bool,
) -> None:
    """Open many streams to URL at once and check they all hold up (on Locust).

    Each user opens one stream with every connection option, reports connect
    time, each message by type and its delivery delay (now minus data.timestamp)
    to Locust, and reconnects like tail. Thresholds turn the run into a CI check
    (exit 1); when every user fails to connect the same way, the exit code is
    that connection error's (3-8).

    \b
    Examples:
      wscli load URL --users 200 --spawn-rate 50 --duration 60
      wscli load URL -u 50 -t 30 --fanout --max-delay-p99 500 --junit load.xml
      wscli load URL --validate --max-failure-rate 0.01 -o json
    \b
    Many machines (Locust's master and workers; the master sends the settings):
      wscli load URL --master --expect-workers 2 -u 4000 -t 120
      wscli load --worker --master-host MASTER_HOST      (on each worker)
    """
    import importlib.util

    if importlib.util.find_spec("locust") is None:
        raise BadUsage("wscli load needs Locust, which is not installed", hint=INSTALL_HINT)
    if master and worker:
        raise BadUsage("--master and --worker exclude each other", hint="pick one role")
    if max_missed is not None and not fanout:
        raise BadUsage("--max-missed needs --fanout")
    from wscli.filters import parse_field_path
    from wscli.output.files import check_writable

    for path, option in ((junit_file, "--junit"), (html_file, "--html"), (csv_prefix, "--csv")):
        if path:
            check_writable(path, option)  # fail before the run, not after it

    try:
        parse_field_path(id_field)
    except ValueError as exc:
        raise BadUsage(f"--id-field: {exc}", hint="write paths like data.id") from None
    # Checked before gevent patches this process: a refusal must not leave it patched.
    health = _health_settings(health_values, strict, distributed=master or worker)
    _patch_for_gevent()
    from dataclasses import asdict

    from wscli.load.report import Limits
    from wscli.load.run import LoadPlan
    from wscli.load.user import LoadSettings

    schema, schema_dir = _schema(schema_file) if (validate or schema_file) else (None, None)
    role = "master" if master else "worker" if worker else "local"
    plan = LoadPlan(
        settings=LoadSettings(
            connect=asdict(conn),
            validate=validate or schema_file is not None,
            schema=schema,
            schema_dir=schema_dir,
            fanout=fanout,
            id_field=id_field,
            retries=retries,
            backoff=backoff,
            health=health,
            health_strict=strict,
        ),
        users=users,
        spawn_rate=spawn_rate,
        duration=duration,
        role=role,
        expect_workers=expect_workers,
        master_bind_host=master_bind_host,
        master_bind_port=master_bind_port,
        master_host=master_host,
        master_port=master_port,
        master_wait=master_wait,
        csv_prefix=csv_prefix if role != "worker" else None,
        html_file=html_file if role != "worker" else None,
    )
    limits = Limits(
        max_failure_rate=max_failure_rate,
        min_rate=min_rate,
        max_connect_p99=max_connect_p99,
        max_delay_p99=max_delay_p99,
        max_missed=max_missed,
    )
    _run(state, tap, plan, limits, mode=mode, junit_file=junit_file)


def _health_settings(
    values: dict[str, Any], strict: bool, *, distributed: bool
) -> dict[str, Any] | None:
    """The health flags as plain values for every user, checked once here (exit 2)."""
    from wscli.options.health import health_config

    if health_config(values, strict=strict) is None:
        return None
    if distributed:
        raise BadUsage(
            "--health judges the streams of one load process for now",
            hint="run load --health without --master/--worker",
        )
    return dict(values)


def _schema(schema_file: str | None) -> tuple[dict[str, object] | None, str | None]:
    """The schema document itself (workers may not have the file), compiled once to check it."""
    from pathlib import Path

    from wscli.checks.schema import load_schema
    from wscli.session.tailing import load_validator

    load_validator(schema_file)  # a bad schema fails here, before any user starts
    if schema_file is None:
        return None, None
    return load_schema(schema_file), str(Path(schema_file).resolve().parent)


def _patch_for_gevent() -> None:
    """gevent's monkey-patching, once, before Locust (and its sockets) are imported.

    Ctrl-C and SIGTERM (``Terminated``) are how a run ends early, not errors: the hub
    still hands them to the main greenlet, which writes the summary and reports, but
    does not print a traceback for them.
    """
    import signal

    import gevent
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        monkey.patch_all()
    hub = gevent.get_hub()
    hub.NOT_ERROR = (*hub.NOT_ERROR, KeyboardInterrupt)
    main = gevent.getcurrent()

    def on_sigterm() -> None:
        from wscli.errors import Terminated

        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM kills at once
        main.throw(Terminated())

    # Python's own handler would raise in whichever greenlet runs (often the hub).
    gevent.signal_handler(signal.SIGTERM, on_sigterm)


def _run(
    state: AppState, tap: Tap, plan: LoadPlan, limits: Limits, *, mode: str, junit_file: str | None
) -> None:
    from wscli.load.run import quiet_locust_logs, run
    from wscli.load.user import REGISTRY
    from wscli.load.view import ProgressView
    from wscli.output.terminal import Output
    from wscli.server.fdlimit import raise_open_file_limit

    raise_open_file_limit()
    quiet_locust_logs(verbose=tap.stderr_sink is not None)
    REGISTRY.tap = tap if tap.enabled else None
    output = Output(color=state.color)
    total = plan.duration if plan.role != "worker" else None  # a worker learns it from no one
    view = ProgressView(output, plan.users, role=plan.role, duration=total)
    try:
        result = run(plan, tick=view.tick, note=output.note)
    finally:
        view.close()
    _report(plan, limits, result, output, tap, mode=mode, junit_file=junit_file)


def _report(
    plan: LoadPlan,
    limits: Limits,
    result: RunResult,
    output: Output,
    tap: Tap,
    *,
    mode: str,
    junit_file: str | None,
) -> None:
    """Every report, then the exit code: a report not written fails the run (exit 2)."""
    from wscli.load.report import (
        Summary,
        from_locust,
        from_records,
        json_document,
        judge,
        junit_xml,
        summary_rows,
        verdict_error,
        verdict_line,
    )
    from wscli.load.run import html_report
    from wscli.output.files import ReportFiles

    summary = Summary(
        role=plan.role,
        target_users=plan.users,
        duration=result.elapsed,
        planned_duration=plan.duration if plan.role != "worker" else 0.0,  # the master's
    )
    if result.interrupted is not None:
        summary.interrupted = (
            "terminated" if interrupt_status(result.interrupted) == 143 else "interrupted"
        )
    if plan.role == "worker":
        from_records(result.records, summary)
        summary.target_users = 0
    else:
        from_locust(result.environment.stats, result.records, summary)
        summary.problems.extend(result.worker_problems)
        if plan.settings.fanout:
            from wscli.load import fanout

            summary.fanout = fanout.check(result.records, end=result.ended_at)
            summary.fanout.complete = not result.fanout_truncated
            if result.fanout_truncated:
                summary.fanout.note = "more ids than the memory budget allows"
        judge(summary, limits, fanout=plan.settings.fanout, validate=plan.settings.validate)
    health = _health_result(plan, result, summary.interrupted)
    reports = ReportFiles()
    reports.failed.extend(result.write_failures)
    if plan.html_file:
        reports.write(
            plan.html_file, html_report(result.environment, tap.redactor), option="--html"
        )
    summary.unwritten = [failure.one_line() for failure in reports.failed]
    if junit_file:
        xml = junit_xml(summary)
        if health is not None:
            from wscli.checks.health_report import add_health_suite

            xml = add_health_suite(xml, health, result.elapsed)
        reports.write(junit_file, xml, option="--junit")
    summary.unwritten = [failure.one_line() for failure in reports.failed]
    if mode == "json":
        import json

        document = json_document(summary)
        if health is not None:
            document["health"] = health.as_dict()
        output.write((json.dumps(document) + "\n").encode())
    else:
        _print_table(output, summary_rows(summary), verdict_line(summary))
        if health is not None:
            from wscli.checks.health_report import health_text

            text = health_text(health, color=output.color, width=output.width or 120)
            output.write(("\n" + text).encode("utf-8", "replace"))
    output.flush()
    if result.interrupted is not None:
        # The reason, on stderr too: a CI log shows why the run stopped early.
        planned = f"of {summary.planned_duration:g} s, " if summary.planned_duration else ""
        output.note(f"wscli: {verdict_line(summary)} ({planned}{summary.reason})")
        reports.signalled(output.note)
        raise click.exceptions.Exit(interrupt_status(result.interrupted))
    if result.cpu_warning:
        output.note(
            "wscli: note: a load process ran above 90 % CPU: delays may be the load"
            " generator's own; use fewer users per process, or more workers"
        )
    verdict: WscliError | None = verdict_error(summary)
    if verdict is None and health is not None and not health.ok:
        from wscli.errors import CheckFailed

        verdict = CheckFailed(health.verdict())
    error = reports.ending(verdict, output.note)
    if error is not None:
        raise error


def _health_result(plan: LoadPlan, result: RunResult, stopped: str | None) -> HealthResult | None:
    """Every user's stream judged on its own, merged per source (local runs)."""
    if plan.settings.health is None:
        return None
    from wscli.checks.health import merge_results
    from wscli.load.user import REGISTRY

    results = [engine.result(end=result.ended_at) for engine in REGISTRY.health]
    merged = merge_results(results, strict=plan.settings.health_strict)
    merged.stopped = stopped or ""
    return merged


def _print_table(output: Output, rows: list[tuple[str, str]], verdict: str) -> None:
    import io

    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE, show_header=False, show_edge=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for label, value in rows:
        table.add_row(Text(label), Text(value))
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=100,
        force_terminal=output.color,
        no_color=not output.color,
        highlight=False,
    )
    console.print(table)
    text = "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())
    output.write((text + "\n" + verdict + "\n").encode("utf-8", "replace"))
