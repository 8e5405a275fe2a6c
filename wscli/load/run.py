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
from typing import Any

import gevent
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from wscli.errors import BadUsage
from wscli.load.user import REGISTRY, LoadSettings, StreamUser, UserRecord

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
    master_bind_host: str = "*"
    master_bind_port: int = 5557
    master_host: str = "127.0.0.1"
    master_port: int = 5557
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
        return _run_worker(plan, tick)
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
    _finish_csv(env, writer, plan.csv_prefix)
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
    return len(records) >= plan.users and REGISTRY.connected == 0 and all(r.error for r in records)


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


def _run_worker(plan: LoadPlan, tick: Callable[[Environment, float], None] | None) -> RunResult:
    env = _environment(plan)
    started = time.monotonic()
    started_at = time.time()
    try:
        runner: WorkerRunner = env.create_worker_runner(plan.master_host, plan.master_port)
    except ConnectionError:
        raise BadUsage(
            "cannot reach the master",
            where=f"{plan.master_host}:{plan.master_port}",
            hint="start `wscli load --master` first, and check --master-host/--master-port",
        ) from None

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


# -- Locust's own CSV and HTML writers -------------------------------------------------------


def _start_csv(env: Environment, prefix: str | None) -> Any:
    if not prefix:
        return None
    from locust import stats

    try:
        writer = stats.StatsCSVFileWriter(env, stats.PERCENTILES_TO_REPORT, prefix, False)
    except OSError as exc:
        raise BadUsage(f"cannot write --csv {prefix}_*.csv: {exc.strerror or exc}") from None
    greenlet = gevent.spawn(writer.stats_writer)
    return writer, greenlet


def _finish_csv(env: Environment, started: Any, prefix: str | None) -> None:
    """Stop Locust's CSV writer, then write the final tables once more, whole."""
    if started is None or prefix is None:
        return
    import csv

    writer, greenlet = started
    greenlet.kill(block=True)
    writer.close_files()
    for suffix, method in (
        ("_stats.csv", writer.requests_csv),
        ("_failures.csv", writer.failures_csv),
        ("_exceptions.csv", writer.exceptions_csv),
    ):
        with open(prefix + suffix, "w", newline="") as handle:
            method(csv.writer(handle))


def write_html(env: Environment, path: str) -> None:
    """Locust's own HTML report (charts included), written atomically."""
    from locust.html import get_html_report
    from locust.stats import update_stats_history

    from wscli.load.report import write_atomic

    if not env.stats.history and env.runner is not None:  # a run shorter than one sample
        update_stats_history(env.runner)

    write_atomic(path, get_html_report(env, show_download_link=False).encode("utf-8"))
