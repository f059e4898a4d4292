"""Cases several test modules share: malformed 0.1.4-format tickets with the message each
must get (PARSE_CASES), and bad arguments with the error each must raise (BOUNDARY_CASES).
test_secret_safety.py also runs every one of them to check that no message shows the secret."""

from ticket_auth import TicketParseError, _ticket_format

SECRET = b"S3CRET-do-not-leak"


HEX = "0123456789abcdef"


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


def flip_hex(char):
    return "0" if char != "0" else "1"


def minted_ticket(cls):
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
    # Outside 0..2**32-1 is a ValueError (docs/compatibility.md, deliberate difference 4); 0.1.4's int() leaks OverflowError here.
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
    ("validate-ip-text", lambda cls: cls(SECRET).validate(minted_ticket(cls), "nope", 0), ValueError, None),
    ("validate-ip-int", lambda cls: cls(SECRET).validate(minted_ticket(cls), -5, 0), ValueError, None),
    (
        "validate-ip-scope-only",
        lambda cls: cls(SECRET).validate(minted_ticket(cls), "%eth0", 0),
        ValueError,
        None,
    ),
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
        lambda cls: cls(SECRET).validate(minted_ticket(cls), None, 0, "no-such-codec"),
        LookupError,
        None,
    ),
]
