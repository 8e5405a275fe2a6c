"""A live session on one stream: ``tail``'s loop and view, and ``connect``'s prompt.

``tailing``      the read-filter-show loop shared by ``tail``, ``connect`` and ``replay``
``render``       how one message looks (pretty, raw, JSON Lines)
``interactive``  ``connect``'s prompt: typing while frames print above it
``expect``       ``connect --expect`` and ``replay --expect-same``: checking replies
"""
