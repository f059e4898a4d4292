"""Hostile sizes and values, on both cores and both factories: each gets its documented
error, at a cost that grows no faster than the input: a long input is timed at two sizes, 64
times apart, and may take at most 512 times as long at the larger (linear work takes about 64
times, quadratic 4096); a huge number may cost at most 10 times an ordinary one. These are
ratios of two timings in the same test: no wall time is asserted (tests/_helpers.py).

NUL characters, lone surrogates, huge numbers (``valid_until``, ``now``, ``client_ip``),
``valid_until``/timestamp at 0 and 2**32-1, and megabyte-long tickets, with and without
``max_length`` (which is checked before anything else, so before any hashing).
"""

import functools

import pytest

from _helpers import assert_cost_grows_linearly, assert_costs_at_most

# A str whose Python-level methods lie about its content: the one the fuzz harness feeds the cores.
from fuzz.fuzz_tickets import LyingStr
from ticket_auth import _authtkt_format, _ticket_format
from ticket_auth.exception import TicketDigestError, TicketExpired, TicketParseError

SECRET = b"limits secret"
NOW = 1_700_000_000
MAX32 = 2**32 - 1
MB = 1024 * 1024
# A huge number costs at most this many times an ordinary one (the best of RUNS calls each).
ORDINARY = 10
RUNS = 20


def parse_error(call, ticket, message):
    with pytest.raises(TicketParseError) as info:
        call(ticket)
    assert info.value.msg == message
    assert info.value.ticket is ticket


def rejects(call, ticket, message):
    """The check (a callable, for timing) that ``call(ticket)`` is the parse error ``message``."""
    return lambda: parse_error(call, ticket, message)


def raises(error, match, call, *args, **kwargs):
    """The check (a callable, for timing) that ``call(*args, **kwargs)`` raises ``error``."""

    def check():
        with pytest.raises(error, match=match):
            call(*args, **kwargs)

    return check


def returns(expected, call, *args, **kwargs):
    """The check (a callable, for timing) that ``call(*args, **kwargs)`` returns ``expected``
    (compared with ``expected(result)`` when ``expected`` is callable)."""

    def check():
        result = call(*args, **kwargs)
        assert expected(result) if callable(expected) else result == expected

    return check


@pytest.fixture
def ticket_factory(core):
    return core.TicketFactory(SECRET, "sha256")


@pytest.fixture
def authtkt_factory(core):
    return core.AuthTktFactory(SECRET, "sha256")


# --- NUL ------------------------------------------------------------------------------------------


def test_nul_in_ticket(ticket_factory):
    good = ticket_factory.new("alice", ("a",), "d", NOW + 10)
    hex_len = 64
    cases = [
        ("\x00" + good[1:], _ticket_format.BAD_DIGEST),
        (good[:hex_len] + "\x00" + good[hex_len + 1 :], _ticket_format.BAD_TIME),
        (good[: hex_len + 8] + "\x00" + good[hex_len + 8 :], _ticket_format.BAD_UID),
        (good.replace("!a!", "!a\x00!"), _ticket_format.BAD_TOKENS),
        (good + "\x00", _ticket_format.BAD_DATA),
        ("\x00" * 100, _ticket_format.BAD_DIGEST),
    ]
    for ticket, message in cases:
        parse_error(ticket_factory.validate, ticket, message)
        parse_error(ticket_factory.parse, ticket.encode(), message)


def test_nul_in_fields_is_quoted(ticket_factory):
    ticket = ticket_factory.new("a\x00b", ("\x00",), b"\x00", NOW + 10)
    assert "%00" in ticket and "\x00" not in ticket
    info = ticket_factory.validate(ticket, now=NOW)
    assert (info.user_id, info.tokens, info.user_data) == ("a\x00b", ("\x00",), "\x00")


def test_nul_in_authtkt(authtkt_factory):
    raw = authtkt_factory.new("alice", ("a",), "d", NOW, raw=True)
    for cookie in (raw + "\x00", raw.replace("alice", "al\x00ice"), raw.encode() + b"\x00"):
        parse_error(authtkt_factory.validate, cookie, _authtkt_format.HAS_NUL)
    for kwargs in (
        {"user_id": "a\x00"},
        {"user_id": "u", "tokens": ("\x00",)},
        {"user_id": "u", "user_data": "\x00"},
    ):
        with pytest.raises(ValueError, match="NUL"):
            authtkt_factory.new(timestamp=NOW, **kwargs)


# --- lone surrogates --------------------------------------------------------------------------------


@pytest.mark.parametrize("surrogate", ["\ud800", "\udfff", "\udc80"])
def test_lone_surrogates(ticket_factory, authtkt_factory, surrogate):
    good = ticket_factory.new("alice", (), "", NOW + 10)
    for ticket in (surrogate, good + surrogate, surrogate + good, surrogate * MB):
        parse_error(ticket_factory.validate, ticket, _ticket_format.NOT_ASCII)
    cookie = authtkt_factory.new("alice", (), "", NOW, raw=True)
    for ticket in (surrogate, cookie + surrogate, surrogate * MB):
        parse_error(authtkt_factory.validate, ticket, _authtkt_format.NOT_ENCODABLE)
    # Minting from text that cannot be UTF-8 encoded: UnicodeEncodeError, a ValueError.
    with pytest.raises(UnicodeEncodeError):
        ticket_factory.new("a" + surrogate)
    with pytest.raises(UnicodeEncodeError):
        ticket_factory.new("a", (surrogate,))
    with pytest.raises(UnicodeEncodeError):
        authtkt_factory.new("a" + surrogate, timestamp=NOW)
    with pytest.raises(UnicodeEncodeError):
        authtkt_factory.new("a", (), surrogate, timestamp=NOW)


def test_encoded_surrogates_are_not_utf8(ticket_factory, authtkt_factory):
    good = ticket_factory.new("alice", (), "", NOW + 10)
    parse_error(ticket_factory.validate, good[:72] + "%ED%A0%80!!", _ticket_format.UID_NOT_UTF8)
    parse_error(ticket_factory.validate, good.encode() + b"\xed\xa0\x80", _ticket_format.NOT_ASCII)
    raw = authtkt_factory.new("alice", (), "", NOW, raw=True).encode()
    parse_error(authtkt_factory.validate, raw + b"\xed\xa0\x80", _authtkt_format.DATA_NOT_UTF8)


# --- huge numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("valid_until", [10**100, -(10**100), 2**32, -1, 2**64, float(2**32), -1.0])
def test_valid_until_out_of_range(ticket_factory, authtkt_factory, valid_until):
    # Each costs about what the first value out of range, 2**32, costs.
    message = "between 0 and 4294967295"
    assert_costs_at_most(
        raises(ValueError, message, ticket_factory.new, "u", valid_until=valid_until),
        raises(ValueError, message, ticket_factory.new, "u", valid_until=2**32),
        ORDINARY,
        RUNS,
    )
    assert_costs_at_most(
        raises(ValueError, message, authtkt_factory.new, "u", timestamp=valid_until),
        raises(ValueError, message, authtkt_factory.new, "u", timestamp=2**32),
        ORDINARY,
        RUNS,
    )


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_infinite_valid_until_is_a_value_error(ticket_factory, authtkt_factory, value):
    """int() raises OverflowError for an infinity and ValueError for NaN: both are the
    documented range ValueError (found by the fuzzer; fixed)."""
    with pytest.raises(ValueError):
        ticket_factory.new("u", valid_until=value)
    with pytest.raises(ValueError):
        authtkt_factory.new("u", timestamp=value)


def test_huge_now(ticket_factory, authtkt_factory):
    ticket = ticket_factory.new("u", valid_until=MAX32)
    # Each costs about what the same call with an ordinary now costs.
    assert_costs_at_most(
        raises(TicketExpired, None, ticket_factory.validate, ticket, now=10**100),
        raises(TicketExpired, None, ticket_factory.validate, ticket, now=MAX32 + 1),
        ORDINARY,
        RUNS,
    )
    assert ticket_factory.validate(ticket, now=-(10**100)).valid_until == MAX32
    # mod_auth_tkt compares in unsigned 32-bit arithmetic, as Apache does: now is taken
    # modulo 2**32, so a huge now is some time within the 32-bit range.
    cookie = authtkt_factory.new("u", timestamp=NOW)
    now = 10**100
    if (NOW + 7200) & MAX32 < now & MAX32:
        check = raises(TicketExpired, None, authtkt_factory.validate, cookie, now=now)
        ordinary = raises(TicketExpired, None, authtkt_factory.validate, cookie, now=NOW + 7201)
    else:
        check = returns(lambda info: info.user_id == "u", authtkt_factory.validate, cookie, now=now)
        ordinary = returns(lambda info: info.user_id == "u", authtkt_factory.validate, cookie, now=NOW)
    assert_costs_at_most(check, ordinary, ORDINARY, RUNS)


@pytest.mark.parametrize("client_ip", [2**200, 2**128, -1, -(2**200), 10**100])
def test_huge_client_ip(ticket_factory, authtkt_factory, client_ip):
    # Each costs about what the first integer that is no address, 2**128, costs.
    ticket = ticket_factory.new("u", valid_until=NOW + 10)
    cookie = authtkt_factory.new("u", timestamp=NOW)
    message = "does not appear to be an IPv4 or IPv6 address"
    for error, call, args, kwargs in (
        (message, ticket_factory.validate, (ticket,), {"now": NOW}),
        (message, ticket_factory.new, ("u",), {}),
        (None, authtkt_factory.validate, (cookie,), {"now": NOW}),
        (None, authtkt_factory.new, ("u",), {"timestamp": NOW}),
    ):
        assert_costs_at_most(
            raises(ValueError, error, call, *args, client_ip=client_ip, **kwargs),
            raises(ValueError, error, call, *args, client_ip=2**128, **kwargs),
            ORDINARY,
            RUNS,
        )


def test_largest_ipv6_integer_is_an_address(ticket_factory):
    ticket = ticket_factory.new("u", valid_until=NOW + 10, client_ip=2**128 - 1)
    assert ticket_factory.validate(ticket, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NOW).user_id == "u"


# --- valid_until at the ends of the 32-bit range ----------------------------------------------------


def test_valid_until_zero(ticket_factory):
    ticket = ticket_factory.new("u", valid_until=0)
    assert ticket[64:72] == "00000000"
    assert ticket_factory.parse(ticket).valid_until == 0
    with pytest.raises(TicketExpired):
        ticket_factory.validate(ticket, now=0)
    assert ticket_factory.validate(ticket, now=-1).valid_until == 0


def test_valid_until_max(ticket_factory):
    ticket = ticket_factory.new("u", valid_until=MAX32)
    assert ticket[64:72] == "ffffffff"
    assert ticket_factory.validate(ticket, now=MAX32 - 1).valid_until == MAX32
    with pytest.raises(TicketExpired):
        ticket_factory.validate(ticket, now=MAX32)
    with pytest.raises(TicketDigestError):  # the digest covers the time: no 'wrap' forgery
        ticket_factory.validate(ticket[:64] + "00000000" + ticket[72:], now=0)


def test_authtkt_timestamp_ends(core):
    factory = core.AuthTktFactory(SECRET, "md5", timeout=7200)
    cookie = factory.new("u", timestamp=0, raw=True)
    assert cookie[32:40] == "00000000"
    assert factory.validate(cookie, now=0).timestamp == 0
    assert factory.validate(cookie, now=7200).timestamp == 0
    with pytest.raises(TicketExpired):
        factory.validate(cookie, now=7201)
    cookie = factory.new("u", timestamp=MAX32, raw=True)
    assert cookie[32:40] == "ffffffff"
    # Apache's unsigned 32-bit arithmetic: MAX32 + 7200 wraps to 7199, so a ticket issued at
    # the last second of the range has already timed out at that second.
    with pytest.raises(TicketExpired):
        factory.validate(cookie, now=MAX32)
    assert factory.validate(cookie, now=7199).timestamp == MAX32
    no_timeout = core.AuthTktFactory(SECRET, "md5", timeout=0)
    assert no_timeout.validate(no_timeout.new("u", timestamp=MAX32), now=0).timestamp == MAX32


# --- megabyte strings -------------------------------------------------------------------------------
# Each check below is a function make(n): it builds an input of about n characters and returns
# the check on it (a callable that raises unless the result is right). test_megabyte_* run
# every check once on a megabyte and on 16; test_long_* time every check at two sizes, GROWTH
# times apart, both small enough to stay in the CPU's caches (past that, the memory system's
# costs, not the code's, set the ratio), and assert that the cost grows no faster than linearly.

LIMIT = 512  # max_length of the limited factories: below every size a check is run at
GROWTH_SIZE = 64 * 1024  # and GROWTH_SIZE // GROWTH (1 KB): the two sizes timed


def ticket_checks(core):
    factory = core.TicketFactory(SECRET, "sha256")
    limited = core.TicketFactory(SECRET, "sha256", max_length=LIMIT)
    hex_len = 64
    good = functools.cache(lambda n: factory.new("u", ("t",), "x" * n, NOW + 10))
    # %C3%A9 all over: canonical escapes of UTF-8, unquoted once.
    escaped = functools.cache(lambda n: factory.new("é" * (n // 6), (), None, NOW + 10))

    def forged(n):
        return ("1" if good(n)[0] == "0" else "0") + good(n)[1:]

    head = good(0)[: hex_len + 8]  # a digest and a time, then the user id
    checks = [
        lambda n: returns(lambda info: len(info.user_data) == n, factory.validate, good(n), now=NOW),
        lambda n: raises(TicketDigestError, None, factory.validate, forged(n), now=NOW),
        lambda n: returns(lambda info: info.user_id == "é" * (n // 6), factory.validate, escaped(n), now=NOW),
    ]
    for make, message in (
        (lambda n: head + "!" * n, _ticket_format.TOO_MANY_PARTS),
        (lambda n: head + "%" * n + "!!", _ticket_format.BAD_UID),
        (lambda n: head + "u!" + "%41" * (n // 3) + "!", _ticket_format.BAD_TOKENS),
        (lambda n: "a" * hex_len + "G" * n, _ticket_format.BAD_TIME),
        (lambda n: "a" * n, _ticket_format.MISSING_PARTS),
        (lambda n: "Z" * n, _ticket_format.BAD_DIGEST),
        (lambda n: "é" * n, _ticket_format.NOT_ASCII),
        (lambda n: "\ud800" * n, _ticket_format.NOT_ASCII),
        (lambda n: b"\xff" * n, _ticket_format.NOT_ASCII),
        (lambda n: head + "u" * n, _ticket_format.MISSING_PARTS),
    ):
        checks.append(lambda n, make=make, message=message: rejects(factory.validate, make(n), message))
    # With max_length, a long ticket is refused before anything else: before the ASCII
    # check, before the client address is looked at, and so before any hashing.
    for make in (good, forged, lambda n: "é" * n, lambda n: "\ud800" * n, lambda n: good(n).encode()):
        for call in (limited.validate, limited.parse):
            checks.append(lambda n, make=make, call=call: rejects(call, make(n), _ticket_format.TOO_LONG))
    checks += [
        lambda n: raises(
            TicketParseError, "longer than max_length", limited.validate, good(n), "not an address", NOW
        ),
        lambda n: raises(ValueError, f"max_length={LIMIT}", limited.new, "u", (), "x" * n),
    ]
    return checks


def cookie_checks(core):
    factory = core.AuthTktFactory(SECRET, "sha256")
    limited = core.AuthTktFactory(SECRET, "sha256", max_length=LIMIT)
    cookie = functools.cache(lambda n: factory.new("u", ("t",), "x" * n, NOW))
    raw = functools.cache(lambda n: factory.new("u", ("t",), "x" * n, NOW, raw=True))

    def forged(n):
        return ("1" if raw(n)[0] == "0" else "0") + raw(n)[1:]

    def has_data(n):
        return lambda info: len(info.user_data) == n

    checks = [
        lambda n: returns(has_data(n), factory.validate, cookie(n), now=NOW),
        lambda n: returns(has_data(n), factory.validate, raw(n).replace("!", "%21"), now=NOW),
        lambda n: raises(TicketDigestError, None, factory.validate, forged(n), now=NOW),
        lambda n: raises(TicketDigestError, None, factory.validate, "0" * n + "!", now=NOW),
    ]
    for make, message in (
        (lambda n: "A" * n, _authtkt_format.BAD_BASE64),
        (lambda n: "%" * n + "%21", _authtkt_format.BAD_ESCAPE),
        (lambda n: "\ud800" * n, _authtkt_format.NOT_ENCODABLE),
        (lambda n: raw(n) + "\x00", _authtkt_format.HAS_NUL),
        (lambda n: raw(n).encode() + b"\xff" * n, _authtkt_format.DATA_NOT_UTF8),
    ):
        checks.append(lambda n, make=make, message=message: rejects(factory.validate, make(n), message))
    for make in (cookie, raw, forged, lambda n: "\ud800" * n, lambda n: "A" * n, lambda n: raw(n).encode()):
        for call in (limited.validate, limited.parse):
            checks.append(lambda n, make=make, call=call: rejects(call, make(n), _authtkt_format.TOO_LONG))
    checks += [
        lambda n: raises(TicketParseError, "longer than max_length", limited.validate, cookie(n), "::1", NOW),
        lambda n: raises(ValueError, f"max_length={LIMIT}", limited.new, "u", (), "x" * n, NOW),
    ]
    return checks


@pytest.mark.parametrize("size", [MB, 16 * MB])
def test_megabyte_tickets(core, size):
    for make in ticket_checks(core):
        make(size)()


@pytest.mark.parametrize("size", [MB, 16 * MB])
def test_megabyte_cookies(core, size):
    for make in cookie_checks(core):
        make(size)()


def test_long_tickets_cost_linear_time(core):
    for make in ticket_checks(core):
        assert_cost_grows_linearly(make, GROWTH_SIZE)


def test_long_cookies_cost_linear_time(core):
    for make in cookie_checks(core):
        assert_cost_grows_linearly(make, GROWTH_SIZE)


# --- str subclasses that override str's methods -----------------------------------------------------


@pytest.mark.parametrize("kind", ["ticket", "authtkt"])
def test_str_subclass_overrides_are_ignored(both_cores, kind):
    outcomes = []
    for core in both_cores:
        if kind == "ticket":
            factory = core.TicketFactory(SECRET, "md5", max_length=50)
            good = factory.new("u" * 5, valid_until=NOW + 10)
        else:
            factory = core.AuthTktFactory(SECRET, "md5", max_length=50)
            good = factory.new("u", timestamp=NOW, raw=True)
        results = []
        for ticket in (LyingStr(good), LyingStr(good + "x" * 100), LyingStr("é" + good)):
            try:
                results.append(("ok", tuple(factory.validate(ticket, now=NOW))))
            except Exception as exc:  # noqa: BLE001 - compared between the cores
                results.append((type(exc).__name__, getattr(exc, "msg", str(exc))))
        outcomes.append(results)
    compiled, pure = outcomes
    too_long = _ticket_format.TOO_LONG if kind == "ticket" else _authtkt_format.TOO_LONG
    assert compiled[1] == ("TicketParseError", too_long)
    assert pure == compiled


@pytest.mark.parametrize("field", ["user_id", "token", "user_data"])
@pytest.mark.parametrize("kind", ["ticket", "authtkt"])
def test_str_subclass_fields_are_read_as_text(both_cores, kind, field):
    minted = []
    for core in both_cores:
        value = LyingStr("a b")
        args = {"user_id": "u", "tokens": (), "user_data": ""}
        if field == "token":
            args["tokens"] = (value,)
        else:
            args[field] = value
        if kind == "ticket":
            minted.append(core.TicketFactory(SECRET, "md5").new(**args, valid_until=NOW))
        else:
            minted.append(core.AuthTktFactory(SECRET, "md5").new(**args, timestamp=NOW, raw=True))
    assert minted[0] == minted[1]
    assert "a%20b" in minted[0] or "a b" in minted[0]
