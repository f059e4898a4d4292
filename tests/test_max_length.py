"""The ``max_length`` limit of both factories: off by default, checked before anything else
(so before any hashing), exact at the boundary, and kept by ``new`` too (it never mints what
its own validate would refuse). Megabyte-long tickets with and without a limit are in
test_limits.py.
"""

import pytest

from _helpers import assert_costs_at_most
from ticket_auth import _authtkt_format, _ticket_format
from ticket_auth.exception import TicketParseError

SECRET = CURRENT = b"current-secret"
NOW = 1_700_000_000
ARGS = dict(
    user_id="alice", tokens=("admin", "a,b"), user_data="x y", valid_until=2_000_000_000, client_ip="10.1.2.3"
)


def parse_error(call, ticket, message):
    with pytest.raises(TicketParseError) as info:
        call(ticket)
    assert info.value.msg == message
    assert info.value.ticket is ticket


# --- TicketFactory ----------------------------------------------------------------------------------


def test_max_length_is_off_by_default(core):
    factory = core.TicketFactory(CURRENT)
    ticket = factory.new("u", user_data="x" * 100_000, valid_until=5)
    assert factory.validate(ticket, None, 0).user_data == "x" * 100_000


def test_max_length_boundary(core):
    """A ticket exactly max_length long is read; one character more is a parse error (for
    str, bytes and bytearray, from validate and parse), and new refuses to mint it."""
    ticket = core.TicketFactory(CURRENT).new(**ARGS)
    exact = core.TicketFactory(CURRENT, max_length=len(ticket))
    assert exact.validate(ticket, "10.1.2.3", 0).user_id == "alice"
    short = core.TicketFactory(CURRENT, max_length=len(ticket) - 1)
    for value in (ticket, ticket.encode(), bytearray(ticket.encode())):
        for method in (lambda t: short.validate(t, "10.1.2.3", 0), short.parse):
            with pytest.raises(TicketParseError) as err:
                method(value)
            assert err.value.msg == _ticket_format.TOO_LONG
            assert err.value.ticket is value
    # The same at the exact length of a short md5 ticket, and one over it.
    ticket = core.TicketFactory(SECRET, "md5").new("abc", valid_until=NOW + 10)  # 32 + 8 + 3 + 2 = 45
    assert len(ticket) == 45
    factory = core.TicketFactory(SECRET, "md5", max_length=45)
    assert factory.validate(ticket, now=NOW).user_id == "abc"
    parse_error(factory.validate, ticket + "x", _ticket_format.TOO_LONG)
    parse_error(core.TicketFactory(SECRET, "md5", max_length=44).validate, ticket, _ticket_format.TOO_LONG)
    with pytest.raises(ValueError, match="46 characters long, more than max_length=45"):
        factory.new("abcd", valid_until=NOW + 10)


def test_long_ticket_is_rejected_before_any_hashing(core, counting):
    factory = core.TicketFactory(CURRENT, max_length=4096)
    counting.calls = 0
    huge = "a" * 64 + "00000000" + "x" * 2_000_000 + "!!"

    def rejects(ticket):
        def check():
            for _ in range(100):
                parse_error(factory.validate, ticket, _ticket_format.TOO_LONG)

        return check

    # Rejecting is O(1): 100 rejections of a 2 MB ticket cost about what 100 of a ticket one
    # character over the limit cost, where a scan of 200 MB would cost hundreds of times more.
    # (A ratio of two timings in this test, not a wall time; generous bound.)
    assert_costs_at_most(rejects(huge), rejects(huge[:4097]), 10, runs=3, what="rejecting a 2 MB ticket")
    assert counting.calls == 0


def test_max_length_comes_before_other_checks(core):
    factory = core.TicketFactory(CURRENT, max_length=10)
    with pytest.raises(TicketParseError) as err:
        factory.parse("é" * 11)  # not ASCII either: the length is checked first
    assert err.value.msg == _ticket_format.TOO_LONG
    with pytest.raises(TicketParseError) as err:
        factory.parse("é" * 10)
    assert err.value.msg == _ticket_format.NOT_ASCII


def test_new_refuses_a_ticket_its_validate_would_reject(core):
    factory = core.TicketFactory(CURRENT, "md5", max_length=62)
    assert len(factory.new("u" * 20, valid_until=5)) == 32 + 8 + 20 + 2
    with pytest.raises(ValueError, match="63 characters long, more than max_length=62"):
        factory.new("u" * 19, user_data="dd", valid_until=5)


@pytest.mark.parametrize(
    "value, error",
    [(0, ValueError), (-1, ValueError), ("10", TypeError), (1.5, TypeError), (True, TypeError)],
)
def test_bad_max_length(core, value, error):
    with pytest.raises(error):
        core.TicketFactory(CURRENT, max_length=value)
    with pytest.raises(error):
        core.AuthTktFactory(CURRENT, "md5", max_length=value)


# --- AuthTktFactory ---------------------------------------------------------------------------------


def test_authtkt_max_length(core):
    factory = core.AuthTktFactory(SECRET, "md5", max_length=100)
    cookie = factory.new("u" * 20)
    assert len(cookie) <= 100 and factory.validate(cookie).user_id == "u" * 20
    with pytest.raises(ValueError, match="max_length=100"):
        factory.new("u" * 60)
    with pytest.raises(TicketParseError) as err:
        factory.validate("x" * 101)
    assert err.value.msg == _authtkt_format.TOO_LONG


def test_raw_cookie_max_length_counts_bytes(core):
    """new and validate both count a cookie's UTF-8 bytes, so a raw cookie that new mints
    within max_length validates (found by the fuzzer: new used to count characters)."""
    cookie = core.AuthTktFactory(SECRET, "md5").new("é" * 10, timestamp=NOW, raw=True)
    assert (len(cookie), len(cookie.encode())) == (51, 61)
    with pytest.raises(ValueError, match="61 bytes long, more than max_length=60"):
        core.AuthTktFactory(SECRET, "md5", max_length=60).new("é" * 10, timestamp=NOW, raw=True)
    factory = core.AuthTktFactory(SECRET, "md5", max_length=61)
    assert factory.new("é" * 10, timestamp=NOW, raw=True) == cookie
    assert factory.validate(cookie, now=NOW).user_id == "é" * 10
    parse_error(core.AuthTktFactory(SECRET, "md5", max_length=60).validate, cookie, _authtkt_format.TOO_LONG)
