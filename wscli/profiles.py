"""Profiles: named connection settings in a TOML file, merged under the command line.

The file is ``$WSCLI_CONFIG``, else ``config.toml`` in the per-user config folder
(``~/.config/wscli/config.toml`` on Linux, by platformdirs' XDG rules)::

    default_profile = "staging"          # optional: used when no --profile is given

    [profiles.staging]
    url = "wss://staging.example.com/api/ws/sensor/stream"
    headers = ["X-Team: qa"]             # or a table: headers = { X-Team = "qa" }
    origin = "https://staging.example.com"
    subprotocols = ["sensors.v1"]
    token_env = "STAGING_TOKEN"          # the NAME of the variable holding the token
    cacert = "certs/staging-ca.pem"      # relative to this file
    proxy = "http://proxy.internal:3128"

A token never lives in the file (issue #10): ``token = ...`` is refused with a hint.
Precedence, per setting: command-line flag, then its environment variable
(``WSCLI_URL``, ``WSCLI_TOKEN``), then the profile, then the built-in default.

Read only when a command connects (never for ``--help``), and parsed by
``tomllib`` (``tomli`` before Python 3.11), never by hand.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wscli.errors import BadUsage

CONFIG_ENV = "WSCLI_CONFIG"
PROFILE_ENV = "WSCLI_PROFILE"

# Setting name in the file -> (kind, what it means). Names match the long options.
PROFILE_KEYS: dict[str, tuple[str, str]] = {
    "url": ("str", "WebSocket URL"),
    "headers": ("headers", "extra upgrade headers"),
    "origin": ("str", "Origin header"),
    "subprotocols": ("strs", "subprotocols to offer"),
    "token_env": ("envname", "name of the environment variable holding the token"),
    "insecure": ("bool", "skip certificate verification"),
    "cacert": ("path", "CA bundle (PEM)"),
    "cert": ("path", "client certificate (PEM)"),
    "key": ("path", "client certificate's key (PEM)"),
    "proxy": ("str", "http:// or socks5:// proxy"),
    "no_proxy": ("bool", "ignore proxy environment variables"),
    "connect_timeout": ("seconds", "connect timeout"),
    "ping_interval": ("seconds", "heartbeat ping period"),
    "ping_timeout": ("seconds", "heartbeat timeout"),
}


# Durations that must be more than 0 (a timeout); the others may be 0 ("disabled").
_POSITIVE_SECONDS = ("connect_timeout", "ping_timeout")


class ConfigError(BadUsage):
    """The config file cannot be used: one line naming the file, the line and the problem."""

    def __init__(self, problem: str, path: Path, line: int | None = None) -> None:
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(
            f"bad config file: {problem}",
            where=where,
            hint=f"fix the file, or point {CONFIG_ENV} at another one",
        )


class Profile:
    """One named profile, its values checked and paths made absolute."""

    __slots__ = ("name", "path", "values")

    def __init__(self, name: str, path: Path, values: dict[str, Any]) -> None:
        self.name = name
        self.path = path
        self.values = values

    @property
    def label(self) -> str:
        return f"profile {self.name} ({self.path})"


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$WSCLI_CONFIG``, else the per-user config folder's ``config.toml``."""
    env = os.environ if env is None else env
    explicit = env.get(CONFIG_ENV)
    if explicit:
        return Path(explicit).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("wscli", appauthor=False)) / "config.toml"


def _toml_loads(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    return tomllib.loads(text)


def read_config(path: Path) -> dict[str, Any]:
    """Parse the file; every problem becomes one :class:`ConfigError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError("not UTF-8 text", path) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read it: {exc.strerror or exc}", path) from exc
    try:
        document = _toml_loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
        message = str(exc)
        found = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(found.group(1)) if found else getattr(exc, "lineno", None)
        problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", message).strip()
        raise ConfigError(f"not valid TOML: {problem}", path, line) from exc
    _check_document(document, text, path)
    return document


def _check_document(document: dict[str, Any], text: str, path: Path) -> None:
    for key in document:
        if key not in ("default_profile", "profiles"):
            raise ConfigError(
                f"unknown setting {key!r} (expected default_profile or [profiles.NAME])",
                path,
                _line_of(text, None, key),
            )
    profiles = document.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError(
            "profiles must be tables: [profiles.NAME]", path, _line_of(text, None, "profiles")
        )
    default = document.get("default_profile")
    if default is not None and not isinstance(default, str):
        raise ConfigError(
            "default_profile must be a profile name in quotes",
            path,
            _line_of(text, None, "default_profile"),
        )
    for name, table in profiles.items():
        if not isinstance(table, dict):
            raise ConfigError(f"profile {name!r} must be a table", path, _line_of(text, None, name))


def _line_of(text: str, profile: str | None, key: str) -> int | None:
    """Best-effort line of ``key`` (inside ``[profiles.<profile>]`` when given).

    tomllib returns plain values without positions, so a problem found after
    parsing is placed by looking for the key under its table header.
    """
    section: str | None = None
    header = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$")
    assignment = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        found = header.match(line)
        if found:
            section = found.group(1).replace('"', "").replace("'", "").replace(" ", "")
            if profile is None and section.endswith(f".{key}"):
                return number
            continue
        wanted = None if profile is None else f"profiles.{profile}"
        if section == wanted and assignment.match(line):
            return number
    return None


def profile_names(env: Mapping[str, str] | None = None) -> list[str]:
    """Names of the profiles in the config file (for shell completion)."""
    path = config_path(env)
    if not path.is_file():
        return []
    return sorted(read_config(path).get("profiles", {}))


def load_profile(name: str | None, env: Mapping[str, str] | None = None) -> Profile | None:
    """The profile to use: ``name`` (``--profile``/``WSCLI_PROFILE``), else the file's default.

    Returns None when no profile is asked for and none is the default (a missing
    file is fine then: profiles are optional).

    Raises:
        ConfigError: the file is unreadable or invalid, or ``name`` is not in it.
    """
    env = os.environ if env is None else env
    path = config_path(env)
    if not path.is_file():
        if name:
            raise BadUsage(
                f"no profile {name!r}: config file {path} does not exist",
                hint="create it with a [profiles.NAME] table (see README, Profiles)",
            )
        if env.get(CONFIG_ENV):
            raise ConfigError("no such file", path)
        return None
    document = read_config(path)
    profiles: dict[str, Any] = document.get("profiles", {})
    warn_if_exposed(path, profiles)
    chosen = name or document.get("default_profile")
    if not chosen:
        return None
    if chosen not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise BadUsage(
            f"no profile {chosen!r} in {path}",
            hint=f"profiles there: {known}",
        )
    text = path.read_text(encoding="utf-8")
    return Profile(chosen, path, _check_profile(chosen, profiles[chosen], path, text))


def _secret_places(profiles: Mapping[str, Any]) -> list[str]:
    """Where the file holds a credential: ``profile staging: headers``, ``... url``."""
    from wscli.redact import header_secrets, url_secrets

    places = []
    for name, table in profiles.items():
        if not isinstance(table, dict):
            continue
        for key in ("url", "proxy"):
            value = table.get(key)
            if isinstance(value, str) and url_secrets(value):
                places.append(f"profile {name}: {key}")
        headers = table.get("headers")
        pairs: list[tuple[str, Any]] = []
        if isinstance(headers, dict):
            pairs = list(headers.items())
        elif isinstance(headers, list):
            split = (h.partition(":") for h in headers if isinstance(h, str))
            pairs = [(name, value) for name, _, value in split]
        if any(isinstance(v, str) and header_secrets(str(k), v) for k, v in pairs):
            places.append(f"profile {name}: headers")
    return places


_WARNED: set[Path] = set()


def warn_if_exposed(path: Path, profiles: Mapping[str, Any]) -> None:
    """Warn (once per file) when a file holding a credential is open to other users.

    Tokens never live in the file, but a Cookie or Authorization header, a URL's
    password or ``?token=`` can; like ssh and curl's ``.netrc``, such a file should
    be the owner's alone.
    """
    if os.name != "posix" or path in _WARNED:
        return
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return
    if not mode & 0o066:
        return
    places = _secret_places(profiles)
    if not places:
        return
    _WARNED.add(path)
    from wscli.errors import warn

    rights = [
        text
        for bit, text in (
            (0o040, "group-readable"),
            (0o020, "group-writable"),
            (0o004, "world-readable"),
            (0o002, "world-writable"),
        )
        if mode & bit
    ]
    warn(
        f"config file {path} holds a secret ({', '.join(places)}) and is"
        f" {' and '.join(rights)} (mode {mode:04o}): run chmod 600 {path}"
    )


def _check_profile(name: str, table: dict[str, Any], path: Path, text: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, raw in table.items():
        line = _line_of(text, name, key)
        if key == "token":
            raise ConfigError(
                "a token never goes in the config file:"
                ' put it in an environment variable and name it with token_env = "NAME"',
                path,
                line,
            )
        if key not in PROFILE_KEYS:
            known = ", ".join(PROFILE_KEYS)
            raise ConfigError(
                f"unknown setting {key!r} in profile {name!r} (known: {known})", path, line
            )
        kind = PROFILE_KEYS[key][0]
        values[key] = _convert(kind, key, raw, path, line)
        if key in _SENT_AS_HEADERS:
            _check_header_values(key, values[key], path, line)
    return values


# Settings that go on the wire as upgrade request headers.
_SENT_AS_HEADERS = ("headers", "origin", "subprotocols")


def _check_header_values(key: str, value: Any, path: Path, line: int | None) -> None:
    """A profile value with a CR/LF would add header lines of its own: refuse it."""
    from wscli.headers import raw_header_problem, value_problem

    for item in (value,) if isinstance(value, str) else value:
        problem = raw_header_problem(item) if key == "headers" else value_problem(item)
        if problem is not None:
            raise ConfigError(f"{key} {problem}", path, line)


def _convert(kind: str, key: str, raw: Any, path: Path, line: int | None) -> Any:
    def bad(expected: str) -> ConfigError:
        return ConfigError(f"{key} must be {expected}, not {type(raw).__name__}", path, line)

    if kind in ("str", "path", "envname"):
        if not isinstance(raw, str) or not raw:
            raise bad("a non-empty string")
        if kind == "path":
            return str((path.parent / Path(raw).expanduser()).resolve())
        if kind == "envname" and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", raw):
            raise ConfigError(
                f"token_env must name an environment variable, like STAGING_TOKEN, not {raw!r}",
                path,
                line,
            )
        return raw
    if kind == "bool":
        if not isinstance(raw, bool):
            raise bad("true or false")
        return raw
    if kind == "seconds":
        from wscli.durations import parse_duration

        try:
            # The flags' own converter: 30, 1.5, "500ms", "5m"; never NaN, inf or < 0.
            return parse_duration(raw, positive=key in _POSITIVE_SECONDS)
        except ValueError as exc:
            raise ConfigError(f"{key}: {exc}", path, line) from None
    if kind == "strs":
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise bad("a list of strings")
        return tuple(raw)
    # headers: ["Name: value", ...] or { Name = "value" }
    if isinstance(raw, dict):
        if not all(isinstance(v, str) for v in raw.values()):
            raise bad('a table of "Name" = "value" strings')
        return tuple(f"{k}: {v}" for k, v in raw.items())
    if isinstance(raw, list) and all(isinstance(v, str) and ":" in v for v in raw):
        return tuple(raw)
    raise bad('a list of "Name: value" strings or a table')


# -- merging under the command line -----------------------------------------------------------

DEFAULT = "default"
COMMAND_LINE = "command line"


def merge(
    values: dict[str, Any],
    given: Mapping[str, str],
    profile: Profile | None,
    env: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Fold a profile under the option values: flags and their env vars win, then the profile.

    Args:
        values: the connection options' raw values, by option name.
        given: the options the user set, each with where from ("command line",
            "env WSCLI_URL"); anything else is a built-in default.
        profile: the profile in use, if any.
        env: the environment, for ``token_env`` and ``WSCLI_URL``.

    Returns:
        The merged values and, for each, where it came from.
    """
    env = os.environ if env is None else env
    merged = dict(values)
    origins = {key: given.get(key, DEFAULT) for key in values}
    if values.get("url") is None and env.get("WSCLI_URL") and "url" not in given:
        merged["url"], origins["url"] = env["WSCLI_URL"], "env WSCLI_URL"
    if profile is None:
        return merged, origins
    for key, value in profile.values.items():
        if key == "token_env":
            if "token" in given:
                continue
            merged["token"] = env.get(value) or None
            state = "" if merged["token"] else ", not set"
            origins["token"] = f"env {value} ({profile.label}{state})"
        elif key == "headers" and "headers" in given:
            # Headers add up; a flag replaces the profile's header of the same name.
            mine = {h.partition(":")[0].strip().lower() for h in values["headers"]}
            kept = tuple(h for h in value if h.partition(":")[0].strip().lower() not in mine)
            merged["headers"] = kept + tuple(values["headers"])
            origins["headers"] = f"{profile.label} + {given['headers']}"
        elif key not in given and (key != "url" or merged.get("url") is None):
            merged[key] = value
            origins[key] = profile.label
    return merged, origins


def missing_token(profile: Profile | None, merged: Mapping[str, Any]) -> str | None:
    """The env var a profile names for the token when it is unset (None when all is well)."""
    if profile is None or merged.get("token"):
        return None
    name = profile.values.get("token_env")
    return name if isinstance(name, str) else None
