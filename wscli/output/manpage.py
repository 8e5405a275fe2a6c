"""A man page made from the Click commands themselves, so it never drifts from ``--help``.

Written by hand rather than with click-man: click-man writes one page per
subcommand through a setuptools command, and wscli wants one ``wscli(1)`` page
(like git's overview page) that ``wscli man`` prints and the sdist ships.
"""

from __future__ import annotations

import re

import click

TITLE = "WSCLI"
SECTION = "1"


def roff_escape(text: str) -> str:
    """Text safe for roff: backslashes and hyphens escaped, no line starting with a dot."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(
        "\\&" + line if line.startswith((".", "'")) else line for line in text.split("\n")
    )


def _paragraphs(text: str) -> list[str]:
    """Click help text as roff: ``\\b`` paragraphs stay as written, the rest is filled."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        if block.lstrip().startswith("\b"):
            body = block.split("\n", 1)[1] if "\n" in block else ""
            out += [".PP", ".nf", roff_escape(_dedent(body)), ".fi"]
        else:
            out += [".PP", roff_escape(" ".join(line.strip() for line in block.splitlines()))]
    return out


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).rstrip()


def _options(command: click.Command, ctx: click.Context) -> list[str]:
    out: list[str] = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        names, help_text = record
        out += [".TP", f"\\fB{roff_escape(names)}\\fR", roff_escape(help_text or "")]
    return out


def render(group: click.Group, name: str = "wscli", version: str = "") -> str:
    """The whole ``wscli(1)`` page: synopsis, options, every command, environment, exit codes."""
    # The groups' context_settings (`-h` as well as `--help`) as a real run applies them.
    root = click.Context(group, info_name=name, **group.context_settings)
    summary = (group.help or "").strip().splitlines()[0]
    lines = [
        f'.TH {TITLE} {SECTION} "" "{name} {version}" "User Commands"',
        ".SH NAME",
        f"{name} \\- {roff_escape(summary)}",
        ".SH SYNOPSIS",
        f".B {name}",
        "[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]...",
        ".SH DESCRIPTION",
        *_paragraphs(group.help or ""),
        ".SH OPTIONS",
        *_options(group, root),
        ".SH COMMANDS",
    ]
    for sub_name in group.list_commands(root):
        command = group.get_command(root, sub_name)
        if command is None or command.hidden:
            continue
        ctx = click.Context(command, info_name=sub_name, parent=root, **command.context_settings)
        usage = " ".join(command.collect_usage_pieces(ctx))
        lines += [
            f".SS {name} {sub_name} {roff_escape(usage)}",
            *_paragraphs(command.help or ""),
            ".PP",
            "Options:",
            ".RS",
            *_options(command, ctx),
            ".RE",
        ]
        if command.epilog and command.epilog.strip() != (group.epilog or "").split("\n\n")[-1]:
            lines += _paragraphs(command.epilog)
    lines += _epilog_sections(group.epilog or "")
    return "\n".join(lines) + "\n"


def _epilog_sections(epilog: str) -> list[str]:
    """The root epilog's ``Environment:`` and ``Exit codes:`` blocks as man sections."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", epilog.strip()):
        body = block.replace("\b", "").strip("\n")
        heading, _, rest = body.partition("\n")
        title = heading.rstrip(":").upper().replace("EXIT CODES", "EXIT STATUS")
        out += [f".SH {title}", ".nf", roff_escape(_dedent(rest)), ".fi"]
    return out
