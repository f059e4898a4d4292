"""Golden vectors recorded from ticket_auth 0.1.4 (tests/golden_vectors.json), checked on
both cores without the network. Regenerate with ``python tests/make_golden_vectors.py``.

Every vector must mint the recorded ticket byte for byte, and validate/parse it with the
recorded result, except the documented divergence: a field minted from non-UTF-8 bytes is
a TicketParseError here (0.1.4 recorded TicketDigestError / a lossy parse).
"""

import collections
import json

import pytest

import ticket_auth
from make_golden_vectors import VECTORS_PATH, build_vectors, decode, dumps
from ticket_auth import _ticket_format

NON_UTF8_MESSAGES = {
    "user_id": _ticket_format.UID_NOT_UTF8,
    "token": _ticket_format.TOKEN_NOT_UTF8,
    "user_data": _ticket_format.DATA_NOT_UTF8,
}


def load_vectors():
    return json.loads(VECTORS_PATH.read_text(encoding="utf-8"))["vectors"]


def our_result(call):
    try:
        info = call()
    except ticket_auth.TicketError as exc:
        return {"error": type(exc).__name__, "msg": exc.msg}
    assert type(info) is ticket_auth.TicketInfo
    digest, user_id, tokens, user_data, valid_until = info
    assert type(tokens) is tuple and type(valid_until) is int
    return {"info": [digest, user_id, list(tokens), user_data, valid_until]}


def check_vector(core, vector):
    """A list of mismatch descriptions (empty when the vector passes)."""
    problems = []
    factory = core.TicketFactory(bytes.fromhex(vector["secret"]), vector["hashalg"])
    encoding = vector["encoding"]
    mint = {key: decode(value) for key, value in vector["new"].items()}
    ticket = factory.new(**mint, encoding=encoding)
    if ticket != vector["ticket"]:
        problems.append(f"new: {ticket!r} != {vector['ticket']!r}")
    ticket = vector["ticket"]
    divergence = vector["non_utf8_field"]
    diverged = {"error": "TicketParseError", "msg": NON_UTF8_MESSAGES[divergence]} if divergence else None
    for check in vector["validate"]:
        client_ip, now = decode(check["client_ip"]), decode(check["now"])
        got = our_result(lambda: factory.validate(ticket, client_ip, now, encoding))  # noqa: B023
        expected = diverged or check["result"]
        if divergence and check["result"].get("error") != "TicketDigestError":
            problems.append(f"validate[{check['label']}]: vector does not record 0.1.4's digest error")
        if got != expected:
            problems.append(f"validate[{check['label']}]: {got} != {expected}")
    got = our_result(lambda: factory.parse(ticket))
    if got != (diverged or vector["parse"]):
        problems.append(f"parse: {got} != {diverged or vector['parse']}")
    return problems


def test_golden_vectors(core):
    vectors = load_vectors()
    failures = {}
    for vector in vectors:
        problems = check_vector(core, vector)
        if problems:
            failures[vector["name"]] = problems
    assert not failures, json.dumps(failures, indent=1, ensure_ascii=False)[:6000]


def test_golden_vectors_cover_the_axes():
    vectors = load_vectors()
    assert 90 <= len(vectors) <= 150
    assert len({vector["name"] for vector in vectors}) == len(vectors)
    hashalgs = {vector["hashalg"] for vector in vectors}
    assert hashalgs >= {"md5", "sha1", "sha256", "sha384", "sha512", "blake2b", "sha3_256", "SHA256"}
    assert {vector["encoding"] for vector in vectors} >= {"utf-8", "utf-16", "cp037"}
    ip_tags = collections.Counter(vector["new"]["client_ip"][0] for vector in vectors)
    assert set(ip_tags) >= {"none", "str", "int", "bytes", "IPv4Address", "IPv6Address"}
    ips = {str(decode(vector["new"]["client_ip"])) for vector in vectors}
    assert {"fe80::1%eth0", "::ffff:1.2.3.4", "1.2.3.4"} <= ips
    until_tags = {vector["new"]["valid_until"][0] for vector in vectors}
    assert until_tags >= {"int", "float", "str"}
    untils = {decode(vector["new"]["valid_until"]) for vector in vectors}
    assert {0, 1, 2**31, 2**32 - 1} <= untils
    for field in ("user_id", "user_data"):
        assert {vector["new"][field][0] for vector in vectors} >= {"str", "bytes"}
    assert {vector["non_utf8_field"] for vector in vectors} == {None, "user_id", "token", "user_data"}
    outcomes = collections.Counter(
        check["result"].get("error", "ok") for vector in vectors for check in vector["validate"]
    )
    assert outcomes["ok"] > 50 and outcomes["TicketExpired"] > 50 and outcomes["TicketDigestError"] > 50


def test_golden_vectors_are_what_the_generator_makes(ta014):
    """The committed file is exactly what make_golden_vectors.py computes with 0.1.4 now."""
    committed = VECTORS_PATH.read_text(encoding="utf-8")
    regenerated = dumps(build_vectors(ta014))
    if committed != regenerated:
        pytest.fail(
            "tests/golden_vectors.json is stale or edited by hand: run python tests/make_golden_vectors.py"
        )
