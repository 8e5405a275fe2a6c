"""``wscli validate``: messages from files, stdin or a live URL, checked against the schema.

``sources``     where items come from (recordings, JSON Lines, transcripts, a URL)
``lines``       bounded line reading (no line is held whole past ``--max-size``)
``jsonstream``  concatenated or pretty-printed JSON documents
``tally``       the count: valid, invalid, malformed, and what failed
``reports``     text, JSON and JUnit reports of a validate run
"""
