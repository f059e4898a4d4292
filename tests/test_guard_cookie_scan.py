"""The guard's fast cookie scan and cookie-value decoding agree with simple reference parsers
on random and adversarial headers (duplicated names, names inside other names and values,
quotes, escapes, spaces, tabs, non-Latin-1 text), and a whole check agrees with what the
reference parser says about the header."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _guard_helpers import SECRET, Clock, make_guard
from _helpers import EXAMPLES
from ticket_auth.guard import _cookie_values, _decode_cookie_value, parse_cookie_header

TOKEN = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOOKED_UP = ["auth_tkt", "AUTH_TKT", "a", "tkt", "_"]
# Names that collide with the looked-up ones in every way a substring search could trip on.
NAMES = st.one_of(
    st.sampled_from([*LOOKED_UP, "xauth_tkt", "auth_tkt2", "auth_tkt_x", "Auth_tkt", "auth", "aa", ""]),
    st.text(alphabet=TOKEN, min_size=1, max_size=10),
)
TRICKY = [*'auth_tkAUTHK=;" \t\\,01234567é€\x00\x7f\x80\xff\u2028!x%', "auth_tkt", "\\054", "=="]
PIECES = st.one_of(st.sampled_from(TRICKY), st.text(max_size=4))
TEXT = st.lists(PIECES, max_size=24).map("".join)
PAD = st.sampled_from(["", " ", "\t", "  ", " \t"])


@st.composite
def headers(draw):
    """A Cookie header: either random text, or cookies joined by some separator."""
    if draw(st.booleans()):
        return draw(st.one_of(TEXT, st.text(max_size=200)))
    parts = []
    for _ in range(draw(st.integers(0, 8))):
        name = draw(st.one_of(NAMES, TEXT))
        equals = draw(st.sampled_from(["=", "=", "", "=="]))
        value = draw(st.one_of(TEXT, st.sampled_from(['"a\\054b"', '"x"', "auth_tkt=1", ""])))
        parts.append(draw(PAD) + name + draw(PAD) + equals + draw(PAD) + value + draw(PAD))
    return draw(st.sampled_from([";", "; ", ";;", " ; "])).join(parts)


def reference_values(header, name):
    """Every raw value of cookie ``name``: split on ';', key and value trimmed of spaces and
    tabs, parts without '=' skipped (the documented rule, written out plainly)."""
    values = []
    for part in header.split(";"):
        if "=" not in part:
            continue
        at = part.index("=")
        if part[:at].strip(" \t") == name:
            values.append(part[at + 1 :].strip(" \t"))
    return values


COOKIE_OCTETS = {chr(c) for c in range(0x21, 0x7F)} - set('",;\\')
QUOTED_TEXT = COOKIE_OCTETS | {" "}


def reference_decode(value):
    """A cookie value's ticket, character by character: a bare value as Apache mod_auth_tkt
    reads it (any bytes but controls, UTF-8, one byte a character), or a quoted string of
    cookie-octets and spaces with \\ooo (at most 0o177), \\" and \\\\ escapes."""
    if not value.startswith('"'):
        if not value or any(ord(c) < 0x20 or ord(c) == 0x7F or ord(c) > 0xFF for c in value):
            return None
        try:
            return value.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            return None
    if len(value) < 2 or not value.endswith('"'):
        return None
    body, out, i = value[1:-1], [], 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            octal = body[i + 1 : i + 4]
            if re.fullmatch("[0-7]{3}", octal):
                if int(octal, 8) > 0x7F:
                    return None
                out.append(chr(int(octal, 8)))
                i += 4
            elif body[i + 1 : i + 2] in ('"', "\\"):
                out.append(body[i + 1])
                i += 2
            else:
                return None
        elif c in QUOTED_TEXT:
            out.append(c)
            i += 1
        else:
            return None
    return "".join(out)


ESCAPES = st.sampled_from(["\\054", "\\054", "\\", "\\\\", '\\"', "\\0", "\\05", "\\377", "\\200", "\\001"])
VALUE_PIECES = st.one_of(
    st.sampled_from([*TRICKY, "abc123!", "user!a,b!data", "%3D"]), ESCAPES, st.text(max_size=3)
)
VALUES = st.one_of(
    st.lists(VALUE_PIECES, max_size=20).map("".join),
    st.lists(VALUE_PIECES, max_size=20).map(lambda pieces: '"' + "".join(pieces) + '"'),
    st.text(max_size=60),
)


@settings(max_examples=EXAMPLES * 3)
@given(header=headers(), name=st.sampled_from(LOOKED_UP))
def test_fast_scan_agrees_with_reference(header, name):
    expected = reference_values(header, name)
    assert parse_cookie_header(header, name) == expected
    assert _cookie_values(header, name) == expected


@pytest.mark.parametrize(
    "header",
    [
        "auth_tkt=1",
        " auth_tkt = 1 ",
        "auth_tkt",
        "auth_tkt=",
        "auth_tkt=1;auth_tkt=2",
        "xauth_tkt=1",
        "auth_tkt2=1",
        "a=auth_tkt",
        "a=auth_tkt; auth_tkt=2",
        "a=1; auth_tkt=x=y; b=2",
        "a=1;auth_tkt",
        "auth_tkt;=1",
        "=auth_tkt",
        "a\tauth_tkt=1",
        "\tauth_tkt\t=\t1\t;",
        "auth_tkt\u20ac=1",
        "é=1; auth_tkt=\u20ac",
        ";;;auth_tkt=1;;;",
        'auth_tkt="a;b"',
    ],
)
def test_fast_scan_edge_cases(header):
    assert _cookie_values(header, "auth_tkt") == reference_values(header, "auth_tkt")


@settings(max_examples=EXAMPLES * 3)
@given(value=VALUES)
def test_decoding_agrees_with_reference(value):
    assert _decode_cookie_value(value) == reference_decode(value)


@pytest.mark.parametrize(
    ("value", "ticket"),
    [
        ('"a\\054b"', "a,b"),
        ('"a,b"', None),
        ('"a\\054b,"', None),
        ('"a\\\\054b"', "a\\054b"),
        ('"a\\054\\"b"', 'a,"b'),
        ('"a\\05"', None),
        ('"a\\377"', None),
        ('"\\054"', ","),
        ('"a b"', "a b"),
        ("a b", "a b"),
        ("a,b", "a,b"),
        ('a"b\\', 'a"b\\'),
        ("\xc3\xa9", "\u00e9"),
        ("\u00e9", None),
        ("\xc3", None),
        ("\u20ac", None),
        ("a\x01", None),
        ("a\tb", None),
        ('"a;b"', None),
        ('"é\\054"', None),
        ('"a\\054\x7f"', None),
        ('"a\\054\x1f"', None),
        ('"', None),
        ('""', ""),
        ("", None),
    ],
)
def test_decoding_edge_cases(value, ticket):
    assert _decode_cookie_value(value) == ticket == reference_decode(value)


@settings(max_examples=EXAMPLES)
@given(before=headers(), after=headers(), extra=st.integers(0, 2))
def test_check_agrees_with_reference_parser(core, before, after, extra):
    """A valid cookie placed among random cookies: the guard accepts it exactly when the
    reference parser finds one value of its name, the valid one."""
    clock = Clock()
    guard = make_guard(core, "ticket", clock)
    cookie = guard.remember("alice", ("a", "b"), "data").split(";", 1)[0]
    header = "; ".join([before, *[cookie] * (1 + extra), after])
    result = guard.check(header)
    values = reference_values(header, guard.cookie_name)
    if not values:
        assert result.reason == "no cookie"
    elif len(values) > 1:
        assert result.reason == "duplicate cookie"
    elif values == [cookie.partition("=")[2]]:
        assert result.reason == "ok" and result.identity.user_id == "alice"
    else:
        assert result.identity is None
    assert result.allowed
    assert SECRET.decode("latin-1") not in repr(result)
