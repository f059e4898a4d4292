"""No memory or reference leaks, on both cores, under a long mix of good and bad calls.

Each loop runs ``TICKET_AUTH_LEAK_CALLS`` calls (default 200,000, bounded for CI; the issue's
full run is ``TICKET_AUTH_LEAK_CALLS=1000000``) after a warm-up of a tenth as many, and
asserts that the process's resident memory grew by less than 2 MB and that the number of
live Python memory blocks (``sys.getallocatedblocks()``, available on every build) and, on a
debug build, the total reference count (``sys.gettotalrefcount()``) did not grow.

The mixes cover every outcome: valid tickets (str, bytes, memoryview, fallback secret,
a non-ASCII-compatible encoding), every kind of parse error, a wrong digest, an expired
ticket and a bad client address for ``validate``; good tickets and every argument error for
``new``; and the same for the mod_auth_tkt factory. Every call's outcome is checked.
"""

import gc
import os
import sys
import sysconfig
import weakref

import pytest

from ticket_auth import TicketDigestError, TicketError, TicketExpired, TicketParseError

CALLS = int(os.environ.get("TICKET_AUTH_LEAK_CALLS") or 200_000)
WARMUP = max(CALLS // 10, 20_000)
RSS_LIMIT = 2 * 1024 * 1024
# Python's own caches (interned strings, type caches) may settle by a few blocks; a leak of
# one object per call would show as CALLS blocks.
BLOCKS_LIMIT = 200

SECRET = b"leak-test secret"
OLD = b"leak-test old secret"
NOW = 1_700_000_000
UNTIL = 1_800_000_000
IP = "192.0.2.7"


def rss():
    """Resident set size of this process in bytes: current (Linux /proc) or peak (other
    POSIX systems, which is as good for seeing growth); None where neither is available."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


# Free-threaded builds allocate objects with mimalloc, per thread; the block count there is
# not a stable measure of live objects, so only RSS is checked.
COUNT_BLOCKS = not sysconfig.get_config_var("Py_GIL_DISABLED")


class StrTicket(str):
    """A str ticket that can be weakly referenced."""


def _run(cases, n):
    """Call ``cases[i % len(cases)]`` n times; each case is (fn, args, kwargs, expected)
    where expected is None (must return) or an exception type (must raise exactly it)."""
    count = len(cases)
    for i in range(n):
        fn, args, kwargs, expected = cases[i % count]
        if expected is None:
            fn(*args, **kwargs)
            continue
        try:
            fn(*args, **kwargs)
        except expected:
            continue
        raise AssertionError(f"{fn.__name__}{args!r:.200} did not raise {expected.__name__}")


def _measure(cases):
    _run(cases, WARMUP)
    gc.collect()
    blocks0, rss0 = sys.getallocatedblocks(), rss()
    total0 = sys.gettotalrefcount() if hasattr(sys, "gettotalrefcount") else None
    _run(cases, CALLS)
    gc.collect()
    blocks1, rss1 = sys.getallocatedblocks(), rss()
    total1 = sys.gettotalrefcount() if hasattr(sys, "gettotalrefcount") else None
    report = f"{CALLS} calls: allocated blocks {blocks1 - blocks0:+d}"
    if rss0 is not None:
        report += f", RSS {rss1 - rss0:+d} bytes"
    if total0 is not None:
        report += f", total refcount {total1 - total0:+d}"
    print(report)
    if rss0 is not None:
        assert rss1 - rss0 < RSS_LIMIT, report
    if COUNT_BLOCKS:
        assert blocks1 - blocks0 < BLOCKS_LIMIT, report
    if total0 is not None:
        assert total1 - total0 < BLOCKS_LIMIT, report


def ticket_validate_cases(core):
    factory = core.TicketFactory(SECRET, "sha256", fallback_secrets=(OLD,))
    limited = core.TicketFactory(SECRET, "sha256", max_length=120)
    old = core.TicketFactory(OLD, "sha256")
    good = factory.new("alice@example.com", ("admin", "é"), "data!", UNTIL, IP)
    v, hex_len = factory.validate, 64
    tampered = good[: hex_len - 1] + ("0" if good[hex_len - 1] != "0" else "1") + good[hex_len:]
    utf16 = factory.new("bob", ("t",), "", UNTIL, "2001:db8::1", "utf-16")
    return [
        (v, (good, IP, NOW), {}, None),
        (v, (good.encode(), IP, NOW), {}, None),
        (v, (memoryview(good.encode()), IP, NOW), {}, None),
        (v, (old.new("carol", (), None, UNTIL), None, NOW), {}, None),
        (v, (utf16, "2001:db8::1", NOW, "utf-16"), {}, None),
        (factory.parse, (good,), {}, None),
        (v, ("", IP, NOW), {}, TicketParseError),
        (v, ("Z" * 80, IP, NOW), {}, TicketParseError),
        (v, (good[:hex_len] + "0000000G" + good[hex_len + 8 :], IP, NOW), {}, TicketParseError),
        (v, (good.replace("!", "", 1), IP, NOW), {}, TicketParseError),
        (v, (good + "!", IP, NOW), {}, TicketParseError),
        (v, (good[: hex_len + 8] + "a%2c!!", IP, NOW), {}, TicketParseError),
        (v, (good[: hex_len + 8] + "%FF!!", IP, NOW), {}, TicketParseError),
        (v, (good + "é", IP, NOW), {}, TicketParseError),
        (v, (good.encode() + b"\xff", IP, NOW), {}, TicketParseError),
        (v, (good + "\ud800", IP, NOW), {}, TicketParseError),
        (v, (good + "\x00", IP, NOW), {}, TicketParseError),
        (limited.validate, (good + "x" * 100, IP, NOW), {}, TicketParseError),
        (v, (tampered, IP, NOW), {}, TicketDigestError),
        (v, (good, "192.0.2.8", NOW), {}, TicketDigestError),
        (v, (good, IP, UNTIL), {}, TicketExpired),
        (v, (good, "not an address", NOW), {}, ValueError),
        (v, (good, 2**200, NOW), {}, ValueError),
    ]


def ticket_new_cases(core):
    factory = core.TicketFactory(SECRET, "sha512", max_length=400)
    n = factory.new
    return [
        (n, ("alice", ("admin", "staff"), "data", UNTIL, IP), {}, None),
        (n, (b"bob", [b"x,y", "é"], b"\xc3\xa9", UNTIL, "2001:db8::1"), {}, None),
        (n, ("carol", None, None, UNTIL, None, "utf-16"), {}, None),
        (n, ("dave", iter(("a", "b")), "x" * 50, UNTIL, 3232235777), {}, None),
        (n, ("eve",), {"valid_until": "123"}, None),
        (n, ("u", "tokens"), {}, TypeError),
        (n, (42,), {}, TypeError),
        (n, ("u", (1,)), {}, TypeError),
        (n, ("u",), {"valid_until": 2**32}, ValueError),
        (n, ("u",), {"valid_until": -1}, ValueError),
        (n, ("u",), {"client_ip": "bad"}, ValueError),
        (n, ("\ud800",), {}, UnicodeEncodeError),
        (n, ("u" * 400,), {}, ValueError),
    ]


def authtkt_validate_cases(core):
    factory = core.AuthTktFactory(SECRET, "sha256", fallback_secrets=(OLD,), max_length=400)
    old = core.AuthTktFactory(OLD, "sha256")
    v = factory.validate
    cookie = factory.new("alice", ("admin", "staff"), "data!x", NOW, IP)
    raw = factory.new("alice", ("admin", "staff"), "data!x", NOW, IP, raw=True)
    tampered = ("1" if raw[0] == "0" else "0") + raw[1:]
    return [
        (v, (cookie, IP, NOW), {}, None),
        (v, (raw, IP, NOW), {}, None),
        (v, (raw.encode(), IP, NOW), {}, None),
        (v, ('"' + cookie + '"', IP, NOW), {}, None),
        (v, (raw.replace("!", "%21"), IP, NOW), {}, None),
        (v, (cookie.rstrip("="), IP, NOW), {}, None),
        (v, (old.new("u", (), "", NOW, None), None, NOW), {}, None),
        (factory.parse, (cookie,), {}, None),
        (v, ("", IP, NOW), {}, TicketParseError),
        (v, ("***", IP, NOW), {}, TicketParseError),
        (v, (raw.replace("!", "%21") + "%G", IP, NOW), {}, TicketParseError),
        (v, ("ab!cd", IP, NOW), {}, TicketParseError),
        (v, (raw.upper(), IP, NOW), {}, TicketParseError),
        (v, (raw + "\x00", IP, NOW), {}, TicketParseError),
        (v, (raw.encode() + b"\xff", IP, NOW), {}, TicketParseError),
        (v, (raw + "\udc80", IP, NOW), {}, TicketParseError),
        (v, (raw + "x" * 400, IP, NOW), {}, TicketParseError),
        (v, (tampered, IP, NOW), {}, TicketDigestError),
        (v, (cookie, "192.0.2.8", NOW), {}, TicketDigestError),
        (v, (cookie, IP, NOW + 10**6), {}, TicketExpired),
        (v, (cookie, "::1", NOW), {}, ValueError),
        (v, (cookie, "bad", NOW), {}, ValueError),
    ]


def authtkt_new_cases(core):
    factory = core.AuthTktFactory(SECRET, "md5", max_length=300)
    n = factory.new
    return [
        (n, ("alice", ("admin",), "data!x", NOW, IP), {}, None),
        (n, (b"bob", [b"x"], "é", NOW, None), {"raw": True}, None),
        (n, ("carol", (), "", NOW, 3232235777), {}, None),
        (n, ("a!b",), {"timestamp": NOW}, ValueError),
        (n, ("u", ("a,b",)), {"timestamp": NOW}, ValueError),
        (n, ("u", (), "\x00"), {"timestamp": NOW}, ValueError),
        (n, (b"\xff",), {"timestamp": NOW}, ValueError),
        (n, ("u",), {"timestamp": NOW, "client_ip": "::1"}, ValueError),
        (n, ("u",), {"timestamp": 2**32}, ValueError),
        (n, ("u", "abc"), {"timestamp": NOW}, TypeError),
        (n, (None,), {"timestamp": NOW}, TypeError),
        (n, ("u" * 300,), {"timestamp": NOW}, ValueError),
    ]


@pytest.mark.parametrize(
    "make_cases",
    [ticket_validate_cases, ticket_new_cases, authtkt_validate_cases, authtkt_new_cases],
    ids=["ticket-validate", "ticket-new", "authtkt-validate", "authtkt-new"],
)
def test_no_memory_growth(core, make_cases):
    _measure(make_cases(core))


def test_total_refcount_is_stable(core):
    """The sys.gettotalrefcount() check on its own, so that its absence shows as a skip."""
    if not hasattr(sys, "gettotalrefcount"):
        pytest.skip(
            "sys.gettotalrefcount needs a debug build of CPython (sys.getallocatedblocks is checked instead)"
        )
    cases = ticket_validate_cases(core) + authtkt_validate_cases(core)
    _run(cases, 10_000)
    gc.collect()
    before = sys.gettotalrefcount()
    _run(cases, 50_000)
    gc.collect()
    assert sys.gettotalrefcount() - before < BLOCKS_LIMIT


def test_errors_do_not_keep_tickets_alive(core):
    """A caught TicketError (which holds the ticket) releases it with the exception: no
    reference is left in the core, and no reference cycle needs the garbage collector."""
    factory = core.TicketFactory(SECRET, "sha256")
    authtkt = core.AuthTktFactory(SECRET, "sha256")
    good = factory.new("alice", (), "", UNTIL, IP)
    cookie = authtkt.new("alice", (), "", NOW, IP)
    gc.disable()
    try:
        for text, call, expected in [
            (good, lambda t: factory.validate(t, IP, NOW), None),
            ("x" * 100, lambda t: factory.validate(t, IP, NOW), TicketParseError),
            (good, lambda t: factory.validate(t, "192.0.2.8", NOW), TicketDigestError),
            (good, lambda t: factory.validate(t, IP, UNTIL), TicketExpired),
            (good, lambda t: factory.validate(t, "bad", NOW), ValueError),
            (good + "é", lambda t: factory.parse(t), TicketParseError),
            (cookie, lambda t: authtkt.validate(t, IP, NOW), None),
            ("%%%", lambda t: authtkt.validate(t, IP, NOW), TicketParseError),
            (cookie, lambda t: authtkt.validate(t, "192.0.2.8", NOW), TicketDigestError),
            (cookie, lambda t: authtkt.validate(t, IP, NOW + 10**6), TicketExpired),
            (cookie, lambda t: authtkt.validate(t, "::1", NOW), ValueError),
        ]:
            for make in (StrTicket, lambda s: memoryview(s.encode("utf-8"))):
                ticket = make(text)
                ref = weakref.ref(ticket)
                try:
                    call(ticket)
                except (TicketError, ValueError) as exc:
                    assert expected is not None and isinstance(exc, expected), repr(exc)
                    if isinstance(exc, TicketError):
                        assert exc.ticket is ticket
                else:
                    assert expected is None
                del ticket
                assert ref() is None, f"{text!r:.60} ({expected}) is still alive"
    finally:
        gc.enable()


def test_argument_refcounts_are_stable(core):
    """Repeated calls, good and bad, leave every argument's reference count as it was."""
    factory = core.TicketFactory(SECRET, "sha256", fallback_secrets=(OLD,))
    authtkt = core.AuthTktFactory(SECRET, "sha256", fallback_secrets=(OLD,))
    # Fresh objects (not interned or cached), so that only our references count.
    ticket = "".join([factory.new("alice", ("a",), "d", UNTIL, IP)])
    bad_ticket = "".join(["x" * 50, "!"])
    forged = "".join(["0" * 64, ticket[64:]])
    cookie = "".join([authtkt.new("alice", ("a",), "d", NOW, IP)])
    ip = "".join(["192.0.2.", "7"])
    bad_ip = "".join(["not an ", "address"])
    now = int("1" + "0" * 30) // 10**21  # a long int object of our own, 10**9
    tokens = ("a", "".join(["b", "c"]))
    user_id = "".join(["us", "er"])
    user_data = b"".join([b"da", b"ta"])
    encoding = "".join(["utf", "-16"])
    objects = [ticket, bad_ticket, forged, cookie, ip, bad_ip, now, tokens, user_id, user_data, encoding]
    bad_calls = [
        ((bad_ticket, ip, now), TicketParseError),
        ((forged, ip, now), TicketDigestError),
        ((ticket, ip, 2**32), TicketExpired),
        ((ticket, bad_ip, now), ValueError),
    ]
    before = [sys.getrefcount(o) for o in objects]
    for _ in range(2000):
        factory.validate(ticket, ip, now)
        factory.parse(ticket)
        for args, error in bad_calls:
            with pytest.raises(error):
                factory.validate(*args)
        factory.new(user_id, tokens, user_data, 2**31, ip, encoding)
        with pytest.raises(ValueError):
            factory.new(user_id, tokens, user_data, 2**31, bad_ip)
        authtkt.validate(cookie, ip, now)
        authtkt.new(user_id, tokens, user_data, now, ip)
        with pytest.raises(TicketDigestError):
            authtkt.validate(cookie, "192.0.2.8", now)
        with pytest.raises(ValueError):
            authtkt.validate(cookie, bad_ip, now)
    del args, error
    after = [sys.getrefcount(o) for o in objects]
    assert after == before


def test_secret_is_not_retained(core):
    """The factories keep their own copies of the secrets: the caller's objects are released
    (and nothing keeps a reference to them after the factory is gone)."""
    secret = bytes(bytearray(b"a secret of our own"))
    old = bytes(bytearray(b"an old secret of our own"))
    before = (sys.getrefcount(secret), sys.getrefcount(old))
    for make in (
        lambda: core.TicketFactory(secret, fallback_secrets=[old]),
        lambda: core.AuthTktFactory(secret, "md5", fallback_secrets=[old]),
    ):
        factory = make()
        for _ in range(100):
            factory.new("u")
        factory_ref = weakref.ref(factory) if hasattr(factory, "__weakref__") else None
        del factory
        if factory_ref is not None:
            assert factory_ref() is None
    assert (sys.getrefcount(secret), sys.getrefcount(old)) == before


# --- the guard's compiled decision (GuardCore) -------------------------------------------------------

# A guard call costs more than a codec call on the pure core (the Python rules): a tenth as many
# calls, still far more than BLOCKS_LIMIT, so a leak of one object per call shows.
GUARD_CALLS = max(CALLS // 10, 2_000)
GUARD_NOW = 1_780_000_000.25
GUARD_PEER = "203.0.113.7"


def _guard_cases(core, kind):
    """(label, call, expected result) for every GuardCore entry (and, on every core, the guard's
    own check and the ASGI adapter's reading) on accepted, refused, reissued, duplicate,
    oversized and fallback-to-Python inputs; expected from a pure guard with the Python rules."""
    from fractions import Fraction

    from ticket_auth import _ticketcore_py as pure
    from ticket_auth.guard import TicketGuard
    from ticket_auth.guard.asgi import GUARD_KEY, SCOPE_KEY, _identify_scope

    def factory(module, secret, fallbacks=()):
        if kind == "ticket":
            return module.TicketFactory(secret, "sha256", fallback_secrets=fallbacks)
        return module.AuthTktFactory(secret, "sha256", fallback_secrets=fallbacks, timeout=3600)

    options = dict(secure=False, lifetime=3600, max_cookie_length=400, max_cookie_header=2000)
    binding = dict(bind_ip=True, trusted_proxies=["10.0.0.0/8"])

    def guards(**extra):
        subject = TicketGuard(
            factory(core.module, SECRET, (OLD,)), clock=lambda: GUARD_NOW, **options, **extra
        )
        reference = TicketGuard(factory(pure, SECRET, (OLD,)), clock=lambda: GUARD_NOW, **options, **extra)
        assert (subject._core is not None) == (core.name == "compiled")
        return subject, reference

    def cookie(secret, age, **extra):
        minter = TicketGuard(factory(pure, secret), secure=False, lifetime=3600, **extra)
        return minter.remember("alice", ("admin",), "display=Alice", peer=GUARD_PEER, now=GUARD_NOW - age)

    fresh, due, old = (
        c.split(";", 1)[0] for c in (cookie(SECRET, 10), cookie(SECRET, 3000), cookie(OLD, 10))
    )
    bound = cookie(SECRET, 10, bind_ip=True).split(";", 1)[0]
    forged = fresh[:-2] + ("A" if fresh[-2] != "A" else "B") + fresh[-1]
    headers = {
        "accepted": f"a=1; {fresh}",
        "refused": forged,
        "reissued": due,
        "fallback secret": old,
        "duplicate": f"{fresh}; b=2; {fresh}",
        "oversized value": "auth_tkt=" + "x" * 500,
        "oversized header": "a=" + "y" * 2100,
        "no cookie": "a=1",
        "wide str (Python rules)": f"{fresh}; x=\u0100",
    }
    subject, reference = guards()
    decision = subject._core
    cases = []
    for label, header in headers.items():
        want = reference.check(header)
        cases.append((f"check {label}", lambda h=header: subject.check(h), want))
        if not header.isascii():
            continue
        lines = [(b"host", b"example.com"), *[(b"cookie", part.encode()) for part in header.split("; ")]]
        scope = {"type": "http", "headers": lines, "client": (GUARD_PEER, 1)}
        cases.append((f"asgi {label}", lambda s=scope: _identify_scope(subject, s), want))
        if decision is None:
            continue
        raw = tuple((name.title(), value) for name, value in lines)
        cases += [
            (f"check_text {label}", lambda h=header: decision.check_text(h, None, None, None), want),
            (
                f"check_lines {label}",
                lambda s=scope: decision.check_lines(s["headers"], s["client"], None),
                want,
            ),
            (f"check_raw {label}", lambda r=raw: decision.check_raw(r, None, None), want),
            (f"check_scope {label}", lambda s=scope: decision.check_scope(s), want),
            (
                f"enter {label}",
                lambda s=scope: (
                    lambda r: r[SCOPE_KEY] if type(r) is dict and r[GUARD_KEY] is subject else r
                )(decision.enter(s, SCOPE_KEY, GUARD_KEY, subject)),
                want,
            ),
        ]
    # What the compiled decision hands to the Python rules: a clock it does not compare exactly,
    # an address form only ipaddress reads, more Cookie lines than it reads (check_lines: None).
    clock = Fraction(int(GUARD_NOW) * 4 + 1, 4)
    cases.append(
        ("check Fraction now", lambda: subject.check(fresh, now=clock), reference.check(fresh, now=clock))
    )
    bound_subject, bound_reference = guards(**binding)
    for peer, forwarded in (
        ("[203.0.113.7]", None),
        ("10.1.2.3", GUARD_PEER),
        (GUARD_PEER, None),
        ("::1", None),
    ):
        want = bound_reference.check(bound, peer=peer, forwarded=forwarded)
        cases.append(
            (
                f"bound {peer} {forwarded}",
                lambda p=peer, f=forwarded: bound_subject.check(bound, peer=p, forwarded=f),
                want,
            )
        )
    many = {"type": "http", "headers": [(b"cookie", fresh.encode()), *[(b"cookie", b"x=1")] * 17]}
    cases.append(
        ("asgi 18 lines", lambda: _identify_scope(subject, many), reference.check(fresh + "; x=1" * 17))
    )
    if subject._core is not None:
        cases.append(
            ("check_lines 18 lines", lambda: subject._core.check_lines(many["headers"], None, None), None)
        )
    return cases


@pytest.mark.parametrize("kind", ["ticket", "authtkt"])
def test_guard_decision_does_not_leak(core, kind):
    """Every GuardCore entry (check_text, check_lines, check_raw, check_scope, enter) and the
    guard's own check, on every kind of input, many times over: no memory growth. Each call's
    result is the Python rules' (so the loop also proves every case took the path it names)."""
    cases = _guard_cases(core, kind)
    reasons = {want.reason for _, _, want in cases if want is not None}
    assert {"ok", "duplicate cookie", "oversized cookie", "no cookie"} <= reasons
    assert any(want is not None and want.set_cookie for _, _, want in cases)  # a reissue
    count = len(cases)

    def run(n):
        for i in range(n):
            label, call, want = cases[i % count]
            got = call()
            if got != want:
                raise AssertionError(f"{label}: {got!r}, expected {want!r}")

    run(max(GUARD_CALLS // 10, count))
    gc.collect()
    blocks0, rss0 = sys.getallocatedblocks(), rss()
    run(GUARD_CALLS)
    gc.collect()
    blocks1, rss1 = sys.getallocatedblocks(), rss()
    report = f"{GUARD_CALLS} guard calls: allocated blocks {blocks1 - blocks0:+d}"
    if rss0 is not None:
        report += f", RSS {rss1 - rss0:+d} bytes"
    print(report)
    if rss0 is not None:
        assert rss1 - rss0 < RSS_LIMIT, report
    if COUNT_BLOCKS:
        assert blocks1 - blocks0 < BLOCKS_LIMIT, report
