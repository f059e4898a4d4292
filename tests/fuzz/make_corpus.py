#!/usr/bin/env python3
"""Write the seed inputs of tests/fuzz/corpus/ (``seed-*`` files): valid tickets of each kind
and cookie form, and near misses of each. Regression inputs (``regress-*``, minimized
findings) are added by hand and never rewritten here.

    python tests/fuzz/make_corpus.py            # rewrites tests/fuzz/corpus/seed-*

Each file is one fuzzer input in fuzz_tickets.py's format: an operation byte, a factory
configuration byte, then the choices (client address, now, encoding, form) and the payload.
"""

import base64
import functools
import hashlib
import os
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fuzz_tickets as fz  # noqa: E402
from ticket_auth import _ticketcore_py as pure  # noqa: E402

NOW = 1_700_000_000
IP = "10.0.0.1"


def cfg(alg, kind, fallback=False, max_length=None, timeout=7200):
    algs = fz.HASHALGS if kind == "ticket" else fz.AUTHTKT_DIGESTS
    code = algs.index(alg) | (0x08 if fallback else 0) | (fz.MAX_LENGTHS.index(max_length) << 4)
    if kind == "authtkt":
        code |= fz.TIMEOUTS.index(timeout) << 6
    return code


def head(op, kind, alg, ip, now, config):
    """The bytes every operation starts with: the operation, the factories' configuration, the
    client address and now."""
    return bytes([fz.OPS.index(op), cfg(alg, kind, **config), fz.CLIENT_IPS.index(ip), fz.NOWS.index(now)])


def form_index(form):
    return [name for name, _ in fz.FORMS].index(form)


def read_ticket(payload, alg="sha256", ip=IP, now=NOW, encoding="utf-8", form="str", **config):
    extra = bytes([fz.ENCODINGS.index(encoding), form_index(form)])
    return head("read-ticket", "ticket", alg, ip, now, config) + extra + payload


def read_authtkt(payload, alg="sha256", ip=IP, now=NOW, form="str", **config):
    return head("read-authtkt", "authtkt", alg, ip, now, config) + bytes([form_index(form)]) + payload


def field(kind, raw):
    return bytes([kind, len(raw)]) + raw


def new_fields(uid, tokens, data, when, uid_kind=0):
    out = field(uid_kind, uid) + bytes([len(tokens), 0]) + b"".join(field(k, t) for k, t in tokens)
    out += bytes([1]) + field(0, data) if data is not None else bytes([0])
    return out + bytes([fz.VALID_UNTILS.index(when)])


def new_ticket(fields, alg="sha256", ip=IP, now=NOW, encoding="utf-8", **config):
    return head("new-ticket", "ticket", alg, ip, now, config) + bytes([fz.ENCODINGS.index(encoding)]) + fields


def new_authtkt(fields, alg="sha256", ip=IP, now=NOW, raw=False, **config):
    return head("new-authtkt", "authtkt", alg, ip, now, config) + bytes([int(raw)]) + fields


def flip(text, index):
    chars = list(text)
    chars[index] = "0" if chars[index] != "0" else "1"
    return "".join(chars)


def seeds():
    out = {}
    for alg in ("md5", "sha256", "sha512", "blake2s", "sha3_256"):
        f = pure.TicketFactory(fz.SECRET, alg)
        t = f.new("alice@example.com", ("admin", "x y", "é"), "d!%,", 1_800_000_000, IP)
        hex_len = 2 * hashlib.new(alg).digest_size
        out[f"ticket-{alg}-valid"] = read_ticket(t.encode(), alg)
        out[f"ticket-{alg}-valid-bytes"] = read_ticket(t.encode(), alg, form="bytes")
        out[f"ticket-{alg}-digest-first"] = read_ticket(flip(t, 0).encode(), alg)
        out[f"ticket-{alg}-digest-last"] = read_ticket(flip(t, hex_len - 1).encode(), alg)
        out[f"ticket-{alg}-expired"] = read_ticket(t.encode(), alg, now=2**32 - 1)
        out[f"ticket-{alg}-other-ip"] = read_ticket(t.encode(), alg, ip="203.0.113.7")
        out[f"ticket-{alg}-bad-ip"] = read_ticket(t.encode(), alg, ip="999.1.1.1")
    f = pure.TicketFactory(fz.SECRET, "sha256")
    t = f.new("bob", (), None, 1_800_000_000, None)
    hex_len = 64
    variants = {
        "upper-digest": t[:hex_len].upper() + t[hex_len:],
        "upper-time": t[:hex_len] + t[hex_len : hex_len + 8].upper() + t[hex_len + 8 :],
        "extra-bang": t + "!",
        "missing-bang": t[:-1],
        "short": t[:20],
        "empty": "",
        "lower-escape": t + "%2c",
        "safe-escape": t + "%41",
        "non-utf8-escape": t + "%FF",
        "overlong-escape": t + "%C0%80",
        "surrogate-escape": t + "%ED%A0%80",
        "stray-percent": t + "%",
        "nul": t + "\x00",
        "space": t[:-2] + " !!",
        "plus": t + "+",
    }
    for name, text in variants.items():
        out[f"ticket-near-{name}"] = read_ticket(text.encode("utf-8", "surrogatepass"), ip=None)
    out["ticket-array-u16"] = read_ticket(t.encode() + b"x", ip=None, form="array-u16")
    out["ticket-wrong-type"] = read_ticket(b"", ip=None, form="wrong-type")
    out["ticket-lying-str"] = read_ticket(t.encode(), ip=None, form="str-lying-subclass")
    out["ticket-lying-str-too-long"] = read_ticket(
        t.encode() + b"x" * 200, ip=None, form="str-lying-subclass", max_length=200
    )
    t = pure.TicketFactory(fz.OLD_SECRET, "sha256").new("carol", ("t",), "x", 1_800_000_000, IP)
    out["ticket-fallback"] = read_ticket(t.encode(), fallback=True)
    out["ticket-fallback-not-configured"] = read_ticket(t.encode())
    t = f.new("dave", ("a", "b"), "data", 1_800_000_000, "2001:db8::1", "utf-16")
    out["ticket-utf16"] = read_ticket(t.encode(), ip="2001:db8::1", encoding="utf-16")
    out["ticket-utf16-bytes"] = read_ticket(t.encode(), ip="2001:db8::1", encoding="utf-16", form="bytearray")
    t = f.new("e" * 150, (), None, 1_800_000_000, None)
    out["ticket-max-length"] = read_ticket(t.encode(), ip=None, max_length=200)
    out["ticket-non-ascii"] = read_ticket("é".encode() + t.encode(), ip=None, form="str")
    out["ticket-surrogate"] = read_ticket(t.encode() + b"\xed\xa0\x80", ip=None, form="str")
    t = f.new("frank", ("",), None, 0, None)
    out["ticket-valid-until-0"] = read_ticket(t.encode(), ip=None, now=0)
    t = f.new("frank", ("", ""), "", 2**32 - 1, None)
    out["ticket-valid-until-max"] = read_ticket(t.encode(), ip=None, now=2**32 - 1)
    out["ticket-valid-until-max-now-huge"] = read_ticket(t.encode(), ip=None, now=10**100)
    out["ticket-now-nan"] = read_ticket(t.encode(), ip=None, now=fz.math.nan)

    for alg in ("md5", "sha256", "sha512"):
        a = pure.AuthTktFactory(fz.SECRET, alg)
        cookie = a.new("alice", ("admin", "staff"), "data!with!bangs", NOW - 100, IP)
        raw = a.new("alice", ("admin", "staff"), "data!with!bangs", NOW - 100, IP, raw=True)
        hex_len = 2 * hashlib.new(alg).digest_size
        out[f"authtkt-{alg}-base64"] = read_authtkt(cookie.encode(), alg)
        out[f"authtkt-{alg}-base64-unpadded"] = read_authtkt(cookie.rstrip("=").encode(), alg)
        out[f"authtkt-{alg}-raw"] = read_authtkt(raw.encode(), alg)
        out[f"authtkt-{alg}-quoted"] = read_authtkt(b'"' + cookie.encode() + b'"', alg)
        out[f"authtkt-{alg}-escaped"] = read_authtkt(raw.replace("!", "%21").encode(), alg)
        out[f"authtkt-{alg}-digest-first"] = read_authtkt(flip(raw, 0).encode(), alg)
        out[f"authtkt-{alg}-digest-last"] = read_authtkt(flip(raw, hex_len - 1).encode(), alg)
        out[f"authtkt-{alg}-timed-out"] = read_authtkt(cookie.encode(), alg, now=2**31)
        out[f"authtkt-{alg}-ipv6"] = read_authtkt(cookie.encode(), alg, ip="::1")
    a = pure.AuthTktFactory(fz.SECRET, "sha256")
    raw = a.new("u", (), "x", NOW, None, raw=True)
    out["authtkt-no-tokens"] = read_authtkt(raw.encode(), ip=None)
    out["authtkt-bang-bang"] = read_authtkt(raw.replace("u!", "u!!").encode(), ip=None)
    out["authtkt-data-bang"] = read_authtkt(a.new("u", (), "x!y", NOW, None, raw=True).encode(), ip=None)
    out["authtkt-utf8"] = read_authtkt(
        a.new("ü", ("ß",), "日本", NOW, None, raw=True).encode(), ip=None, form="bytes"
    )
    out["authtkt-array-u16"] = read_authtkt(raw.encode() + b"x", ip=None, form="array-u16")
    out["authtkt-wrong-type"] = read_authtkt(b"x", ip=None, form="wrong-type")
    out["authtkt-lying-str"] = read_authtkt(raw.encode(), ip=None, form="str-lying-subclass")
    out["authtkt-nul"] = read_authtkt(raw.encode() + b"\x00", ip=None)
    out["authtkt-non-utf8"] = read_authtkt(raw.encode() + b"\xff", ip=None, form="bytes")
    out["authtkt-bad-escape"] = read_authtkt(raw.replace("!", "%21").encode() + b"%G1", ip=None)
    out["authtkt-bad-base64"] = read_authtkt(b"Zm9v*", ip=None)
    out["authtkt-base64-no-bang"] = read_authtkt(base64.b64encode(b"x" * 80), ip=None)
    out["authtkt-timeout-0"] = read_authtkt(raw.encode(), ip=None, now=2**32 - 1, timeout=0)
    out["authtkt-wrap"] = read_authtkt(
        a.new("u", (), "", 2**32 - 1, None, raw=True).encode(), ip=None, now=10**100
    )
    old = pure.AuthTktFactory(fz.OLD_SECRET, "sha256").new("u", ("t",), "", NOW, IP)
    out["authtkt-fallback"] = read_authtkt(old.encode(), fallback=True)
    out["authtkt-max-length"] = read_authtkt(
        a.new("u" * 150, (), "", NOW, None).encode(), ip=None, max_length=200
    )

    out["new-ticket-plain"] = new_ticket(
        new_fields(b"alice", [(0, b"admin"), (1, b"staff")], b"data", 1_800_000_000)
    )
    out["new-ticket-unicode"] = new_ticket(
        new_fields("é!%,".encode(), [(0, "日本".encode())], b"x y", 4_000_000_000)
    )
    out["new-ticket-non-utf8"] = new_ticket(new_fields(b"\xff", [], None, 1_800_000_000, uid_kind=1))
    out["new-ticket-surrogate"] = new_ticket(new_fields(b"\xed\xa0\x80", [], None, 1_800_000_000))
    out["new-ticket-utf16"] = new_ticket(
        new_fields(b"u", [(0, b"a"), (0, b"")], b"d", 1_800_000_000), encoding="utf-16", ip="2001:db8::1"
    )
    out["new-ticket-range"] = new_ticket(new_fields(b"u", [], None, 2**32))
    out["new-ticket-huge"] = new_ticket(new_fields(b"u", [], None, 10**100))
    out["new-ticket-max-length"] = new_ticket(new_fields(b"u" * 200, [], None, 1_800_000_000), max_length=200)
    out["new-ticket-bad-ip"] = new_ticket(new_fields(b"u", [], None, 1_800_000_000), ip=2**200)
    out["new-ticket-lying-str"] = new_ticket(
        new_fields(b"a b", [(5, b"t!"), (6, b"x")], b"d d", 1_800_000_000, uid_kind=5)
    )
    out["new-authtkt-lying-str"] = new_authtkt(new_fields(b"a b", [(5, b"t")], b"d!", NOW, uid_kind=5))
    out["new-authtkt-plain"] = new_authtkt(
        new_fields(b"alice", [(0, b"admin"), (1, b"staff")], b"data!x", NOW)
    )
    out["new-authtkt-raw"] = new_authtkt(new_fields(b"alice", [], b"a!b", NOW), raw=True)
    out["new-authtkt-bang"] = new_authtkt(new_fields(b"a!b", [], None, NOW))
    out["new-authtkt-comma"] = new_authtkt(new_fields(b"u", [(0, b"a,b")], None, NOW))
    out["new-authtkt-nul"] = new_authtkt(new_fields(b"u", [], b"\x00", NOW))
    out["new-authtkt-ipv6"] = new_authtkt(new_fields(b"u", [], None, NOW), ip="::1")
    out["new-authtkt-timestamp-max"] = new_authtkt(new_fields(b"u", [], None, 2**32 - 1), now=2**32 - 1)
    out.update(guard_seeds())
    return out


def guard(
    kind="ticket",
    cookie=None,
    lines=(),
    at=0,
    peer=None,
    forwarded=None,
    now=0,
    flags=0x20,
    client="tuple",
    name="auth_tkt",
    bind_ip=False,
    proxies=(),
    fallback=False,
    lifetime=3600,
    reissue="half",
    skew=60,
    small_value=False,
    small_header=False,
    reissue_on_fallback=True,
    alg=0,
    max_length=False,
    timeout=None,
):
    """An input of the ``guard`` operation: the guard's configuration (three bytes), the
    cookie minted by a pure guard (``cookie``: a dict of guard_cookie's choices, or None),
    other Cookie lines, where the cookie goes (``at``), the peer, the forwarded header, now
    (an int: seconds after GUARD_NOW; else one of GUARD_NOWS) and the flags byte (0x20: no
    malformed containers; with bits 5-6 clear, ``client`` is the form of the odd client)."""
    a = (
        (kind == "authtkt")
        | fz.GUARD_COOKIE_NAMES.index(name) << 1
        | bind_ip << 3
        | fz.GUARD_PROXIES.index(proxies) << 4
        | fallback << 7
    )
    b = (
        fz.GUARD_LIFETIMES.index(lifetime)
        | fz.GUARD_REISSUE.index(reissue) << 2
        | (skew == 0) << 4
        | small_value << 5
        | small_header << 6
        | (not reissue_on_fallback) << 7
    )
    c = alg | max_length << 2 | fz.GUARD_TIMEOUTS.index(timeout) << 3
    out = bytes([fz.OPS.index("guard"), a, b, c])
    if cookie is None:
        out += bytes([0])
    else:
        out += bytes([1 | {"current": 0, "fallback": 1, "foreign": 2}[cookie.get("secret", "current")] << 2])
        out += bytes(
            [
                fz.GUARD_USERS.index(cookie.get("user", "alice")),
                fz.GUARD_TOKENS.index(cookie.get("tokens", ("admin",))),
                fz.GUARD_DATA.index(cookie.get("data", "display=Alice")),
                fz.GUARD_AGES.index(cookie.get("age", 10)),
                fz.GUARD_MINTED_PEERS.index(cookie.get("peer", "203.0.113.7")),
            ]
        )
        out += bytes(cookie.get("mangle", [0]))
    out += bytes([len(lines)]) + b"".join(bytes([len(line)]) + line for line in lines)
    if cookie is not None:
        out += bytes([at])
    out += bytes([fz.GUARD_PEERS.index(peer)])
    out += bytes([fz.GUARD_FORWARDED.index(forwarded)])
    if type(now) is int and abs(now) < 32768:
        out += bytes([fz.GUARD_NOWS.index("REL")]) + (now + 32768).to_bytes(2, "big")
    else:
        out += bytes([next(i for i, v in enumerate(fz.GUARD_NOWS) if v is now or v == now)])
    out += bytes([flags])
    if (flags >> 5) & 3 == 0:
        out += bytes([fz.CLIENTS.index(client)])
    return out


def guard_seeds():
    out = {}
    peer = "203.0.113.7"
    for kind in ("ticket", "authtkt"):
        g = functools.partial(guard, kind)
        out[f"guard-{kind}-valid"] = g(cookie={})
        out[f"guard-{kind}-reissue"] = g(cookie={"age": 3000})
        out[f"guard-{kind}-fallback"] = g(cookie={"secret": "fallback"}, fallback=True)
        out[f"guard-{kind}-fallback-no-reissue"] = g(
            cookie={"secret": "fallback"}, fallback=True, reissue_on_fallback=False, reissue=None
        )
        out[f"guard-{kind}-foreign"] = g(cookie={"secret": "foreign"}, fallback=True)
        out[f"guard-{kind}-expired"] = g(cookie={"age": 7300})
        out[f"guard-{kind}-future"] = g(cookie={"age": -4000}, skew=0)
        out[f"guard-{kind}-bound"] = g(cookie={"peer": peer}, bind_ip=True, peer=peer)
        out[f"guard-{kind}-bound-other-peer"] = g(cookie={"peer": peer}, bind_ip=True, peer="10.1.2.3")
        out[f"guard-{kind}-proxy"] = g(
            cookie={"peer": peer},
            bind_ip=True,
            proxies=("10.0.0.0/8", "::1/128"),
            peer="10.1.2.3",
            forwarded="203.0.113.7, 10.1.2.3",
        )
        out[f"guard-{kind}-duplicate"] = g(cookie={"mangle": [5]}, lines=[b"x=1"], at=1)
        out[f"guard-{kind}-quoted"] = g(cookie={"mangle": [4]}, lines=[b"a=1", b"b=2"], at=0x81)
        out[f"guard-{kind}-mangled"] = g(cookie={"mangle": [1, 70, ord("\\")]})
        out[f"guard-{kind}-oversized"] = g(cookie={}, small_value=True, small_header=True, alg=1)
        out[f"guard-{kind}-malformed-containers"] = g(
            cookie={}, lines=[b"x=1"], bind_ip=True, peer=peer, flags=0x01, client="list"
        )
        out[f"guard-{kind}-odd-client"] = g(
            cookie={}, bind_ip=True, peer=peer, flags=0x06, client="bytes-host"
        )
        out[f"guard-{kind}-now-nan"] = g(cookie={}, now=fz.math.nan, fallback=True)
        out[f"guard-{kind}-now-fraction"] = g(cookie={"age": 3000}, now=fz.GUARD_NOWS[16])
    out["guard-ticket-ipv6-bound"] = guard(
        cookie={"peer": "2001:db8::7"}, bind_ip=True, peer="2001:DB8:0:0:0:0:0:7"
    )
    out["guard-authtkt-ipv6-peer"] = guard("authtkt", cookie={}, bind_ip=True, peer="::1")
    out["guard-ticket-unicode"] = guard(
        cookie={"user": "\xe9lodie", "tokens": ("t\xf4ken", "a b"), "data": "\xe9!\u20ac"}, flags=0x30
    )
    raw = pure.AuthTktFactory(fz.SECRET, "md5", timeout=3600).new(
        "\xfc", ("\xdf",), "\u65e5", int(fz.GUARD_NOW) - 5, None, raw=True
    )
    out["guard-authtkt-raw-utf8-line"] = guard("authtkt", lines=[b"auth_tkt=" + raw.encode()], flags=0x31)
    out["guard-no-cookie"] = guard(lines=[b"a=1; b=2", b"", b"auth_tktx=3"], flags=0x21)
    return out


def main():
    corpus = HERE / "corpus"
    corpus.mkdir(exist_ok=True)
    for old in corpus.glob("seed-*"):
        old.unlink()
    for name, data in sorted(seeds().items()):
        (corpus / f"seed-{name}").write_bytes(data)
    print(f"{len(seeds())} seeds in {os.path.relpath(corpus)}")


if __name__ == "__main__":
    main()
