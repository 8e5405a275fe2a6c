"""``wscli serve``: run the simulated Home Inspection backend.

Thin on purpose: parse options, build a :class:`~wscli.server.backend.ServerConfig`, hand over
to :func:`wscli.server.backend.serve_forever`. This module is imported by ``wscli --help``,
so the server (and ``websockets``) is imported inside the command.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from wscli.durations import SECONDS, FiniteFloatRange
from wscli.errors import interrupt_status
from wscli.options.verdict import VERDICT_HELP, pop_verdict_request, verdict_options
from wscli.server.config import DEFAULT_PATH

# serve's own endings, not the client's table (issue #10).
SERVE_EXIT_HELP = """\b
Exit codes:
  0    stopped by --duration and every --expect-* met (or none given)
  1    stopped by --duration with an --expect-* not met
  2    usage error: bad options, address in use, certificate will not load
  130  interrupted (Ctrl-C): connections closed with 1001 (going away)
  143  terminated (SIGTERM): the same, for service managers and CI"""

_rate = FiniteFloatRange(0.0, 1.0)
_count = click.IntRange(min=0)


@click.command(epilog=VERDICT_HELP + "\n\n" + SERVE_EXIT_HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on; 0 picks a free one (printed on stderr).",
)
@click.option("--path", default=DEFAULT_PATH, show_default=True, help="WebSocket endpoint path.")
@click.option(
    "--rate",
    type=FiniteFloatRange(min=0.0),
    default=10.0,
    show_default=True,
    help="Messages per second per client; 0 sends as fast as possible.",
)
@click.option("--seed", type=int, help="Make the stream reproducible (client N gets SEED+N).")
@click.option("--count", type=_count, help="Send this many messages, then close 1000.")
@click.option("--certfile", type=click.Path(dir_okay=False), help="PEM certificate: serve wss://.")
@click.option("--keyfile", type=click.Path(dir_okay=False), help="PEM private key for --certfile.")
@click.option(
    "--drop-after",
    type=_count,
    metavar="N",
    help="Fault: after N messages cut TCP, no close frame.",
)
@click.option(
    "--close-after",
    type=_count,
    metavar="N",
    help="Fault: after N messages close with --close-code.",
)
@click.option(
    "--close-code", type=int, default=1011, show_default=True, help="Code for --close-after."
)
@click.option("--close-reason", default="", help="Reason for --close-after.")
@click.option(
    "--refuse-next",
    type=_count,
    default=0,
    metavar="N",
    help="Fault: answer the next N connection attempts with HTTP 503 (the client must back off).",
)
@click.option(
    "--malformed-rate",
    type=_rate,
    default=0.0,
    metavar="P",
    help="Fault: share of non-JSON frames.",
)
@click.option(
    "--invalid-rate",
    type=_rate,
    default=0.0,
    metavar="P",
    help="Fault: share of schema-invalid JSON.",
)
@click.option(
    "--binary-rate", type=_rate, default=0.0, metavar="P", help="Fault: share of binary frames."
)
@click.option(
    "--require-token",
    metavar="TOKEN",
    help="Answer 401 unless 'Authorization: Bearer TOKEN' or ?token=TOKEN is sent.",
)
@click.option(
    "--allowed-origin",
    multiple=True,
    metavar="ORIGIN",
    help="Answer 403 unless Origin is one of these (repeatable).",
)
@click.option(
    "--handshake-delay",
    type=SECONDS,
    default=0.0,
    metavar="SECONDS",
    help="Wait this long before answering the upgrade (test connect timeouts).",
)
@click.option(
    "--ping-interval",
    type=SECONDS,
    default=20.0,
    show_default=True,
    metavar="SECONDS",
    help="Keepalive ping every SECONDS (a client that stops answering is closed); 0 disables.",
)
@click.option(
    "--echo",
    is_flag=True,
    help='Answer each text frame with {"type":"echo","data":{"text":...}} instead'
    " of streaming (any server also echoes at /echo).",
)
@click.option(
    "--broadcast",
    is_flag=True,
    help="One generated stream shared by every client (pub/sub fan-out), as the backend does.",
)
@click.option(
    "--fanout-loss",
    type=_rate,
    default=0.0,
    metavar="P",
    help="Fault, with --broadcast: each client silently misses a share P of the messages.",
)
@click.option(
    "--stale-sensor",
    multiple=True,
    metavar="ID[:AFTER_S]",
    help="Fault: sensor ID stops reporting AFTER_S seconds in (default 5; repeatable).",
)
@click.option(
    "--duplicate-rate", type=_rate, default=0.0, metavar="P", help="Fault: readings sent twice."
)
@click.option(
    "--reorder-rate",
    type=_rate,
    default=0.0,
    metavar="P",
    help="Fault: readings held back and sent after that sensor's next one.",
)
@click.option(
    "--skew",
    multiple=True,
    metavar="[ID:]SECONDS",
    help="Fault: shift timestamps by SECONDS, for every sensor or sensor ID (repeatable).",
)
@click.option(
    "--spike-rate", type=_rate, default=0.0, metavar="P", help="Fault: implausible values."
)
@click.option(
    "--flatline", multiple=True, metavar="ID", help="Fault: sensor ID's value stops changing."
)
@click.option(
    "--status-rate",
    type=_rate,
    default=0.0,
    metavar="P",
    help="Fault: offline / low_battery sensor_status messages.",
)
@click.option("-q", "--quiet", is_flag=True, help="No per-connection summary lines on stderr.")
@click.option(
    "--port-file",
    type=click.Path(dir_okay=False, writable=True),
    metavar="FILE",
    help="Write the bound port to FILE once listening (atomic; removed on exit).",
)
@click.option(
    "--json",
    "json_ready",
    is_flag=True,
    help='Print one JSON line on stdout once listening: {"event": "listening", "url", "port"}.',
)
@verdict_options
def serve(
    host: str,
    port: int,
    path: str,
    rate: float,
    seed: int | None,
    count: int | None,
    certfile: str | None,
    keyfile: str | None,
    drop_after: int | None,
    close_after: int | None,
    close_code: int,
    close_reason: str,
    refuse_next: int,
    malformed_rate: float,
    invalid_rate: float,
    binary_rate: float,
    require_token: str | None,
    allowed_origin: tuple[str, ...],
    handshake_delay: float,
    ping_interval: float,
    echo: bool,
    broadcast: bool,
    fanout_loss: float,
    stale_sensor: tuple[str, ...],
    duplicate_rate: float,
    reorder_rate: float,
    skew: tuple[str, ...],
    spike_rate: float,
    flatline: tuple[str, ...],
    status_rate: float,
    quiet: bool,
    port_file: str | None,
    json_ready: bool,
    **verdict_args: Any,
) -> None:
    """Serve a simulated sensor stream (the Home Inspection backend) for testing.

    Several sensors in several rooms send drifting readings, with a sensor_status
    or error message now and then; everything validates against the built-in
    schema. The first line on stderr says where it listens; then one line per
    connection that ends (what was sent, how it closed).

    \b
    Examples:
      wscli serve                                  # ws://127.0.0.1:8000/api/ws/sensor/stream
      wscli serve --port 0 --seed 7 --count 100    # free port, reproducible, then close 1000
      wscli serve --rate 0 --quiet                 # as fast as possible (benchmarks)
      wscli serve --certfile cert.pem --keyfile key.pem    # wss://

    \b
    Faults on demand, to see how a client copes:
      --drop-after N         after N messages cut the TCP connection without a close
                             frame; the client sees 1006 (abnormal closure)
      --close-after N        after N messages close with --close-code (default 1011,
                             internal error) and --close-reason
      --malformed-rate P     send a frame that is not JSON with probability P
      --invalid-rate P       send JSON that breaks the schema in one way with probability P
      --binary-rate P        send a small binary frame with probability P
      --require-token T      HTTP 401 unless the client sends the token
      --allowed-origin O     HTTP 403 for any other (or no) Origin header
      --handshake-delay S    answer the upgrade only after S seconds
      --refuse-next N        answer the next N upgrade requests with HTTP 503
      --fanout-loss P        with --broadcast, each client misses a share P of the
                             shared messages (the summary line says how many)
    A wrong path gets HTTP 404 naming the right one. Ctrl-C stops (exit 130).

    \b
    Stream faults, each caught by a --health check (reproducible with --seed):
      --stale-sensor 3:10    sensor 3 stops after 10 s (staleness)
      --duplicate-rate P     a reading is sent twice (duplicates)
      --reorder-rate P       a reading arrives after the sensor's next one (order)
      --skew 600, --skew 3:-90   timestamps shifted (clock skew)
      --spike-rate P         a value far outside its range (plausibility)
      --flatline 5           sensor 5's value stops changing (plausibility, suspect)
      --status-rate P        offline / low_battery statuses (status, suspect)
    """
    from wscli.server.backend import serve_forever
    from wscli.server.config import ServerConfig, stream_faults

    faults = stream_faults(
        stale=stale_sensor,
        duplicate_rate=duplicate_rate,
        reorder_rate=reorder_rate,
        skew=skew,
        spike_rate=spike_rate,
        flatline=flatline,
        status_rate=status_rate,
    )

    verdict = pop_verdict_request(verdict_args)
    config = ServerConfig(
        host=host,
        port=port,
        path=path,
        rate=rate,
        seed=seed,
        count=count,
        certfile=certfile,
        keyfile=keyfile,
        drop_after=drop_after,
        close_after=close_after,
        close_code=close_code,
        close_reason=close_reason,
        malformed_rate=malformed_rate,
        invalid_rate=invalid_rate,
        binary_rate=binary_rate,
        require_token=require_token,
        allowed_origin=allowed_origin,
        handshake_delay=handshake_delay,
        ping_interval=ping_interval or None,
        log=None if quiet else _to_stderr,
        echo=echo,
        broadcast=broadcast,
        fanout_loss=fanout_loss,
        refuse_next=refuse_next,
        clients=verdict.book if verdict.wanted else None,
        stream_faults=faults,
    )
    from wscli.server.fdlimit import raise_open_file_limit

    raise_open_file_limit()
    if port_file is not None:
        from wscli.output.files import check_writable

        check_writable(port_file, "--port-file")
    ready = ReadyLine(port_file=port_file, json_line=json_ready)
    _thread_errors_as_one_line()
    try:
        serve_forever(config, on_ready=ready, duration=verdict.duration)
    except KeyboardInterrupt as exc:
        if verdict.wanted:
            from wscli.endings import interrupt_reason

            verdict.finish("wscli serve", stopped=interrupt_reason(exc))
        raise click.exceptions.Exit(interrupt_status(exc)) from None
    finally:
        ready.forget()
    if verdict.wanted:
        raise click.exceptions.Exit(verdict.finish("wscli serve"))


class ReadyLine:
    """Says where the server listens: a line on stderr for people, and for scripts
    the port in ``--port-file`` and/or a JSON line on stdout (``--json``)."""

    def __init__(self, *, port_file: str | None, json_line: bool) -> None:
        self.port_file = port_file
        self.json_line = json_line
        self.written = False

    def __call__(self, url: str) -> None:
        from urllib.parse import urlsplit

        port = urlsplit(url).port
        self.write_port(port)
        if self.json_line:
            import json

            line = json.dumps({"event": "listening", "url": url, "port": port})
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        _to_stderr(f"serving {url} (Ctrl-C to stop)")

    def write_port(self, port: int | None) -> None:
        """``--port-file``, if asked (``tap`` says the rest in its own words)."""
        if self.port_file is not None:
            from wscli.output.files import write_atomic

            write_atomic(self.port_file, f"{port}\n".encode())
            self.written = True

    def forget(self) -> None:
        """A port file outliving its server would point the next script at nothing."""
        if self.written and self.port_file is not None:
            import os

            try:
                os.unlink(self.port_file)
            except OSError:
                pass


def _thread_errors_as_one_line() -> None:
    """A connection thread that dies (e.g. out of descriptors) says so in one line.

    websockets runs a thread per connection; without this hook Python prints a
    traceback for each one that fails, which is what issue #11 forbids.
    """
    import threading

    def hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "a thread"
        _to_stderr(f"serve: error: connection thread {name} failed: {args.exc_value!s}")

    threading.excepthook = hook


def _to_stderr(line: str) -> None:
    from wscli.errors import safe_line

    try:
        # Log lines quote what clients sent (path, Origin): escaped like every error.
        sys.stderr.write(safe_line(line) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr closed: keep serving
