"""Baseline contender: websocket-client at its simplest, counting text messages.

Usage: python bare_client.py URL [--skip-utf8]

Prints the number of text messages received before the server's close frame.
The benchmark runs this with default settings (``bare-default``) and with
``skip_utf8_validation=True`` (``bare-skiputf8``). Nothing is printed per
message: this is the floor any client built on websocket-client pays.
"""

from __future__ import annotations

import sys

import websocket


def main(argv: list[str]) -> int:
    url = argv[0]
    skip = "--skip-utf8" in argv[1:]
    if skip:
        ws = websocket.create_connection(url, skip_utf8_validation=True)
    else:
        ws = websocket.create_connection(url)
    count = 0
    while True:
        opcode, _data = ws.recv_data()
        if opcode == websocket.ABNF.OPCODE_TEXT:
            count += 1
        elif opcode == websocket.ABNF.OPCODE_CLOSE:
            # recv_data already answered the close frame; just drop the socket.
            break
    ws.shutdown()
    print(count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
