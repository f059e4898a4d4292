"""An aiohttp server for the sweep, run in a subprocess so that ``AIOHTTP_NO_EXTENSIONS=1``
(read when aiohttp is imported) gives it aiohttp's pure-Python HTTP parser, as on PyPy.

    python _aiohttp_pure_server.py FD [LOGIN_URL]

serves ``_guard_apps.guarded_aiohttp`` (the guard of ``guard_for_mounts``, with ``login_url``
when given) on the listening socket ``FD`` until it is terminated.
"""

import socket
import sys

from aiohttp import http_parser, web

import _guard_apps


def main():
    fd = int(sys.argv[1])
    login_url = sys.argv[2] if len(sys.argv) > 2 else None
    # The point of this server: the pure parser, not the C one.
    assert http_parser.HttpRequestParser is http_parser.HttpRequestParserPy, "C parser loaded"
    app = _guard_apps.guarded_aiohttp(_guard_apps.guard_for_mounts(login_url=login_url))
    web.run_app(app, sock=socket.socket(fileno=fd), print=None, access_log=None, handle_signals=True)


if __name__ == "__main__":
    main()
