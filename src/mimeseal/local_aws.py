"""A local AWS endpoint: moto's server on loopback, for the demo, the benchmarks and the plugin.

moto is an optional dependency (``mimeseal[local]``, ``mimeseal[pytest]``); importing this
module does not import it, :func:`moto_server` does (and raises ImportError without it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["moto_server"]


@contextmanager
def moto_server() -> Iterator[str]:
    """Run moto's server on 127.0.0.1 at a free port and yield its URL; stop it after.

    Every AWS service moto knows is served. werkzeug's per-request log lines are silenced
    while it runs (moto's ``verbose=False`` does not).
    """
    from moto.server import ThreadedMotoServer

    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        werkzeug.setLevel(level)
