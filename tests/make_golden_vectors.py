"""Generate ``tests/golden_vectors.json`` from ticket_auth 0.1.4 (the reference implementation).

    python tests/make_golden_vectors.py          # fetches 0.1.4 into a temporary directory

The vectors are deterministic (fixed inputs plus a seeded random mix of them), so running this
again gives the same file; ``test_golden.py`` checks that when 0.1.4 is available. Inputs are
stored in JSON-safe tagged form (see ``encode``/``decode``); results are whatever 0.1.4
returned or raised. Only this project's tests read the file; nothing of 0.1.4 is copied.
"""

import ipaddress
import json
import random
import sys
from pathlib import Path

from _helpers import is_non_utf8

VECTORS_PATH = Path(__file__).resolve().parent / "golden_vectors.json"
SEED = 20240614
RANDOM_VECTORS = 27

# --- tagged JSON values -----------------------------------------------------------------


def encode(value):
    """A JSON-safe, type-preserving form of an input value."""
    if value is None:
        return ["none"]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", value]
    if isinstance(value, float):
        return ["float", value.hex()]
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, bytearray):
        return ["bytearray", value.hex()]
    if isinstance(value, bytes):
        return ["bytes", value.hex()]
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return [type(value).__name__, str(value)]
    if isinstance(value, list):
        return ["list", [encode(item) for item in value]]
    if isinstance(value, tuple):
        return ["tuple", [encode(item) for item in value]]
    raise TypeError(f"cannot encode {value!r}")


def decode(tagged):
    tag, *rest = tagged
    decoders = {
        "none": lambda: None,
        "bool": lambda v: bool(v),
        "int": lambda v: int(v),
        "float": float.fromhex,
        "str": str,
        "bytes": bytes.fromhex,
        "bytearray": lambda v: bytearray.fromhex(v),
        "IPv4Address": ipaddress.IPv4Address,
        "IPv6Address": ipaddress.IPv6Address,
        "list": lambda v: [decode(item) for item in v],
        "tuple": lambda v: tuple(decode(item) for item in v),
    }
    return decoders[tag](*rest)


# --- the axes ---------------------------------------------------------------------------

BASE = {
    "secret": b"golden-secret",
    "hashalg": "sha512",
    "user_id": "alice",
    "tokens": ["admin", "editor"],
    "user_data": "x=1",
    "valid_until": 1700000000,
    "client_ip": None,
    "encoding": "utf-8",
}

AXES = {
    "hashalg": ["md5", "sha1", "sha256", "sha384", "sha512", "blake2b", "sha3_256", "SHA256"],
    "secret": [b"s", b"S3CRET-do-not-leak", bytes(range(256)), b"\x00"],
    "user_id": [
        "",
        "user name!,%",
        "é",
        "日本語",
        "\U0001f600",
        "a/b~c_d.e-f",
        "\x00\x7f",
        "x" * 520 + "é" * 20,
        b"bob",
        b"\xff\xfe",
        "é".encode(),
        bytearray(b"ba"),
        "\ufffd",
        "+&=?#",
    ],
    "tokens": [
        None,
        [],
        ("",),
        ["", "x"],
        ["", ""],
        [","],
        ["!", "%"],
        [b"bytes", "text"],
        [b"\xff"],
        ["é", "\U0001f600"],
        ("a", "b", "c"),
        ["a,b"],
    ],
    "user_data": [None, "", b"", 0, "data", "x!y,z%", b"\x00\x01", b"\xc3", "\U0001f600" * 50],
    "valid_until": [0, 1, 2**31, 2**32 - 1, 1.9, "123", -0.5, 1700000000.75, True],
    "client_ip": [
        None,
        "1.2.3.4",
        "0.0.0.0",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1%eth0",
        "fe80::1",
        "::ffff:1.2.3.4",
        2130706433,
        2**100,
        b"\x0a\x00\x00\x01",
        bytes(range(16)),
        ipaddress.IPv4Address("192.0.2.1"),
        ipaddress.IPv6Address("2001:db8::1"),
    ],
    "encoding": ["utf-8", "utf-16", "cp037", "utf-16-le", "latin-1", "utf-32", "UTF-8"],
}


def cases():
    """(name, inputs): one axis varied at a time, then a seeded random mix of all axes."""
    for axis, values in AXES.items():
        for index, value in enumerate(values):
            yield f"{axis}-{index}", {**BASE, axis: value}
    rng = random.Random(SEED)
    for index in range(RANDOM_VECTORS):
        yield f"mix-{index}", {axis: rng.choice(values) for axis, values in AXES.items()}


def non_utf8_field(inputs):
    """Which field (in check order) was minted from bytes that are not UTF-8, if any."""

    bad = is_non_utf8
    if bad(inputs["user_id"]):
        return "user_id"
    if inputs["tokens"] and any(bad(token) for token in inputs["tokens"]):
        return "token"
    if inputs["user_data"] and bad(inputs["user_data"]):
        return "user_data"
    return None


def wrong_ip(client_ip):
    unbound = client_ip is None or ipaddress.ip_address(client_ip) == ipaddress.IPv4Address(0)
    return "10.9.8.7" if unbound else None


def result(call):
    try:
        info = call()
    except Exception as exc:  # noqa: BLE001 - recorded as the expected outcome
        return {"error": type(exc).__name__, "msg": getattr(exc, "msg", str(exc))}
    digest, user_id, tokens, user_data, valid_until = info
    return {"info": [digest, user_id, list(tokens), user_data, valid_until]}


def build_vectors(ta):
    """The vectors, computed with ``ta`` (ticket_auth 0.1.4 under whatever name)."""
    vectors = []
    for name, inputs in cases():
        factory = ta.TicketFactory(inputs["secret"], inputs["hashalg"])
        mint = {key: inputs[key] for key in ("user_id", "tokens", "user_data", "valid_until", "client_ip")}
        encoding = inputs["encoding"]
        ticket = factory.new(**mint, encoding=encoding)
        until = int(inputs["valid_until"])
        checks = []
        for label, client_ip, now in (
            ("valid", inputs["client_ip"], until - 1),
            ("expired", inputs["client_ip"], until),
            ("wrong_ip", wrong_ip(inputs["client_ip"]), until - 1),
        ):
            checks.append(
                {
                    "label": label,
                    "client_ip": encode(client_ip),
                    "now": encode(now),
                    "result": result(lambda: factory.validate(ticket, client_ip, now, encoding)),  # noqa: B023
                }
            )
        vectors.append(
            {
                "name": name,
                "secret": inputs["secret"].hex(),
                "hashalg": inputs["hashalg"],
                "encoding": encoding,
                "new": {key: encode(value) for key, value in mint.items()},
                "ticket": ticket,
                "non_utf8_field": non_utf8_field(inputs),
                "validate": checks,
                "parse": result(lambda: factory.parse(ticket)),  # noqa: B023
            }
        )
    return vectors


def dumps(vectors):
    """The file's text: a small header, then one vector per line (readable diffs)."""
    lines = ",\n".join(json.dumps(vector, ensure_ascii=False) for vector in vectors)
    return (
        '{"generator": "tests/make_golden_vectors.py", "reference": "ticket-auth==0.1.4",\n'
        f' "vectors": [\n{lines}\n]}}\n'
    )


def main():
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _ta014

    ta, error = _ta014.load()
    if ta is None:
        sys.exit(f"cannot load ticket_auth 0.1.4: {error}")
    VECTORS_PATH.write_text(dumps(build_vectors(ta)), encoding="utf-8")
    print(f"wrote {VECTORS_PATH}")


if __name__ == "__main__":
    main()
