"""``wscli load``: many streaming users on Locust's engine, and what their run measured.

``user``    one Locust user holding a WebSocket stream, and what it records
``run``     starting Locust (local, master or worker) and stopping it on every ending
``report``  the summary, thresholds and report files
``view``    the live progress view on a terminal
``fanout``  the broadcast check: did every user get every message
"""
