"""``wscli man``: print the wscli(1) man page, generated from the commands' own help."""

from __future__ import annotations

import click


@click.command(
    epilog="\b\nExit codes:\n  0    the page was printed\n  2    usage error",
)
def man() -> None:
    """Print the man page (roff) for wscli and every command.

    \b
    Examples:
      wscli man | man -l -                 read it now
      wscli man > ~/.local/share/man/man1/wscli.1
    The source distribution ships the same page as man/wscli.1.
    """
    from wscli import __version__
    from wscli.cli import cli
    from wscli.manpage import render

    click.echo(render(cli, "wscli", __version__), nl=False)
