"""Where this project deliberately does better than 0.1.4 (SPEC, last section).

1. constant-time digest comparison; 2. strict, canonical parsing with a message naming the
wrong part, in the order documented in ticket_auth._ticket_format; 3. only TicketError subclasses from
validate/parse for any str/bytes input; 4. clear errors at the boundary. Also: the secret never
leaks into a message or repr, a factory cannot be pickled, and both cores say the same thing.
"""

import copy
import hmac
import ipaddress
import pickle
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import ticket_auth
from _helpers import EXAMPLES, exact_outcome, field_values, tokens_values, user_data_values
from ticket_auth import TicketDigestError, TicketError, TicketExpired, TicketParseError, _ticket_format

SECRET = b"S3CRET-do-not-leak"
HEX = "0123456789abcdef"
SAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")


def fake_digest(hex_len):
    return (HEX * 20)[:hex_len]


T = "0000007b"  # a canonical TIME (123)

# (id, builder(digest, time) -> ticket, expected message). The builders only use
# lowercase-hex DIGEST/TIME unless the case is about them.
PARSE_CASES = [
    # 1. ASCII (checked before anything else, even length)
    ("non-ascii-uid", lambda d, t: d + t + "jürgen!!", _ticket_format.NOT_ASCII),
    ("non-ascii-short", lambda d, t: "é", _ticket_format.NOT_ASCII),
    ("non-ascii-in-digest-uppercase", lambda d, t: "É" + d[1:].upper() + t + "u!!", _ticket_format.NOT_ASCII),
    ("non-ascii-data", lambda d, t: d + t + "u!t!\U0001f600", _ticket_format.NOT_ASCII),
    ("surrogate", lambda d, t: d + t + "u!!\ud800", _ticket_format.NOT_ASCII),
    # 2. length
    ("empty", lambda d, t: "", _ticket_format.TOO_SHORT),
    ("digest-only", lambda d, t: d, _ticket_format.TOO_SHORT),
    ("one-short", lambda d, t: d + t[:-1], _ticket_format.TOO_SHORT),
    ("short-and-uppercase", lambda d, t: d.upper()[:10], _ticket_format.TOO_SHORT),
    # 3. DIGEST, then TIME
    ("upper-digest-last", lambda d, t: d[:-1] + "A" + t + "u!!", _ticket_format.BAD_DIGEST),
    ("upper-digest-first", lambda d, t: "F" + d[1:] + t + "u!!", _ticket_format.BAD_DIGEST),
    ("digest-all-upper", lambda d, t: d.upper() + t + "u!!", _ticket_format.BAD_DIGEST),
    ("digest-non-hex", lambda d, t: d[:5] + "g" + d[6:] + t + "u!!", _ticket_format.BAD_DIGEST),
    ("digest-space", lambda d, t: " " + d[1:] + t + "u!!", _ticket_format.BAD_DIGEST),
    ("digest-and-time-bad", lambda d, t: d.upper() + "XXXXXXXX" + "u!!", _ticket_format.BAD_DIGEST),
    ("upper-time", lambda d, t: d + "0000007B" + "u!!", _ticket_format.BAD_TIME),
    ("time-leading-space", lambda d, t: d + "      7b" + "u!!", _ticket_format.BAD_TIME),
    ("time-space-1", lambda d, t: d + " 1" + "000000" + "u!!", _ticket_format.BAD_TIME),
    ("time-0x", lambda d, t: d + "0x00007b" + "u!!", _ticket_format.BAD_TIME),
    ("time-underscore", lambda d, t: d + "0000_07b" + "u!!", _ticket_format.BAD_TIME),
    ("time-plus", lambda d, t: d + "+000007b" + "u!!", _ticket_format.BAD_TIME),
    ("time-short-then-bang", lambda d, t: d + "7b!u!t!d", _ticket_format.BAD_TIME),
    ("time-bad-and-parts-missing", lambda d, t: d + "0000007Bu", _ticket_format.BAD_TIME),
    # 4. exactly two '!'
    ("no-bang", lambda d, t: d + t + "user", _ticket_format.MISSING_PARTS),
    ("nothing-after-time", lambda d, t: d + t, _ticket_format.MISSING_PARTS),
    ("one-bang", lambda d, t: d + t + "user!tok", _ticket_format.MISSING_PARTS),
    ("one-bang-bad-uid", lambda d, t: d + t + "us er!tok", _ticket_format.MISSING_PARTS),
    ("extra-bang", lambda d, t: d + t + "user!tok!data!x", _ticket_format.TOO_MANY_PARTS),
    ("four-bangs", lambda d, t: d + t + "!!!!", _ticket_format.TOO_MANY_PARTS),
    ("extra-bang-bad-uid", lambda d, t: d + t + "u%zz!t!d!", _ticket_format.TOO_MANY_PARTS),
    # 5. canonical quoted form: UID, then TOKENS, then DATA
    ("uid-escaped-safe-char", lambda d, t: d + t + "us%65r!!", _ticket_format.BAD_UID),
    ("uid-escaped-slash", lambda d, t: d + t + "a%2Fb!!", _ticket_format.BAD_UID),
    ("uid-escaped-tilde", lambda d, t: d + t + "%7E!!", _ticket_format.BAD_UID),
    ("uid-escaped-underscore", lambda d, t: d + t + "%5F!!", _ticket_format.BAD_UID),
    ("uid-escaped-dash", lambda d, t: d + t + "%2D!!", _ticket_format.BAD_UID),
    ("uid-escaped-dot", lambda d, t: d + t + "%2E!!", _ticket_format.BAD_UID),
    ("uid-escaped-digit", lambda d, t: d + t + "%30!!", _ticket_format.BAD_UID),
    ("uid-lowercase-escape", lambda d, t: d + t + "j%c3%bcrgen!!", _ticket_format.BAD_UID),
    ("uid-mixedcase-escape", lambda d, t: d + t + "%C3%bC!!", _ticket_format.BAD_UID),
    ("uid-bare-percent", lambda d, t: d + t + "100%!!", _ticket_format.BAD_UID),
    ("uid-percent-percent", lambda d, t: d + t + "%%!!", _ticket_format.BAD_UID),
    ("uid-truncated-escape", lambda d, t: d + t + "a%2!!", _ticket_format.BAD_UID),
    ("uid-truncated-escape-1", lambda d, t: d + t + "a%!!", _ticket_format.BAD_UID),
    ("uid-non-hex-escape", lambda d, t: d + t + "%G0!!", _ticket_format.BAD_UID),
    ("uid-comma", lambda d, t: d + t + "a,b!!", _ticket_format.BAD_UID),
    ("uid-space", lambda d, t: d + t + "a b!!", _ticket_format.BAD_UID),
    ("uid-plus", lambda d, t: d + t + "a+b!!", _ticket_format.BAD_UID),
    ("uid-nul", lambda d, t: d + t + "a\x00!!", _ticket_format.BAD_UID),
    ("uid-bad-and-tokens-bad", lambda d, t: d + t + "a b!c d!e f", _ticket_format.BAD_UID),
    ("tokens-lowercase-escape", lambda d, t: d + t + "u!a%2c!", _ticket_format.BAD_TOKENS),
    ("tokens-truncated-escape", lambda d, t: d + t + "u!a%2!", _ticket_format.BAD_TOKENS),
    ("tokens-escaped-safe", lambda d, t: d + t + "u!%41!", _ticket_format.BAD_TOKENS),
    ("tokens-space", lambda d, t: d + t + "u!a b!", _ticket_format.BAD_TOKENS),
    ("tokens-bad-and-data-bad", lambda d, t: d + t + "u!a b!c d", _ticket_format.BAD_TOKENS),
    ("tokens-bad-uid-not-utf8", lambda d, t: d + t + "%FF!a b!", _ticket_format.BAD_TOKENS),
    ("data-comma", lambda d, t: d + t + "u!t!a,b", _ticket_format.BAD_DATA),
    ("data-trailing-percent", lambda d, t: d + t + "u!t!x%", _ticket_format.BAD_DATA),
    ("data-truncated-escape", lambda d, t: d + t + "u!t!x%4", _ticket_format.BAD_DATA),
    ("data-lowercase-escape", lambda d, t: d + t + "u!t!x%c3%a9", _ticket_format.BAD_DATA),
    ("data-escaped-safe", lambda d, t: d + t + "u!t!%7E", _ticket_format.BAD_DATA),
    ("data-bad-uid-not-utf8", lambda d, t: d + t + "%FF!t!a b", _ticket_format.BAD_DATA),
    # 6. UTF-8 once unquoted: UID, then each token, then DATA
    ("uid-ff", lambda d, t: d + t + "%FF!!", _ticket_format.UID_NOT_UTF8),
    ("uid-overlong-nul", lambda d, t: d + t + "a%C0%80!!", _ticket_format.UID_NOT_UTF8),
    ("uid-surrogate", lambda d, t: d + t + "%ED%A0%80!!", _ticket_format.UID_NOT_UTF8),
    ("uid-above-max", lambda d, t: d + t + "%F4%90%80%80!!", _ticket_format.UID_NOT_UTF8),
    ("uid-lone-continuation", lambda d, t: d + t + "%80!!", _ticket_format.UID_NOT_UTF8),
    ("uid-truncated-sequence", lambda d, t: d + t + "%C3!!", _ticket_format.UID_NOT_UTF8),
    ("uid-and-token-not-utf8", lambda d, t: d + t + "%FF!%FF!%FF", _ticket_format.UID_NOT_UTF8),
    ("token-ff", lambda d, t: d + t + "u!ok,%FF!", _ticket_format.TOKEN_NOT_UTF8),
    ("token-overlong", lambda d, t: d + t + "u!%C0%80!", _ticket_format.TOKEN_NOT_UTF8),
    ("token-surrogate", lambda d, t: d + t + "u!a,%ED%A0%80,b!", _ticket_format.TOKEN_NOT_UTF8),
    ("token-split-sequence", lambda d, t: d + t + "u!%C3,%A9!", _ticket_format.TOKEN_NOT_UTF8),
    ("token-and-data-not-utf8", lambda d, t: d + t + "u!%FE!%FF", _ticket_format.TOKEN_NOT_UTF8),
    ("data-ff", lambda d, t: d + t + "u!t!%FF", _ticket_format.DATA_NOT_UTF8),
    ("data-overlong", lambda d, t: d + t + "u!t!%C0%80", _ticket_format.DATA_NOT_UTF8),
    ("data-surrogate", lambda d, t: d + t + "u!t!%ED%A0%80", _ticket_format.DATA_NOT_UTF8),
    ("data-truncated-4byte", lambda d, t: d + t + "u!t!%F0%9F%98", _ticket_format.DATA_NOT_UTF8),
]


@pytest.fixture(params=["md5", "sha256", "sha512"])
def factory(request, core):
    return core.TicketFactory(SECRET, request.param)


def hex_len(factory):
    return len(factory.new("", valid_until=0)) - len("00000000!!")


def expect_parse_error(call, ticket, message):
    with pytest.raises(TicketParseError) as info:
        call(ticket)
    assert type(info.value) is TicketParseError
    assert info.value.msg == message
    assert info.value.ticket is ticket
    assert str(info.value) == f"Ticket error: {message}  ({ticket})"


@pytest.mark.parametrize(
    ("builder", "message"), [case[1:] for case in PARSE_CASES], ids=[case[0] for case in PARSE_CASES]
)
def test_non_canonical_ticket_rejected(factory, builder, message):
    ticket = builder(fake_digest(hex_len(factory)), T)
    expect_parse_error(factory.parse, ticket, message)
    expect_parse_error(factory.validate, ticket, message)
    # Parsing comes first: a bad client_ip or an expired time changes nothing.
    expect_parse_error(lambda tk: factory.validate(tk, "not an ip", 10**12), ticket, message)
    expect_parse_error(lambda tk: factory.validate(tk, None, None, "utf-16"), ticket, message)
    if ticket.isascii():
        for form in (ticket.encode(), bytearray(ticket.encode()), memoryview(ticket.encode())):
            expect_parse_error(factory.parse, form, message)
            expect_parse_error(factory.validate, form, message)


def test_parse_cases_cover_every_message():
    messages = {case[2] for case in PARSE_CASES}
    assert messages == {
        _ticket_format.NOT_ASCII,
        _ticket_format.TOO_SHORT,
        _ticket_format.BAD_DIGEST,
        _ticket_format.BAD_TIME,
        _ticket_format.MISSING_PARTS,
        _ticket_format.TOO_MANY_PARTS,
        _ticket_format.BAD_UID,
        _ticket_format.BAD_TOKENS,
        _ticket_format.BAD_DATA,
        _ticket_format.UID_NOT_UTF8,
        _ticket_format.TOKEN_NOT_UTF8,
        _ticket_format.DATA_NOT_UTF8,
    }


def test_0_1_4_accepts_what_we_reject(ta014):
    """The variants of SPEC item 2 really are accepted by 0.1.4 (so rejecting them is a
    deliberate difference) and are rejected here."""
    theirs = ta014.TicketFactory(SECRET, "sha256")
    ours = ticket_auth.TicketFactory(SECRET, "sha256")
    good = theirs.new("user", valid_until=0x7B)
    digest = good[:64]
    for variant in (
        digest + " " + good[65:],
        digest + "0x" + good[66:],  # ' 000007b' / '0x00007b'
        digest + "0000_07b" + good[72:],
        digest + good[64:72].upper() + good[72:],
        digest + good[64:72] + "us%65r!!",
    ):
        assert theirs.validate(variant, now=0).user_id == "user", variant
        with pytest.raises(TicketParseError):
            ours.validate(variant, now=0)
    assert good == ours.new("user", valid_until=0x7B)


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        ("!!", ("", (), "")),
        ("u!,!d", ("u", ("", ""), "d")),
        ("%25!a,,b!%21", ("%", ("a", "", "b"), "!")),
        ("AZaz09_.-~/!%2C!%C3%A9", ("AZaz09_.-~/", (",",), "é")),
        ("%F0%9F%98%80!%00,%7F!%20", ("\U0001f600", ("\x00", "\x7f"), " ")),
        ("!,,!", ("", ("", "", ""), "")),
        ("%EF%BF%BD!!", ("\ufffd", (), "")),
        ("%F4%8F%BF%BF!!", ("\U0010ffff", (), "")),
    ],
)
def test_canonical_tickets_parse(core, rest, expected):
    factory = core.TicketFactory(SECRET, "md5")
    ticket = fake_digest(32) + T + rest
    info = factory.parse(ticket)
    assert info == (fake_digest(32), *expected, 123)
    assert type(info.tokens) is tuple
    # And new mints exactly this text back.
    assert factory.new(info.user_id, info.tokens, info.user_data, info.valid_until)[32:] == ticket[32:]


def test_every_escape(core):
    """%XX for each byte: accepted iff quote would escape the byte, and uppercase only."""
    factory = core.TicketFactory(SECRET, "md5")
    prefix = fake_digest(32) + T
    for byte in range(256):
        escape = f"%{byte:02X}"
        for where, make, not_utf8, bad_form in (
            ("uid", lambda e: e + "!!", _ticket_format.UID_NOT_UTF8, _ticket_format.BAD_UID),
            ("tokens", lambda e: "!x," + e + "!", _ticket_format.TOKEN_NOT_UTF8, _ticket_format.BAD_TOKENS),
            ("data", lambda e: "!!" + e, _ticket_format.DATA_NOT_UTF8, _ticket_format.BAD_DATA),
        ):
            ticket = prefix + make(escape)
            if chr(byte) in SAFE:
                expect_parse_error(factory.parse, ticket, bad_form)
            elif byte >= 0x80:
                expect_parse_error(factory.parse, ticket, not_utf8)
            else:
                info = factory.parse(ticket)
                assert chr(byte) in (info.user_id, info.user_data, *info.tokens), where
            if escape.lower() != escape:
                expect_parse_error(factory.parse, prefix + make(escape.lower()), bad_form)


def test_every_raw_ascii_character(core):
    factory = core.TicketFactory(SECRET, "md5")
    prefix = fake_digest(32) + T
    for code in range(128):
        char = chr(code)
        cases = [
            (char + "!!", _ticket_format.BAD_UID),
            ("!" + char + "!", _ticket_format.BAD_TOKENS),
            ("!!" + char, _ticket_format.BAD_DATA),
        ]
        for rest, bad in cases:
            ticket = prefix + rest
            if char == "!":
                expect_parse_error(factory.parse, ticket, _ticket_format.TOO_MANY_PARTS)
            elif char in SAFE or (char == "," and bad == _ticket_format.BAD_TOKENS):
                factory.parse(ticket)
            else:
                expect_parse_error(factory.parse, ticket, bad)


def _utf8_samples():
    """Byte strings around every UTF-8 boundary: all 2-byte sequences with a non-ASCII lead,
    and 3- and 4-byte sequences over every lead byte with edge continuation bytes."""
    edges = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF]
    for lead in range(0x80, 0x100):
        for second in range(0x100):
            yield bytes((lead, second))
    for lead in range(0xE0, 0x100):
        for second in edges:
            for third in edges:
                yield bytes((lead, second, third))
    for lead in range(0xF0, 0x100):
        for second in edges:
            for third in (0x80, 0xBF, 0x7F, 0xC0):
                for fourth in (0x80, 0xBF, 0x7F, 0xC0):
                    yield bytes((lead, second, third, fourth))
    yield from (
        b"\xf4\x8f\xbf\xbf",
        b"\xf4\x90\x80\x80",
        b"\xed\x9f\xbf",
        b"\xee\x80\x80",
        b"\xef\xbf\xbf",
        b"\xe0\xa0\x80",
        b"\xe0\x9f\xbf",
        b"\xf0\x90\x80\x80",
        b"\xf0\x8f\xbf\xbf",
    )


def test_utf8_validation_matches_python_decoder(core):
    """Every field minted from bytes is accepted exactly when the bytes are UTF-8, with the
    decoded text; checked for UID, a token and DATA."""
    from urllib.parse import quote

    factory = core.TicketFactory(SECRET, "md5")
    prefix = fake_digest(32) + T
    mismatches = []
    for raw in _utf8_samples():
        quoted = quote(raw)
        try:
            expected = raw.decode("utf-8")
        except UnicodeDecodeError:
            expected = None
        for rest, index, error in (
            (quoted + "!!", 1, _ticket_format.UID_NOT_UTF8),
            ("a!x," + quoted + "!", 2, _ticket_format.TOKEN_NOT_UTF8),
            ("a!!" + quoted, 3, _ticket_format.DATA_NOT_UTF8),
        ):
            try:
                info = factory.parse(prefix + rest)
            except TicketParseError as exc:
                got = exc.msg
            else:
                got = info[index][1] if index == 2 else info[index]
            if got != (error if expected is None else expected):
                mismatches.append((raw.hex(), rest[:40], got))
    assert not mismatches[:20]


@settings(max_examples=EXAMPLES)
@given(
    raw=st.lists(
        st.one_of(
            st.binary(max_size=6), st.text(max_size=3).map(lambda t: t.encode("utf-8", "surrogatepass"))
        ),
        min_size=1,
        max_size=4,
    ).map(b"".join),
    where=st.sampled_from(["uid", "token", "data"]),
)
def test_utf8_validation_random(core, raw, where):
    factory = core.TicketFactory(SECRET, "md5")
    kwargs = {
        "uid": {"user_id": raw},
        "token": {"user_id": "u", "tokens": ["ok", raw]},
        "data": {"user_id": "u", "user_data": raw},
    }[where]
    ticket = factory.new(valid_until=9, **kwargs)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        message = {
            "uid": _ticket_format.UID_NOT_UTF8,
            "token": _ticket_format.TOKEN_NOT_UTF8,
            "data": _ticket_format.DATA_NOT_UTF8,
        }[where]
        expect_parse_error(factory.parse, ticket, message)
        expect_parse_error(lambda t: factory.validate(t, None, 0), ticket, message)
    else:
        info = factory.validate(ticket, None, 0)
        assert {"uid": info.user_id, "token": info.tokens[-1] if info.tokens else "", "data": info.user_data}[
            where
        ] == text


# --- random mutations: both cores agree, and anything accepted is canonical -------------------

DIGEST_HEX = {"md5": 32, "sha1": 40, "sha256": 64}
MUTATION_CHARS = [*"%!,0123456789abcdefABCDEFxyzGg_.-~/ +\x00\x7f", "é", "\U0001f600", "\udc80"]


@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_mutations_same_outcome_in_both_cores(both_cores, data):
    hashalg = data.draw(st.sampled_from(["md5", "sha1", "sha256"]), label="hashalg")
    compiled, pure = (c.TicketFactory(SECRET, hashalg) for c in both_cores)
    ticket = pure.new(
        data.draw(field_values, label="user_id"),
        data.draw(tokens_values, label="tokens"),
        data.draw(user_data_values, label="user_data"),
        data.draw(st.integers(0, 2**32 - 1)),
    )
    mutated = ticket
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        op = data.draw(st.sampled_from(["replace", "insert", "delete"]))
        last = max(len(mutated) - 1, 0)
        tail = min(DIGEST_HEX[hashalg] + 8, last)  # mostly mutate the fields after TIME
        anywhere = data.draw(st.integers(0, 3)) == 3
        index = data.draw(st.integers(0 if anywhere else tail, last))
        any_char = data.draw(st.integers(0, 15)) == 15  # mostly the interesting characters
        char = data.draw(st.characters() if any_char else st.sampled_from(MUTATION_CHARS))
        if op == "replace":
            mutated = mutated[:index] + char + mutated[index + 1 :]
        elif op == "insert":
            mutated = mutated[:index] + char + mutated[index:]
        else:
            mutated = mutated[:index] + mutated[index + 1 :]
    if data.draw(st.booleans(), label="as bytes") and mutated.isascii():
        mutated = mutated.encode()

    parsed = [exact_outcome(f.parse, mutated) for f in (compiled, pure)]
    assert parsed[0] == parsed[1]
    validated = [exact_outcome(f.validate, mutated, None, -1) for f in (compiled, pure)]
    assert validated[0] == validated[1]
    for result in parsed + validated:
        assert result[0] == "ok" or issubclass(result[1], TicketError)
    event(f"parse: {parsed[0][0] if parsed[0][0] == 'ok' else parsed[0][2].split('  (')[0]}")

    if parsed[0][0] == "ok":
        text = mutated.decode() if isinstance(mutated, bytes) else mutated
        info = pure.parse(mutated)
        reminted = pure.new(info.user_id, info.tokens, info.user_data, info.valid_until)
        digest_len = len(info.digest)
        assert reminted[digest_len:] == text[digest_len:]
        assert (validated[0][0] == "ok") == (reminted == text)
    else:
        assert validated[0][1] is TicketParseError
        assert validated[0][2] == parsed[0][2]


# --- bytes tickets and ticket types ---------------------------------------------------------


def test_bytes_tickets(core):
    factory = core.TicketFactory(SECRET, "sha256")
    ticket = factory.new("jürgen", ["a,b", "c"], "d!", valid_until=1000, client_ip="10.0.0.1")
    expected = factory.validate(ticket, "10.0.0.1", 999)
    assert expected.user_id == "jürgen"
    raw = ticket.encode("ascii")
    for form in (raw, bytearray(raw), memoryview(raw)):
        info = factory.validate(form, "10.0.0.1", 999)
        assert info == expected
        assert type(info.digest) is str and type(info.user_id) is str
        assert factory.parse(form) == expected
    with pytest.raises(TicketDigestError) as err:
        factory.validate(raw, "10.0.0.2", 999)
    assert err.value.ticket is raw
    with pytest.raises(TicketExpired):
        factory.validate(bytearray(raw), "10.0.0.1", 1000)


@pytest.mark.parametrize("raw", [b"\xff", "é".encode(), b"\x80" * 200, None])
def test_non_ascii_bytes_ticket(core, raw):
    factory = core.TicketFactory(SECRET, "sha256")
    good = factory.new("u", valid_until=5).encode()
    raw = good[:-1] + b"\xe9" if raw is None else raw
    for form in (raw, bytearray(raw), memoryview(raw)):
        expect_parse_error(factory.parse, form, _ticket_format.NOT_ASCII)
        expect_parse_error(factory.validate, form, _ticket_format.NOT_ASCII)


def test_str_subclass_ticket(core):
    class Ticket(str):
        pass

    factory = core.TicketFactory(SECRET)
    ticket = factory.new("u", ["t"], valid_until=9)
    assert factory.validate(Ticket(ticket), now=0) == factory.validate(ticket, now=0)


@pytest.mark.parametrize(
    "ticket",
    [None, 123, 1.5, ["abc"], ("a",), {"a": 1}, object()],
    ids=["None", "int", "float", "list", "tuple", "dict", "object"],
)
def test_ticket_of_wrong_type(core, ticket):
    factory = core.TicketFactory(SECRET)
    for call in (factory.parse, factory.validate):
        with pytest.raises(TypeError) as err:
            call(ticket)
        assert not isinstance(err.value, TicketError)
        assert str(err.value) == _ticket_format.TICKET_TYPE_ERROR.format(type(ticket).__name__)


# --- only TicketError from any str/bytes input ----------------------------------------------

# Tickets for an md5 factory (32 hex digits) that get past the early checks often.
_near_valid = st.builds(
    lambda digest, time, rest: digest + time + rest,
    st.one_of(
        st.text(alphabet=HEX, min_size=32, max_size=32), st.text(alphabet=HEX + "A", min_size=30, max_size=34)
    ),
    st.one_of(
        st.text(alphabet=HEX, min_size=8, max_size=8), st.text(alphabet=HEX + "xX ", min_size=0, max_size=9)
    ),
    st.text(alphabet=[*"%%!!!!,,0123456789ABCDEFabcdef_.-~/ x\x00", "é", "\ud800"], max_size=30),
)
arbitrary_tickets = st.one_of(
    st.text(),
    st.binary(),
    _near_valid,
    _near_valid,
    _near_valid.map(lambda text: text.encode("ascii", "ignore")),
)


@settings(max_examples=EXAMPLES)
@given(
    ticket=arbitrary_tickets,
    encoding=st.sampled_from(["utf-8", "utf-16", "cp037", "idna"]),
    hashalg=st.sampled_from(["md5", "md5", "sha1"]),
)
def test_arbitrary_input_raises_only_ticket_errors(core, ticket, encoding, hashalg):
    factory = core.TicketFactory(SECRET, hashalg)
    for call in (lambda: factory.parse(ticket), lambda: factory.validate(ticket, None, 0, encoding)):
        try:
            info = call()
        except TicketError as exc:
            event(exc.msg)
            assert exc.ticket is ticket
            assert isinstance(exc.msg, str) and exc.msg
        else:
            assert type(info) is ticket_auth.TicketInfo


@settings(max_examples=max(EXAMPLES // 2, 50))
@given(ticket=arbitrary_tickets, hashalg=st.sampled_from(["md5", "sha1"]))
def test_arbitrary_input_same_in_both_cores(both_cores, ticket, hashalg):
    compiled, pure = (c.TicketFactory(SECRET, hashalg) for c in both_cores)
    assert exact_outcome(compiled.parse, ticket) == exact_outcome(pure.parse, ticket)
    assert exact_outcome(compiled.validate, ticket, None, 0) == exact_outcome(pure.validate, ticket, None, 0)


def test_bad_client_ip_reported_before_unencodable_fields(both_cores, ta014):
    """A parseable ticket, a bad address and a codec that cannot encode the fields: the
    address is looked at first (ValueError), in both cores and in 0.1.4."""
    ticket = ta014.TicketFactory(SECRET).new("a" * 70, valid_until=5)
    for factory in [c.TicketFactory(SECRET) for c in both_cores] + [ta014.TicketFactory(SECRET)]:
        with pytest.raises(ValueError) as err:
            factory.validate(ticket, "bad ip", 0, "idna")
        assert not isinstance(err.value, UnicodeError)


def test_unencodable_fields_are_a_parse_error(core):
    """validate with a codec that cannot encode the fields: a TicketParseError, while new
    lets the codec's own UnicodeError through (as 0.1.4 does)."""
    factory = core.TicketFactory(SECRET)
    long_uid = "a" * 70  # idna: label too long
    with pytest.raises(UnicodeError):
        factory.new(long_uid, valid_until=5, encoding="idna")
    ticket = factory.new(long_uid, valid_until=5)
    expect_parse_error(lambda t: factory.validate(t, None, 0, "idna"), ticket, _ticket_format.NOT_ENCODABLE)


# --- constant-time comparison -----------------------------------------------------------------


def _flip(char):
    return "0" if char != "0" else "1"


def test_digest_differing_in_one_place_is_rejected(core):
    factory = core.TicketFactory(SECRET, "sha256")
    ticket = factory.new("u", ["t"], "d", valid_until=100)
    assert factory.validate(ticket, now=0).user_id == "u"
    for index in [0, 63, *range(1, 63)]:  # first, last, then every other position
        bad = ticket[:index] + _flip(ticket[index]) + ticket[index + 1 :]
        with pytest.raises(TicketDigestError):
            factory.validate(bad, now=0)
        # ... even when also expired: the digest is checked first.
        with pytest.raises(TicketDigestError):
            factory.validate(bad, now=10**10)


def test_pure_core_compares_with_compare_digest(pure_core, monkeypatch):
    module = pure_core.module
    factory = pure_core.TicketFactory(SECRET, "sha256")
    ticket = factory.new("u", valid_until=100)
    calls = []
    real = hmac.compare_digest
    verdict = {"value": None}

    def spy(a, b):
        calls.append((a, b))
        return real(a, b) if verdict["value"] is None else verdict["value"]

    if hasattr(module, "compare_digest"):
        monkeypatch.setattr(module, "compare_digest", spy)
    else:
        assert module.hmac is hmac
        monkeypatch.setattr(module.hmac, "compare_digest", spy)

    assert factory.validate(ticket, now=0).digest == ticket[:64]
    assert len(calls) == 1
    assert ticket[:64] in calls[0] and len(calls[0][0]) == len(calls[0][1])
    # The verdict comes from compare_digest alone.
    verdict["value"] = False
    with pytest.raises(TicketDigestError):
        factory.validate(ticket, now=0)
    verdict["value"] = True
    forged = _flip(ticket[0]) + ticket[1:]
    assert factory.validate(forged, now=0).user_id == "u"
    assert len(calls) == 3
    # parse never compares.
    factory.parse(ticket)
    assert len(calls) == 3


def test_compiled_core_source_uses_constant_time_compare(compiled_core):
    # The repository's source (the package may be installed elsewhere, e.g. by CI).
    candidates = [
        Path(__file__).resolve().parents[1] / "src" / "_ticketcore.pyx",
        Path(ticket_auth.__file__).resolve().parents[1] / "_ticketcore.pyx",
    ]
    source_path = next((path for path in candidates if path.is_file()), None)
    if source_path is None:
        pytest.skip(f"Cython source not found at {candidates}")
    source = source_path.read_text()
    header = (source_path.parent / "_ticketlib" / "evp.h").read_text()
    start = header.find("static int ta_equal_ct_words(")
    assert start >= 0, "ta_equal_ct_words is not defined in _ticketlib/evp.h"
    # The function up to its first return: both accumulator loops (eight bytes at a time,
    # then the tail) come before it, with no way out of a loop but its end.
    body = header[start : header.index("return", start)]
    loops = body[body.index("for (") :]
    assert re.search(r"acc\s*\|=\s*x\s*\^\s*y", loops)
    assert re.search(r"acc\s*\|=\s*\(uint64_t\)\s*\(\s*a\[i\]\s*\^\s*b\[i\]\s*\)", loops)
    assert loops.count('__asm__("" : "+r"(acc))') == 2  # the compiler cannot see acc's value
    assert "break" not in loops and "goto" not in loops and "if (acc" not in loops
    assert re.search(r"volatile\s+uint64_t\s+result\s*=\s*acc;\s*return\s+result\s*==\s*0", header[start:])
    # validate compares through _match_secret, which compares with ta_equal_ct_words only.
    validate = re.search(r"\n    def validate\(.*?(?=\n    def |\Z)", source, re.S)
    assert validate and "_match_secret(" in validate.group(0)
    assert "memcmp" not in validate.group(0)
    match_secret = re.search(r"\ncdef Py_ssize_t _match_secret\(.*?(?=\n\n\n)", source, re.S)
    assert match_secret and "ta_equal_ct_words(" in match_secret.group(0)
    assert (
        "memcmp" not in match_secret.group(0)
        and "==" not in match_secret.group(0).split("ta_equal_ct_words(")[1]
    )


# --- clear errors at the boundary -------------------------------------------------------------


def _ticket(cls):
    return cls(SECRET).new("u", valid_until=100)


# (id, call(TicketFactory class), exception type, message regex or None)
BOUNDARY_CASES = [
    ("secret-str", lambda cls: cls("S3CRET-do-not-leak"), TypeError, r"secret must be bytes"),
    ("secret-empty", lambda cls: cls(b""), ValueError, r"secret must not be empty"),
    ("secret-empty-bytearray", lambda cls: cls(bytearray()), ValueError, r"empty"),
    ("secret-int", lambda cls: cls(123456789), TypeError, r"secret"),
    ("secret-none", lambda cls: cls(None), TypeError, r"secret"),
    ("secret-list", lambda cls: cls([1, 2]), TypeError, r"secret"),
    ("hashalg-unknown", lambda cls: cls(SECRET, "nope"), ValueError, r"nope"),
    ("hashalg-empty", lambda cls: cls(SECRET, ""), ValueError, None),
    ("hashalg-shake128", lambda cls: cls(SECRET, "shake_128"), ValueError, r"shake_128"),
    ("hashalg-shake256", lambda cls: cls(SECRET, "shake_256"), ValueError, r"shake_256"),
    ("hashalg-upper-shake", lambda cls: cls(SECRET, "SHAKE_128"), ValueError, r"SHAKE_128"),
    ("hashalg-int", lambda cls: cls(SECRET, 5), TypeError, r"hashalg"),
    ("hashalg-none", lambda cls: cls(SECRET, None), TypeError, r"hashalg"),
    ("hashalg-bytes", lambda cls: cls(SECRET, b"sha256"), TypeError, r"hashalg"),
    (
        "valid-until-minus-1",
        lambda cls: cls(SECRET).new("u", valid_until=-1),
        ValueError,
        r"0 and 4294967295",
    ),
    (
        "valid-until-2**32",
        lambda cls: cls(SECRET).new("u", valid_until=2**32),
        ValueError,
        r"0 and 4294967295",
    ),
    (
        "valid-until-2**64",
        lambda cls: cls(SECRET).new("u", valid_until=2**64),
        ValueError,
        r"0 and 4294967295",
    ),
    (
        "valid-until-neg-big",
        lambda cls: cls(SECRET).new("u", valid_until=-(2**70)),
        ValueError,
        r"0 and 4294967295",
    ),
    (
        "valid-until-float",
        lambda cls: cls(SECRET).new("u", valid_until=4294967296.0),
        ValueError,
        r"0 and 4294967295",
    ),
    (
        "valid-until-str",
        lambda cls: cls(SECRET).new("u", valid_until="4294967296"),
        ValueError,
        r"0 and 4294967295",
    ),
    (
        "valid-until-neg-float",
        lambda cls: cls(SECRET).new("u", valid_until=-1.0),
        ValueError,
        r"0 and 4294967295",
    ),
    ("valid-until-text", lambda cls: cls(SECRET).new("u", valid_until="soon"), ValueError, None),
    ("valid-until-nan", lambda cls: cls(SECRET).new("u", valid_until=float("nan")), ValueError, None),
    # Outside 0..2**32-1 is a ValueError (SPEC); 0.1.4's int() leaks OverflowError here.
    ("valid-until-inf", lambda cls: cls(SECRET).new("u", valid_until=float("inf")), ValueError, r"not inf"),
    ("valid-until-list", lambda cls: cls(SECRET).new("u", valid_until=[1]), TypeError, None),
    ("ip-text", lambda cls: cls(SECRET).new("u", client_ip="not an ip"), ValueError, None),
    ("ip-empty", lambda cls: cls(SECRET).new("u", client_ip=""), ValueError, None),
    ("ip-3-octets", lambda cls: cls(SECRET).new("u", client_ip="1.2.3"), ValueError, None),
    ("ip-256", lambda cls: cls(SECRET).new("u", client_ip="256.1.1.1"), ValueError, None),
    ("ip-leading-zero", lambda cls: cls(SECRET).new("u", client_ip="01.2.3.4"), ValueError, None),
    ("ip-4-digit-octet", lambda cls: cls(SECRET).new("u", client_ip="1234.1.1.1"), ValueError, None),
    ("ip-space", lambda cls: cls(SECRET).new("u", client_ip=" 1.2.3.4"), ValueError, None),
    ("ip-arabic-digits", lambda cls: cls(SECRET).new("u", client_ip="١.٢.٣.٤"), ValueError, None),
    ("ip-negative", lambda cls: cls(SECRET).new("u", client_ip=-1), ValueError, None),
    ("ip-too-big", lambda cls: cls(SECRET).new("u", client_ip=2**128), ValueError, None),
    ("ip-5-bytes", lambda cls: cls(SECRET).new("u", client_ip=b"\x00" * 5), ValueError, None),
    ("ip-float", lambda cls: cls(SECRET).new("u", client_ip=1.5), ValueError, None),
    ("ip-bytearray", lambda cls: cls(SECRET).new("u", client_ip=bytearray(4)), ValueError, None),
    ("validate-ip-text", lambda cls: cls(SECRET).validate(_ticket(cls), "nope", 0), ValueError, None),
    ("validate-ip-int", lambda cls: cls(SECRET).validate(_ticket(cls), -5, 0), ValueError, None),
    ("validate-ip-scope-only", lambda cls: cls(SECRET).validate(_ticket(cls), "%eth0", 0), ValueError, None),
    (
        "validate-bad-ticket-bad-ip",
        lambda cls: cls(SECRET).validate("xyz", "nope", 0),
        TicketParseError,
        None,
    ),
    ("tokens-str", lambda cls: cls(SECRET).new("u", tokens="abc"), TypeError, r"tokens"),
    ("tokens-bytes", lambda cls: cls(SECRET).new("u", tokens=b"ab"), TypeError, r"tokens"),
    ("tokens-bytearray", lambda cls: cls(SECRET).new("u", tokens=bytearray(b"ab")), TypeError, r"tokens"),
    ("tokens-int", lambda cls: cls(SECRET).new("u", tokens=5), TypeError, None),
    ("token-int", lambda cls: cls(SECRET).new("u", tokens=[5]), TypeError, r"token"),
    ("token-none", lambda cls: cls(SECRET).new("u", tokens=["a", None]), TypeError, r"token"),
    ("token-memoryview", lambda cls: cls(SECRET).new("u", tokens=[memoryview(b"a")]), TypeError, r"token"),
    ("user-id-none", lambda cls: cls(SECRET).new(None), TypeError, r"user_id"),
    ("user-id-int", lambda cls: cls(SECRET).new(5), TypeError, r"user_id"),
    ("user-id-memoryview", lambda cls: cls(SECRET).new(memoryview(b"u")), TypeError, r"user_id"),
    ("user-data-int", lambda cls: cls(SECRET).new("u", user_data=5), TypeError, r"user_data"),
    ("user-data-list", lambda cls: cls(SECRET).new("u", user_data=["x"]), TypeError, r"user_data"),
    (
        "user-id-surrogate",
        lambda cls: cls(SECRET).new("\ud800"),
        UnicodeEncodeError,
        r"surrogates not allowed",
    ),
    (
        "token-surrogate",
        lambda cls: cls(SECRET).new("u", ["ok", "a\udcff"]),
        UnicodeEncodeError,
        r"surrogates",
    ),
    (
        "user-data-surrogate",
        lambda cls: cls(SECRET).new("u", None, "x\udfff"),
        UnicodeEncodeError,
        r"surrogates",
    ),
    ("encoding-unknown", lambda cls: cls(SECRET).new("u", encoding="no-such-codec"), LookupError, None),
    (
        "validate-encoding-unknown",
        lambda cls: cls(SECRET).validate(_ticket(cls), None, 0, "no-such-codec"),
        LookupError,
        None,
    ),
]


def _raise(case, factory_class):
    _, call, expected_type, pattern = case
    with pytest.raises(Exception) as info:
        call(factory_class)
    assert type(info.value) is expected_type or (
        expected_type is UnicodeEncodeError and isinstance(info.value, expected_type)
    ), repr(info.value)
    if pattern is not None:
        assert re.search(pattern, str(info.value)), str(info.value)
    return info.value


@pytest.mark.parametrize("case", BOUNDARY_CASES, ids=[case[0] for case in BOUNDARY_CASES])
def test_boundary_errors(core, case):
    _raise(case, core.TicketFactory)


@pytest.mark.parametrize("case", BOUNDARY_CASES, ids=[case[0] for case in BOUNDARY_CASES])
def test_boundary_errors_same_in_both_cores(both_cores, case):
    compiled, pure = (_raise(case, c.TicketFactory) for c in both_cores)
    assert (type(compiled), str(compiled)) == (type(pure), str(pure))


_ip_like = st.one_of(
    st.text(alphabet="0123456789.", max_size=16),
    st.lists(st.integers(0, 300).map(str), min_size=3, max_size=5).map(".".join),
    st.lists(
        st.sampled_from(["0", "00", "01", "1", "255", "256", "099", "1e1", " 1", "1 ", "+1", "٣"]),
        min_size=4,
        max_size=4,
    ).map(".".join),
    st.text(alphabet="0123456789abcdefABCDEF:.%xe \n", max_size=24),
    # IPv6 text: hex groups (sometimes too long or empty) joined by ':', with '::' here and there.
    st.lists(st.text(alphabet="0123456789abcdefABCDEF", max_size=5), max_size=10).map(":".join),
    st.builds(
        lambda a, b: ":".join(a) + "::" + ":".join(b),
        st.lists(st.text(alphabet="0123456789abcdef", min_size=1, max_size=4), max_size=8),
        st.lists(st.text(alphabet="0123456789ABCDEF", min_size=1, max_size=4), max_size=8),
    ),
)


@settings(max_examples=EXAMPLES)
@given(text=_ip_like)
def test_client_ip_text_parsed_exactly_like_ipaddress(core, text):
    """Both cores take a fast path for IPv4 text (and the compiled core for plain IPv6 text);
    it must agree with ipaddress, valid or not."""
    factory = core.TicketFactory(SECRET, "md5")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        with pytest.raises(ValueError):
            factory.new("u", valid_until=1, client_ip=text)
        with pytest.raises(ValueError):
            factory.validate(factory.new("u", valid_until=1), text, 0)
    else:
        ticket = factory.new("u", valid_until=1, client_ip=text)
        assert ticket == factory.new("u", valid_until=1, client_ip=address)
        assert ticket == factory.new("u", valid_until=1, client_ip=address.packed)
        assert factory.validate(ticket, address, 0).user_id == "u"
        assert factory.validate(ticket, text, 0).user_id == "u"


def test_valid_until_range_ends_are_accepted(core):
    factory = core.TicketFactory(SECRET)
    assert factory.new("u", valid_until=0)[128:136] == "00000000"
    assert factory.new("u", valid_until=2**32 - 1)[128:136] == "ffffffff"
    assert factory.new("u", valid_until=4294967295.9)[128:136] == "ffffffff"


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_bytes_like_secret(core, kind):
    reference = core.TicketFactory(SECRET, "sha1")
    factory = core.TicketFactory(kind(SECRET), "sha1")
    ticket = factory.new("u", ["t"], "d", 1000, "1.2.3.4")
    assert ticket == reference.new("u", ["t"], "d", 1000, "1.2.3.4")
    assert reference.validate(ticket, "1.2.3.4", 999).user_id == "u"


def test_secret_is_copied(core):
    """Mutating the bytearray given as secret afterwards changes nothing."""
    secret = bytearray(SECRET)
    factory = core.TicketFactory(secret)
    before = factory.new("u", valid_until=9)
    secret[:] = b"x" * len(secret)
    assert factory.new("u", valid_until=9) == before


def test_hashalg_any_case(core):
    for name in ("SHA256", "Sha256", "sha256"):
        assert core.TicketFactory(SECRET, name).new("u", valid_until=1) == core.TicketFactory(
            SECRET, "sha256"
        ).new("u", valid_until=1)


# --- the secret never leaks -------------------------------------------------------------------


def _texts_of(exc):
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    for item in seen:
        yield str(item)
        yield repr(item)
        yield repr(item.args)
        yield repr(vars(item)) if hasattr(item, "__dict__") else ""


def _leaks(text):
    secret_forms = [SECRET.decode(), SECRET.hex(), SECRET.hex().upper(), repr(SECRET)]
    return [form for form in secret_forms if form in text]


def test_no_secret_in_errors_or_repr(core):
    factory = core.TicketFactory(SECRET, "sha256")
    texts = [repr(factory), str(factory), format(factory, ""), repr(type(factory))]
    ticket = factory.new("u", ["t"], "d", valid_until=100)
    errors = []

    def collect(call, *args, **kwargs):
        try:
            call(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        else:
            raise AssertionError(f"{call} did not raise")

    for case in BOUNDARY_CASES:
        collect(case[1], core.TicketFactory)
    for _, builder, _message in PARSE_CASES:
        collect(factory.validate, builder(fake_digest(64), T), None, 0)
    collect(factory.validate, _flip(ticket[0]) + ticket[1:], None, 0)
    collect(factory.validate, ticket, "9.9.9.9", 0)
    collect(factory.validate, ticket, None, 10**10)
    collect(factory.validate, ticket, "bad ip", 0)
    collect(factory.validate, "a" * 70, None, 0, "idna")
    collect(factory.validate, ("a" * 70).encode(), None, 0)
    collect(pickle.dumps, factory)
    collect(copy.copy, factory)
    collect(copy.deepcopy, factory)
    collect(core.TicketFactory, SECRET.decode())
    for exc in errors:
        texts.extend(_texts_of(exc))
    leaked = {text: _leaks(text) for text in texts if _leaks(text)}
    assert not leaked
    assert len(errors) > len(BOUNDARY_CASES) + len(PARSE_CASES)


@pytest.mark.parametrize("secret", [987654321, 98765.4321, ["S3CRET-do-not-leak"], "S3CRET-do-not-leak"])
def test_bad_secret_value_not_echoed(core, secret):
    with pytest.raises(TypeError) as err:
        core.TicketFactory(secret)
    for text in _texts_of(err.value):
        assert str(secret) not in text and repr(secret) not in text


# --- no pickling or copying -------------------------------------------------------------------

PICKLE_CALLS = [
    *(
        (f"pickle-{proto}", lambda f, p=proto: pickle.dumps(f, protocol=p))
        for proto in range(pickle.HIGHEST_PROTOCOL + 1)
    ),
    ("copy", copy.copy),
    ("deepcopy", copy.deepcopy),
    ("reduce_ex", lambda f: f.__reduce_ex__(2)),
]


@pytest.mark.parametrize("call", [c[1] for c in PICKLE_CALLS], ids=[c[0] for c in PICKLE_CALLS])
def test_factory_cannot_be_pickled_or_copied(core, call):
    factory = core.TicketFactory(SECRET)
    with pytest.raises(TypeError) as err:
        call(factory)
    assert "pickle" in str(err.value)

    class Sub(core.TicketFactory):
        pass

    with pytest.raises(TypeError):
        call(Sub(SECRET))


def test_pickle_error_same_in_both_cores(both_cores):
    messages = set()
    for c in both_cores:
        with pytest.raises(TypeError) as err:
            pickle.dumps(c.TicketFactory(SECRET))
        messages.add(str(err.value))
    assert len(messages) == 1


def test_repr_same_shape_in_both_cores(both_cores):
    reprs = [repr(c.TicketFactory(SECRET, "SHA256")) for c in both_cores]
    assert [r.split("TicketFactory", 1)[1] for r in reprs] == ["(hashalg='SHA256')"] * 2


def test_ipaddress_object_with_scope(core):
    factory = core.TicketFactory(SECRET)
    scoped = ipaddress.IPv6Address("fe80::1%eth0")
    ticket = factory.new("u", valid_until=5, client_ip=scoped)
    assert factory.validate(ticket, "fe80::1", 0).user_id == "u"


@pytest.mark.parametrize("position", [0, 1, 15, 16, 17, 31, 32, 47, 63, 64, 100])
def test_every_ascii_character_inside_long_fields(both_cores, position):
    """The compiled core scans runs of safe characters sixteen bytes at a time: every ASCII
    character, at every offset within and across those blocks, in each field, must get the
    same verdict from both cores (and a safe one must be accepted)."""
    compiled, pure = (c.TicketFactory(SECRET, "md5") for c in both_cores)
    base = compiled.new("u" * 101, ("t" * 101, "k" * 101), "d" * 101, valid_until=5)
    head = 32 + 8
    uid_start, tokens_start = head, head + 102
    data_start = tokens_start + 204
    for start in (uid_start, tokens_start, data_start):
        for code in range(128):
            index = start + position
            ticket = base[:index] + chr(code) + base[index + 1 :]
            results = [outcome_of(factory.parse, ticket) for factory in (compiled, pure)]
            assert results[0] == results[1], (start, position, code)
            safe = chr(code) in _ticket_format.SAFE_CHARACTERS
            assert (results[0][0] == "ok") == (safe or (code == ord(",") and start == tokens_start)), (
                start,
                position,
                code,
            )


def outcome_of(call, *args):
    try:
        return "ok", call(*args)
    except TicketParseError as exc:
        return "TicketParseError", exc.msg


@settings(max_examples=EXAMPLES)
@given(
    value=st.one_of(
        st.text(st.sampled_from("abcXYZ09-._~/ %!,é\x00"), min_size=15, max_size=120),
        st.binary(min_size=15, max_size=120),
    )
)
def test_long_fields_quote_alike(both_cores, value):
    """new quotes runs of safe characters sixteen bytes at a time in the compiled core: long
    fields of mixed characters must mint the same ticket in both cores, and round-trip."""
    compiled, pure = (c.TicketFactory(SECRET, "md5") for c in both_cores)
    tickets = [f.new(value, (value, value), value, valid_until=5) for f in (compiled, pure)]
    assert tickets[0] == tickets[1]
    assert quote(value) in tickets[0]
    try:
        text = value if isinstance(value, str) else value.decode("utf-8")
    except UnicodeDecodeError:
        return
    for factory in (compiled, pure):
        assert factory.validate(tickets[0], None, 0)[1:4] == (text, (text, text), text)


def _error_state(exc):
    return type(exc), exc.args, vars(exc), str(exc), repr(exc), exc.ticket, exc.msg


@pytest.mark.parametrize(
    "kind", ["parse", "digest", "expired", "authtkt-parse", "authtkt-digest", "authtkt-expired"]
)
def test_compiled_errors_are_built_as_their_init_builds_them(both_cores, kind):
    """The compiled core builds its TicketError instances in C (no Python frame); they must be
    indistinguishable from the ones the pure core makes by calling the classes."""
    results = []
    for core in both_cores:
        if kind.startswith("authtkt"):
            factory = core.module.AuthTktFactory(SECRET, "md5", timeout=10)
            good = factory.new("u", timestamp=100)
            raw = factory.new("u", timestamp=100, raw=True)
            ticket = {
                "authtkt-parse": good + "=",
                "authtkt-digest": "0" * 32 + raw[32:],
                "authtkt-expired": good,
            }[kind]
        else:
            factory = core.TicketFactory(SECRET, "md5")
            good = factory.new("u", valid_until=100)
            ticket = {"parse": good.upper(), "digest": "0" * 32 + good[32:], "expired": good}[kind]
        with pytest.raises(TicketError) as err:
            factory.validate(ticket, now=10**6)
        results.append(_error_state(err.value))
        assert pickle.loads(pickle.dumps(err.value)).args == err.value.args
    assert results[0] == results[1]
