"""Command-line options shared by several commands, and how flags, env and profiles combine.

``connection``  the connection flags (URL, headers, TLS, proxy, timeouts) and their resolution
``view``        how frames are shown (``tail``, ``replay``): output mode, filters, timestamps
``state``       what the root group shares with commands (colour, traceback, profile)
"""
