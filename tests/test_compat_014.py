"""Differential tests against the reference implementation, ticket_auth 0.1.4.

``new`` must be byte-identical to 0.1.4, and ``validate``/``parse`` must agree on every
ticket 0.1.4 mints, except the one documented divergence (docs/compatibility.md, deliberate difference 2): a
field minted from bytes that are not UTF-8 never validated in 0.1.4 (TicketDigestError) and
is a TicketParseError here.
"""

import hashlib
import ipaddress

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import ticket_auth
from _helpers import (
    EXAMPLES,
    client_ip_values,
    encodings,
    exact_outcome,
    field_values,
    hashalgs,
    non_utf8_message,
    other_ip,
    outcome,
    secrets,
    tokens_values,
    unicode_text,
    user_data_values,
    valid_until_values,
)
from ticket_auth.exception import _describe_ticket

user_ids = st.one_of(unicode_text, st.binary(max_size=24), field_values)

mint_args = st.fixed_dictionaries(
    {
        "user_id": user_ids,
        "tokens": tokens_values,
        "user_data": user_data_values,
        "valid_until": valid_until_values,
        "client_ip": client_ip_values,
        "encoding": encodings,
    }
)


def check_against_014(ours, theirs, args):
    """Mint with both, compare, then validate/parse 0.1.4's ticket with both and compare."""
    expected = theirs.new(**args)
    ticket = ours.new(**args)
    assert type(ticket) is str
    assert ticket == expected

    client_ip, encoding = args["client_ip"], args["encoding"]
    until = int(args["valid_until"])
    divergence = non_utf8_message(args["user_id"], args["tokens"], args["user_data"])
    calls = {
        "validate": lambda f, **kw: f.validate(expected, client_ip, **kw, encoding=encoding),
        "parse": lambda f, **kw: f.parse(expected),
    }
    for name, call in calls.items():
        kw = {"now": until - 1} if name == "validate" else {}
        mine, ref = outcome(call, ours, **kw), outcome(call, theirs, **kw)
        if divergence is None:
            assert mine == ref, name
            assert mine[0] == "ok"
            assert type(call(ours, **kw)) is ticket_auth.TicketInfo
        else:
            assert mine == ("raise", "TicketParseError", divergence), name
            if name == "validate":
                assert ref[:2] == ("raise", "TicketDigestError")

    if divergence is None:
        # Expired: valid_until == now, and later.
        for now in (until, until + 0.5, until + 10**6):
            assert outcome(ours.validate, expected, client_ip, now, encoding) == (
                "raise",
                "TicketExpired",
                "Ticket expired",
            )
            assert outcome(theirs.validate, expected, client_ip, now, encoding) == (
                "raise",
                "TicketExpired",
                "Ticket expired",
            )
        # Wrong client address: digest error in both, even once expired.
        wrong = other_ip(client_ip)
        for now in (until - 1, until + 1):
            assert outcome(ours.validate, expected, wrong, now, encoding) == (
                "raise",
                "TicketDigestError",
                "Invalid digest",
            )
            assert outcome(theirs.validate, expected, wrong, now, encoding)[:2] == (
                "raise",
                "TicketDigestError",
            )


@settings(max_examples=EXAMPLES)
@given(secret=secrets, hashalg=hashalgs, args=mint_args)
def test_new_validate_parse_match_0_1_4(core, ta014, secret, hashalg, args):
    event(f"divergence: {non_utf8_message(args['user_id'], args['tokens'], args['user_data'])}")
    event(f"client_ip type: {type(args['client_ip']).__name__}")
    check_against_014(core.TicketFactory(secret, hashalg), ta014.TicketFactory(secret, hashalg), args)


@settings(max_examples=max(EXAMPLES // 2, 50))
@given(
    user_id=unicode_text,
    tokens=st.lists(unicode_text, max_size=4),
    user_data=unicode_text,
    valid_until=st.integers(0, 2**32 - 1),
    client_ip=client_ip_values,
    encoding=encodings,
)
def test_text_inputs_always_validate_like_0_1_4(
    core, ta014, user_id, tokens, user_data, valid_until, client_ip, encoding
):
    """All-text inputs (any Unicode but surrogates) always round-trip, in both."""
    ours, theirs = core.TicketFactory(b"k"), ta014.TicketFactory(b"k")
    ticket = ours.new(user_id, tokens, user_data, valid_until, client_ip, encoding)
    assert ticket == theirs.new(user_id, tokens, user_data, valid_until, client_ip, encoding)
    info = ours.validate(ticket, client_ip, valid_until - 1, encoding)
    assert info == theirs.validate(ticket, client_ip, valid_until - 1, encoding)
    assert info == (ticket[:128], user_id, tuple(tokens) if ",".join(tokens) else (), user_data, valid_until)


@pytest.mark.parametrize(
    "hashalg", ["md5", "sha1", "sha256", "sha384", "sha512", "blake2b", "sha3_256", "SHA256"]
)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "cp037"])
@pytest.mark.parametrize(
    "client_ip",
    [
        None,
        "192.168.1.20",
        "2001:db8::1",
        "fe80::1%eth0",
        "::ffff:1.2.3.4",
        3232235796,
        2**64 + 5,
        b"\x7f\x00\x00\x01",
        bytes(range(16)),
        ipaddress.IPv4Address("8.8.8.8"),
        ipaddress.IPv6Address("::1"),
    ],
    ids=["none", "v4", "v6", "scope", "mapped", "int4", "int6", "packed4", "packed16", "addr4", "addr6"],
)
def test_grid_matches_0_1_4(core, ta014, hashalg, encoding, client_ip):
    args = dict(
        user_id="jürgen!",
        tokens=["a,b", "", "c!d", b"e%f"],
        user_data=b"\x00\x7f",
        valid_until=2**31,
        client_ip=client_ip,
        encoding=encoding,
    )
    check_against_014(
        core.TicketFactory(b"grid-secret", hashalg), ta014.TicketFactory(b"grid-secret", hashalg), args
    )


AVAILABLE_HASHALGS = sorted({name for base in hashlib.algorithms_available for name in (base, base.upper())})


@pytest.mark.parametrize("hashalg", AVAILABLE_HASHALGS)
def test_every_available_hashalg_matches_0_1_4(core, ta014, hashalg):
    """Every name hashlib offers (and its upper case): the same ticket as 0.1.4, or - where
    0.1.4 cannot mint at all (unknown name, shake) - a ValueError at construction."""
    try:
        reference = ta014.TicketFactory(b"s", hashalg)
        expected = reference.new("u", ["t"], "d", valid_until=9, client_ip="::1")
    except (ValueError, TypeError):
        with pytest.raises(ValueError):
            core.TicketFactory(b"s", hashalg)
        return
    factory = core.TicketFactory(b"s", hashalg)
    assert factory.new("u", ["t"], "d", valid_until=9, client_ip="::1") == expected
    assert factory.validate(expected, "::1", 8) == reference.validate(expected, "::1", 8)


@pytest.mark.parametrize(
    "valid_until", [0, 1, 2**31, 2**32 - 1, 1.0, 1.99, -0.5, 2**31 + 0.25, "123", " 7 ", True]
)
def test_valid_until_forms_match_0_1_4(core, ta014, valid_until):
    args = dict(
        user_id="u", tokens=None, user_data=None, valid_until=valid_until, client_ip=None, encoding="utf-8"
    )
    check_against_014(core.TicketFactory(b"s"), ta014.TicketFactory(b"s"), args)


def test_ipv6_scope_and_mapped_addresses(core, ta014):
    factory = core.TicketFactory(b"s", "sha256")
    scoped = factory.new("u", valid_until=9, client_ip="fe80::1%eth0")
    assert scoped == factory.new("u", valid_until=9, client_ip="fe80::1")
    assert scoped == factory.new("u", valid_until=9, client_ip="fe80::1%2")
    assert factory.validate(scoped, "fe80::1", 0).user_id == "u"
    mapped = factory.new("u", valid_until=9, client_ip="::ffff:1.2.3.4")
    plain = factory.new("u", valid_until=9, client_ip="1.2.3.4")
    assert mapped != plain
    assert outcome(factory.validate, mapped, "1.2.3.4", 0)[:2] == ("raise", "TicketDigestError")
    # The unbound ticket is the 0.0.0.0 ticket, not the :: ticket.
    unbound = factory.new("u", valid_until=9)
    assert unbound == factory.new("u", valid_until=9, client_ip="0.0.0.0")
    assert unbound == factory.new("u", valid_until=9, client_ip=0)
    assert unbound != factory.new("u", valid_until=9, client_ip="::")
    reference = ta014.TicketFactory(b"s", "sha256")
    for ip in ("fe80::1%eth0", "::ffff:1.2.3.4", "1.2.3.4", None, "::"):
        assert factory.new("u", valid_until=9, client_ip=ip) == reference.new(
            "u", valid_until=9, client_ip=ip
        )


@pytest.mark.parametrize("size", [1, 200, 511, 512, 513, 3000])
def test_long_fields_match_0_1_4(core, ta014, size):
    """Fields longer than any fixed scratch buffer, escaped and plain."""
    text = ("aé😀%!," * size)[: size * 2]
    args = dict(
        user_id=text,
        tokens=[text, "x" * size, b"\xc3\xa9" * size],
        user_data=text.encode() * 2,
        valid_until=77,
        client_ip="1.1.1.1",
        encoding="utf-16",
    )
    check_against_014(
        core.TicketFactory(b"s" * size, "sha384"), ta014.TicketFactory(b"s" * size, "sha384"), args
    )


def test_bytearray_fields_match_0_1_4(core, ta014):
    args = dict(
        user_id=bytearray(b"u\xc3\xa9"),
        tokens=[bytearray(b"t!"), b"x"],
        user_data=bytearray(b"d,"),
        valid_until=5,
        client_ip=None,
        encoding="utf-8",
    )
    check_against_014(core.TicketFactory(b"s"), ta014.TicketFactory(b"s"), args)


@pytest.mark.parametrize("field", ["user_id", "token", "user_data"])
@pytest.mark.parametrize("raw", [b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xc3", b"ok\x80"])
def test_non_utf8_bytes_divergence(core, ta014, field, raw):
    """The documented divergence, field by field: same ticket, 0.1.4 says digest error,
    we say parse error naming the field."""
    args = dict(user_id="u", tokens=["t"], user_data="d", valid_until=50, client_ip=None, encoding="utf-8")
    args[{"token": "tokens"}.get(field, field)] = [raw] if field == "token" else raw
    check_against_014(core.TicketFactory(b"s"), ta014.TicketFactory(b"s"), args)


# --- cross-core ---------------------------------------------------------------------------


@settings(max_examples=EXAMPLES)
@given(secret=secrets, hashalg=hashalgs, args=mint_args)
def test_cross_core_tickets(both_cores, secret, hashalg, args):
    """A ticket minted by one core validates in the other, with identical results."""
    compiled, pure = (c.TicketFactory(secret, hashalg) for c in both_cores)
    ticket = compiled.new(**args)
    assert ticket == pure.new(**args)
    client_ip, encoding = args["client_ip"], args["encoding"]
    until = int(args["valid_until"])
    divergence = non_utf8_message(args["user_id"], args["tokens"], args["user_data"])
    for now in (until - 1, until):
        results = [exact_outcome(f.validate, ticket, client_ip, now, encoding) for f in (pure, compiled)]
        assert results[0] == results[1]
        if divergence is not None:
            assert results[0][:3] == (
                "raise",
                ticket_auth.TicketParseError,
                f"Ticket error: {divergence}  ({_describe_ticket(ticket)})",
            )
            assert results[0][3] == ticket  # the whole ticket stays in .ticket, never in str()
        elif now < until:
            assert results[0][0] == "ok"
        else:
            assert results[0][1] is ticket_auth.TicketExpired
    assert exact_outcome(pure.parse, ticket) == exact_outcome(compiled.parse, ticket)
    wrong = other_ip(client_ip)
    assert exact_outcome(pure.validate, ticket, wrong, until - 1, encoding) == exact_outcome(
        compiled.validate, ticket, wrong, until - 1, encoding
    )
