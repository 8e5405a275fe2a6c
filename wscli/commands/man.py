"""``wscli man``: print the wscli(1) man page, generated from the commands' own help."""

from __future__ import annotations

import click


@click.command(
    epilog="\b\nExit codes:\n  0    the page was printed\n  2    usage error",
)
@click.pass_context
def man(ctx: click.Context) -> None:
    """Print the man page (roff) for wscli and every command.

    \b
    Examples:
      wscli man | man -l -                 read it now
      wscli man > ~/.local/share/man/man1/wscli.1
    The source distribution ships the same page as man/wscli.1.
    """
    from wscli import __version__
    from wscli.output.manpage import render

    # The root group is reached through the context, not imported: commands sit below it.
    root = ctx.find_root().command
    assert isinstance(root, click.Group)
    click.echo(render(root, "wscli", __version__), nl=False)
