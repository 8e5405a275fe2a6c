"""Proxies (flag and environment) and streams whose server goes away."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.support.cli import clean_env, run_wscli, unit, wscli_executable
from tests.support.connect_proxy import ConnectProxy


@pytest.mark.slow
def test_proxy_flag_tunnels_through_connect(serve: Any) -> None:
    """--proxy http://... reaches the server through a real CONNECT tunnel."""
    server = serve()
    with ConnectProxy() as proxy:
        result = run_wscli("tail", server.url, "-n", "3", "--proxy", proxy.url)
    assert len(result.json_lines) == 3
    assert proxy.tunnels == [f"127.0.0.1:{server.port}"]


@pytest.mark.slow
def test_proxy_environment_is_honoured_and_no_proxy_ignores_it(serve: Any, free_port: int) -> None:
    """http_proxy is used by default; --no-proxy connects directly."""
    server = serve()
    dead_proxy = clean_env(http_proxy=f"http://127.0.0.1:{free_port}")
    result = run_wscli("tail", server.url, "-n", "1", env=dead_proxy, expect=3)
    assert "refused" in result.stderr
    ok = run_wscli("tail", server.url, "-n", "2", "--no-proxy", env=dead_proxy)
    assert len(ok.json_lines) == 2
    with ConnectProxy() as proxy:
        via_env = run_wscli("tail", server.url, "-n", "2", env=clean_env(http_proxy=proxy.url))
        assert len(via_env.json_lines) == 2
        assert proxy.tunnels


@pytest.mark.slow
def test_server_that_vanishes_exits_8_after_retries(serve: Any) -> None:
    """A server that goes away mid-stream: refused reconnects, then exit 8 naming both."""
    server = serve(rate=50)
    proc = subprocess.Popen(
        [wscli_executable(), "tail", server.url, "--retries", "2", "--backoff", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=clean_env(),
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    server.stop()
    _, err = proc.communicate(timeout=unit(20))
    assert proc.returncode == 8, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert "reconnect failed (connection refused)" in err
    assert "gave up after 2 reconnect attempts" in lines[-1]
    assert "1001 (going away)" in lines[-1] and "connection refused" in lines[-1]
