"""``wscli config``: the settings a command would connect with, and where each came from."""

from __future__ import annotations

import json
from typing import Any

import click

from wscli.errors import EXIT_CODE_HELP
from wscli.options.connection import SETTING_KEYS, connection_params
from wscli.options.help import GroupedCommand


@click.command(cls=GroupedCommand, epilog=EXIT_CODE_HELP)
@connection_params()
@click.option(
    "-o",
    "--output",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json for scripts.",
)
def config(conn_values: dict[str, Any], fmt: str) -> None:
    """Show the resolved connection settings, secrets redacted, and where each came from.

    Each setting comes from the command line, its environment variable (WSCLI_URL,
    WSCLI_TOKEN), the profile (--profile or WSCLI_PROFILE, else the file's
    default_profile), or the built-in default, in that order of precedence.
    Give the same flags as to tail to see what they resolve to.

    \b
    Examples:
      wscli config                          the file, the profile, every setting
      wscli --profile staging config        what `wscli --profile staging tail` uses
      wscli config -o json | jq .settings.url.value
    """
    from wscli.net.tap import REDACTED, Redactor
    from wscli.options.connection import resolve_settings
    from wscli.profiles import config_path

    values, origins, profile = resolve_settings(conn_values)
    redactor = Redactor([values.get("token") or ""])
    path = config_path()
    settings: dict[str, dict[str, Any]] = {}
    for key in SETTING_KEYS:
        value = values.get(key)
        if key == "token" and value:
            value = REDACTED
        elif key in ("url", "proxy") and value:
            value = redactor.url(str(value))
        elif key == "headers":
            value = [
                f"{name}: {redactor.header(name.strip(), rest.strip())}"
                for name, _, rest in (h.partition(":") for h in value or ())
            ]
        elif key == "subprotocols":
            value = list(value or ())
        if key == "url" and value is None:
            from wscli.net.target import DEFAULT_URL

            value = DEFAULT_URL
        settings[key] = {"value": value, "from": origins.get(key, "default")}
    _proxy_from_environment(settings, redactor)
    document = {
        "config_file": str(path),
        "config_file_exists": path.is_file(),
        "profile": profile.name if profile is not None else None,
        "settings": settings,
    }
    if fmt == "json":
        click.echo(json.dumps(document, indent=2))
        return
    from wscli.frames import escape

    exists = "" if document["config_file_exists"] else " (not found)"
    lines = [
        f"config file  {path}{exists}",
        f"profile      {profile.name if profile is not None else '(none)'}",
        "",
    ]
    shown = {key: escape(_show(entry["value"])) for key, entry in settings.items()}
    width = min(max(len(text) for text in shown.values()), 60)
    for key, entry in settings.items():
        lines.append(f"{key:<16} {shown[key]:<{width}}  {entry['from']}")
    click.echo("\n".join(lines))


def _proxy_from_environment(settings: dict[str, dict[str, Any]], redactor: Any) -> None:
    """No --proxy: the variable the connection would take it from (``http_proxy``...).

    The proxy used is the one shown, so ``proxy - default`` never hides one.
    """
    proxy = settings["proxy"]
    if proxy["value"] or settings["no_proxy"]["value"]:
        return
    from wscli.errors import BadUsage
    from wscli.net.proxies import proxy_choice
    from wscli.net.target import ConnectOptions

    try:
        choice = proxy_choice(ConnectOptions(url=str(settings["url"]["value"])))
    except BadUsage as exc:
        proxy["from"] = exc.message  # shown, not fatal: config is where one looks
        return
    if choice is not None:
        proxy["value"] = redactor.url(choice.url)
        proxy["from"] = f"env {choice.source}"


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(value) if value else "-"
    if value is None or value is False:
        return "-"
    return str(value)
