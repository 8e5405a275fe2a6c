"""``wscli serve``: run the simulated Home Inspection backend.

Thin on purpose: parse options, build a :class:`~wscli.server.ServerConfig`, hand over
to :func:`wscli.server.serve_forever`. This module is imported by ``wscli --help``,
so the server (and ``websockets``) is imported inside the command.
"""

from __future__ import annotations

import sys

import click

from wscli.errors import EXIT_CODE_HELP, ExitStatus

DEFAULT_PATH = "/api/ws/sensor/stream"  # = server.DEFAULT_PATH, without importing it

_rate = click.FloatRange(0.0, 1.0)
_count = click.IntRange(min=0)


@click.command(epilog=EXIT_CODE_HELP)
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
    type=click.FloatRange(min=0.0),
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
    type=click.FloatRange(min=0.0),
    default=0.0,
    metavar="SECONDS",
    help="Wait this long before answering the upgrade (test connect timeouts).",
)
@click.option(
    "--ping-interval",
    type=click.FloatRange(min=0.0),
    default=20.0,
    show_default=True,
    metavar="SECONDS",
    help="Keepalive ping every SECONDS (a client that stops answering is closed); 0 disables.",
)
@click.option("-q", "--quiet", is_flag=True, help="No per-connection summary lines on stderr.")
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
    malformed_rate: float,
    invalid_rate: float,
    binary_rate: float,
    require_token: str | None,
    allowed_origin: tuple[str, ...],
    handshake_delay: float,
    ping_interval: float,
    quiet: bool,
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
    A wrong path gets HTTP 404 naming the right one. Ctrl-C stops (exit 130).
    """
    from wscli.server import ServerConfig, serve_forever

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
    )
    try:
        serve_forever(config, on_ready=_announce)
    except KeyboardInterrupt:
        raise click.exceptions.Exit(ExitStatus.INTERRUPTED) from None


def _announce(url: str) -> None:
    """The ready line: with --port 0, how users and tests learn the port."""
    _to_stderr(f"serving {url} (Ctrl-C to stop)")


def _to_stderr(line: str) -> None:
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr closed: keep serving
