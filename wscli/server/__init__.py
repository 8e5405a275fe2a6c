"""The simulated backend behind ``wscli serve`` and ``replay --serve`` (the ``websockets`` side).

``backend``    the server: connections, auth, faults
``config``     what a server run is asked to do, checked before it starts
``simulator``  the sensor readings it makes up
``broadcast``  one message to every client
``fdlimit``    raising the open-file limit for many clients
"""
