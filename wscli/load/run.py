"""Running ``wscli load`` on Locust: a local runner, or Locust's own master and workers.

Locust spawns, counts, computes percentiles and carries the master/worker traffic;
this module only wires it: an :class:`~locust.env.Environment` with the wscli user
class, the run's clock, and one custom message (``wscli_users``) that brings every
worker's user records (connected intervals, fan-out ids, connection errors) to
the master when the test stops, so the master can judge the whole fleet.

Imports Locust (and so gevent's monkey-patching): only ``wscli load`` imports it,
after :func:`wscli.loadpatch.patch` has run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gevent
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from wscli.errors import BadUsage, WriteFailed
from wscli.load.user import REGISTRY, LoadSettings, StreamUser, UserRecord

if TYPE_CHECKING:
    from wscli.redact import Redactor

USERS_MESSAGE = "wscli_users"
REPORT_WAIT = 15.0  # seconds the master waits for the workers' user records after stopping
WORKER_WAIT = 60.0  # seconds the master waits for --expect-workers before giving up


class WscliUser(StreamUser):
    """The user class ``wscli load`` runs (settings are set per run)."""

    abstract = False


@dataclass
class LoadPlan:
    """What ``wscli load`` was asked to do."""

    settings: LoadSettings
    users: int = 10
    spawn_rate: float = 10.0
    duration: float = 10.0
    role: str = "local"  # local | master | worker
    expect_workers: int = 1
    master_bind_host: str = "127.0.0.1"
    master_bind_port: int = 5557
    master_host: str = "127.0.0.1"
    master_port: int = 5557
    master_wait: float = 60.0  # --master-wait: how long a worker waits for its master
    csv_prefix: str | None = None
    html_file: str | None = None


@dataclass
class RunResult:
    """How the run went; the report module turns it into a verdict."""

    environment: Environment
    records: list[UserRecord]
    elapsed: float
    started_at: float
    ended_at: float
    interrupted: BaseException | None = None
    fanout_truncated: bool = False
    workers: int = 0
    worker_problems: list[str] = field(default_factory=list)
    cpu_warning: bool = False  # a load process ran above 90 % CPU: delays may be its own
    write_failures: list[WriteFailed] = field(default_factory=list)  # --csv files not written


def _parsed_options(plan: LoadPlan) -> Any:
    """Locust's own options object, carrying our settings to the workers.

    Options that are not Locust's travel in every spawn message and are set on the
    worker's options (``WorkerRunner.handle_message``): that is how a worker learns
    the URL and the rest without being given them.
    """
    from locust import argument_parser

    parser = argument_parser.get_empty_argument_parser(default_config_files=[])
    argument_parser.setup_parser_arguments(parser)
    options = parser.parse(args=[])
    options.headless = True
    options.num_users = plan.users
    options.spawn_rate = plan.spawn_rate
    options.run_time = int(plan.duration) or 1
    options.expect_workers = plan.expect_workers
    if plan.role != "worker":
        options.wscli_load = plan.settings.to_wire()
    return options


def _environment(plan: LoadPlan) -> Environment:
    WscliUser.settings = plan.settings
    host = plan.settings.connect.get("url") or None
    env = Environment(
        user_classes=[WscliUser],
        host=host,
        parsed_options=_parsed_options(plan),
        stop_timeout=0,
    )
    env.events.test_start.add_listener(lambda **_: REGISTRY.reset())
    env.events.report_to_master.add_listener(_report_connected)
    env.events.worker_report.add_listener(
        lambda client_id, data, **_: CONNECTED.__setitem__(
            client_id, data.get("wscli_connected", 0)
        )
    )
    return env


CONNECTED: dict[str, int] = {}  # on the master: users connected per worker, as last reported


def _report_connected(client_id: str, data: dict[str, Any], **_: Any) -> None:
    data["wscli_connected"] = REGISTRY.connected


def connected_users(env: Environment) -> int:
    """Users connected right now: this process's, or the workers' last reports on a master."""
    if isinstance(env.runner, MasterRunner):
        return sum(CONNECTED.values())
    return REGISTRY.connected


def quiet_locust_logs(verbose: bool = False) -> None:
    """Locust logs through ``logging``; wscli speaks for itself unless asked (-v)."""
    logger = logging.getLogger("locust")
    logger.setLevel(logging.INFO if verbose else logging.CRITICAL)
    if verbose and not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("locust: %(message)s"))
        logger.addHandler(handler)
    logger.propagate = False


def run(
    plan: LoadPlan,
    tick: Callable[[Environment, float], None] | None = None,
    note: Callable[[str], None] | None = None,
) -> RunResult:
    """Run the plan; ``tick(environment, elapsed)`` is called about once a second.

    ``note`` gets the few lines worth saying while it runs (waiting for workers).
    """
    if plan.role == "worker":
        return _run_worker(plan, tick, note)
    env = _environment(plan)
    hot: list[bool] = []
    env.events.cpu_warning.add_listener(lambda **_: hot.append(True))
    collected: dict[str, list[UserRecord]] = {}
    truncated: list[bool] = []
    if plan.role == "master":
        runner: Any = env.create_master_runner(plan.master_bind_host, plan.master_bind_port)

        def on_users(environment: Environment, msg: Any, **_: Any) -> None:
            data = msg.data or {}
            collected[msg.node_id] = [UserRecord.from_wire(r) for r in data.get("records", [])]
            truncated.append(bool(data.get("truncated")))

        runner.register_message(USERS_MESSAGE, on_users)
    else:
        runner = env.create_local_runner()
    writer = _start_csv(env, plan.csv_prefix)
    from locust import stats as locust_stats

    history = gevent.spawn(locust_stats.stats_history, runner)  # the HTML report's charts
    started = time.monotonic()
    started_at = time.time()
    interrupted: BaseException | None = None
    workers = 0
    starter: Any = None
    try:
        if plan.role == "master":
            if note is not None:
                where = f"{plan.master_bind_host}:{plan.master_bind_port}"
                note(f"wscli load: master on {where}, waiting for {plan.expect_workers} workers")
                if plan.master_bind_host not in ("127.0.0.1", "localhost", "::1"):
                    note(
                        f"wscli: warning: any process that reaches {where} as a worker is sent"
                        " the URL and every connection option (--token included), in clear"
                    )
            workers = _wait_for_workers(runner, plan, started, tick)
            started = time.monotonic()
            started_at = time.time()
        # A master's start() blocks until the ramp-up is dispatched: keep the clock running.
        starter = gevent.spawn(runner.start, plan.users, plan.spawn_rate)
        _hold(env, plan, started, tick, local=plan.role == "local")
    except KeyboardInterrupt as exc:
        interrupted = exc
    ended_at = time.time()
    elapsed = time.monotonic() - started
    try:
        if starter is not None:
            starter.kill(block=True)
        runner.stop()
        if plan.role == "master":
            _wait_for_records(runner, collected, workers)
            runner.quit()
        else:
            runner.quit()
    except KeyboardInterrupt as exc:  # a second Ctrl-C: stop waiting, report what we have
        interrupted = interrupted or exc
    history.kill(block=False)
    write_failures = _finish_csv(writer, plan.csv_prefix)
    hot_anywhere = bool(hot) or bool(getattr(runner, "worker_cpu_warning_emitted", False))
    if plan.role == "master":
        records = [r for node in collected.values() for r in node]
        problems = []
        if len(collected) < workers:
            problems.append(f"only {len(collected)} of {workers} workers sent their results")
        return RunResult(
            env,
            records,
            elapsed,
            started_at,
            ended_at,
            interrupted,
            any(truncated),
            workers,
            problems,
            hot_anywhere,
            write_failures,
        )
    return RunResult(
        env,
        list(REGISTRY.records),
        elapsed,
        started_at,
        ended_at,
        interrupted,
        REGISTRY.fanout_truncated,
        cpu_warning=hot_anywhere,
        write_failures=write_failures,
    )


def _hold(
    env: Environment,
    plan: LoadPlan,
    started: float,
    tick: Callable[[Environment, float], None] | None,
    *,
    local: bool,
) -> None:
    """Until --duration has passed (or every local user has given up)."""
    end = started + plan.duration
    while True:
        now = time.monotonic()
        if now >= end:
            return
        gevent.sleep(min(1.0, end - now))
        if tick is not None:
            tick(env, time.monotonic() - started)
        if local and _all_gave_up(plan):
            return


def _all_gave_up(plan: LoadPlan) -> bool:
    """Every user has been spawned and none is connected or still trying."""
    records = REGISTRY.records
    return (
        len(records) >= plan.users
        and REGISTRY.connected == 0
        and all(r.error and not r.retrying for r in records)
    )


def _wait_for_workers(
    runner: MasterRunner,
    plan: LoadPlan,
    started: float,
    tick: Callable[[Environment, float], None] | None,
) -> int:
    deadline = time.monotonic() + WORKER_WAIT
    while len(runner.clients.ready) < plan.expect_workers:
        if time.monotonic() > deadline:
            raise BadUsage(
                f"only {len(runner.clients.ready)} of {plan.expect_workers} workers connected"
                f" within {WORKER_WAIT:g} s",
                where=f"{plan.master_bind_host}:{plan.master_bind_port}",
                hint="start them with: wscli load --worker --master-host HOST",
            )
        gevent.sleep(0.2)
    return len(runner.clients.ready)


def _wait_for_records(
    runner: MasterRunner, collected: dict[str, list[UserRecord]], workers: int
) -> None:
    deadline = time.monotonic() + REPORT_WAIT
    while len(collected) < workers and time.monotonic() < deadline:
        gevent.sleep(0.1)


def _run_worker(
    plan: LoadPlan,
    tick: Callable[[Environment, float], None] | None,
    note: Callable[[str], None] | None = None,
) -> RunResult:
    env = _environment(plan)
    started = time.monotonic()
    started_at = time.time()
    where = f"{plan.master_host}:{plan.master_port}"
    if note is not None:  # Locust would wait up to 5 minutes without a word
        note(
            f"wscli load (worker): waiting for the master at {where}"
            f" (up to {plan.master_wait:g} s, --master-wait)"
        )
    try:
        # Locust's constructor blocks until the master answers (or 5 minutes pass).
        with gevent.Timeout(plan.master_wait, ConnectionError):
            runner: WorkerRunner = env.create_worker_runner(plan.master_host, plan.master_port)
    except ConnectionError:
        raise BadUsage(
            f"no master answered within {plan.master_wait:g} s",
            where=where,
            hint="start `wscli load --master` first, check --master-host/--master-port,"
            " or wait longer with --master-wait",
        ) from None
    except SystemExit:  # Locust exits on Ctrl-C (or our SIGTERM) while it waits: keep ours
        raise _stopped_while_waiting() from None
    if note is not None:
        note(f"wscli load (worker): connected to the master at {where}; waiting for the run")

    def on_test_stop(environment: Environment, **_: Any) -> None:
        # Locust's own stats first, then our records: both reach the master before
        # it decides, because one connection delivers in order.
        try:
            runner._send_stats()
        except Exception:
            pass
        runner.send_message(
            USERS_MESSAGE,
            {
                "records": [r.to_wire() for r in REGISTRY.records],
                "truncated": REGISTRY.fanout_truncated,
            },
        )

    env.events.test_stop.add_listener(on_test_stop)
    interrupted: BaseException | None = None
    try:
        while len(runner.greenlet) > 0:  # until the master says quit
            gevent.sleep(1.0)
            if tick is not None:
                tick(env, time.monotonic() - started)
    except KeyboardInterrupt as exc:
        interrupted = exc
        runner.quit()
    return RunResult(
        env,
        list(REGISTRY.records),
        time.monotonic() - started,
        started_at,
        time.time(),
        interrupted,
        REGISTRY.fanout_truncated,
    )


def _stopped_while_waiting() -> KeyboardInterrupt:
    """Ctrl-C or SIGTERM, as Locust's ``sys.exit(1)`` swallowed it.

    ``wscli load`` resets SIGTERM's handler to the default on the first SIGTERM (so a
    second one kills): a default handler now means the signal was SIGTERM.
    """
    import signal

    from wscli.errors import Terminated

    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        return Terminated()
    return KeyboardInterrupt()


# -- Locust's own CSV and HTML writers -------------------------------------------------------


@dataclass
class _CsvWriter:
    """Locust's CSV writer and the greenlet that feeds it every few seconds."""

    writer: Any
    greenlet: Any
    failed: list[OSError]


def _start_csv(env: Environment, prefix: str | None) -> _CsvWriter | None:
    """Locust's CSV writer, in a greenlet that stops (and says so later) on a full disk.

    Locust's own loop would die with a traceback from the hub; here an ``OSError``
    is kept and becomes one ``cannot write to --csv ...`` line at the end (exit 2).
    """
    if not prefix:
        return None
    from locust import stats

    from wscli.output.files import write_failed

    try:
        writer = stats.StatsCSVFileWriter(env, stats.PERCENTILES_TO_REPORT, prefix, False)
    except OSError as exc:
        raise write_failed(f"--csv {prefix}_*.csv", exc) from None
    failed: list[OSError] = []

    def keep_writing() -> None:
        try:
            writer.stats_writer()
        except OSError as exc:
            failed.append(exc)

    return _CsvWriter(writer, gevent.spawn(keep_writing), failed)


def _finish_csv(started: _CsvWriter | None, prefix: str | None) -> list[WriteFailed]:
    """Stop Locust's CSV writer, then write the final tables once more, each whole.

    Returns the files that could not be written, as one-line errors.
    """
    if started is None or prefix is None:
        return []
    import csv
    import io

    from wscli.output.files import ReportFiles, write_failed

    writer = started.writer
    started.greenlet.kill(block=True)
    reports = ReportFiles()
    history = f"--csv {prefix}_stats_history.csv"
    try:
        writer.close_files()  # flushes the history file: the same full disk fails again
    except OSError as exc:
        started.failed.append(exc)
    reports.failed += [write_failed(history, exc) for exc in started.failed[:1]]
    for suffix, method in (
        ("_stats.csv", writer.requests_csv),
        ("_failures.csv", writer.failures_csv),
        ("_exceptions.csv", writer.exceptions_csv),
    ):
        text = io.StringIO(newline="")
        method(csv.writer(text))
        reports.write(prefix + suffix, text.getvalue().encode("utf-8"), option="--csv")
    return reports.failed


def html_report(env: Environment, redactor: Redactor) -> bytes:
    """Locust's own HTML report (charts included), with the URL's credentials hidden.

    Locust prints the host as given, password and ``?token=`` included: the report
    is built with the redacted URL, then every known secret (``--token`` too) is
    hidden in the whole page as a last net. The tap's redactor honours --no-redact.
    """
    from locust.html import get_html_report
    from locust.stats import update_stats_history

    if not env.stats.history and env.runner is not None:  # a run shorter than one sample
        update_stats_history(env.runner)
    host = env.host
    if host:
        env.host = redactor.url(host)
    try:
        page = get_html_report(env, show_download_link=False)
    finally:
        env.host = host
    return redactor.text(page).encode("utf-8")
