"""Profiles in a TOML config file, `wscli config`, and $WSCLI_URL everywhere (issue #10)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import clean_env, run_wscli
from tests.support.pty import run_on_terminal
from wscli.profiles import ConfigError, Profile, load_profile, merge


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def env_for(config: Path, **extra: str) -> dict[str, str]:
    return clean_env(WSCLI_CONFIG=str(config), **extra)


# -- choosing a profile -----------------------------------------------------------------------


def test_profile_supplies_the_url(serve: Any, tmp_path: Path) -> None:
    """`wscli --profile local tail` connects to the profile's URL."""
    server = serve(seed=1)
    config = write_config(tmp_path, f'[profiles.local]\nurl = "{server.url}"\n')
    result = run_wscli("--profile", "local", "tail", "-n", "3", env=env_for(config))
    assert len(result.json_lines) == 3


def test_profile_after_the_command_and_from_the_environment(serve: Any, tmp_path: Path) -> None:
    """`wscli tail --profile local` and WSCLI_PROFILE=local do the same."""
    server = serve(seed=1)
    config = write_config(tmp_path, f'[profiles.local]\nurl = "{server.url}"\n')
    after = run_wscli("tail", "--profile", "local", "-n", "2", env=env_for(config))
    assert len(after.json_lines) == 2
    from_env = run_wscli("tail", "-n", "2", env=env_for(config, WSCLI_PROFILE="local"))
    assert len(from_env.json_lines) == 2


def test_default_profile_is_used_without_a_flag(serve: Any, tmp_path: Path) -> None:
    """`default_profile = "local"` applies when no profile is named."""
    server = serve(seed=1)
    config = write_config(
        tmp_path, f'default_profile = "local"\n[profiles.local]\nurl = "{server.url}"\n'
    )
    assert len(run_wscli("tail", "-n", "2", env=env_for(config)).json_lines) == 2


def test_command_line_url_beats_the_profile(serve: Any, tmp_path: Path, free_port: int) -> None:
    """A URL on the command line wins over the profile's (which points at nothing)."""
    server = serve(seed=1)
    config = write_config(
        tmp_path, f'[profiles.dead]\nurl = "ws://127.0.0.1:{free_port}/"\norigin = "http://o"\n'
    )
    result = run_wscli("--profile", "dead", "tail", server.url, "-n", "1", env=env_for(config))
    assert len(result.json_lines) == 1
    shown = run_wscli("--profile", "dead", "config", server.url, env=env_for(config))
    assert "command line" in shown.stdout


def test_token_comes_from_the_variable_the_profile_names(serve: Any, tmp_path: Path) -> None:
    """token_env names the variable; the token reaches the server and never the output."""
    server = serve(seed=1, require_token="s3cr3t-token")
    config = write_config(
        tmp_path, f'[profiles.auth]\nurl = "{server.url}"\ntoken_env = "AUTH_TOKEN"\n'
    )
    env = env_for(config, AUTH_TOKEN="s3cr3t-token", WSCLI_PROFILE="auth")
    assert len(run_wscli("tail", "-n", "1", env=env).json_lines) == 1
    shown = run_wscli("config", env=env)
    assert "s3cr3t-token" not in shown.stdout
    token_line = next(line for line in shown.stdout.splitlines() if line.startswith("token"))
    assert "[redacted]" in token_line and "env AUTH_TOKEN" in token_line


def test_unset_token_variable_is_one_clear_line(tmp_path: Path) -> None:
    """A profile naming an unset variable fails before connecting, exit 2."""
    config = write_config(tmp_path, '[profiles.a]\nurl = "ws://x"\ntoken_env = "NOPE_TOKEN"\n')
    result = run_wscli("--profile", "a", "tail", env=env_for(config), expect=2)
    assert result.stderr.count("\n") == 1
    assert "NOPE_TOKEN" in result.stderr and "not set" in result.stderr


def test_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    """--profile with a typo names the profiles that exist."""
    config = write_config(tmp_path, '[profiles.staging]\nurl = "ws://x"\n')
    result = run_wscli("--profile", "stagin", "tail", env=env_for(config), expect=2)
    assert "staging" in result.stderr and result.stderr.startswith("wscli: error:")


# -- bad files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ('[profiles.a]\nurl = "ws://x"\norigin = \n', 3, "not valid TOML"),
        ('[profiles.a]\nurl = "ws://x"\ntoken = "abc"\n', 3, "token_env"),
        ('[profiles.a]\n\nurll = "ws://x"\n', 3, "unknown setting 'urll'"),
        ("[profiles.a]\nheaders = 5\n", 2, "headers must be"),
        ('[profiles.a]\ntoken_env = "not a name"\n', 2, "environment variable"),
        ('colour = "never"\n', 1, "unknown setting 'colour'"),
    ],
)
def test_a_bad_file_is_one_line_naming_file_line_and_problem(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    """Exit 2 and one stderr line: the file, the line number and what is wrong."""
    config = write_config(tmp_path, text)
    result = run_wscli("--profile", "a", "tail", env=env_for(config), expect=2)
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"{config}, line {line}" in result.stderr
    assert problem in result.stderr


def test_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    """WSCLI_CONFIG pointing nowhere is said, not silently ignored."""
    result = run_wscli("config", env=env_for(tmp_path / "nope.toml"), expect=2)
    assert "nope.toml" in result.stderr


def test_help_never_reads_the_config_file(tmp_path: Path) -> None:
    """`wscli --help` and `wscli tail --help` work even with a broken config file."""
    config = write_config(tmp_path, "[[[")
    env = env_for(config, WSCLI_PROFILE="a")
    assert "Usage" in run_wscli("--help", env=env).stdout
    assert "Usage" in run_wscli("tail", "--help", env=env).stdout


# -- merging ----------------------------------------------------------------------------------


def test_precedence_flag_then_env_then_profile_then_default(tmp_path: Path) -> None:
    """Per setting: the flag, its env var, the profile, the default; headers add up by name."""
    profile = Profile(
        "p",
        tmp_path / "c.toml",
        {"url": "ws://profile", "origin": "http://p", "headers": ("X-A: 1", "X-B: 2")},
    )
    values = {"url": None, "origin": None, "headers": ("x-b: 3",), "proxy": None}
    merged, origins = merge(values, {"headers": "command line"}, profile, env={})
    assert merged["url"] == "ws://profile" and origins["url"].startswith("profile p")
    assert merged["headers"] == ("X-A: 1", "x-b: 3")
    assert origins["proxy"] == "default"
    merged, origins = merge(values, {}, profile, env={"WSCLI_URL": "ws://env"})
    assert merged["url"] == "ws://env" and origins["url"] == "env WSCLI_URL"
    merged, _ = merge({**values, "url": "ws://flag"}, {"url": "command line"}, profile, env={})
    assert merged["url"] == "ws://flag"


def test_tls_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    """cacert = "certs/ca.pem" means beside the config file, wherever wscli runs."""
    config = write_config(tmp_path, '[profiles.t]\ncacert = "certs/ca.pem"\ninsecure = false\n')
    profile = load_profile("t", {"WSCLI_CONFIG": str(config)})
    assert profile is not None
    assert profile.values["cacert"] == str(tmp_path / "certs" / "ca.pem")


def test_config_error_is_a_usage_error(tmp_path: Path) -> None:
    """ConfigError carries exit 2 and names the place."""
    error = ConfigError("x", tmp_path / "c.toml", 4)
    assert error.exit_code == 2 and "c.toml, line 4" in error.one_line()


# -- wscli config -----------------------------------------------------------------------------


def test_config_shows_settings_with_their_source_redacted(tmp_path: Path) -> None:
    """`wscli config -o json`: each value with where it came from, secrets hidden."""
    config = write_config(
        tmp_path,
        '[profiles.s]\nurl = "wss://user:pw1234@h/p?token=abcd1234"\n'
        'headers = { Authorization = "Bearer abcdefgh", X-Team = "qa" }\n',
    )
    env = env_for(config, WSCLI_TOKEN="tok-98765")
    result = run_wscli("--profile", "s", "config", "-o", "json", env=env)
    document = json.loads(result.stdout)
    settings = document["settings"]
    assert document["profile"] == "s" and document["config_file"] == str(config)
    for secret in ("pw1234", "abcd1234", "abcdefgh", "tok-98765"):
        assert secret not in result.stdout
    assert settings["url"]["from"].startswith("profile s")
    assert settings["token"]["from"] == "env WSCLI_TOKEN"
    assert settings["connect_timeout"] == {"value": 10.0, "from": "default"}
    assert "X-Team: qa" in settings["headers"]["value"]


def test_config_without_a_file_shows_defaults(tmp_path: Path) -> None:
    """No config file is fine: the built-in defaults, said to be defaults."""
    env = clean_env(XDG_CONFIG_HOME=str(tmp_path))
    result = run_wscli("config", env=env)
    assert "(not found)" in result.stdout
    assert "ws://localhost:8000/api/ws/sensor/stream" in result.stdout


# -- $WSCLI_URL -------------------------------------------------------------------------------


def test_validate_uses_wscli_url_when_no_source_on_a_terminal(serve: Any) -> None:
    """`WSCLI_URL=... wscli validate -n 5` on a terminal validates the live stream."""
    server = serve(seed=2)
    env = clean_env(TERM="xterm", WSCLI_URL=server.url)
    screen = run_on_terminal("validate", "-n", "5", env=env, stdin_tty=True)
    assert screen.exit_code == 0, screen.stdout + screen.stderr
    assert "5" in screen.stdout


def test_validate_with_count_and_no_source_uses_wscli_url_in_ci(serve: Any) -> None:
    """No stdin, no SOURCE, -n given (a CI job): the URL from WSCLI_URL is meant."""
    server = serve(seed=2)
    result = run_wscli("validate", "-n", "3", env=clean_env(WSCLI_URL=server.url))
    assert "3" in result.stdout


def test_validate_uses_the_profile_url(serve: Any, tmp_path: Path) -> None:
    """A profile's URL counts as the configured one for validate too."""
    server = serve(seed=2)
    config = write_config(tmp_path, f'[profiles.v]\nurl = "{server.url}"\n')
    env = env_for(config, WSCLI_PROFILE="v")
    run_wscli("validate", "-n", "2", env=env)


def test_piped_stdin_still_wins_over_wscli_url(tmp_path: Path, free_port: int) -> None:
    """`... | wscli validate` reads the pipe even with WSCLI_URL set (like jq)."""
    line = json.dumps({"type": "error", "data": {"message": "m"}})
    env = clean_env(WSCLI_URL=f"ws://127.0.0.1:{free_port}/")
    result = run_wscli("validate", input=line + "\n", env=env)
    assert "1" in result.stdout


def test_config_shows_the_proxy_from_the_environment(tmp_path: Path) -> None:
    """`http_proxy` set: config shows that proxy and its variable, not `- default` (#22)."""
    env = clean_env(XDG_CONFIG_HOME=str(tmp_path), http_proxy="http://u:sekrit99@10.0.0.9:3128")
    result = run_wscli("config", "-o", "json", env=env)
    proxy = json.loads(result.stdout)["settings"]["proxy"]
    assert proxy["from"] == "env http_proxy"
    assert "10.0.0.9:3128" in proxy["value"] and "sekrit99" not in result.stdout
    text = run_wscli("config", "wss://example.test/ws", env=env).stdout
    assert "env http_proxy" not in text  # wss:// takes https_proxy or all_proxy only
    bypass = run_wscli("config", "--no-proxy", env=env).stdout
    assert "env http_proxy" not in bypass
