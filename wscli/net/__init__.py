"""The client side of the wire: one way to open a WebSocket, read it and see every frame.

Every command that connects goes through ``connection.open_connection`` so that
headers, TLS, proxies, ``--max-size``, the debug tap and the words of a failure are
the same everywhere. Modules:

``connection``    options, opening, and turning library errors into ``WscliError``
``handshake``     the HTTP upgrade (the only place that calls websocket-client's internals)
``transport``     the socket under the WebSocket: reads, writes, size limits
``tap``           the debug tap: every frame in and out, redacted, one line each
``stream``        the read loop: reconnect with backoff, heartbeat, idle timeout
``conversation``  sending and awaiting replies (connect, replay --to)
``proxies``       which proxy a URL goes through, and why
``hints``         what to try next, from what failed
``resolving``     name resolution with the error words people search for
"""
