"""ticket_auth.pyramid's ``TicketCookieHelper.identify`` against Pyramid's own
``AuthTktCookieHelper.identify``, on the cookie Pyramid's helper writes (sha512).

Group ``pyramid-identify-{case}``; implementations ``pyramid`` (its helper), ``compiled`` and
``pure`` (ours on each core). Each call gets a fresh request over a copy of the same environ, so
that neither side profits from WebOb's per-environ cookie cache. Cases:

* ``plain``: user id ``alice1`` (base64 ``YWxpY2Ux``: nothing quoted, the codec's own check);
* ``quoted``: ``alice@example.com`` (base64 with ``=``, written ``%3D``: Pyramid's digest rule);
* ``tokens``: ``quoted`` with tokens ``admin,staff`` (the cookie value quoted with ``\\054``);
* ``ipv4``: ``quoted`` bound to 203.0.113.7 (``include_ip``).

    python -m pytest benchmarks/test_pyramid.py --benchmark-only -p no:cacheprovider
"""

import sys

import pytest

# Pyramid's helper makes WebOb warn about the comma between two tokens (the "tokens" case).
pytestmark = pytest.mark.filterwarnings("ignore:Cookie value contains invalid bytes:RuntimeWarning")

SECRET = "benchmark secret for pyramid"  # noqa: S105 - a test secret
NOW = 1_750_000_000
CASES = {
    "plain": ("alice1", (), False),
    "quoted": ("alice@example.com", (), False),
    "tokens": ("alice@example.com", ("admin", "staff"), False),
    "ipv4": ("alice@example.com", (), True),
}
IMPLS = ("pyramid", "compiled", "pure")


class FrozenTime:
    def time(self):
        return NOW


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", list(CASES))
def test_pyramid_identify(benchmark, require_module, load_impl, case, impl, monkeypatch):
    authentication = require_module("pyramid.authentication")
    from pyramid.request import Request

    userid, tokens, include_ip = CASES[case]
    options = dict(hashalg="sha512", include_ip=include_ip, timeout=3600)
    environ = Request.blank("/", environ={"HTTP_HOST": "example.com", "REMOTE_ADDR": "203.0.113.7"}).environ
    monkeypatch.setattr(authentication, "time_mod", FrozenTime())
    theirs = authentication.AuthTktCookieHelper(SECRET, **options)
    theirs.now = NOW
    headers = theirs.remember(Request(dict(environ)), userid, tokens=tokens)
    environ["HTTP_COOKIE"] = headers[0][1].split(";", 1)[0]
    if impl == "pyramid":
        helper = theirs
    else:
        from ticket_auth.pyramid import TicketCookieHelper

        core = load_impl(impl)  # skips or fails by the suite's rules when the core is missing
        factory_class = sys.modules[core.factory_cls.__module__].AuthTktFactory
        helper = TicketCookieHelper(SECRET, clock=FrozenTime().time, factory_class=factory_class, **options)
    expected = dict(theirs.identify(Request(dict(environ))), tokens=list(tokens))

    def identify():
        return helper.identify(Request(dict(environ)))

    benchmark.group = f"pyramid-identify-{case}"
    result = benchmark(identify)
    assert dict(result, tokens=[token for token in result["tokens"] if token]) == expected
