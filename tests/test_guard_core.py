"""The guard's compiled decision (``ticket_auth._ticketcore.GuardCore``) against the Python
rules (``TicketGuard._identify_result`` on the pure core): the same ``CheckResult`` for every
input, hostile headers included.

Each test builds the guard under test on the ``core`` fixture's factory (compiled: the
compiled decision decides; compiled-hashlib: the same with hashlib's digests; pure: the
Python rules) and a reference guard with the same settings on the pure core, and asks both
about the same request through every entry an adapter uses: ``check`` (a header str),
``check_lines`` (an ASGI header list), ``check_raw`` (aiohttp's raw headers), ``enter`` (the
ASGI middleware's shortest path). Where the compiled decision hands a request to the Python
rules (forms it leaves to ipaddress, clocks it does not compare exactly), the counter on
``_identify_result`` shows it; the common requests must never need that.
"""

import ipaddress
import math
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from _guard_helpers import NEW_SECRET, SECRET
from test_guard_cookie_scan import TEXT, TRICKY, headers
from ticket_auth import _ticketcore_py as pure
from ticket_auth.guard import TicketGuard
from ticket_auth.guard.asgi import GUARD_KEY, SCOPE_KEY, _identify_scope, _protected, check_scope

NOW = 1_780_000_000.25
USER_IDS = st.one_of(
    st.sampled_from(["alice", "u-0123456789abcd", "élodie", "a b", "x!y", ""]), st.text(max_size=12)
)
TOKENS = st.lists(st.sampled_from(["admin", "staff", "tôken", "a b", ""]), max_size=3).map(tuple)
DATA = st.one_of(st.sampled_from(["", "display=Alice", 'q"uote', "back\\slash", "é!€"]), st.text(max_size=12))
MINTED_PEERS = ["127.0.0.1", "10.1.2.3", "203.0.113.7", "::1", "2001:db8::7"]
ADDRESSES = st.sampled_from(
    [
        "",
        "127.0.0.1",
        "10.1.2.3",
        "203.0.113.7",
        "::1",
        "2001:db8::7",
        "2001:DB8:0:0:0:0:0:7",
        "::ffff:127.0.0.1",
        "::ffff:7f00:1",
        "::ffff:cb00:7107",
        "[::1]",
        " 127.0.0.1",
        "127.0.0.1 ",
        "fe80::1%eth0",
        "1.2.3",
        "01.2.3.4",
        "256.1.1.1",
        "localhost",
        "1.2.3.4\x00",
        "١.٢.٣.٤",
    ]
)
# Half the time one of the addresses the tickets are minted for.
PEERS = st.one_of(st.sampled_from(MINTED_PEERS), st.none(), ADDRESSES)
FORWARDED = st.one_of(
    st.none(),
    st.lists(st.one_of(ADDRESSES, st.sampled_from(["", " ", "unknown"])), max_size=4).map(",".join),
    st.lists(st.one_of(ADDRESSES, st.sampled_from(MINTED_PEERS)), max_size=3).map(", ".join),
)
PROXIES = st.sampled_from(
    [(), ("127.0.0.0/8",), ("10.0.0.0/8", "::1/128"), ("0.0.0.0/0", "::/0"), ("10.1.2.3",)]
)
NOWS = st.one_of(
    st.just(NOW),
    st.just(NOW),
    st.floats(NOW - 8000, NOW + 8000),
    st.integers(int(NOW) - 8000, int(NOW) + 8000),
    st.sampled_from(
        [
            0.0,
            -1.0,
            math.nan,
            math.inf,
            -math.inf,
            2**50,
            2**60,
            -(2**60),
            True,
            Fraction(int(NOW) * 4 + 1, 4),
        ]
    ),
)


class Counting(TicketGuard):
    """A TicketGuard counting the requests its Python rules decide."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.python_decisions = 0

    def _identify_result(self, *args, **kwargs):
        self.python_decisions += 1
        return super()._identify_result(*args, **kwargs)


@st.composite
def configurations(draw):
    return {
        "kind": draw(st.sampled_from(["ticket", "authtkt"])),
        "cookie_name": draw(st.sampled_from(["auth_tkt", "AUTH_TKT", "a"])),
        "bind_ip": draw(st.booleans()),
        "trusted_proxies": draw(PROXIES),
        "lifetime": draw(st.sampled_from([7200, 3600, 60, 1])),
        "reissue_after": draw(st.sampled_from([None, 0, 30, "half"])),
        "reissue_on_fallback": draw(st.booleans()),
        "clock_skew": draw(st.sampled_from([0, 60])),
        "max_cookie_length": draw(st.sampled_from([4096] * 7 + [24])),
        "max_cookie_header": draw(st.sampled_from([16384] * 7 + [64])),
        "fallback": draw(st.booleans()),
    }


def build(module, config, cls=TicketGuard):
    """A guard on ``module``'s factory (the current secret, and the old one as a fallback)."""
    fallback = [NEW_SECRET] if config["fallback"] else []
    if config["kind"] == "ticket":
        factory = module.TicketFactory(SECRET, "sha512", fallback_secrets=fallback)
    else:
        factory = module.AuthTktFactory(
            SECRET, "sha256", fallback_secrets=fallback, timeout=config["lifetime"]
        )
    options = {key: value for key, value in config.items() if key not in ("kind", "fallback")}
    options.setdefault(
        "login_url", "/login" if config.get("protect") and len(config["protect"]) > 1 else None
    )
    return cls(factory, secure=False, clock=lambda: NOW, **options)


def pair(core, config):
    """(the guard under test on the fixture's core, the reference guard on the pure core with
    the Python rules)."""
    subject = build(core.module, config, Counting)
    if core.name == "compiled":
        assert subject._core is not None, "the compiled decision was not built"
    reference = build(pure, config)
    assert reference._core is None
    return subject, reference


@st.composite
def cookie_values(draw, config):
    """A cookie value: a ticket the reference guard mints (by the current or the old secret,
    some time ago, bound to some address), often mangled, sometimes anything at all."""
    if draw(st.integers(0, 5)) == 0:
        return draw(st.one_of(TEXT, st.text(max_size=40)))
    minter = dict(config, fallback=False, reissue_after=None)
    minter["max_cookie_length"] = minter["max_cookie_header"] = 1 << 20
    guard = build(pure, minter)
    if draw(st.booleans()) and config["fallback"]:
        guard.factory = (
            pure.TicketFactory(NEW_SECRET, "sha512")
            if config["kind"] == "ticket"
            else pure.AuthTktFactory(NEW_SECRET, "sha256")
        )
    peer = draw(st.sampled_from(MINTED_PEERS))
    issued = NOW - draw(st.sampled_from([10, 0, 45, 3000, 7300]))
    try:
        set_cookie = guard.remember(draw(USER_IDS), draw(TOKENS), draw(DATA), peer=peer, now=issued)
    except ValueError:
        assume(False)
    value = set_cookie.split(";", 1)[0].split("=", 1)[1]
    mangle = draw(st.integers(0, 12))  # 0 and 6..12: as minted
    if mangle == 1 and value:  # one character replaced
        at = draw(st.integers(0, len(value) - 1))
        value = value[:at] + draw(st.sampled_from(TRICKY)) + value[at + 1 :]
    elif mangle == 2:  # something inserted
        at = draw(st.integers(0, len(value)))
        value = (
            value[:at]
            + draw(st.sampled_from([*TRICKY, "\\", '"', "\\\\", '\\"', "\\177", "\\200", "\t"]))
            + value[at:]
        )
    elif mangle == 3:  # truncated
        value = value[: draw(st.integers(0, len(value)))]
    elif mangle == 4:  # quoted, or unquoted
        value = value[1:-1] if value.startswith('"') else '"' + value + '"'
    elif mangle == 5:  # the UTF-8 bytes of a non-ASCII value, one character per byte
        value = value.encode("utf-8", "surrogatepass").decode("latin-1")
    return value


@st.composite
def requests(draw, config):
    """(Cookie lines, peer, forwarded, now): the guard's cookie among others, or a hostile
    header, split over one or more lines."""
    name = config["cookie_name"]
    if draw(st.integers(0, 3)) == 0:
        header = draw(headers())
    else:
        pad = draw(st.sampled_from(["", " ", "\t"]))
        cookies = [f"{pad}{name}={draw(cookie_values(config))}"]
        if draw(st.integers(0, 9)) == 0:  # a second cookie of the same name
            cookies.append(f"{name}={draw(cookie_values(config))}")
        for _ in range(draw(st.integers(0, 3))):
            cookies.insert(
                draw(st.integers(0, len(cookies))),
                draw(st.sampled_from(["x=1", f"{name}x=2", "=", ";", "a", '"q"'])),
            )
        header = "; ".join(cookies)
    parts = header.split("; ")
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(parts) - 1)), max_size=3))))
    lines = [
        "; ".join(parts[a:b]) for a, b in zip([0, *cuts], [*cuts, len(parts)], strict=True) if a < b
    ] or [header]
    if draw(st.integers(0, 9)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), "")
    return lines, draw(PEERS), draw(FORWARDED), draw(NOWS)


def latin_1(lines):
    try:
        return [line.encode("latin-1") for line in lines]
    except UnicodeEncodeError:
        return None


def expected(reference, lines, peer, forwarded, now):
    header = "; ".join(lines) if lines else None
    return reference.check(header, peer=peer, forwarded=forwarded, now=now)


SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(data=st.data())
def test_check_agrees(core, data):
    """``TicketGuard.check`` (a header str): the same decision as the Python rules."""
    config = data.draw(configurations())
    subject, reference = pair(core, config)
    lines, peer, forwarded, now = data.draw(requests(config))
    header = "; ".join(lines)
    want = expected(reference, lines, peer, forwarded, now)
    event(want.reason + (" (reissued)" if want.set_cookie else ""))
    assert subject.check(header, peer=peer, forwarded=forwarded, now=now) == want


@SETTINGS
@given(data=st.data())
def test_asgi_and_aiohttp_lines_agree(core, data):
    """The header lists an ASGI server and aiohttp hand over: the same decision as the Python
    rules given the lines joined with "; " (the adapters' convention)."""
    config = data.draw(configurations())
    subject, reference = pair(core, config)
    lines, peer, forwarded, now = data.draw(requests(config))
    raw = latin_1(lines)
    assume(raw is not None)
    subject._clock = reference._clock = lambda: now
    headers = [(b"host", b"example.com"), *[(b"cookie", line) for line in raw], (b"accept", b"*/*")]
    if forwarded is not None:
        headers.append((b"x-forwarded-for", forwarded.encode("utf-8")))
    client = (peer, 5000) if peer is not None else None
    # The ASGI adapter's reading: the peer and the forwarded header only to bind tickets, the
    # forwarded header only from trusted proxies (its bytes as Latin-1 text).
    reads_forwarded = config["bind_ip"] and subject.trusted_proxies and forwarded is not None
    latin_forwarded = forwarded.encode("utf-8").decode("latin-1") if reads_forwarded else None
    want = expected(reference, lines, peer if config["bind_ip"] else None, latin_forwarded, None)
    assert _identify_scope(subject, {"type": "http", "headers": headers, "client": client}) == want
    if subject._core is not None:
        want = expected(reference, lines, peer, forwarded, None)
        assert subject._core.check_lines(headers, client, forwarded) == want
        mixed_case = tuple((name.title(), value) for name, value in headers)
        assert subject._core.check_raw(mixed_case, peer, forwarded) == want
        # The aiohttp middleware's shortest path: the same, but a request with an Upgrade
        # header is left to the middleware (its websocket Origin check comes first).
        assert subject._core.check_plain_raw(mixed_case, peer) == expected(reference, lines, peer, None, None)
        upgrade = (*mixed_case, (b"UpGrade", b"websocket"))
        assert subject._core.check_plain_raw(upgrade, peer) is None
        assert subject._core.check_raw(upgrade, peer, forwarded) == want


PROTECTS = st.sampled_from(
    [None, {"/admin/": ("admin",)}, {"/": (), "/x/": ("staff",), "/x/y": ("admin", "staff")}]
)
PATHS = st.sampled_from(
    [
        "/",
        "/admin",
        "/admin/",
        "/admin/x",
        "/administrator",
        "//admin/",
        "/./admin/",
        "/x/../admin/",
        "admin",
        "",
        "/ADMIN/",
        "/x",
        "/x/y",
        "/x/yz",
        "/x/y/z",
        "/é/admin/",
    ]
)


@SETTINGS
@given(data=st.data())
def test_enter_agrees(core, data):
    """The ASGI middleware's shortest path (protect included): the scope it hands on carries
    the decision the Python adapter makes; any other answer is the identification, which the
    adapter's protect rules then turn into that same decision."""
    config = data.draw(configurations())
    config["trusted_proxies"] = ()
    config["protect"] = data.draw(PROTECTS)
    subject, reference = pair(core, config)
    lines, peer, _, now = data.draw(requests(config))
    raw = latin_1(lines)
    assume(raw is not None)
    subject._clock = reference._clock = lambda: now
    scope = {
        "type": "http",
        "path": data.draw(PATHS),
        "root_path": data.draw(st.sampled_from(["", "", "/api", None])),
        "headers": [(b"cookie", line) for line in raw],
        "client": (peer, 1) if peer else None,
    }
    want = check_scope(reference, scope)
    event(f"{want.reason} {want.status}")
    if subject._direct is None:
        assert core.name == "pure"
        assert check_scope(subject, scope) == want
        return
    entered = subject._direct.enter(scope, SCOPE_KEY, GUARD_KEY, subject)
    if type(entered) is dict:
        assert entered is not scope and SCOPE_KEY not in scope
        assert entered[SCOPE_KEY] == want and entered[GUARD_KEY] is subject
        assert (want.status, want.set_cookie) == (0, None)
    else:
        assert entered == _identify_scope(reference, scope)
        assert _protected(subject, scope, entered, ()) == want
    assert subject._direct.enter({**scope, "type": "websocket"}, SCOPE_KEY, GUARD_KEY, subject) is None
    assert subject._direct.enter({**scope, "type": "lifespan"}, SCOPE_KEY, GUARD_KEY, subject) is None


def plain_config(**overrides):
    """A guard configuration with the defaults the deterministic tests below start from."""
    config = dict(
        kind="ticket",
        cookie_name="auth_tkt",
        bind_ip=False,
        trusted_proxies=(),
        lifetime=3600,
        reissue_after=None,
        reissue_on_fallback=True,
        clock_skew=60,
        max_cookie_length=4096,
        max_cookie_header=16384,
        fallback=False,
    )
    config.update(overrides)
    return config


@pytest.mark.parametrize("kind", ["ticket", "authtkt"])
@pytest.mark.parametrize("bind_ip", [False, True])
def test_common_requests_are_decided_in_c(core, kind, bind_ip):
    """A valid cookie, a forged one, an expired one, none: the compiled decision decides each
    alone (the Python rules are never asked), and says what they say."""
    config = plain_config(kind=kind, bind_ip=bind_ip, reissue_after="half", fallback=True)
    subject, reference = pair(core, config)
    value = reference.remember("alice", ("admin", "staff"), "display=Alice", peer="203.0.113.7", now=NOW - 10)
    cookie = value.split(";", 1)[0]
    forged = cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1]
    for header in (cookie, f"a=1; {cookie}; b=2", forged, "other=1", cookie + "; " + cookie):
        for now in (NOW, NOW + 4000):
            got = subject.check(header, peer="203.0.113.7", now=now)
            assert got == reference.check(header, peer="203.0.113.7", now=now)
    assert got.reason == "duplicate cookie"
    assert subject.check(cookie, peer="203.0.113.7", now=NOW).identity.user_id == "alice"
    if core.name == "compiled":
        assert subject.python_decisions == 0


def test_the_python_rules_take_what_c_leaves(core):
    """Forms the compiled decision hands over: an address only ipaddress reads, a clock that
    is not a float or a small int. The result is still the Python rules' own."""
    config = plain_config(bind_ip=True)
    subject, reference = pair(core, config)
    cookie = reference.remember("bob", peer="::ffff:127.0.0.1", now=NOW).split(";", 1)[0]
    for peer, now in (
        ("[::ffff:127.0.0.1]", NOW),
        (" 127.0.0.1", NOW),
        ("127.0.0.1", Fraction(int(NOW))),
        ("127.0.0.1", 2**60),
    ):
        got = subject.check(cookie, peer=peer, now=now)
        assert got == reference.check(cookie, peer=peer, now=now)
        assert got.reason == ("expired" if now == 2**60 else "ok")
    if core.name == "compiled":
        assert subject.python_decisions == 2  # the clocks; the addresses only ask _client_text


def test_settings_assigned_later_rebuild_the_decision(core):
    """A setting changed after construction is honoured: the factory (key rotation), the
    cookie name, the lifetime."""
    config = plain_config()
    subject, reference = pair(core, config)
    cookie = reference.remember("carol", now=NOW - 100).split(";", 1)[0]
    assert subject.check(cookie, now=NOW).reason == "ok"
    subject.cookie_name = "other"
    assert subject.check(cookie, now=NOW).reason == "no cookie"
    subject.cookie_name = "auth_tkt"
    subject.factory = core.TicketFactory(NEW_SECRET, "sha512")
    assert subject.check(cookie, now=NOW).reason.startswith("invalid digest")
    subject.factory = core.TicketFactory(NEW_SECRET, "sha512", fallback_secrets=[SECRET])
    result = subject.check(cookie, now=NOW)
    assert (result.reason, result.identity.fallback_secret_used, result.set_cookie is not None) == (
        "ok",
        True,
        True,
    )
    subject.lifetime = 10**20  # beyond what the compiled decision reads exactly: the Python rules
    assert subject._core is None
    rotated = TicketGuard(
        pure.TicketFactory(NEW_SECRET, "sha512", fallback_secrets=[SECRET]),
        secure=False,
        lifetime=10**20,
        reissue_after=None,
    )
    assert subject.check(cookie, now=NOW) == rotated.check(cookie, now=NOW)


def test_networks_match_as_ipaddress_does(core):
    """The trusted-proxy match (in C: prefix bits) against ipaddress, for networks of every
    prefix length around a byte boundary."""
    for bits in (0, 1, 7, 8, 9, 15, 16, 23, 24, 25, 31, 32):
        network = f"10.20.30.40/{bits}"
        options = dict(secure=False, bind_ip=True, trusted_proxies=[network], clock=lambda: NOW)
        guard = TicketGuard(core.TicketFactory(SECRET), **options)
        ref = TicketGuard(pure.TicketFactory(SECRET), **options)
        cookie = ref.remember("dan", peer="192.0.2.1", now=NOW).split(";", 1)[0]
        for peer in (
            "10.20.30.40",
            "10.20.30.41",
            "10.20.31.40",
            "10.21.30.40",
            "11.20.30.40",
            "138.20.30.40",
        ):
            got = guard.check(cookie, peer=peer, forwarded="192.0.2.1", now=NOW)
            assert got == ref.check(cookie, peer=peer, forwarded="192.0.2.1", now=NOW)
            trusted = ipaddress.ip_address(peer) in ipaddress.ip_network(network, strict=False)
            assert (got.reason == "ok") == trusted


def test_plain_raw_leaves_every_upgrade_to_the_middleware(core):
    """The aiohttp middleware's shortest path answers no websocket handshake, wherever the
    Upgrade header is: after an oversized Cookie header (found by the property test above:
    the oversized answer came first, and the Origin check would have been skipped), after
    more Cookie lines than the compiled decision reads, first."""
    guard = TicketGuard(core.TicketFactory(SECRET), secure=False, max_cookie_header=64)
    if guard._direct is None:
        assert core.name == "pure"
        return
    big = (b"Cookie", b"a=" + b"x" * 100)
    many = tuple((b"cookie", b"n%d=1" % i) for i in range(40))
    for raw in (
        (big, (b"Upgrade", b"websocket")),
        (*many, (b"upgrade", b"WebSocket")),
        ((b"UPGRADE", b"h2c"), big),
    ):
        assert guard._direct.check_plain_raw(raw, "127.0.0.1") is None
    assert guard._direct.check_plain_raw((big,), "127.0.0.1").reason == "oversized cookie"


@pytest.mark.parametrize("bind_ip", [False, True])
def test_middlewares_shortest_paths_apply_protect(core, bind_ip):
    """The ASGI and aiohttp middlewares' one-call paths still apply ``protect``: no cookie on a
    protected path is a 401, a ticket without the token a 403, the right ticket goes on; the
    open path goes on anonymous. (A first version of the aiohttp path skipped protect; the
    real-server sweep caught it. This is the quick-tier check.)"""
    import asyncio

    from ticket_auth.guard.asgi import TicketAuthMiddleware as AsgiMiddleware

    guard = TicketGuard(
        core.TicketFactory(SECRET),
        secure=False,
        bind_ip=bind_ip,
        protect={"/admin/": ("admin",)},
        clock=lambda: NOW,
    )
    admin = guard.remember("ann", ("admin",), peer="127.0.0.1", now=NOW - 5).split(";", 1)[0].encode()
    staff = guard.remember("sam", ("staff",), peer="127.0.0.1", now=NOW - 5).split(";", 1)[0].encode()
    cases = [
        ("/admin/x", None, 401),
        ("/admin/x", staff, 403),
        ("/admin/x", admin, 200),
        ("/open", None, 200),
    ]

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def asgi_status(path, cookie):
        sent = []

        async def send(message):
            sent.append(message)

        async def receive():
            return {"type": "http.request", "body": b""}

        headers = [(b"host", b"example.com")] + ([(b"cookie", cookie)] if cookie else [])
        scope = {
            "type": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 1),
        }
        await AsgiMiddleware(app, guard)(scope, receive, send)
        return sent[0]["status"]

    for path, cookie, status in cases:
        assert asyncio.run(asgi_status(path, cookie)) == status, (path, cookie)
    aiohttp_test_utils = pytest.importorskip("aiohttp.test_utils")
    from aiohttp import web

    from ticket_auth.guard.aiohttp import TicketAuthMiddleware as AiohttpMiddleware

    class Transport:
        def get_extra_info(self, name, default=None):
            return ("127.0.0.1", 1) if name == "peername" else default

        def is_closing(self):
            return False

    async def handler(request):
        return web.Response(status=200)

    async def aiohttp_status(path, cookie):
        headers = {"Host": "example.com", **({"Cookie": cookie.decode()} if cookie else {})}
        request = aiohttp_test_utils.make_mocked_request("GET", path, headers=headers, transport=Transport())
        return (await AiohttpMiddleware(guard)(request, handler)).status

    for path, cookie, status in cases:
        assert asyncio.run(aiohttp_status(path, cookie)) == status, (path, cookie)
