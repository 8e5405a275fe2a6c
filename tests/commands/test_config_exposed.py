"""A config file holding a credential and open to other users gets a warning (issue #17)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import clean_env, run_wscli

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def _config(tmp_path: Path, url: str, extra: str, mode: int) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[profiles.p]\nurl = "{url}"\n{extra}\n')
    path.chmod(mode)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ('headers = { Authorization = "Bearer cfg-secret-1" }', "profile p: headers"),
        ('headers = ["Cookie: sid=cfg-secret-1"]', "profile p: headers"),
        ('proxy = "http://user:cfg-secret-1@127.0.0.1:9"\nno_proxy = true', "profile p: proxy"),
    ],
)
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o660, 0o602])
def test_secret_in_an_open_config_file_is_warned_about(
    serve: Any, tmp_path: Path, extra: str, where: str, mode: int
) -> None:
    """One warning line naming the file, what it holds and ``chmod 600``; the run goes on."""
    server = serve()
    config = _config(tmp_path, server.url, extra, mode)
    result = run_wscli("--profile", "p", "tail", "-n", "1", env=clean_env(WSCLI_CONFIG=str(config)))
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, result.stderr
    assert str(config) in warnings[0] and f"chmod 600 {config}" in warnings[0]
    assert where in warnings[0] and f"mode {mode:04o}" in warnings[0]
    assert "cfg-secret-1" not in result.stderr
    assert len(result.json_lines) == 1


@pytest.mark.slow
@pytest.mark.parametrize(
    ("extra", "mode"),
    [
        ('headers = { Authorization = "Bearer cfg-secret-1" }', 0o600),
        ('headers = { Authorization = "Bearer cfg-secret-1" }', 0o400),
        ('headers = ["X-Team: qa"]', 0o644),
    ],
)
def test_no_warning_for_a_private_file_or_one_without_secrets(
    serve: Any, tmp_path: Path, extra: str, mode: int
) -> None:
    server = serve()
    config = _config(tmp_path, server.url, extra, mode)
    result = run_wscli("--profile", "p", "tail", "-n", "1", env=clean_env(WSCLI_CONFIG=str(config)))
    assert "warning" not in result.stderr


def test_a_url_credential_counts_as_a_secret(tmp_path: Path) -> None:
    """``?token=`` or a password in the profile's URL is a secret too (no server needed)."""
    from wscli.profiles import _secret_places

    assert _secret_places({"p": {"url": "wss://h/x?token=abcd"}}) == ["profile p: url"]
    assert _secret_places({"p": {"url": "wss://u:pw12@h/x"}}) == ["profile p: url"]
    assert _secret_places({"p": {"url": "wss://h/x?room=1"}}) == []
