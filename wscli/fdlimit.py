"""Room for thousands of sockets: raise the soft open-file limit when it is low.

Many systems start processes with a soft ``RLIMIT_NOFILE`` of 1024 while the hard
limit is far higher; ``wscli serve`` and ``wscli load`` hold a socket per client,
so they lift the soft limit up to the hard one (no privileges needed).
"""

from __future__ import annotations

WANTED = 65536


def raise_open_file_limit(wanted: int = WANTED) -> int:
    """Lift the soft limit towards ``wanted`` (never above the hard limit); returns it."""
    try:
        import resource
    except ImportError:  # not on this platform
        return -1
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return -1
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return int(soft)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target <= soft:
        return int(soft)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (OSError, ValueError):
        return int(soft)
    return int(target)
