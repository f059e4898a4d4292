"""The command line (``python -m ticket_auth`` / ``ticket-auth``): every subcommand, exit status
and error path, for both formats (ticket_auth and mod_auth_tkt), in-process on both cores
(conftest's ``core`` fixture), plus a few real subprocess runs.

Every in-process run goes through ``run``, which also checks that the secret never appears in
stdout or stderr.
"""

import base64
import importlib
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ticket_auth import cli
from ticket_auth.cli import main

SECRET = "s3cr3t-Zq9-cli"
SECRET_BYTES = SECRET.encode()
ROOT = Path(__file__).resolve().parent.parent
NOW = 1_700_000_000
BAD_DIGEST = "bad digest (wrong secret, wrong client IP, wrong hash algorithm, or tampered)"


@pytest.fixture(autouse=True)
def _secret_env(monkeypatch):
    monkeypatch.setenv("TICKET_AUTH_SECRET", SECRET)
    monkeypatch.delenv("TICKET_AUTH_NO_EXTENSIONS", raising=False)


@pytest.fixture
def factory(core):
    return core.TicketFactory(SECRET_BYTES)


class Result:
    def __init__(self, status, out, err):
        self.status, self.out, self.err = status, out, err

    @property
    def json(self):
        assert self.out.endswith("\n") and self.out.count("\n") == 1, self.out
        return json.loads(self.out)


def run(core, *argv, stdin="", secrets=(SECRET,)):
    out, err = io.StringIO(), io.StringIO()
    stdin_stream = stdin if not isinstance(stdin, str) else io.StringIO(stdin)
    status = main(
        list(argv),
        factory_class=core.TicketFactory,
        authtkt_class=core.module.AuthTktFactory,
        stdin=stdin_stream,
        stdout=out,
        stderr=err,
    )
    result = Result(status, out.getvalue(), err.getvalue())
    for secret in secrets:
        assert secret not in result.out
        assert secret not in result.err
    return result


def usage_error(result, *fragments):
    """Exit 2 with the fragments on stderr and nothing on stdout."""
    assert result.status == 2, (result.out, result.err)
    assert result.out == ""
    for fragment in fragments:
        assert fragment in result.err
    return result


def invalid(result, line):
    """Exit 1 with exactly one line on stderr and nothing on stdout."""
    assert result.status == 1, (result.out, result.err)
    assert result.out == ""
    assert result.err == f"invalid ticket: {line}\n"
    return result


# ---------------------------------------------------------------------------------------------
# new


def test_new_prints_a_ticket_the_core_validates(core, factory):
    result = run(
        core,
        "new",
        "alice",
        "--token",
        "admin",
        "--token",
        "a,b!c",
        "--user-data",
        "hi there",
        "--valid-until",
        str(NOW + 60),
        "--client-ip",
        "10.0.0.1",
    )
    assert result.status == 0 and result.err == ""
    ticket = result.out.rstrip("\n")
    assert result.out == ticket + "\n"
    assert ticket == factory.new("alice", ("admin", "a,b!c"), "hi there", NOW + 60, "10.0.0.1")
    info = factory.validate(ticket, "10.0.0.1", NOW)
    assert info.user_id == "alice"
    assert info.tokens == ("admin", "a,b!c")
    assert info.user_data == "hi there"
    assert info.valid_until == NOW + 60


def test_new_json(core, factory):
    result = run(core, "new", "bob", "--valid-until", str(NOW + 5), "--json")
    assert result.status == 0 and result.err == ""
    assert result.json == {"ticket": factory.new("bob", valid_until=NOW + 5)}


def test_json_may_come_before_the_subcommand(core, factory):
    result = run(core, "--json", "new", "bob", "--valid-until", str(NOW + 5))
    assert result.json == {"ticket": factory.new("bob", valid_until=NOW + 5)}


def test_new_default_lifetime_is_the_librarys(core, factory):
    before = int(time.time())
    result = run(core, "new", "bob")
    after = int(time.time())
    assert result.status == 0
    assert before + 120 <= factory.parse(result.out.strip()).valid_until <= after + 120


def test_new_valid_for(core, factory):
    before = int(time.time())
    result = run(core, "new", "bob", "--valid-for", "3600")
    after = int(time.time())
    assert before + 3600 <= factory.parse(result.out.strip()).valid_until <= after + 3600


def test_new_valid_for_negative_mints_an_expired_ticket(core, factory):
    ticket = run(core, "new", "bob", "--valid-for", "-10").out.strip()
    assert factory.parse(ticket).valid_until < time.time()


def test_new_hashalg_and_encoding(core):
    result = run(core, "new", "bob", "--hashalg", "sha256", "--encoding", "utf-16", "--valid-until", "99")
    assert result.status == 0
    assert result.out.strip() == core.TicketFactory(SECRET_BYTES, "sha256").new(
        "bob", valid_until=99, encoding="utf-16"
    )


def test_new_valid_for_and_valid_until_together(core):
    usage_error(
        run(core, "new", "bob", "--valid-for", "1", "--valid-until", "5"),
        "--valid-until: not allowed with argument --valid-for",
    )


@pytest.mark.parametrize("value", [str(2**32), "-1"])
def test_new_valid_until_out_of_range(core, value):
    usage_error(
        run(core, "new", "bob", "--valid-until", value), "valid_until must be between 0 and 4294967295"
    )


def test_new_valid_for_beyond_2106(core):
    usage_error(run(core, "new", "bob", "--valid-for", str(2**32)), "valid_until must be between")


@pytest.mark.parametrize("option", ["--valid-until", "--valid-for"])
def test_new_lifetime_not_an_integer(core, option):
    usage_error(run(core, "new", "bob", option, "soon"), f"argument {option}: not an integer: 'soon'")


@pytest.mark.parametrize("hashalg", ["nope", "shake_128"])
def test_new_unknown_or_variable_hashalg(core, hashalg):
    usage_error(run(core, "new", "bob", "--hashalg", hashalg), "--hashalg: ", repr(hashalg))


def test_new_bad_client_ip(core):
    usage_error(run(core, "new", "bob", "--client-ip", "10.0.0"), "--client-ip: not an IPv4 or IPv6 address")


def test_new_unknown_encoding(core):
    usage_error(run(core, "new", "bob", "--encoding", "klingon"), "unknown encoding: 'klingon'")


def test_new_user_id_that_is_not_utf8(core):
    # What Python makes of a non-UTF-8 byte in argv on POSIX.
    usage_error(run(core, "new", "bob\udcff"), "cannot encode the ticket's fields")


def test_new_requires_a_user_id(core):
    usage_error(run(core, "new"), "the following arguments are required: USER_ID")


# ---------------------------------------------------------------------------------------------
# --format


def test_format_unknown(core):
    usage_error(run(core, "new", "bob", "--format", "jwt"), "invalid choice: 'jwt'")


# ---------------------------------------------------------------------------------------------
# The secret


def test_no_secret(core, monkeypatch):
    monkeypatch.delenv("TICKET_AUTH_SECRET")
    for command in (["new", "bob"], ["validate", "x"]):
        usage_error(
            run(core, *command),
            "no secret: set the TICKET_AUTH_SECRET environment variable or pass --secret-file PATH",
        )


def test_empty_secret_env(core, monkeypatch):
    monkeypatch.setenv("TICKET_AUTH_SECRET", "")
    usage_error(run(core, "new", "bob"), "TICKET_AUTH_SECRET is set but empty")


def test_secret_env_is_utf8(core, monkeypatch):
    monkeypatch.setenv("TICKET_AUTH_SECRET", "sécret-ü")
    ticket = run(core, "new", "bob", secrets=("sécret-ü",)).out.strip()
    core.TicketFactory("sécret-ü".encode()).validate(ticket)


@pytest.mark.parametrize(
    ("content", "secret"),
    [
        (b"abc", b"abc"),
        (b"abc\n", b"abc"),
        (b"abc\r\n", b"abc"),
        (b"abc\n\n", b"abc\n"),
        (b" a\xffb \n", b" a\xffb "),
    ],
)
def test_secret_file_drops_one_trailing_newline(core, tmp_path, monkeypatch, content, secret):
    monkeypatch.delenv("TICKET_AUTH_SECRET")
    path = tmp_path / "secret"
    path.write_bytes(content)
    ticket = run(core, "new", "bob", "--secret-file", str(path)).out.strip()
    core.TicketFactory(secret).validate(ticket)
    assert run(core, "validate", ticket, "--secret-file", str(path)).status == 0


def test_secret_file_wins_over_env(core, tmp_path):
    path = tmp_path / "secret"
    path.write_bytes(b"from-the-file\n")
    ticket = run(
        core, "new", "bob", "--secret-file", str(path), secrets=(SECRET, "from-the-file")
    ).out.strip()
    core.TicketFactory(b"from-the-file").validate(ticket)
    invalid(run(core, "validate", ticket), BAD_DIGEST)
    assert run(core, "validate", ticket, "--secret-file", str(path)).status == 0


@pytest.mark.parametrize("content", [b"", b"\n", b"\r\n"])
def test_empty_secret_file(core, tmp_path, content):
    path = tmp_path / "secret"
    path.write_bytes(content)
    usage_error(run(core, "new", "bob", "--secret-file", str(path)), f"secret file {str(path)!r} is empty")


def test_missing_secret_file(core, tmp_path):
    path = tmp_path / "nope"
    for command in (["new", "bob"], ["validate", "x"]):
        usage_error(
            run(core, *command, "--secret-file", str(path)),
            f"cannot read secret file {str(path)!r}: No such file or directory",
        )


def test_unreadable_secret_file(core, tmp_path):
    usage_error(run(core, "new", "bob", "--secret-file", str(tmp_path)), "cannot read secret file")


@pytest.mark.parametrize("argv", [["--secret", "hunter2"], ["--secret=hunter2"], ["--secret"]])
def test_secret_on_the_command_line_is_refused(core, argv):
    for before, after in (
        (["new", "bob"], []),
        (["validate", "x"], []),
        (["inspect", "x"], []),
        ([], ["new", "b"]),
    ):
        result = usage_error(
            run(core, *before, *argv, *after, secrets=(SECRET, "hunter2")),
            "the secret is never taken from the command line",
        )
        assert "hunter2" not in result.err


def test_options_are_not_abbreviated(core, tmp_path):
    # '--secret-f PATH' (or worse, '--secret VALUE') must never be taken for --secret-file.
    path = tmp_path / "secret"
    path.write_bytes(b"x")
    usage_error(run(core, "new", "bob", "--secret-f", str(path)), "unrecognized arguments")


# ---------------------------------------------------------------------------------------------
# validate


def test_validate_valid(core, factory):
    ticket = factory.new("alice", ("admin", "a,b"), "hi there", NOW + 3720)
    result = run(core, "validate", ticket, "--now", str(NOW))
    assert result.status == 0 and result.err == ""
    assert result.out == (
        "valid:       yes\n"
        "user_id:     alice\n"
        'tokens:      ["admin", "a,b"]\n'
        "user_data:   hi there\n"
        f"valid_until: {NOW + 3720} (2023-11-14T23:15:20Z, expires in 1h 2m)\n"
    )


def test_validate_valid_json(core, factory):
    ticket = factory.new("alice", ("admin",), None, NOW + 90)
    result = run(core, "validate", ticket, "--now", str(NOW), "--json")
    assert result.status == 0 and result.err == ""
    assert result.json == {
        "valid": True,
        "user_id": "alice",
        "tokens": ["admin"],
        "user_data": "",
        "valid_until": NOW + 90,
        "valid_until_iso": "2023-11-14T22:14:50Z",
        "expired": False,
        "seconds_left": 90,
        "expiry": "expires in 1m 30s",
        "digest": ticket[:128],
        "hashalg": "sha512",
    }


def test_validate_default_now(core, factory):
    result = run(core, "validate", factory.new("bob", valid_until=int(time.time()) + 7200), "--json")
    assert result.json["valid"] is True
    assert 7000 < result.json["seconds_left"] <= 7200


@pytest.mark.parametrize("arg", [[], ["-"]])
def test_validate_reads_stdin(core, factory, arg):
    ticket = factory.new("bob", valid_until=NOW + 1)
    result = run(core, "validate", *arg, "--now", str(NOW), "--json", stdin=f"  {ticket}\r\n\n")
    assert result.status == 0
    assert result.json["user_id"] == "bob"


def test_validate_reads_stdin_bytes(core, factory):
    # A real stdin: bytes underneath, read through .buffer.
    ticket = factory.new("bob", valid_until=NOW + 1)
    stdin = io.TextIOWrapper(io.BytesIO(ticket.encode() + b"\n"), encoding="ascii")
    assert run(core, "validate", "--now", str(NOW), stdin=stdin).status == 0
    stdin = io.TextIOWrapper(io.BytesIO(b"\xff" + ticket.encode()), encoding="ascii")
    invalid(
        run(core, "validate", "--now", str(NOW), stdin=stdin),
        "malformed: ticket contains non-ASCII characters",
    )


def test_validate_empty_stdin(core):
    usage_error(run(core, "validate", stdin=" \n"), "no ticket on stdin")
    usage_error(run(core, "inspect", "-", stdin=""), "no ticket on stdin")


def test_validate_empty_argument(core):
    usage_error(run(core, "validate", ""), "the ticket is empty")


def test_validate_no_ticket_and_a_terminal(core):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    usage_error(
        run(core, "validate", stdin=Terminal()), "no ticket: pass it as an argument or pipe it on stdin"
    )
    usage_error(
        run(core, "inspect", stdin=Terminal()), "no ticket: pass it as an argument or pipe it on stdin"
    )


@pytest.mark.parametrize(
    ("mangle", "msg"),
    [
        (lambda t: "x" + t, "digest is not lowercase hex"),
        (lambda t: t[:50], "ticket is too short"),
        (lambda t: t[:128] + "0000000G" + t[136:], "time is not 8 lowercase hex digits"),
        (lambda t: t.replace("!", "", 1), "missing '!' separators: expected user id, tokens and user data"),
        (lambda t: t + "!", "too many '!' separators: expected user id, tokens and user data"),
        (lambda t: t.replace("bob", "b b"), "user id is not in canonical quoted form"),
        (lambda t: t + "é", "ticket contains non-ASCII characters"),
    ],
)
def test_validate_malformed(core, factory, mangle, msg):
    ticket = mangle(factory.new("bob", valid_until=NOW + 1))
    invalid(run(core, "validate", ticket, "--now", str(NOW)), f"malformed: {msg}")
    result = run(core, "validate", ticket, "--now", str(NOW), "--json")
    assert result.status == 1 and result.err == ""
    assert result.json == {"valid": False, "error": "malformed", "reason": f"malformed: {msg}"}


@pytest.mark.parametrize(
    ("user_data", "msg"), [("", "ticket is too short"), ("x" * 80, "digest is not lowercase hex")]
)
def test_validate_malformed_hints_at_a_shorter_hashalg(core, user_data, msg):
    ticket = core.TicketFactory(SECRET_BYTES, "sha256").new("lucy", user_data=user_data, valid_until=NOW + 1)
    invalid(
        run(core, "validate", ticket, "--now", str(NOW)),
        f"malformed: {msg} (its digest length fits sha256: if it is a sha256 ticket, pass --hashalg sha256)",
    )
    assert run(core, "validate", ticket, "--now", str(NOW), "--hashalg", "sha256").status == 0


def test_validate_malformed_without_a_hint(core, factory):
    # A shorter digest would "parse" a ticket whose TIME was tampered with; no hint for that.
    ticket = factory.new("lucy", valid_until=NOW + 1)
    ticket = ticket[:128] + ticket[128:136].upper().replace("0", "G") + ticket[136:]
    invalid(run(core, "validate", ticket, "--now", str(NOW)), "malformed: time is not 8 lowercase hex digits")


@pytest.mark.parametrize(
    "argv",
    [
        ["--secret-file", "WRONG"],  # replaced by a file holding another secret
        ["--client-ip", "10.0.0.2"],
        ["--hashalg", "sha3_512"],  # same digest length, other algorithm
        ["--encoding", "utf-16"],
        ["TAMPER"],
    ],
)
def test_validate_bad_digest(core, factory, tmp_path, argv):
    ticket = factory.new("bob", ("admin",), valid_until=NOW + 1, client_ip="10.0.0.1")
    if argv == ["TAMPER"]:
        ticket, argv = ticket.replace("admin", "root"), ["--client-ip", "10.0.0.1"]
    elif argv[0] == "--secret-file":
        (tmp_path / "other").write_bytes(b"another secret")
        argv = ["--secret-file", str(tmp_path / "other"), "--client-ip", "10.0.0.1"]
    invalid(run(core, "validate", ticket, "--now", str(NOW), *argv), BAD_DIGEST)
    result = run(core, "validate", ticket, "--now", str(NOW), "--json", *argv)
    assert result.status == 1
    assert result.json == {"valid": False, "error": "bad_digest", "reason": BAD_DIGEST}


def test_validate_client_ip(core, factory):
    ticket = factory.new("bob", valid_until=NOW + 1, client_ip="2001:db8::1")
    assert run(core, "validate", ticket, "--now", str(NOW), "--client-ip", "2001:db8::1").status == 0
    invalid(run(core, "validate", ticket, "--now", str(NOW)), BAD_DIGEST)


def test_validate_bad_client_ip(core, factory):
    usage_error(
        run(core, "validate", factory.new("bob"), "--client-ip", "not-an-ip"),
        "argument --client-ip: not an IPv4 or IPv6 address: 'not-an-ip'",
    )


@pytest.mark.parametrize(
    ("ago", "text"),
    [(0, "0s"), (1, "1s"), (180, "3m"), (3725, "1h 2m"), (2 * 86400 + 3 * 3600 + 60, "2d 3h")],
)
def test_validate_expired(core, factory, ago, text):
    ticket = factory.new("bob", ("admin",), valid_until=NOW)
    now = str(NOW + ago)
    iso = "2023-11-14T22:13:20Z"
    invalid(run(core, "validate", ticket, "--now", now), f"expired at {iso} ({text} ago)")
    result = run(core, "validate", ticket, "--now", now, "--json")
    assert result.status == 1 and result.err == ""
    assert result.json == {
        "valid": False,
        "error": "expired",
        "reason": f"expired at {iso} ({text} ago)",
        "user_id": "bob",
        "tokens": ["admin"],
        "user_data": "",
        "valid_until": NOW,
        "valid_until_iso": iso,
        "expired": True,
        "seconds_left": -ago,
        "expiry": f"expired {text} ago",
    }


def test_validate_digest_is_checked_before_expiry(core, factory):
    ticket = factory.new("bob", valid_until=NOW)
    invalid(run(core, "validate", ticket, "--now", str(NOW + 10), "--client-ip", "1.2.3.4"), BAD_DIGEST)


def test_validate_fractional_now(core, factory):
    ticket = factory.new("bob", valid_until=NOW)
    assert run(core, "validate", ticket, "--now", str(NOW - 0.5), "--json").json["seconds_left"] == 0.5
    invalid(
        run(core, "validate", ticket, "--now", str(NOW + 0.5)), "expired at 2023-11-14T22:13:20Z (0s ago)"
    )


@pytest.mark.parametrize("now", ["soon", "nan", "inf"])
def test_validate_bad_now(core, factory, now):
    usage_error(run(core, "validate", factory.new("bob"), "--now", now), "argument --now:")


def test_validate_unknown_hashalg(core, factory):
    usage_error(
        run(core, "validate", factory.new("bob"), "--hashalg", "md7"),
        "--hashalg: unknown hash algorithm 'md7'",
    )


def test_validate_hostile_fields_are_escaped(core, factory):
    ticket = factory.new("\x1b[2Jroot", ("\x1b]0;x\x07",), "line1\nline2", NOW + 5)
    result = run(core, "validate", ticket, "--now", str(NOW))
    assert result.status == 0
    assert "\x1b" not in result.out and "\x07" not in result.out
    assert 'user_id:     "\\u001b[2Jroot"\n' in result.out
    assert 'user_data:   "line1\\nline2"\n' in result.out
    assert run(core, "validate", ticket, "--now", str(NOW), "--json").json["user_id"] == "\x1b[2Jroot"


def test_validate_unicode_and_blank_fields(core, factory):
    ticket = factory.new("zoë", (), " padded ", NOW + 5)
    result = run(core, "validate", ticket, "--now", str(NOW))
    assert "user_id:     zoë\n" in result.out
    assert "tokens:      []\n" in result.out
    assert 'user_data:   " padded "\n' in result.out


# ---------------------------------------------------------------------------------------------
# inspect


def test_inspect_needs_no_secret(core, factory, monkeypatch):
    monkeypatch.delenv("TICKET_AUTH_SECRET")
    ticket = factory.new("alice", ("admin",), "x", NOW + 59)
    result = run(core, "inspect", ticket, "--now", str(NOW))
    assert result.status == 0 and result.err == ""
    lines = result.out.splitlines()
    assert lines[0].startswith("UNVERIFIED: the digest was not checked")
    assert lines[1:6] == [
        "user_id:     alice",
        'tokens:      ["admin"]',
        "user_data:   x",
        f"valid_until: {NOW + 59} (2023-11-14T22:14:19Z, expires in 59s)",
        f"digest:      {ticket[:128]}",
    ]
    assert lines[6:] == [
        "hashalg:     sha512 (guessed from the 128-character digest; pass --hashalg if it is another)"
    ]


def test_inspect_json(core, factory):
    ticket = factory.new("alice", ("admin",), "x", NOW - 180)
    result = run(core, "inspect", ticket, "--now", str(NOW), "--json")
    assert result.status == 0 and result.err == ""
    assert result.json == {
        "verified": False,
        "user_id": "alice",
        "tokens": ["admin"],
        "user_data": "x",
        "valid_until": NOW - 180,
        "valid_until_iso": "2023-11-14T22:10:20Z",
        "expired": True,
        "seconds_left": -180,
        "expiry": "expired 3m ago",
        "digest": ticket[:128],
        "hashalg": "sha512",
        "hashalg_guessed": True,
    }


def test_inspect_ignores_the_secret_and_the_digest(core, factory):
    ticket = factory.new("alice", valid_until=NOW + 1)
    forged = "0" * 128 + ticket[128:]
    result = run(core, "inspect", forged, "--now", str(NOW), "--json")
    assert result.status == 0
    assert result.json["verified"] is False
    assert result.json["user_id"] == "alice"


@pytest.mark.parametrize("hashalg", ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"])
def test_inspect_guesses_the_hashalg(core, hashalg):
    ticket = core.TicketFactory(SECRET_BYTES, hashalg).new("lucy", valid_until=NOW)
    result = run(core, "inspect", ticket, "--json")
    assert result.json["hashalg"] == hashalg
    assert result.json["hashalg_guessed"] is True
    assert result.json["user_id"] == "lucy"
    assert result.json["valid_until"] == NOW


def test_inspect_with_hashalg(core):
    ticket = core.TicketFactory(SECRET_BYTES, "sha3_256").new("lucy", valid_until=NOW)
    result = run(core, "inspect", ticket, "--hashalg", "sha3_256", "--json")
    assert result.status == 0
    assert (result.json["hashalg"], result.json["hashalg_guessed"]) == ("sha3_256", False)
    text = run(core, "inspect", ticket, "--hashalg", "sha3_256").out
    assert "hashalg:     sha3_256\n" in text


def test_inspect_with_the_wrong_hashalg(core):
    ticket = core.TicketFactory(SECRET_BYTES, "sha256").new("lucy", valid_until=NOW)
    invalid(run(core, "inspect", ticket, "--hashalg", "sha512"), "malformed: ticket is too short")
    result = run(core, "inspect", ticket, "--hashalg", "sha512", "--json")
    assert result.json == {
        "verified": False,
        "valid": False,
        "error": "malformed",
        "reason": "malformed: ticket is too short",
    }


def test_inspect_malformed(core):
    reason = "malformed: ticket is too short (as sha512; no usual digest length fits either)"
    invalid(run(core, "inspect", "abc"), reason)
    assert run(core, "inspect", "abc", "--json").json["reason"] == reason
    invalid(
        run(core, "inspect", "a" * 200),
        "malformed: missing '!' separators: expected user id, tokens "
        "and user data (as sha512; no usual digest length fits either)",
    )


def test_inspect_unknown_hashalg(core):
    usage_error(run(core, "inspect", "abc", "--hashalg", "nope"), "--hashalg: unknown hash algorithm 'nope'")


def test_inspect_reads_stdin(core, factory):
    ticket = factory.new("bob", valid_until=NOW)
    assert run(core, "inspect", "--json", stdin=ticket + "\n").json["user_id"] == "bob"


def test_inspect_takes_no_secret_options(core):
    usage_error(run(core, "inspect", "abc", "--secret-file", "x"), "unrecognized arguments: --secret-file")


# ---------------------------------------------------------------------------------------------
# --format mod_auth_tkt (Apache's cookies; ticket_auth.mod_auth_tkt.AuthTktFactory)

MAT = ("--format", "mod_auth_tkt")
NOW_ISO = "2023-11-14T22:13:20Z"  # NOW
NO_DIGEST_TYPE = "pass --hashalg md5|sha256|sha512 (TKTAuthDigestType)"
AUTHTKT_DIGESTS = ("md5", "sha256", "sha512")
AUTHTKT_HEX_LEN = {"md5": 32, "sha256": 64, "sha512": 128}


def authtkt(core, digest="sha256", secret=SECRET_BYTES, **kwargs):
    """The core's own AuthTktFactory, to mint what the CLI reads and check what it mints."""
    return core.module.AuthTktFactory(secret, digest, **kwargs)


def mat(core, *argv, digest="sha256", **kwargs):
    """``run`` with --format mod_auth_tkt and, unless ``digest`` is None, --hashalg."""
    hashalg = () if digest is None else ("--hashalg", digest)
    return run(core, *argv, *MAT, *hashalg, **kwargs)


def raw_ticket(core, digest="sha256", **fields):
    args = {"user_id": "bob", "timestamp": NOW, **fields}
    return authtkt(core, digest).new(raw=True, **args)


@pytest.mark.parametrize("digest", [*AUTHTKT_DIGESTS, "SHA256"])
def test_authtkt_new_prints_a_cookie_the_factory_validates(core, digest):
    result = mat(
        core,
        "new",
        "alice",
        "--token",
        "admin",
        "--token",
        "staff",
        "--user-data",
        "hi there!",
        "--timestamp",
        str(NOW),
        "--client-ip",
        "10.0.0.1",
        digest=digest,
    )
    assert result.status == 0 and result.err == ""
    cookie = result.out.rstrip("\n")
    assert result.out == cookie + "\n"
    factory = authtkt(core, digest.lower())
    assert cookie == factory.new("alice", ("admin", "staff"), "hi there!", NOW, "10.0.0.1")
    assert "!" not in cookie  # base64 by default
    info = factory.validate(cookie, client_ip="10.0.0.1", now=NOW + 1)
    assert info == (info.digest, "alice", ("admin", "staff"), "hi there!", NOW)
    assert len(info.digest) == AUTHTKT_HEX_LEN[digest.lower()]


@pytest.mark.parametrize("digest", AUTHTKT_DIGESTS)
def test_authtkt_new_raw(core, digest):
    result = mat(core, "new", "bob", "--token", "a", "--timestamp", str(NOW), "--raw", digest=digest)
    assert result.status == 0 and result.err == ""
    ticket = result.out.rstrip("\n")
    factory = authtkt(core, digest)
    assert ticket == factory.new("bob", ("a",), timestamp=NOW, raw=True)
    assert ticket[AUTHTKT_HEX_LEN[digest] :] == f"{NOW:08x}bob!a!"
    assert factory.validate(ticket, now=NOW).user_id == "bob"


def test_authtkt_new_digest_alias(core):
    result = run(core, "new", "bob", *MAT, "--digest", "md5", "--timestamp", str(NOW))
    assert result.out.strip() == authtkt(core, "md5").new("bob", timestamp=NOW)


def test_authtkt_new_default_timestamp_is_now(core):
    before = int(time.time())
    result = mat(core, "new", "bob", "--json")
    after = int(time.time())
    assert result.status == 0 and result.err == ""
    cookie = result.json["ticket"]
    assert result.json == {"format": "mod_auth_tkt", "ticket": cookie, "timestamp": result.json["timestamp"]}
    assert before <= result.json["timestamp"] <= after
    assert authtkt(core).validate(cookie).timestamp == result.json["timestamp"]


def test_authtkt_new_json(core):
    result = mat(core, "--json", "new", "bob", "--timestamp", str(NOW), "--raw")
    assert result.json == {
        "format": "mod_auth_tkt",
        "ticket": authtkt(core).new("bob", timestamp=NOW, raw=True),
        "timestamp": NOW,
    }


@pytest.mark.parametrize(
    ("argv", "call"),
    [
        (["a!b"], {"user_id": "a!b"}),
        (["bob", "--token", "x!y"], {"tokens": ["x!y"]}),
        (["bob", "--token", "x,y"], {"tokens": ["x,y"]}),
        (["bob", "--client-ip", "2001:db8::1"], {"client_ip": "2001:db8::1"}),
        (["bob", "--client-ip", "::ffff:10.0.0.1"], {"client_ip": "::ffff:10.0.0.1"}),
        (["bob", "--timestamp", str(2**32)], {"timestamp": 2**32}),
        (["bob", "--timestamp", "-1"], {"timestamp": -1}),
        (["bob", "--user-data", 'ends with "', "--raw"], {"user_data": 'ends with "', "raw": True}),
        (["bob", "--user-data", "nul\0"], {"user_data": "nul\0"}),
    ],
)
def test_authtkt_new_refuses_what_the_format_cannot_carry(core, argv, call):
    # Exit 2 with the library's own message.
    with pytest.raises(ValueError) as expected:
        authtkt(core).new(**{"user_id": "bob", **call})
    usage_error(mat(core, "new", *argv), f"error: {expected.value}\n")


def test_authtkt_new_base64_carries_a_trailing_quote(core):
    # Only the raw form cannot end with '"' (Apache drops it).
    cookie = mat(core, "new", "bob", "--user-data", 'say "hi"', "--timestamp", str(NOW)).out.strip()
    assert authtkt(core).validate(cookie, now=NOW).user_data == 'say "hi"'


def test_authtkt_new_user_id_that_is_not_utf8(core):
    usage_error(mat(core, "new", "bob\udcff"), "cannot encode the ticket's fields")


@pytest.mark.parametrize("command", [["new", "bob"], ["validate", "x"]])
def test_authtkt_hashalg_is_required(core, command, monkeypatch):
    result = usage_error(mat(core, *command, digest=None), NO_DIGEST_TYPE, "never chosen silently")
    assert result.err.startswith(f"ticket-auth {command[0]}: error: --format mod_auth_tkt needs")
    # Before the secret is even looked for.
    monkeypatch.delenv("TICKET_AUTH_SECRET")
    usage_error(mat(core, *command, digest=None), NO_DIGEST_TYPE)


@pytest.mark.parametrize("command", [["new", "bob"], ["validate", "x"], ["inspect", "x"]])
@pytest.mark.parametrize("digest", ["sha1", "sha384", "blake2b", "nope", ""])
def test_authtkt_hashalg_must_be_a_digest_type(core, command, digest):
    usage_error(
        mat(core, *command, digest=digest),
        f"--hashalg: digest must be one of 'md5', 'sha256', 'sha512' (TKTAuthDigestType), not {digest!r}",
    )


@pytest.mark.parametrize(
    "argv",
    [["--valid-for", "60"], ["--valid-until", str(NOW)], ["--valid-for", "0"], ["--valid-until", "0"]],
)
def test_authtkt_new_refuses_valid_for_and_valid_until(core, argv):
    usage_error(
        mat(core, "new", "bob", *argv),
        f"{argv[0]} does not apply to --format mod_auth_tkt: a mod_auth_tkt ticket carries its "
        "issue time (--timestamp EPOCH, default now)",
        "TKTAuthTimeout, given with --timeout SECONDS to 'validate'",
    )


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        (["new", "bob"], ["--timestamp", str(NOW)]),
        (["new", "bob"], ["--timestamp", "0"]),
        (["new", "bob"], ["--raw"]),
        (["validate", "x"], ["--timeout", "60"]),
        (["validate", "x"], ["--timeout", "0"]),
        (["inspect", "x"], ["--timeout", "60"]),
    ],
)
def test_ticket_auth_refuses_the_mod_auth_tkt_options(core, command, argv):
    usage_error(run(core, *command, *argv), f"{argv[0]} does not apply to --format ticket_auth: ")


@pytest.mark.parametrize("command", [["new", "bob"], ["validate", "x"]])
def test_authtkt_refuses_an_encoding_other_than_utf8(core, command):
    usage_error(
        mat(core, *command, "--encoding", "utf-16"),
        "--encoding does not apply to --format mod_auth_tkt: its fields are always UTF-8",
    )


def test_authtkt_accepts_encoding_utf8(core):
    result = mat(core, "new", "bob", "--encoding", "UTF8", "--timestamp", str(NOW))
    assert result.out.strip() == authtkt(core).new("bob", timestamp=NOW)


@pytest.mark.parametrize("command", [["validate", "x"], ["inspect", "x"]])
@pytest.mark.parametrize("value", ["-1", str(2**32), "2h", "1.5", "soon"])
def test_authtkt_bad_timeout(core, command, value):
    usage_error(
        mat(core, *command, "--timeout", value),
        f"argument --timeout: not a number of seconds from 0 (no timeout) to 4294967295: {value!r}",
    )


@pytest.mark.parametrize("address", ["2001:db8::1", "::ffff:10.0.0.1"])
def test_authtkt_validate_refuses_an_ipv6_client_ip(core, address):
    # Exit 2 with the library's message, even before the (here malformed) ticket is read.
    with pytest.raises(ValueError) as expected:
        authtkt(core).validate(raw_ticket(core), client_ip=address)
    assert "IPv4 addresses only" in str(expected.value)
    for ticket in (raw_ticket(core), "not a ticket"):
        usage_error(mat(core, "validate", ticket, "--client-ip", address), f"error: {expected.value}\n")


def test_authtkt_validate_valid(core):
    cookie = authtkt(core).new("alice", ("admin", "staff"), "hi there", NOW)
    result = mat(core, "validate", cookie, "--now", str(NOW + 300))
    assert result.status == 0 and result.err == ""
    assert result.out == (
        "valid:       yes\n"
        "user_id:     alice\n"
        'tokens:      ["admin", "staff"]\n'
        "user_data:   hi there\n"
        f"timestamp:   {NOW} ({NOW_ISO}, issued 5m ago)\n"
        f"expires_at:  {NOW + 7200} (2023-11-15T00:13:20Z, expires in 1h 55m)\n"
    )


@pytest.mark.parametrize("digest", AUTHTKT_DIGESTS)
def test_authtkt_validate_valid_json(core, digest):
    cookie = authtkt(core, digest).new("alice", ("admin",), timestamp=NOW, client_ip="10.0.0.1")
    result = mat(
        core,
        "validate",
        cookie,
        "--now",
        str(NOW + 30),
        "--timeout",
        "90",
        "--client-ip",
        "10.0.0.1",
        "--json",
        digest=digest.upper(),
    )
    assert result.status == 0 and result.err == ""
    assert result.json == {
        "valid": True,
        "format": "mod_auth_tkt",
        "user_id": "alice",
        "tokens": ["admin"],
        "user_data": "",
        "timestamp": NOW,
        "timestamp_iso": NOW_ISO,
        "issued": "issued 30s ago",
        "timeout": 90,
        "expires_at": NOW + 90,
        "expires_at_iso": "2023-11-14T22:14:50Z",
        "expired": False,
        "seconds_left": 60,
        "expiry": "expires in 1m",
        "digest": authtkt(core, digest).parse(cookie).digest,
        "hashalg": digest,
    }


def test_authtkt_validate_no_timeout(core):
    cookie = authtkt(core).new("bob", timestamp=NOW)
    now = str(NOW + 10 * 365 * 86400)
    result = mat(core, "validate", cookie, "--now", now, "--timeout", "0")
    assert result.status == 0
    assert result.out.endswith(f"timestamp:   {NOW} ({NOW_ISO}, issued 10y ago)\nexpires_at:  no timeout\n")
    fields = mat(core, "validate", cookie, "--now", now, "--timeout", "0", "--json").json
    assert (fields["timeout"], fields["expires_at"], fields["expires_at_iso"]) == (0, None, None)
    assert (fields["expired"], fields["seconds_left"], fields["expiry"]) == (False, None, "no timeout")


def test_authtkt_validate_default_timeout_is_apaches(core):
    cookie = authtkt(core).new("bob", timestamp=NOW)
    assert mat(core, "validate", cookie, "--now", str(NOW + 7200)).status == 0  # Apache: >= now
    invalid(
        mat(core, "validate", cookie, "--now", str(NOW + 7201)),
        "expired at 2023-11-15T00:13:20Z (1s ago; issued at 2023-11-14T22:13:20Z, timeout 7200s)",
    )


def test_authtkt_validate_default_now(core):
    cookie = authtkt(core).new("bob")
    result = mat(core, "validate", cookie, "--json")
    assert result.status == 0
    assert 7000 < result.json["seconds_left"] <= 7200


def test_authtkt_validate_future_timestamp(core):
    # Apache does not refuse tickets issued in the future; neither does the library.
    cookie = authtkt(core).new("bob", timestamp=NOW + 90)
    result = mat(core, "validate", cookie, "--now", str(NOW), "--json")
    assert result.status == 0
    assert result.json["issued"] == "issued in the future (in 1m 30s)"


def test_authtkt_expiry_wraps_at_2_to_the_32_like_apache(core):
    # Apache compares (timestamp + timeout) mod 2**32 with now mod 2**32; so does the library,
    # and the CLI says so instead of printing a contradictory "expires in"/"expired ago".
    late = authtkt(core).new("bob", timestamp=2**32 - 100)
    result = mat(core, "validate", late, "--now", str(2**32 - 50), "--json")
    assert result.status == 1
    assert result.json["expiry"] == "expired (Apache counts time modulo 2**32)"
    cookie = authtkt(core).new("bob", timestamp=NOW)
    result = mat(core, "validate", cookie, "--now", str(NOW + 2**32), "--json")
    assert result.status == 0
    assert result.json["expiry"] == "not expired (Apache counts time modulo 2**32)"


@pytest.mark.parametrize(
    ("ago", "text", "issued"),
    [
        (1, "1s", "1m 1s"),
        (180, "3m", "4m"),
        (3725, "1h 2m", "1h 3m"),
        (2 * 86400 + 3 * 3600 + 60, "2d 3h", "2d 3h"),
    ],
)
def test_authtkt_validate_expired(core, ago, text, issued):
    cookie = authtkt(core).new("bob", ("admin",), "x", NOW)
    now = str(NOW + 60 + ago)
    reason = f"expired at 2023-11-14T22:14:20Z ({text} ago; issued at {NOW_ISO}, timeout 60s)"
    invalid(mat(core, "validate", cookie, "--now", now, "--timeout", "60"), reason)
    result = mat(core, "validate", cookie, "--now", now, "--timeout", "60", "--json")
    assert result.status == 1 and result.err == ""
    assert result.json == {
        "format": "mod_auth_tkt",
        "valid": False,
        "error": "expired",
        "reason": reason,
        "user_id": "bob",
        "tokens": ["admin"],
        "user_data": "x",
        "timestamp": NOW,
        "timestamp_iso": NOW_ISO,
        "issued": f"issued {issued} ago",
        "timeout": 60,
        "expires_at": NOW + 60,
        "expires_at_iso": "2023-11-14T22:14:20Z",
        "expired": True,
        "seconds_left": -ago,
        "expiry": f"expired {text} ago",
    }


@pytest.mark.parametrize("form", ["base64", "raw", "quoted", "unpadded", "escaped"])
def test_authtkt_validate_reads_every_cookie_form(core, form):
    ticket = raw_ticket(core, tokens=("admin",), user_data="d")
    cookie = {
        "base64": authtkt(core).new("bob", ("admin",), "d", NOW),
        "raw": ticket,
        "quoted": f'"{ticket}"',
        "unpadded": authtkt(core).new("bob", ("admin",), "d", NOW).rstrip("="),
        "escaped": ticket.replace("!", "%21"),
    }[form]
    result = mat(core, "validate", cookie, "--now", str(NOW), "--json")
    assert result.status == 0, result.err
    assert (result.json["user_id"], result.json["tokens"], result.json["user_data"]) == (
        "bob",
        ["admin"],
        "d",
    )


def test_authtkt_validate_reads_stdin(core):
    cookie = authtkt(core).new("bob", timestamp=NOW)
    result = mat(core, "validate", "--now", str(NOW), "--json", stdin=f" {cookie}\n")
    assert result.status == 0 and result.json["user_id"] == "bob"


@pytest.mark.parametrize("case", ["secret", "client-ip", "unbound", "tamper", "timestamp"])
def test_authtkt_validate_bad_digest(core, tmp_path, case):
    ticket = raw_ticket(core, tokens=("admin",), client_ip="10.0.0.1")
    argv = ["--client-ip", "10.0.0.1"]
    if case == "secret":
        (tmp_path / "other").write_bytes(b"another secret")
        argv += ["--secret-file", str(tmp_path / "other")]
    elif case == "client-ip":
        argv = ["--client-ip", "10.0.0.2"]
    elif case == "unbound":
        argv = []
    elif case == "tamper":
        ticket = ticket.replace("admin", "root")
    else:  # an older ticket does not become a newer one
        ticket = ticket.replace(f"{NOW:08x}", f"{NOW + 3600:08x}")
    invalid(mat(core, "validate", ticket, "--now", str(NOW), *argv), BAD_DIGEST)
    result = mat(core, "validate", ticket, "--now", str(NOW), "--json", *argv)
    assert result.status == 1
    assert result.json == {
        "format": "mod_auth_tkt",
        "valid": False,
        "error": "bad_digest",
        "reason": BAD_DIGEST,
    }


def test_authtkt_validate_digest_is_checked_before_expiry(core):
    ticket = raw_ticket(core)
    invalid(mat(core, "validate", ticket, "--now", str(NOW + 10**6), "--client-ip", "1.2.3.4"), BAD_DIGEST)


def test_authtkt_validate_client_ip(core):
    cookie = authtkt(core).new("bob", timestamp=NOW, client_ip="203.0.113.7")
    assert mat(core, "validate", cookie, "--now", str(NOW), "--client-ip", "203.0.113.7").status == 0


def _b64(raw):
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("make", "msg"),
    [
        (lambda t: "abc", "cookie is not a raw ticket and not base64 of one"),
        (lambda t: t[:20] + "!", "ticket is too short"),
        (lambda t: t[:64].upper() + t[64:], "digest is not lowercase hex"),
        (lambda t: t[:64] + "0000000g" + t[72:], "timestamp is not 8 lowercase hex digits"),
        (lambda t: _b64(t.encode() + b"\0"), "ticket contains a NUL byte"),
        (lambda t: _b64(t[:72].encode() + b"\xff" + t[72:].encode()), "user id is not UTF-8"),
        (lambda t: t.replace("!", "%21") + "%", "cookie has a malformed %XX escape"),
    ],
)
def test_authtkt_validate_malformed(core, make, msg):
    cookie = make(raw_ticket(core, user_data="d"))
    invalid(mat(core, "validate", cookie, "--now", str(NOW)), f"malformed: {msg}")
    result = mat(core, "validate", cookie, "--now", str(NOW), "--json")
    assert result.status == 1 and result.err == ""
    assert result.json == {
        "format": "mod_auth_tkt",
        "valid": False,
        "error": "malformed",
        "reason": f"malformed: {msg}",
    }


@pytest.mark.parametrize(
    ("user_data", "msg"), [("", "ticket is too short"), ("x" * 80, "digest is not lowercase hex")]
)
def test_authtkt_validate_malformed_hints_at_a_shorter_digest(core, user_data, msg):
    cookie = authtkt(core, "sha256").new("lucy", user_data=user_data, timestamp=NOW)
    invalid(
        mat(core, "validate", cookie, "--now", str(NOW), digest="sha512"),
        f"malformed: {msg} (its digest length fits sha256: if it is a sha256 ticket, pass --hashalg sha256)",
    )


def test_ticket_auth_format_hints_at_a_mod_auth_tkt_cookie(core):
    cookie = authtkt(core, "md5").new("lucy", timestamp=NOW)
    invalid(
        run(core, "validate", cookie, "--now", str(NOW)),
        "malformed: ticket is too short "
        "(it reads as a mod_auth_tkt cookie: pass --format mod_auth_tkt --hashalg md5)",
    )
    invalid(
        run(core, "inspect", cookie),
        "malformed: ticket is too short (as sha512; no usual digest length fits either; "
        "it reads as a mod_auth_tkt cookie: pass --format mod_auth_tkt)",
    )
    assert mat(core, "validate", cookie, "--now", str(NOW), digest="md5").status == 0


def test_authtkt_validate_hostile_fields_are_escaped(core):
    cookie = authtkt(core).new("\x1b[2Jroot", ("\x1b]0;x\x07",), "line1\nline2", NOW)
    result = mat(core, "validate", cookie, "--now", str(NOW))
    assert result.status == 0
    assert "\x1b" not in result.out and "\x07" not in result.out
    assert 'user_id:     "\\u001b[2Jroot"\n' in result.out
    assert 'user_data:   "line1\\nline2"\n' in result.out


def test_authtkt_inspect_needs_no_secret(core, monkeypatch):
    monkeypatch.delenv("TICKET_AUTH_SECRET")
    cookie = authtkt(core).new("alice", ("admin",), "x", NOW)
    result = mat(core, "inspect", cookie, "--now", str(NOW + 59), digest=None)
    assert result.status == 0 and result.err == ""
    digest = authtkt(core).parse(cookie).digest
    assert result.out == (
        "UNVERIFIED: the digest was not checked (inspect uses no secret); use 'validate' to check it\n"
        "user_id:     alice\n"
        'tokens:      ["admin"]\n'
        "user_data:   x\n"
        f"timestamp:   {NOW} ({NOW_ISO}, issued 59s ago)\n"
        "expires_at:  unknown: pass --timeout SECONDS (TKTAuthTimeout)\n"
        f"digest:      {digest}\n"
        "hashalg:     sha256 (guessed from the 64-character digest; pass --hashalg if it is another)\n"
    )


def test_authtkt_inspect_with_timeout(core):
    cookie = authtkt(core).new("alice", timestamp=NOW)
    result = mat(core, "inspect", cookie, "--now", str(NOW + 180), "--timeout", "60", digest=None)
    assert f"expires_at:  {NOW + 60} (2023-11-14T22:14:20Z, expired 2m ago)\n" in result.out
    result = mat(core, "inspect", cookie, "--now", str(NOW), "--timeout", "0", digest=None)
    assert "expires_at:  no timeout\n" in result.out


def test_authtkt_inspect_json(core):
    cookie = authtkt(core, "md5").new("alice", ("admin",), "x", NOW)
    result = mat(core, "inspect", cookie, "--now", str(NOW + 10), "--timeout", "7200", "--json", digest=None)
    assert result.status == 0 and result.err == ""
    assert result.json == {
        "verified": False,
        "format": "mod_auth_tkt",
        "user_id": "alice",
        "tokens": ["admin"],
        "user_data": "x",
        "timestamp": NOW,
        "timestamp_iso": NOW_ISO,
        "issued": "issued 10s ago",
        "timeout": 7200,
        "expires_at": NOW + 7200,
        "expires_at_iso": "2023-11-15T00:13:20Z",
        "expired": False,
        "seconds_left": 7190,
        "expiry": "expires in 1h 59m",
        "digest": authtkt(core, "md5").parse(cookie).digest,
        "hashalg": "md5",
        "hashalg_guessed": True,
    }
    unknown = mat(core, "inspect", cookie, "--json", digest=None).json
    assert (unknown["timeout"], unknown["expires_at"], unknown["expired"], unknown["seconds_left"]) == (
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize("digest", AUTHTKT_DIGESTS)
@pytest.mark.parametrize("form", ["base64", "raw", "quoted", "unpadded"])
def test_authtkt_inspect_guesses_the_digest_in_any_form(core, digest, form):
    cookie = authtkt(core, digest).new("lucy", ("a",), "d", NOW, raw=form in ("raw", "quoted"))
    cookie = {"quoted": f'"{cookie}"', "unpadded": cookie.rstrip("=")}.get(form, cookie)
    result = mat(core, "inspect", cookie, "--json", digest=None)
    assert result.status == 0, result.err
    assert (result.json["hashalg"], result.json["hashalg_guessed"]) == (digest, True)
    assert (result.json["user_id"], result.json["tokens"], result.json["timestamp"]) == ("lucy", ["a"], NOW)


def test_authtkt_inspect_ignores_the_digest(core):
    ticket = raw_ticket(core)
    forged = "0" * 64 + ticket[64:]
    result = mat(core, "inspect", forged, "--json", digest=None)
    assert (result.status, result.json["verified"], result.json["user_id"]) == (0, False, "bob")


def test_authtkt_inspect_with_hashalg(core):
    cookie = authtkt(core, "md5").new("lucy", timestamp=NOW)
    result = mat(core, "inspect", cookie, "--json", digest="MD5")
    assert (result.json["hashalg"], result.json["hashalg_guessed"]) == ("md5", False)
    assert "hashalg:     md5\n" in mat(core, "inspect", cookie, digest="md5").out
    # A longer digest does not fit.
    invalid(mat(core, "inspect", cookie, digest="sha256"), "malformed: ticket is too short")
    assert mat(core, "inspect", cookie, "--json", digest="sha256").json == {
        "verified": False,
        "format": "mod_auth_tkt",
        "valid": False,
        "error": "malformed",
        "reason": "malformed: ticket is too short",
    }


def test_authtkt_inspect_malformed(core):
    reason = "malformed: cookie is not a raw ticket and not base64 of one (as sha512; no usual digest length fits either)"
    invalid(mat(core, "inspect", "abc", digest=None), reason)
    assert mat(core, "inspect", "abc", "--json", digest=None).json == {
        "verified": False,
        "format": "mod_auth_tkt",
        "valid": False,
        "error": "malformed",
        "reason": reason,
    }


def test_authtkt_core_option_picks_the_core(core, monkeypatch):
    argv = ["--core", core.name, "validate", raw_ticket(core), *MAT, "--hashalg", "sha256", "--now", str(NOW)]
    made = []
    real = core.module.AuthTktFactory
    monkeypatch.setattr(core.module, "AuthTktFactory", lambda *a, **k: made.append((a, k)) or real(*a, **k))
    out, err = io.StringIO(), io.StringIO()
    assert main(argv, stdout=out, stderr=err) == 0, err.getvalue()
    assert made == [((SECRET_BYTES, "sha256"), {"timeout": 7200})]


def test_authtkt_default_class_is_the_librarys():
    from ticket_auth.mod_auth_tkt import AuthTktFactory

    out = io.StringIO()
    argv = ["new", "bob", *MAT, "--hashalg", "sha512", "--timestamp", str(NOW)]
    assert main(argv, stdout=out, stderr=io.StringIO()) == 0
    assert AuthTktFactory(SECRET_BYTES, "sha512").validate(out.getvalue().strip(), now=NOW).user_id == "bob"


def test_authtkt_help(core):
    new_help = run(core, "new", "--help").out
    assert all(option in new_help for option in ("--timestamp", "--raw", "mod_auth_tkt", "--digest"))
    validate_help = run(core, "validate", "--help").out
    assert "--timeout" in validate_help and "TKTAuthDigestType" in validate_help
    assert "--timeout" in run(core, "inspect", "--help").out


# ---------------------------------------------------------------------------------------------
# The parser itself


def test_no_command(core):
    usage_error(run(core), "the following arguments are required: COMMAND")


def test_unknown_command(core):
    usage_error(run(core, "mint", "bob"), "invalid choice: 'mint'")


def test_unknown_option(core):
    usage_error(run(core, "validate", "x", "--frobnicate"), "unrecognized arguments: --frobnicate")


@pytest.mark.parametrize("command", [[], ["new"], ["validate"], ["inspect"]])
def test_help(core, command):
    result = run(core, *command, "--help")
    assert result.status == 0 and result.err == ""
    assert result.out.startswith("usage: ticket-auth")
    assert "--json" in result.out


def test_help_explains_the_secret(core):
    text = run(core, "--help").out
    assert "TICKET_AUTH_SECRET" in text and "--secret-file wins" in text
    assert "--secret-file" in run(core, "new", "--help").out
    assert "--secret " not in run(core, "new", "--help").out


def test_version(core):
    import ticket_auth

    result = run(core, "--version")
    assert (result.status, result.out) == (0, f"ticket-auth {ticket_auth.__version__}\n")


def test_core_option_picks_the_core(core, monkeypatch):
    # conftest's ``core``: .name is "compiled" or "pure", .module the core module.
    made = []
    real = core.module.TicketFactory
    monkeypatch.setattr(core.module, "TicketFactory", lambda *args: made.append(args) or real(*args))
    out, err = io.StringIO(), io.StringIO()
    assert main(["--core", core.name, "new", "bob"], stdout=out, stderr=err) == 0
    assert made == [(SECRET_BYTES, "sha512")]
    real(SECRET_BYTES).validate(out.getvalue().strip())


def test_default_core_is_the_librarys():
    import ticket_auth

    out = io.StringIO()
    assert main(["new", "bob"], stdout=out, stderr=io.StringIO()) == 0
    ticket_auth.TicketFactory(SECRET_BYTES).validate(out.getvalue().strip())


def test_main_reads_sys_argv_and_streams(monkeypatch, capsys, factory):
    ticket = factory.new("bob", valid_until=NOW + 1)
    monkeypatch.setattr(sys, "argv", ["ticket-auth", "validate", ticket, "--now", str(NOW), "--json"])
    assert main(factory_class=type(factory)) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["user_id"] == "bob"
    monkeypatch.setattr(sys, "argv", ["ticket-auth", "validate", "bad", "--now", str(NOW)])
    assert main(factory_class=type(factory)) == 1
    assert capsys.readouterr().err == "invalid ticket: malformed: ticket is too short\n"
    monkeypatch.setattr(sys, "argv", ["ticket-auth", "frob"])
    assert main() == 2
    assert "ticket-auth: error: argument COMMAND: invalid choice: 'frob'" in capsys.readouterr().err


def test_console_script_entry_point():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    target = project["scripts"]["ticket-auth"]
    module_name, _, attribute = target.partition(":")
    assert getattr(importlib.import_module(module_name), attribute) is cli.main


# ---------------------------------------------------------------------------------------------
# Real processes


def _python(*args, env=None, input=None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TICKET_AUTH_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=input,
        timeout=60,
        check=False,
    )


def test_subprocess_help():
    proc = _python("-m", "ticket_auth", "--help")
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: python -m ticket_auth")
    assert proc.stderr == ""


@pytest.mark.parametrize(
    "core_env", [{}, {"TICKET_AUTH_NO_EXTENSIONS": "1"}], ids=["default", "no-extensions"]
)
def test_subprocess_round_trip_and_exit_codes(core_env):
    env = {"TICKET_AUTH_SECRET": SECRET, **core_env}
    new = _python("-m", "ticket_auth", "new", "alice", "--token", "admin", env=env)
    assert new.returncode == 0, new.stderr
    ticket = new.stdout.strip()
    ok = _python("-m", "ticket_auth", "validate", ticket, env=env)
    assert ok.returncode == 0, ok.stderr
    assert "user_id:     alice" in ok.stdout
    piped = _python("-m", "ticket_auth", "validate", "--json", env=env, input=ticket + "\n")
    assert piped.returncode == 0 and json.loads(piped.stdout)["tokens"] == ["admin"]
    expired = _python("-m", "ticket_auth", "validate", ticket, "--now", "4294967295", env=env)
    assert expired.returncode == 1
    assert re.fullmatch(r"invalid ticket: expired at \S+Z \(.+ ago\)\n", expired.stderr)
    no_secret = _python("-m", "ticket_auth", "validate", ticket, env=core_env)
    assert no_secret.returncode == 2 and "TICKET_AUTH_SECRET" in no_secret.stderr
    for proc in (new, ok, piped, expired, no_secret):
        assert SECRET not in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "core_env", [{}, {"TICKET_AUTH_NO_EXTENSIONS": "1"}], ids=["default", "no-extensions"]
)
def test_subprocess_mod_auth_tkt_round_trip(core_env):
    from ticket_auth.mod_auth_tkt import AuthTktFactory

    env = {"TICKET_AUTH_SECRET": SECRET, **core_env}
    options = ["--format", "mod_auth_tkt", "--hashalg", "sha256"]
    new = _python("-m", "ticket_auth", "new", "alice", *options, env=env)
    assert new.returncode == 0, new.stderr
    cookie = new.stdout.strip()
    assert AuthTktFactory(SECRET_BYTES, "sha256").validate(cookie).user_id == "alice"
    ok = _python("-m", "ticket_auth", "validate", cookie, *options, env=env)
    assert ok.returncode == 0, ok.stderr
    assert "user_id:     alice" in ok.stdout
    no_digest = _python("-m", "ticket_auth", "validate", cookie, "--format", "mod_auth_tkt", env=env)
    assert no_digest.returncode == 2
    assert "pass --hashalg md5|sha256|sha512 (TKTAuthDigestType)" in no_digest.stderr
    for proc in (new, ok, no_digest):
        assert SECRET not in proc.stdout + proc.stderr


def test_import_ticket_auth_does_not_load_the_cli():
    proc = _python(
        "-c",
        "import sys, ticket_auth; "
        "assert 'argparse' not in sys.modules, 'argparse'; "
        "assert 'ticket_auth.cli' not in sys.modules, 'cli'",
    )
    assert proc.returncode == 0, proc.stderr
