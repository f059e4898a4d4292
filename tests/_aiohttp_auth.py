"""Load aiohttp_auth (PyPI, last released 2017) running on ticket_auth 0.1.4, for tests and the
benchmark that compare the aiohttp guard with it.

The wheel is fetched once per run with ``pip download`` into the temporary directory that
``_ta014`` downloads 0.1.4 into (never into the checkout), and imported from the wheel file itself; nothing of it is copied into this repository. Its
modules do ``from ticket_auth import TicketFactory``: while they are imported,
``sys.modules["ticket_auth"]`` is 0.1.4 (from ``_ta014``), so aiohttp_auth signs and checks
with 0.1.4, as its users have it. Two patches let it run on current aiohttp: responses get
the ``started`` attribute it reads (``prepared`` today), and ``middleware(policy)`` wraps its
old-style middleware factory as a current middleware.
"""

import importlib
import sys

import _ta014

REQUIREMENT = "aiohttp_auth==0.1.1"


def _cache_dir():
    return _ta014.cache_dir() / "aiohttp_auth"


def _wheel():
    wheels = sorted(_cache_dir().glob("aiohttp_auth-*.whl"))
    return wheels[0] if wheels else None


def load(ta014):
    """``(aiohttp_auth, None)`` or ``(None, reason)``; ``ta014`` is ticket_auth 0.1.4."""
    if "aiohttp_auth" in sys.modules:
        return sys.modules["aiohttp_auth"], None
    if _wheel() is None:
        error = _ta014.pip_download(REQUIREMENT, _cache_dir(), _wheel)
        if error:
            return None, error
    from aiohttp import web

    if not hasattr(web.StreamResponse, "started"):
        web.StreamResponse.started = property(lambda self: self.prepared)
    sys.path.insert(0, str(_wheel()))
    ours = sys.modules.get("ticket_auth")
    sys.modules["ticket_auth"] = ta014
    try:
        module = importlib.import_module("aiohttp_auth")
        importlib.import_module("aiohttp_auth.auth.ticket_auth")
    except Exception as exc:  # noqa: BLE001 - reported to the caller as the reason
        return None, f"aiohttp_auth could not be imported: {exc!r}"
    finally:
        if ours is not None:
            sys.modules["ticket_auth"] = ours
        else:
            del sys.modules["ticket_auth"]
    ticket_module = sys.modules["aiohttp_auth.auth.ticket_auth"]
    if ticket_module.TicketFactory is not ta014.TicketFactory:
        return None, "aiohttp_auth did not pick up ticket_auth 0.1.4"
    return module, None


def middleware(aiohttp_auth, policy):
    """aiohttp_auth's ``auth_middleware(policy)`` (an old-style factory) as a current middleware."""
    from aiohttp import web

    factory = aiohttp_auth.auth_middleware(policy)

    @web.middleware
    async def wrapped(request, handler):
        return await (await factory(request.app, handler))(request)

    return wrapped
