"""The command line (``python -m ticket_auth`` / ``ticket-auth``): every subcommand, exit status
and error path, in-process on both cores (conftest's ``core`` fixture), plus a few real
subprocess runs.

Every in-process run goes through ``run``, which also checks that the secret never appears in
stdout or stderr.
"""

import importlib
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import time
import types
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
    status = main(list(argv), factory_class=core.TicketFactory, stdin=stdin_stream, stdout=out, stderr=err)
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


def test_format_mod_auth_tkt_not_available(core):
    if importlib.util.find_spec("ticket_auth.mod_auth_tkt") is not None:
        pytest.skip("ticket_auth.mod_auth_tkt exists in this version")
    for command in (["new", "bob"], ["validate", "x"], ["inspect", "x"]):
        usage_error(
            run(core, *command, "--format", "mod_auth_tkt"),
            "mod_auth_tkt format is not available in this version",
        )


def test_format_mod_auth_tkt_uses_the_module_when_present(core, monkeypatch):
    module = types.ModuleType("ticket_auth.mod_auth_tkt")
    module.AuthTktFactory = lambda *args: created.append(args) or core.TicketFactory(*args)
    created = []
    monkeypatch.setitem(sys.modules, "ticket_auth.mod_auth_tkt", module)
    result = run(core, "new", "bob", "--format", "mod_auth_tkt", "--valid-until", "99")
    assert result.status == 0
    assert created == [(SECRET_BYTES, "sha512")]


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


def test_import_ticket_auth_does_not_load_the_cli():
    proc = _python(
        "-c",
        "import sys, ticket_auth; "
        "assert 'argparse' not in sys.modules, 'argparse'; "
        "assert 'ticket_auth.cli' not in sys.modules, 'cli'",
    )
    assert proc.returncode == 0, proc.stderr
