"""Everything that leaves wscli for a person or a file: terminal output, report files, JUnit.

Below the network layer on purpose: the debug tap and every command write through
here, and nothing here opens a socket. Modules:

``terminal``  the stdout/stderr consoles, TTY and colour policy, status lines (``Output``)
``files``     report files that are written whole or not at all, and their errors
``layout``    cell widths, cutting and wrapping for the terminal
``clock``     how times are written (terminal clock or RFC 3339)
``manpage``   ``wscli(1)`` built from the Click commands
"""
