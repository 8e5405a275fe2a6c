"""``wscli probe``: the connection taken step by step, then the CI checks over a window.

``steps``    URL, DNS, TCP, proxy, TLS, upgrade, first message, ping: each timed
``tls``      what the server's certificate says, for the TLS step
``stream``   the listening window: every message in it judged
``checks``   the checks (``--min-count``, ``--max-gap``, ``--validate`` ...) and their verdict
``reports``  text, JSON and JUnit reports of a probe run
"""
