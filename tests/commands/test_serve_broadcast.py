"""`wscli serve --broadcast`: one shared stream, per-client fan-out loss, many sockets."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
import websocket

from tests.support.cli import clean_env, run_cli, unit, wscli_executable


def _ids(url: str, n: int) -> list[int]:
    ws = websocket.create_connection(url, timeout=unit(5))
    try:
        ids: list[int] = []
        while len(ids) < n:
            message = json.loads(ws.recv())
            if "id" in message.get("data", {}):
                ids.append(message["data"]["id"])
        return ids
    finally:
        ws.close()


def test_every_client_gets_the_same_stream(serve: Any) -> None:
    """Two clients of a broadcast see the same message ids, in the same order."""
    server = serve(broadcast=True, rate=100.0, seed=5)
    first = websocket.create_connection(server.url, timeout=unit(5))
    try:
        second_ids = _ids(server.url, 20)
        first_ids: list[int] = []
        while not first_ids or first_ids[-1] < second_ids[-1]:
            message = json.loads(first.recv())
            if "id" in message.get("data", {}):
                first_ids.append(message["data"]["id"])
    finally:
        first.close()
    assert set(second_ids) <= set(first_ids)
    assert second_ids == sorted(second_ids)


def test_fanout_loss_is_recorded_per_client(serve: Any) -> None:
    """--fanout-loss drops a share per client, and serve says which ids each one missed."""
    lines: list[str] = []
    server = serve(broadcast=True, rate=200.0, fanout_loss=0.2, seed=1, log=lines.append)
    ids = _ids(server.url, 100)
    (stats,) = server.wait_for_connections(1, unit(5))
    assert stats.dropped > 5
    missing = set(range(ids[0], ids[-1] + 1)) - set(ids)
    assert missing == {i for i in stats.dropped_ids if ids[0] <= i <= ids[-1]}
    assert any("fan-out loss dropped" in line for line in lines)


def test_fanout_loss_needs_broadcast() -> None:
    """--fanout-loss alone is a usage error, one line."""
    result = run_cli("serve", "--port", "0", "--fanout-loss", "0.1", expect=2)
    assert "--fanout-loss needs --broadcast" in result.stderr


def test_open_file_limit_is_raised_when_low() -> None:
    """A low soft RLIMIT_NOFILE is lifted towards the hard limit."""
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 512:
        pytest.skip("hard limit too low to test")

    def low() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    code = "from wscli.server.fdlimit import raise_open_file_limit; print(raise_open_file_limit())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        preexec_fn=low,
        timeout=unit(30),
        check=True,
    ).stdout
    assert int(out) > 256


@pytest.mark.slow
def test_out_of_descriptors_is_one_line_and_serve_goes_on() -> None:
    """At EMFILE serve says so once, keeps serving, and accepts again once clients leave."""
    resource = pytest.importorskip("resource")

    def tiny() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40))

    proc = subprocess.Popen(
        [wscli_executable(), "serve", "--port", "0", "--broadcast", "--rate", "5"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=tiny,
        env=clean_env(),
    )
    clients: list[Any] = []
    lines: queue.Queue[str] = queue.Queue()
    err_lines: list[str] = []

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.put(line)

    def wait_for(text: str, deadline: float) -> bool:
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.05)
            except queue.Empty:
                continue
            err_lines.append(line)
            if text in line:
                return True
        return False

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        assert wait_for("ws://", time.monotonic() + unit(20))
        url = next(word for word in err_lines[-1].split() if word.startswith("ws://"))
        port = int(url.split(":")[2].split("/")[0])
        deadline = time.monotonic() + unit(60)
        for _ in range(3):  # real clients, streaming while the server fills up
            clients.append(websocket.create_connection(url, timeout=unit(5)))
        # Then bare TCP connections, more than the process can hold open. Each costs
        # the accepted socket, then a socketpair made in its handler thread: on a busy
        # machine the handler threads can meet EMFILE before accept() does, so serve
        # must say so from either place.
        for _ in range(45):
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=unit(5)))
            assert time.monotonic() < deadline
        # Hold them until serve has met the limit: on a loaded machine its accept loop
        # can lag, and connections closed before it reaches them never cost a descriptor.
        assert wait_for("too many open files", deadline), "".join(err_lines)
        for client in clients:
            client.close()
        clients.clear()
        time.sleep(unit(1))
        assert len(_ids(url, 2)) == 2  # serving again
    finally:
        for client in clients:
            client.close()
        proc.terminate()
        proc.wait(timeout=unit(20))
        reader.join(timeout=unit(5))
    while not lines.empty():
        err_lines.append(lines.get_nowait())
    err = "".join(err_lines)
    assert "Traceback" not in err
    assert err.count("too many open files") == 1, err
    assert os.name != "nt"


def test_descriptor_alarm_speaks_once_a_minute_whoever_rings_it() -> None:
    """accept() and a handler thread can both meet EMFILE; the user hears it once."""
    import errno
    from types import SimpleNamespace

    from wscli.server.fdlimit import DescriptorAlarm, is_out_of_descriptors

    said: list[str] = []
    hub = SimpleNamespace(stats=[SimpleNamespace(done=False), SimpleNamespace(done=True)])
    hub.log = said.append
    alarm = DescriptorAlarm(hub)
    threads = [threading.Thread(target=alarm.ring) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=unit(5))
    assert said == [
        "serve: error: too many open files (1 client connected): new clients wait"
        " until some leave; raise the limit with `ulimit -n`"
    ]
    assert is_out_of_descriptors(OSError(errno.EMFILE, "Too many open files"))
    assert is_out_of_descriptors(OSError(errno.ENFILE, "Too many open files in system"))
    assert not is_out_of_descriptors(OSError(errno.ECONNRESET, "reset"))
    assert not is_out_of_descriptors(ValueError("x"))
