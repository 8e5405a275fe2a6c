"""The one hand-written frame parser in wscli: plain server data frames, in bulk.

websocket-client parses a frame with three ``recv_strict`` calls, a header tuple,
an ``ABNF`` object and its ``validate``: about half of ``tail``'s time per message
on a busy stream (issue #21). Nearly every frame of such a stream is the simplest
kind there is: final (FIN set), no RSV bits, text or binary, unmasked, whole in the
read buffer. This module recognises exactly those from one large buffer in a tight
loop and stops at the first frame that is anything else, leaving it (and
everything after it) to websocket-client's own parser, which knows every rule:
fragments, control frames and their limits, RSV bits, bad opcodes, masks, frames
cut across reads. The two must agree byte for byte and error for error, which
``tests/test_fastframes.py`` checks on random streams split at every byte.

The checks kept here are the ones a frame of this kind needs: the first byte is
exactly ``0x81`` or ``0x82`` (FIN, RSV 0, opcode text or binary), the mask bit is
clear (a masked server frame goes to the library path, which refuses it), and the
announced length is within ``--max-size`` (a longer one goes to the library path,
which raises the size error before reading the payload). UTF-8 is not checked per
frame on either path: websocket-client does it only when a message is assembled,
and wscli skips that there too, checking text once with orjson when it parses the
message (a text frame that is not UTF-8 is reported as malformed, not a crash).
"""

from __future__ import annotations

from typing import Final

OPEN_TEXT: Final = 0x81  # FIN, RSV1-3 clear, opcode 1
OPEN_BINARY: Final = 0x82  # FIN, RSV1-3 clear, opcode 2
NO_LIMIT: Final = 1 << 64  # larger than any length a frame can announce


def parse_data_frames(buf: bytes, pos: int, limit: int, out: list[tuple[int, bytes]]) -> int:
    """Append the plain data frames found whole in ``buf[pos:]`` to ``out``.

    Args:
        buf: bytes read from the server, frames back to back from ``pos``.
        pos: where the next frame starts.
        limit: the largest payload accepted (``--max-size``; :data:`NO_LIMIT` for none).
        out: receives ``(opcode, payload)`` for each frame parsed.

    Returns:
        Where parsing stopped: the end of the last frame parsed (``pos`` when the
        first one is not a plain data frame, or not all in ``buf`` yet).
    """
    end = len(buf)
    append = out.append
    while pos + 2 <= end:
        first = buf[pos]
        if first != OPEN_TEXT and first != OPEN_BINARY:
            break
        length = buf[pos + 1]  # the mask bit is the high bit: masked frames stop below
        if length < 126:
            start = pos + 2
        elif length == 126:
            start = pos + 4
            if start > end:
                break
            length = buf[pos + 2] << 8 | buf[pos + 3]
        elif length == 127:
            start = pos + 10
            if start > end:
                break
            length = int.from_bytes(buf[pos + 2 : start], "big")
        else:
            break  # masked
        stop = start + length
        if length > limit or stop > end:
            break
        append((first & 0x0F, buf[start:stop]))
        pos = stop
    return pos
