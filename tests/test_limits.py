"""Hostile sizes and values, on both cores and both factories: each gets its documented
error, and quickly (a generous bound: these must never take seconds or hang).

NUL characters, lone surrogates, huge numbers (``valid_until``, ``now``, ``client_ip``),
``valid_until``/timestamp at 0 and 2**32-1, and megabyte-long tickets, with and without
``max_length`` (which is checked before anything else, so before any hashing).
"""

import time

import pytest

# A str whose Python-level methods lie about its content: the one the fuzz harness feeds the cores.
from fuzz.fuzz_tickets import LyingStr
from ticket_auth import _authtkt_format, _ticket_format
from ticket_auth.exception import TicketDigestError, TicketExpired, TicketParseError

SECRET = b"limits secret"
NOW = 1_700_000_000
MAX32 = 2**32 - 1
MB = 1024 * 1024
QUICK = 5.0  # seconds; the real figures are milliseconds


class Timed:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.elapsed = time.perf_counter() - self.start
        assert self.elapsed < QUICK, f"took {self.elapsed:.2f}s"
        return False


def parse_error(call, ticket, message):
    with Timed(), pytest.raises(TicketParseError) as info:
        call(ticket)
    assert info.value.msg == message
    assert info.value.ticket is ticket


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
    with Timed(), pytest.raises(ValueError, match="between 0 and 4294967295"):
        ticket_factory.new("u", valid_until=valid_until)
    with Timed(), pytest.raises(ValueError, match="between 0 and 4294967295"):
        authtkt_factory.new("u", timestamp=valid_until)


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
    with Timed(), pytest.raises(TicketExpired):
        ticket_factory.validate(ticket, now=10**100)
    assert ticket_factory.validate(ticket, now=-(10**100)).valid_until == MAX32
    # mod_auth_tkt compares in unsigned 32-bit arithmetic, as Apache does: now is taken
    # modulo 2**32, so a huge now is some time within the 32-bit range.
    cookie = authtkt_factory.new("u", timestamp=NOW)
    now = 10**100
    expired = (NOW + 7200) & MAX32 < now & MAX32
    with Timed():
        if expired:
            with pytest.raises(TicketExpired):
                authtkt_factory.validate(cookie, now=now)
        else:
            assert authtkt_factory.validate(cookie, now=now).user_id == "u"


@pytest.mark.parametrize("client_ip", [2**200, 2**128, -1, -(2**200), 10**100])
def test_huge_client_ip(ticket_factory, authtkt_factory, client_ip):
    ticket = ticket_factory.new("u", valid_until=NOW + 10)
    with Timed(), pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 address"):
        ticket_factory.validate(ticket, client_ip, NOW)
    with Timed(), pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 address"):
        ticket_factory.new("u", client_ip=client_ip)
    cookie = authtkt_factory.new("u", timestamp=NOW)
    with Timed(), pytest.raises(ValueError):
        authtkt_factory.validate(cookie, client_ip, NOW)
    with Timed(), pytest.raises(ValueError):
        authtkt_factory.new("u", timestamp=NOW, client_ip=client_ip)


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


@pytest.mark.parametrize("size", [MB, 16 * MB])
def test_megabyte_tickets(core, size):
    factory = core.TicketFactory(SECRET, "sha256")
    limited = core.TicketFactory(SECRET, "sha256", max_length=4096)
    good = factory.new("u", ("t",), "x" * size, NOW + 10)
    hex_len = 64
    with Timed():
        assert len(factory.validate(good, now=NOW).user_data) == size
    forged = ("1" if good[0] == "0" else "0") + good[1:]
    with Timed(), pytest.raises(TicketDigestError):
        factory.validate(forged, now=NOW)
    parse_error(factory.validate, good[: hex_len + 8] + "!" * size, _ticket_format.TOO_MANY_PARTS)
    parse_error(factory.validate, good[: hex_len + 8] + "%" * size + "!!", _ticket_format.BAD_UID)
    parse_error(
        factory.validate, good[: hex_len + 8] + "u!" + "%41" * (size // 3) + "!", _ticket_format.BAD_TOKENS
    )
    parse_error(factory.validate, "a" * hex_len + "G" * size, _ticket_format.BAD_TIME)
    parse_error(factory.validate, "a" * size, _ticket_format.MISSING_PARTS)
    parse_error(factory.validate, "Z" * size, _ticket_format.BAD_DIGEST)
    parse_error(factory.validate, "é" * size, _ticket_format.NOT_ASCII)
    parse_error(factory.validate, b"\xff" * size, _ticket_format.NOT_ASCII)
    parse_error(factory.validate, good[: hex_len + 8] + "u" * size, _ticket_format.MISSING_PARTS)
    # %C3%A9 a megabyte over: canonical escapes of UTF-8, unquoted once.
    escaped = factory.new("é" * (size // 6), (), None, NOW + 10)
    with Timed():
        assert factory.validate(escaped, now=NOW).user_id == "é" * (size // 6)
    # With max_length, a long ticket is refused before anything else: before the ASCII
    # check, before the client address is looked at, and so before any hashing.
    for ticket in (good, forged, "é" * size, "\ud800" * size, good.encode()):
        parse_error(limited.validate, ticket, _ticket_format.TOO_LONG)
        parse_error(limited.parse, ticket, _ticket_format.TOO_LONG)
    with Timed(), pytest.raises(TicketParseError, match="longer than max_length"):
        limited.validate(good, "not an address", NOW)
    with Timed(), pytest.raises(ValueError, match="max_length=4096"):
        limited.new("u", (), "x" * size)


@pytest.mark.parametrize("size", [MB, 16 * MB])
def test_megabyte_cookies(core, size):
    factory = core.AuthTktFactory(SECRET, "sha256")
    limited = core.AuthTktFactory(SECRET, "sha256", max_length=4096)
    cookie = factory.new("u", ("t",), "x" * size, NOW)
    with Timed():
        assert len(factory.validate(cookie, now=NOW).user_data) == size
    raw = factory.new("u", ("t",), "x" * size, NOW, raw=True)
    with Timed():
        assert len(factory.validate(raw.replace("!", "%21"), now=NOW).user_data) == size
    forged = ("1" if raw[0] == "0" else "0") + raw[1:]
    with Timed(), pytest.raises(TicketDigestError):
        factory.validate(forged, now=NOW)
    parse_error(factory.validate, "A" * size, _authtkt_format.BAD_BASE64)
    parse_error(factory.validate, "%" * size + "%21", _authtkt_format.BAD_ESCAPE)
    parse_error(factory.validate, "\ud800" * size, _authtkt_format.NOT_ENCODABLE)
    with Timed(), pytest.raises(TicketDigestError):
        factory.validate("0" * size + "!", now=NOW)
    parse_error(factory.validate, raw + "\x00", _authtkt_format.HAS_NUL)
    parse_error(factory.validate, raw.encode() + b"\xff" * size, _authtkt_format.DATA_NOT_UTF8)
    for ticket in (cookie, raw, forged, "\ud800" * size, "A" * size, raw.encode()):
        parse_error(limited.validate, ticket, _authtkt_format.TOO_LONG)
        parse_error(limited.parse, ticket, _authtkt_format.TOO_LONG)
    with Timed(), pytest.raises(TicketParseError, match="longer than max_length"):
        limited.validate(cookie, "::1", NOW)
    with Timed(), pytest.raises(ValueError, match="max_length=4096"):
        limited.new("u", (), "x" * size, NOW)


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
