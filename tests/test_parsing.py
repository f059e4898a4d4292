"""Strict, canonical parsing of the 0.1.4 format, where this project deliberately does better
than 0.1.4: a ticket is accepted only in exactly the form ``new`` mints, with a message naming
the wrong part, in the order documented in ticket_auth._ticket_format; only TicketError
subclasses from validate/parse for any str/bytes input; the ticket types they take; and both
cores agreeing on every input, long fields included.

Related: test_arguments.py (errors for bad arguments), test_secret_safety.py (constant-time
comparison, no secret in any message), test_factory.py (construction, repr, pickling).
"""

from urllib.parse import quote

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import ticket_auth
from _cases import HEX, PARSE_CASES, SECRET, T, fake_digest
from _helpers import EXAMPLES, exact_outcome, field_values, tokens_values, user_data_values
from ticket_auth import TicketDigestError, TicketError, TicketExpired, TicketParseError, _ticket_format
from ticket_auth.exception import _describe_ticket

SAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")


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
    # 0.1.4 showed the whole ticket; the message shows only its length and a short prefix.
    assert str(info.value) == f"Ticket error: {message}  ({_describe_ticket(ticket)})"


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
    """The variants of docs/compatibility.md deliberate difference 2 really are accepted by 0.1.4 (so rejecting them is a
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


@pytest.mark.parametrize("ticket", [None, 123, 1.5, object()], ids=["None", "int", "float", "object"])
def test_ticket_of_wrong_type(core, ticket):
    factory = core.TicketFactory(SECRET)
    for call in (factory.parse, factory.validate):
        with pytest.raises(TypeError) as err:
            call(ticket)
        assert not isinstance(err.value, TicketError)
        assert str(err.value) == _ticket_format.TICKET_TYPE_ERROR.format(type(ticket).__name__)


@pytest.mark.parametrize("ticket", [["abc"], ("a",), {"a": 1}], ids=["list", "tuple", "dict"])
def test_sized_ticket_of_wrong_type_is_a_parse_error(core, ticket):
    # As in 0.1.4, which measures a ticket first: see test_dropin.py.
    factory = core.TicketFactory(SECRET)
    for call in (factory.parse, factory.validate):
        with pytest.raises(TicketParseError) as err:
            call(ticket)
        assert err.value.msg == _ticket_format.TICKET_TYPE_ERROR.format(type(ticket).__name__)


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


# --- long fields: the compiled core's sixteen-byte scans -------------------------------------


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
            results = [exact_outcome(factory.parse, ticket) for factory in (compiled, pure)]
            assert results[0] == results[1], (start, position, code)
            assert results[0][0] == "ok" or results[0][1] is TicketParseError, results[0]
            safe = chr(code) in _ticket_format.SAFE_CHARACTERS
            assert (results[0][0] == "ok") == (safe or (code == ord(",") and start == tokens_start)), (
                start,
                position,
                code,
            )


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
