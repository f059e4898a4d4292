"""The command line (``python -m ticket_auth`` / ``ticket-auth``): every subcommand, exit status
and error path, for both formats (ticket_auth and mod_auth_tkt).

The cases run in-process (``main(argv)``, pytest's capture) on the library's default core; the
tests at the end run a few of them with ``--core compiled`` and ``--core pure`` across each
other, and a few in real processes. Every in-process run goes through ``run``, which also checks
that the secret never appears in stdout or stderr.
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

import ticket_auth
from ticket_auth import cli
from ticket_auth.cli import main
from ticket_auth.mod_auth_tkt import AuthTktFactory

SECRET = "s3cr3t-Zq9-cli"
SECRET_BYTES = SECRET.encode()
ROOT = Path(__file__).resolve().parent.parent
NOW = 1_700_000_000
NOW_ISO = "2023-11-14T22:13:20Z"  # NOW
FUTURE = 4_000_000_000  # 2096: a --valid-until that is not in the past
BAD_DIGEST = "bad digest (wrong secret, wrong client IP, wrong hash algorithm, or tampered)"
MAT = ("--format", "mod_auth_tkt")
NO_DIGEST_TYPE = "pass --hashalg md5|sha256|sha512 (TKTAuthDigestType)"
AUTHTKT_DIGESTS = ("md5", "sha256", "sha512")
AUTHTKT_HEX_LEN = {"md5": 32, "sha256": 64, "sha512": 128}
FACTORY = ticket_auth.TicketFactory(SECRET_BYTES)


@pytest.fixture(autouse=True)
def _secret_env(monkeypatch):
    monkeypatch.setenv("TICKET_AUTH_SECRET", SECRET)
    monkeypatch.delenv("TICKET_AUTH_NO_EXTENSIONS", raising=False)


class Result:
    def __init__(self, status, out, err):
        self.status, self.out, self.err = status, out, err

    @property
    def json(self):
        assert self.out.endswith("\n") and self.out.count("\n") == 1, self.out
        return json.loads(self.out)


@pytest.fixture
def run(capsys, monkeypatch):
    """``run(*argv, stdin="", secrets=...)``: ``main(argv)`` -> Result."""

    def run(*argv, stdin="", secrets=(SECRET,)):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin) if isinstance(stdin, str) else stdin)
        status = main(list(argv))
        result = Result(status, *capsys.readouterr())
        for secret in secrets:
            assert secret not in result.out
            assert secret not in result.err
        assert "Traceback" not in result.err
        return result

    return run


@pytest.fixture
def mat(run):
    """``run`` with --format mod_auth_tkt and, unless ``digest`` is None, --hashalg."""

    def mat(*argv, digest="sha256", **kwargs):
        return run(*argv, *MAT, *(() if digest is None else ("--hashalg", digest)), **kwargs)

    return mat


def usage_error(result, *fragments):
    """Exit 2 with the fragments on stderr, whose last line says what is wrong, and nothing
    on stdout."""
    assert result.status == 2, (result.out, result.err)
    assert result.out == ""
    assert result.err.endswith("\n") and ": error: " in result.err.splitlines()[-1]
    for fragment in fragments:
        assert fragment in result.err
    return result


def succeeded(result):
    """Exit 0 and nothing on stderr."""
    assert (result.status, result.err) == (0, ""), (result.out, result.err)
    return result


def invalid(result, line):
    """Exit 1 with exactly one line on stderr and nothing on stdout."""
    assert result.status == 1, (result.out, result.err)
    assert result.out == ""
    assert result.err == f"invalid ticket: {line}\n"
    return result


def authtkt(digest="sha256", secret=SECRET_BYTES, **kwargs):
    """The library's AuthTktFactory, to mint what the CLI reads and check what it mints."""
    return AuthTktFactory(secret, digest, **kwargs)


def raw_ticket(digest="sha256", **fields):
    return authtkt(digest).new(raw=True, **{"user_id": "bob", "timestamp": NOW, **fields})


# ---------------------------------------------------------------------------------------------
# Usage errors (exit 2) that need no set-up


def _cases():
    digest_error = "--hashalg: digest must be one of 'md5', 'sha256', 'sha512' (TKTAuthDigestType), not {!r}"
    lifetime = "does not apply to --format mod_auth_tkt: a mod_auth_tkt ticket carries its issue time"
    timeout = "argument --timeout: not a number of seconds from 0 (no timeout) to 4294967295: {!r}"
    mat = ("--format", "mod_auth_tkt", "--hashalg", "sha256")
    yield (
        ["new", "bob", "--valid-for", "1", "--valid-until", "5"],
        "--valid-until: not allowed with argument --valid-for",
    )
    for value in (str(2**32), "-1"):
        yield ["new", "bob", "--valid-until", value], "valid_until must be between 0 and 4294967295"
    yield ["new", "bob", "--valid-for", str(2**32)], "valid_until must be between"
    for option in ("--valid-until", "--valid-for"):
        yield ["new", "bob", option, "soon"], f"argument {option}: not an integer: 'soon'"
    for hashalg in ("nope", "shake_128"):
        yield ["new", "bob", "--hashalg", hashalg], "--hashalg: ", repr(hashalg)
    yield ["validate", "x", "--hashalg", "md7"], "--hashalg: unknown hash algorithm 'md7'"
    yield ["inspect", "abc", "--hashalg", "nope"], "--hashalg: unknown hash algorithm 'nope'"
    yield ["new", "bob", "--client-ip", "10.0.0"], "--client-ip: not an IPv4 or IPv6 address"
    yield (
        ["validate", "x", "--client-ip", "not-an-ip"],
        "argument --client-ip: not an IPv4 or IPv6 address: 'not-an-ip'",
    )
    for command in (["new", "bob"], ["validate", "x"]):
        for encoding in ("klingon", "no-such-codec"):
            yield [*command, "--encoding", encoding], f"argument --encoding: unknown encoding: {encoding!r}"
        for encoding in ("rot13", "hex", "base64"):  # codecs, but not text encodings
            yield (
                [*command, "--encoding", encoding],
                f"argument --encoding: not a text encoding: {encoding!r}",
            )
    yield ["new", "bob\udcff"], "cannot encode the ticket's fields"  # a non-UTF-8 byte in argv on POSIX
    yield ["new", "bob\udcff", *mat], "cannot encode the ticket's fields"
    yield ["new"], "the following arguments are required: USER_ID"
    for argv in (["new", ""], ["new", "", *mat]):
        yield argv, "error: USER_ID is empty: a ticket must name its user\n"
    for value in ("-5", "0"):
        yield ["new", "bob", "--valid-for", value], f"--valid-for must be at least 1 second, not {value} "
    yield ["new", "bob", "--format", "jwt"], "invalid choice: 'jwt'"
    for now in ("soon", "nan", "inf"):
        yield ["validate", "x", "--now", now], "argument --now:"
    yield ["validate", ""], "the ticket is empty"
    yield ["inspect", "abc", "--secret-file", "x"], "unrecognized arguments: --secret-file"
    yield [], "the following arguments are required: COMMAND"
    yield ["mint", "bob"], "invalid choice: 'mint'"
    yield ["validate", "x", "--frobnicate"], "unrecognized arguments: --frobnicate"
    # --format mod_auth_tkt
    for command in (["new", "bob"], ["validate", "x"], ["inspect", "x"]):
        for digest in ("sha1", "sha384", "blake2b", "nope", ""):
            yield [*command, *MAT, "--hashalg", digest], digest_error.format(digest)
    for option, value in (
        ("--valid-for", "60"),
        ("--valid-until", str(NOW)),
        ("--valid-for", "0"),
        ("--valid-until", "0"),
    ):
        argv = ["new", "bob", *mat, option, value]
        yield argv, f"{option} {lifetime}", "TKTAuthTimeout, given with --timeout SECONDS"
    for command, argv in [
        (["new", "bob"], ["--timestamp", str(NOW)]),
        (["new", "bob"], ["--timestamp", "0"]),
        (["new", "bob"], ["--raw"]),
        (["validate", "x"], ["--timeout", "60"]),
        (["validate", "x"], ["--timeout", "0"]),
        (["inspect", "x"], ["--timeout", "60"]),
    ]:
        yield [*command, *argv], f"{argv[0]} does not apply to --format ticket_auth: "
    for command in (["new", "bob"], ["validate", "x"]):
        yield (
            [*command, *mat, "--encoding", "utf-16"],
            "--encoding does not apply to --format mod_auth_tkt: its fields are always UTF-8",
        )
    for command in (["validate", "x"], ["inspect", "x"]):
        for value in ("-1", str(2**32), "2h", "1.5", "soon"):
            yield [*command, *MAT, "--timeout", value], timeout.format(value)


@pytest.mark.parametrize(
    ("argv", "fragments"), [(case[0], case[1:]) for case in _cases()], ids=[" ".join(c[0]) for c in _cases()]
)
def test_usage_error(run, argv, fragments):
    usage_error(run(*argv), *fragments)


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["validate"], " \n", "no ticket on stdin"),
        (["inspect", "-"], "", "no ticket on stdin"),
        (["validate"], "TTY", "no ticket: pass it as an argument or pipe it on stdin"),
        (["inspect"], "TTY", "no ticket: pass it as an argument or pipe it on stdin"),
    ],
)
def test_no_ticket(run, argv, stdin, message):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    usage_error(run(*argv, stdin=Terminal() if stdin == "TTY" else stdin), message)


# ---------------------------------------------------------------------------------------------
# new


def test_new_prints_a_ticket_the_core_validates(run):
    argv = ["--token", "admin", "--token", "a,b!c", "--user-data", "hi there", "--client-ip", "10.0.0.1"]
    result = run("new", "alice", *argv, "--valid-until", str(NOW + 60))
    assert result.status == 0
    # NOW + 60 is in the past: the ticket is minted, and stderr says it has already expired.
    assert re.fullmatch(
        r"note: this ticket has already expired \(--valid-until is .+ in the past\)\n", result.err
    )
    ticket = result.out.rstrip("\n")
    assert result.out == ticket + "\n"
    assert ticket == FACTORY.new("alice", ("admin", "a,b!c"), "hi there", NOW + 60, "10.0.0.1")
    info = FACTORY.validate(ticket, "10.0.0.1", NOW)
    assert (info.user_id, info.tokens, info.user_data, info.valid_until) == (
        "alice",
        ("admin", "a,b!c"),
        "hi there",
        NOW + 60,
    )


@pytest.mark.parametrize("before", [False, True], ids=["json-after", "json-before"])
def test_new_json(run, before):
    argv = ["new", "bob", "--valid-until", str(FUTURE)]
    result = succeeded(run(*(["--json", *argv] if before else [*argv, "--json"])))
    assert result.json == {"ticket": FACTORY.new("bob", valid_until=FUTURE)}


@pytest.mark.parametrize(("argv", "lifetime"), [([], 120), (["--valid-for", "3600"], 3600)])
def test_new_lifetime(run, argv, lifetime):
    # The default is the library's.
    before = int(time.time())
    result = run("new", "bob", *argv)
    after = int(time.time())
    assert result.status == 0 and result.err == ""
    assert before + lifetime <= FACTORY.parse(result.out.strip()).valid_until <= after + lifetime


def test_new_hashalg_and_encoding(run):
    result = succeeded(
        run("new", "bob", "--hashalg", "sha256", "--encoding", "utf-16", "--valid-until", str(FUTURE))
    )
    expected = ticket_auth.TicketFactory(SECRET_BYTES, "sha256").new(
        "bob", valid_until=FUTURE, encoding="utf-16"
    )
    assert result.out.strip() == expected


# ---------------------------------------------------------------------------------------------
# The secret


@pytest.mark.parametrize("command", [["new", "bob"], ["validate", "x"]])
def test_no_secret(run, monkeypatch, command):
    monkeypatch.delenv("TICKET_AUTH_SECRET")
    message = "no secret: set the TICKET_AUTH_SECRET environment variable or pass --secret-file PATH"
    usage_error(run(*command), message)


def test_empty_secret_env(run, monkeypatch):
    monkeypatch.setenv("TICKET_AUTH_SECRET", "")
    usage_error(run("new", "bob"), "TICKET_AUTH_SECRET is set but empty")


def test_secret_env_is_utf8(run, monkeypatch):
    monkeypatch.setenv("TICKET_AUTH_SECRET", "sécret-ü")
    ticket = run("new", "bob", secrets=("sécret-ü",)).out.strip()
    ticket_auth.TicketFactory("sécret-ü".encode()).validate(ticket)


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
def test_secret_file_drops_one_trailing_newline(run, tmp_path, monkeypatch, content, secret):
    monkeypatch.delenv("TICKET_AUTH_SECRET")
    path = tmp_path / "secret"
    path.write_bytes(content)
    ticket = run("new", "bob", "--secret-file", str(path)).out.strip()
    ticket_auth.TicketFactory(secret).validate(ticket)
    assert run("validate", ticket, "--secret-file", str(path)).status == 0


def test_secret_file_wins_over_env(run, tmp_path):
    path = tmp_path / "secret"
    path.write_bytes(b"from-the-file\n")
    ticket = run("new", "bob", "--secret-file", str(path), secrets=(SECRET, "from-the-file")).out.strip()
    ticket_auth.TicketFactory(b"from-the-file").validate(ticket)
    invalid(run("validate", ticket), BAD_DIGEST)
    assert run("validate", ticket, "--secret-file", str(path)).status == 0


@pytest.mark.parametrize("content", [b"", b"\n", b"\r\n"])
def test_empty_secret_file(run, tmp_path, content):
    path = tmp_path / "secret"
    path.write_bytes(content)
    usage_error(run("new", "bob", "--secret-file", str(path)), f"secret file {str(path)!r} is empty")


@pytest.mark.parametrize("command", [["new", "bob"], ["validate", "x"]])
def test_missing_secret_file(run, tmp_path, command):
    path = tmp_path / "nope"
    message = f"cannot read secret file {str(path)!r}: No such file or directory"
    usage_error(run(*command, "--secret-file", str(path)), message)


def test_unreadable_secret_file(run, tmp_path):
    usage_error(run("new", "bob", "--secret-file", str(tmp_path)), "cannot read secret file")


@pytest.mark.parametrize("argv", [["--secret", "hunter2"], ["--secret=hunter2"], ["--secret"]])
@pytest.mark.parametrize(
    ("before", "after"),
    [(["new", "bob"], []), (["validate", "x"], []), (["inspect", "x"], []), ([], ["new", "b"])],
)
def test_secret_on_the_command_line_is_refused(run, argv, before, after):
    result = run(*before, *argv, *after, secrets=(SECRET, "hunter2"))
    usage_error(result, "the secret is never taken from the command line")


def test_options_are_not_abbreviated(run, tmp_path):
    # '--secret-f PATH' (or worse, '--secret VALUE') must never be taken for --secret-file.
    path = tmp_path / "secret"
    path.write_bytes(b"x")
    usage_error(run("new", "bob", "--secret-f", str(path)), "unrecognized arguments")


# ---------------------------------------------------------------------------------------------
# validate


def test_validate_valid(run):
    ticket = FACTORY.new("alice", ("admin", "a,b"), "hi there", NOW + 3720)
    result = succeeded(run("validate", ticket, "--now", str(NOW)))
    assert result.out == (
        "valid:       yes\n"
        "user_id:     alice\n"
        'tokens:      ["admin", "a,b"]\n'
        "user_data:   hi there\n"
        f"valid_until: {NOW + 3720} (2023-11-14T23:15:20Z, expires in 1h 2m)\n"
    )


def test_validate_valid_json(run):
    ticket = FACTORY.new("alice", ("admin",), None, NOW + 90)
    result = succeeded(run("validate", ticket, "--now", str(NOW), "--json"))
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


def seconds_left_is_from_now(result, until, before, after):
    """``seconds_left`` is ``until`` minus a now taken between ``before`` and ``after`` (the
    clock read around the run, not a bound on how long it took; the CLI rounds to 1 ms)."""
    assert until - after - 0.001 <= result.json["seconds_left"] <= until - before + 0.001, (
        until,
        before,
        after,
    )


def test_validate_default_now(run):
    until = int(time.time()) + 7200
    ticket = FACTORY.new("bob", valid_until=until)
    before = time.time()
    result = run("validate", ticket, "--json")
    seconds_left_is_from_now(result, until, before, time.time())
    assert result.json["valid"] is True


@pytest.mark.parametrize("arg", [[], ["-"]])
def test_validate_reads_stdin(run, arg):
    ticket = FACTORY.new("bob", valid_until=NOW + 1)
    result = run("validate", *arg, "--now", str(NOW), "--json", stdin=f"  {ticket}\r\n\n")
    assert result.status == 0
    assert result.json["user_id"] == "bob"


def test_validate_reads_stdin_bytes(run):
    # A real stdin: bytes underneath, read through .buffer.
    ticket = FACTORY.new("bob", valid_until=NOW + 1)
    stdin = io.TextIOWrapper(io.BytesIO(ticket.encode() + b"\n"), encoding="ascii")
    assert run("validate", "--now", str(NOW), stdin=stdin).status == 0
    stdin = io.TextIOWrapper(io.BytesIO(b"\xff" + ticket.encode()), encoding="ascii")
    invalid(
        run("validate", "--now", str(NOW), stdin=stdin), "malformed: ticket contains non-ASCII characters"
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
def test_validate_malformed(run, mangle, msg):
    ticket = mangle(FACTORY.new("bob", valid_until=NOW + 1))
    invalid(run("validate", ticket, "--now", str(NOW)), f"malformed: {msg}")
    result = run("validate", ticket, "--now", str(NOW), "--json")
    assert result.status == 1 and result.err == ""
    assert result.json == {"valid": False, "error": "malformed", "reason": f"malformed: {msg}"}


@pytest.mark.parametrize(
    ("user_data", "msg"), [("", "ticket is too short"), ("x" * 80, "digest is not lowercase hex")]
)
def test_validate_malformed_hints_at_a_shorter_hashalg(run, mat, user_data, msg):
    hint = "its digest length fits sha256: if it is a sha256 ticket, pass --hashalg sha256"
    ticket = ticket_auth.TicketFactory(SECRET_BYTES, "sha256").new(
        "lucy", user_data=user_data, valid_until=NOW + 1
    )
    invalid(run("validate", ticket, "--now", str(NOW)), f"malformed: {msg} ({hint})")
    assert run("validate", ticket, "--now", str(NOW), "--hashalg", "sha256").status == 0
    # The same for mod_auth_tkt.
    cookie = authtkt("sha256").new("lucy", user_data=user_data, timestamp=NOW)
    invalid(mat("validate", cookie, "--now", str(NOW), digest="sha512"), f"malformed: {msg} ({hint})")


def test_validate_malformed_without_a_hint(run):
    # A shorter digest would "parse" a ticket whose TIME was tampered with; no hint for that.
    ticket = FACTORY.new("lucy", valid_until=NOW + 1)
    ticket = ticket[:128] + ticket[128:136].upper().replace("0", "G") + ticket[136:]
    invalid(run("validate", ticket, "--now", str(NOW)), "malformed: time is not 8 lowercase hex digits")


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
def test_validate_bad_digest(run, tmp_path, argv):
    ticket = FACTORY.new("bob", ("admin",), valid_until=NOW + 1, client_ip="10.0.0.1")
    if argv == ["TAMPER"]:
        ticket, argv = ticket.replace("admin", "root"), ["--client-ip", "10.0.0.1"]
    elif argv[0] == "--secret-file":
        (tmp_path / "other").write_bytes(b"another secret")
        argv = ["--secret-file", str(tmp_path / "other"), "--client-ip", "10.0.0.1"]
    invalid(run("validate", ticket, "--now", str(NOW), *argv), BAD_DIGEST)
    result = run("validate", ticket, "--now", str(NOW), "--json", *argv)
    assert result.status == 1
    assert result.json == {"valid": False, "error": "bad_digest", "reason": BAD_DIGEST}


def test_validate_client_ip(run):
    ticket = FACTORY.new("bob", valid_until=NOW + 1, client_ip="2001:db8::1")
    assert run("validate", ticket, "--now", str(NOW), "--client-ip", "2001:db8::1").status == 0
    invalid(run("validate", ticket, "--now", str(NOW)), BAD_DIGEST)


@pytest.mark.parametrize(
    ("ago", "text"),
    [(0, "0s"), (1, "1s"), (180, "3m"), (3725, "1h 2m"), (2 * 86400 + 3 * 3600 + 60, "2d 3h")],
)
def test_validate_expired(run, ago, text):
    ticket = FACTORY.new("bob", ("admin",), valid_until=NOW)
    now = str(NOW + ago)
    invalid(run("validate", ticket, "--now", now), f"expired at {NOW_ISO} ({text} ago)")
    result = run("validate", ticket, "--now", now, "--json")
    assert result.status == 1 and result.err == ""
    assert result.json == {
        "valid": False,
        "error": "expired",
        "reason": f"expired at {NOW_ISO} ({text} ago)",
        "user_id": "bob",
        "tokens": ["admin"],
        "user_data": "",
        "valid_until": NOW,
        "valid_until_iso": NOW_ISO,
        "expired": True,
        "seconds_left": -ago,
        "expiry": f"expired {text} ago",
    }


def test_validate_digest_is_checked_before_expiry(run, mat):
    ticket = FACTORY.new("bob", valid_until=NOW)
    invalid(run("validate", ticket, "--now", str(NOW + 10), "--client-ip", "1.2.3.4"), BAD_DIGEST)
    invalid(mat("validate", raw_ticket(), "--now", str(NOW + 10**6), "--client-ip", "1.2.3.4"), BAD_DIGEST)


def test_validate_fractional_now(run):
    ticket = FACTORY.new("bob", valid_until=NOW)
    assert run("validate", ticket, "--now", str(NOW - 0.5), "--json").json["seconds_left"] == 0.5
    invalid(run("validate", ticket, "--now", str(NOW + 0.5)), f"expired at {NOW_ISO} (0s ago)")


@pytest.mark.parametrize("fmt", ["ticket_auth", "mod_auth_tkt"])
def test_validate_hostile_fields_are_escaped(run, mat, fmt):
    fields = ("\x1b[2Jroot", ("\x1b]0;x\x07",), "line1\nline2")
    if fmt == "ticket_auth":
        ticket, validate = FACTORY.new(*fields, NOW + 5), run
    else:
        ticket, validate = authtkt().new(*fields, NOW), mat
    result = validate("validate", ticket, "--now", str(NOW))
    assert result.status == 0
    assert "\x1b" not in result.out and "\x07" not in result.out
    assert 'user_id:     "\\u001b[2Jroot"\n' in result.out
    assert 'user_data:   "line1\\nline2"\n' in result.out
    assert validate("validate", ticket, "--now", str(NOW), "--json").json["user_id"] == "\x1b[2Jroot"


def test_validate_unicode_and_blank_fields(run):
    result = run("validate", FACTORY.new("zoë", (), " padded ", NOW + 5), "--now", str(NOW))
    assert "user_id:     zoë\n" in result.out
    assert "tokens:      []\n" in result.out
    assert 'user_data:   " padded "\n' in result.out


# ---------------------------------------------------------------------------------------------
# inspect


def test_inspect_needs_no_secret(run, monkeypatch):
    ticket = FACTORY.new("alice", ("admin",), "x", NOW + 59)
    validated = succeeded(run("validate", ticket, "--now", str(NOW))).out
    assert validated.startswith("valid:       yes\n")
    monkeypatch.delenv("TICKET_AUTH_SECRET")
    result = succeeded(run("inspect", ticket, "--now", str(NOW)))
    # The fields as validate prints them, marked unverified, then the digest and its hashalg.
    assert result.out == (
        "UNVERIFIED: the digest was not checked (inspect uses no secret); use 'validate' to check it\n"
        + validated.removeprefix("valid:       yes\n")
        + f"digest:      {ticket[:128]}\n"
        "hashalg:     sha512 (guessed from the 128-character digest; pass --hashalg if it is another)\n"
    )


def test_inspect_json(run):
    ticket = FACTORY.new("alice", ("admin",), "x", NOW - 180)
    refused = run("validate", ticket, "--now", str(NOW), "--json").json
    assert (refused.pop("valid"), refused.pop("error"), refused.pop("reason")[:11]) == (
        False,
        "expired",
        "expired at ",
    )
    result = succeeded(run("inspect", ticket, "--now", str(NOW), "--json"))
    # The fields as validate reports them for the expired ticket, then the digest and hashalg.
    assert result.json == {
        "verified": False,
        **refused,
        "digest": ticket[:128],
        "hashalg": "sha512",
        "hashalg_guessed": True,
    }


def test_inspect_ignores_the_secret_and_the_digest(run):
    forged = "0" * 128 + FACTORY.new("alice", valid_until=NOW + 1)[128:]
    result = run("inspect", forged, "--now", str(NOW), "--json")
    assert (result.status, result.json["verified"], result.json["user_id"]) == (0, False, "alice")


@pytest.mark.parametrize("hashalg", ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"])
def test_inspect_guesses_the_hashalg(run, hashalg):
    ticket = ticket_auth.TicketFactory(SECRET_BYTES, hashalg).new("lucy", valid_until=NOW)
    result = run("inspect", ticket, "--json")
    assert (result.json["hashalg"], result.json["hashalg_guessed"]) == (hashalg, True)
    assert (result.json["user_id"], result.json["valid_until"]) == ("lucy", NOW)


def test_inspect_with_hashalg(run):
    ticket = ticket_auth.TicketFactory(SECRET_BYTES, "sha3_256").new("lucy", valid_until=NOW)
    result = run("inspect", ticket, "--hashalg", "sha3_256", "--json")
    assert result.status == 0
    assert (result.json["hashalg"], result.json["hashalg_guessed"]) == ("sha3_256", False)
    assert "hashalg:     sha3_256\n" in run("inspect", ticket, "--hashalg", "sha3_256").out


def test_inspect_with_the_wrong_hashalg(run):
    ticket = ticket_auth.TicketFactory(SECRET_BYTES, "sha256").new("lucy", valid_until=NOW)
    invalid(run("inspect", ticket, "--hashalg", "sha512"), "malformed: ticket is too short")
    assert run("inspect", ticket, "--hashalg", "sha512", "--json").json == {
        "verified": False,
        "valid": False,
        "error": "malformed",
        "reason": "malformed: ticket is too short",
    }


def test_inspect_malformed(run):
    reason = "malformed: ticket is too short (as sha512; no usual digest length fits either)"
    invalid(run("inspect", "abc"), reason)
    assert run("inspect", "abc", "--json").json["reason"] == reason
    invalid(
        run("inspect", "a" * 200),
        "malformed: missing '!' separators: expected user id, tokens "
        "and user data (as sha512; no usual digest length fits either)",
    )


def test_inspect_reads_stdin(run):
    assert run("inspect", "--json", stdin=FACTORY.new("bob", valid_until=NOW) + "\n").json["user_id"] == "bob"


# ---------------------------------------------------------------------------------------------
# --format mod_auth_tkt (Apache's cookies; ticket_auth.mod_auth_tkt.AuthTktFactory)


@pytest.mark.parametrize("digest", [*AUTHTKT_DIGESTS, "SHA256"])
def test_authtkt_new_prints_a_cookie_the_factory_validates(mat, digest):
    argv = ["--token", "admin", "--token", "staff", "--user-data", "hi there!", "--client-ip", "10.0.0.1"]
    result = mat("new", "alice", *argv, "--timestamp", str(NOW), digest=digest)
    assert result.status == 0 and result.err == ""  # an old --timestamp is legitimate: no note
    cookie = result.out.rstrip("\n")
    assert result.out == cookie + "\n"
    factory = authtkt(digest.lower())
    assert cookie == factory.new("alice", ("admin", "staff"), "hi there!", NOW, "10.0.0.1")
    assert "!" not in cookie  # base64 by default
    info = factory.validate(cookie, client_ip="10.0.0.1", now=NOW + 1)
    assert info == (info.digest, "alice", ("admin", "staff"), "hi there!", NOW)
    assert len(info.digest) == AUTHTKT_HEX_LEN[digest.lower()]


@pytest.mark.parametrize("digest", AUTHTKT_DIGESTS)
def test_authtkt_new_raw(mat, digest):
    result = succeeded(mat("new", "bob", "--token", "a", "--timestamp", str(NOW), "--raw", digest=digest))
    ticket = result.out.rstrip("\n")
    assert ticket == authtkt(digest).new("bob", ("a",), timestamp=NOW, raw=True)
    assert ticket[AUTHTKT_HEX_LEN[digest] :] == f"{NOW:08x}bob!a!"
    assert authtkt(digest).validate(ticket, now=NOW).user_id == "bob"


def test_authtkt_new_digest_alias_and_utf8_encoding(run):
    result = run("new", "bob", *MAT, "--digest", "md5", "--timestamp", str(NOW))
    assert result.out.strip() == authtkt("md5").new("bob", timestamp=NOW)
    result = run("new", "bob", *MAT, "--hashalg", "sha256", "--encoding", "UTF8", "--timestamp", str(NOW))
    assert result.out.strip() == authtkt().new("bob", timestamp=NOW)


def test_authtkt_new_default_timestamp_is_now(mat):
    before = int(time.time())
    result = mat("new", "bob", "--json")
    after = int(time.time())
    assert result.status == 0 and result.err == ""
    timestamp = result.json["timestamp"]
    assert result.json == {"format": "mod_auth_tkt", "ticket": result.json["ticket"], "timestamp": timestamp}
    assert before <= timestamp <= after
    assert authtkt().validate(result.json["ticket"]).timestamp == timestamp


def test_authtkt_new_json(mat):
    result = mat("--json", "new", "bob", "--timestamp", str(NOW), "--raw")
    assert result.json == {
        "format": "mod_auth_tkt",
        "ticket": authtkt().new("bob", timestamp=NOW, raw=True),
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
def test_authtkt_new_refuses_what_the_format_cannot_carry(mat, argv, call):
    # Exit 2 with the library's own message.
    with pytest.raises(ValueError) as expected:
        authtkt().new(**{"user_id": "bob", **call})
    usage_error(mat("new", *argv), f"error: {expected.value}\n")


def test_authtkt_new_base64_carries_a_trailing_quote(mat):
    # Only the raw form cannot end with '"' (Apache drops it).
    cookie = mat("new", "bob", "--user-data", 'say "hi"', "--timestamp", str(NOW)).out.strip()
    assert authtkt().validate(cookie, now=NOW).user_data == 'say "hi"'


@pytest.mark.parametrize("command", [["new", "bob"], ["validate", "x"]])
def test_authtkt_hashalg_is_required(mat, command, monkeypatch):
    result = usage_error(mat(*command, digest=None), NO_DIGEST_TYPE, "never chosen silently")
    assert result.err.startswith(f"ticket-auth {command[0]}: error: --format mod_auth_tkt needs")
    # Before the secret is even looked for.
    monkeypatch.delenv("TICKET_AUTH_SECRET")
    usage_error(mat(*command, digest=None), NO_DIGEST_TYPE)


@pytest.mark.parametrize("address", ["2001:db8::1", "::ffff:10.0.0.1"])
def test_authtkt_validate_refuses_an_ipv6_client_ip(mat, address):
    # Exit 2 with the library's message, even before the (here malformed) ticket is read.
    with pytest.raises(ValueError) as expected:
        authtkt().validate(raw_ticket(), client_ip=address)
    assert "IPv4 addresses only" in str(expected.value)
    for ticket in (raw_ticket(), "not a ticket"):
        usage_error(mat("validate", ticket, "--client-ip", address), f"error: {expected.value}\n")


def test_authtkt_validate_valid(mat):
    cookie = authtkt().new("alice", ("admin", "staff"), "hi there", NOW)
    result = succeeded(mat("validate", cookie, "--now", str(NOW + 300)))
    assert result.out == (
        "valid:       yes\n"
        "user_id:     alice\n"
        'tokens:      ["admin", "staff"]\n'
        "user_data:   hi there\n"
        f"timestamp:   {NOW} ({NOW_ISO}, issued 5m ago)\n"
        f"expires_at:  {NOW + 7200} (2023-11-15T00:13:20Z, expires in 1h 55m)\n"
    )


@pytest.mark.parametrize("digest", AUTHTKT_DIGESTS)
def test_authtkt_validate_valid_json(mat, digest):
    cookie = authtkt(digest).new("alice", ("admin",), timestamp=NOW, client_ip="10.0.0.1")
    argv = ["--now", str(NOW + 30), "--timeout", "90", "--client-ip", "10.0.0.1", "--json"]
    result = succeeded(mat("validate", cookie, *argv, digest=digest.upper()))
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
        "digest": authtkt(digest).parse(cookie).digest,
        "hashalg": digest,
    }


def test_authtkt_validate_no_timeout(mat):
    cookie = authtkt().new("bob", timestamp=NOW)
    now = str(NOW + 10 * 365 * 86400)
    result = mat("validate", cookie, "--now", now, "--timeout", "0")
    assert result.status == 0
    assert result.out.endswith(f"timestamp:   {NOW} ({NOW_ISO}, issued 10y ago)\nexpires_at:  no timeout\n")
    fields = mat("validate", cookie, "--now", now, "--timeout", "0", "--json").json
    assert (fields["timeout"], fields["expires_at"], fields["expires_at_iso"]) == (0, None, None)
    assert (fields["expired"], fields["seconds_left"], fields["expiry"]) == (False, None, "no timeout")


def test_authtkt_validate_default_timeout_is_apaches(mat):
    cookie = authtkt().new("bob", timestamp=NOW)
    assert mat("validate", cookie, "--now", str(NOW + 7200)).status == 0  # Apache: >= now
    invalid(
        mat("validate", cookie, "--now", str(NOW + 7201)),
        f"expired at 2023-11-15T00:13:20Z (1s ago; issued at {NOW_ISO}, timeout 7200s)",
    )


def test_authtkt_validate_default_now(mat):
    issued = int(time.time())
    cookie = authtkt().new("bob", timestamp=issued)
    before = time.time()
    result = mat("validate", cookie, "--json")
    seconds_left_is_from_now(result, issued + 7200, before, time.time())
    assert result.status == 0


def test_authtkt_validate_future_timestamp(mat):
    # Apache does not refuse tickets issued in the future; neither does the library.
    result = mat("validate", authtkt().new("bob", timestamp=NOW + 90), "--now", str(NOW), "--json")
    assert result.status == 0
    assert result.json["issued"] == "issued in the future (in 1m 30s)"


def test_authtkt_expiry_wraps_at_2_to_the_32_like_apache(mat):
    # Apache compares (timestamp + timeout) mod 2**32 with now mod 2**32; so does the library,
    # and the CLI says so instead of printing a contradictory "expires in"/"expired ago".
    result = mat("validate", authtkt().new("bob", timestamp=2**32 - 100), "--now", str(2**32 - 50), "--json")
    assert result.status == 1
    assert result.json["expiry"] == "expired (Apache counts time modulo 2**32)"
    result = mat("validate", authtkt().new("bob", timestamp=NOW), "--now", str(NOW + 2**32), "--json")
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
def test_authtkt_validate_expired(mat, ago, text, issued):
    cookie = authtkt().new("bob", ("admin",), "x", NOW)
    now = str(NOW + 60 + ago)
    reason = f"expired at 2023-11-14T22:14:20Z ({text} ago; issued at {NOW_ISO}, timeout 60s)"
    invalid(mat("validate", cookie, "--now", now, "--timeout", "60"), reason)
    result = mat("validate", cookie, "--now", now, "--timeout", "60", "--json")
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


@pytest.mark.parametrize("form", ["base64", "raw", "quoted", "unpadded", "escaped", "stdin"])
def test_authtkt_validate_reads_every_cookie_form(mat, form):
    ticket = raw_ticket(tokens=("admin",), user_data="d")
    cookie = authtkt().new("bob", ("admin",), "d", NOW)
    cookie = {
        "base64": cookie,
        "raw": ticket,
        "quoted": f'"{ticket}"',
        "unpadded": cookie.rstrip("="),
        "escaped": ticket.replace("!", "%21"),
        "stdin": "-",
    }[form]
    result = mat("validate", cookie, "--now", str(NOW), "--json", stdin=f" {ticket}\n")
    assert result.status == 0, result.err
    fields = (result.json["user_id"], result.json["tokens"], result.json["user_data"])
    assert fields == ("bob", ["admin"], "d")


@pytest.mark.parametrize("case", ["secret", "client-ip", "unbound", "tamper", "timestamp"])
def test_authtkt_validate_bad_digest(mat, tmp_path, case):
    ticket = raw_ticket(tokens=("admin",), client_ip="10.0.0.1")
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
    invalid(mat("validate", ticket, "--now", str(NOW), *argv), BAD_DIGEST)
    result = mat("validate", ticket, "--now", str(NOW), "--json", *argv)
    assert result.status == 1
    assert result.json == {
        "format": "mod_auth_tkt",
        "valid": False,
        "error": "bad_digest",
        "reason": BAD_DIGEST,
    }


def test_authtkt_validate_client_ip(mat):
    cookie = authtkt().new("bob", timestamp=NOW, client_ip="203.0.113.7")
    assert mat("validate", cookie, "--now", str(NOW), "--client-ip", "203.0.113.7").status == 0


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
def test_authtkt_validate_malformed(mat, make, msg):
    cookie = make(raw_ticket(user_data="d"))
    invalid(mat("validate", cookie, "--now", str(NOW)), f"malformed: {msg}")
    result = mat("validate", cookie, "--now", str(NOW), "--json")
    assert result.status == 1 and result.err == ""
    assert result.json == {
        "format": "mod_auth_tkt",
        "valid": False,
        "error": "malformed",
        "reason": f"malformed: {msg}",
    }


def test_ticket_auth_format_hints_at_a_mod_auth_tkt_cookie(run, mat):
    cookie = authtkt("md5").new("lucy", timestamp=NOW)
    invalid(
        run("validate", cookie, "--now", str(NOW)),
        "malformed: ticket is too short "
        "(it reads as a mod_auth_tkt cookie: pass --format mod_auth_tkt --hashalg md5)",
    )
    invalid(
        run("inspect", cookie),
        "malformed: ticket is too short (as sha512; no usual digest length fits either; "
        "it reads as a mod_auth_tkt cookie: pass --format mod_auth_tkt)",
    )
    assert mat("validate", cookie, "--now", str(NOW), digest="md5").status == 0


def test_authtkt_inspect_needs_no_secret(mat, monkeypatch):
    cookie = authtkt().new("alice", ("admin",), "x", NOW)
    validated = succeeded(mat("validate", cookie, "--now", str(NOW + 59))).out.splitlines(keepends=True)
    assert validated[0] == "valid:       yes\n" and validated[-1].startswith("expires_at:  ")
    monkeypatch.delenv("TICKET_AUTH_SECRET")
    result = succeeded(mat("inspect", cookie, "--now", str(NOW + 59), digest=None))
    # The fields as validate prints them, marked unverified; without a timeout no expiry; then
    # the digest and its hashalg.
    assert result.out == (
        "UNVERIFIED: the digest was not checked (inspect uses no secret); use 'validate' to check it\n"
        + "".join(validated[1:-1])
        + "expires_at:  unknown: pass --timeout SECONDS (TKTAuthTimeout)\n"
        f"digest:      {authtkt().parse(cookie).digest}\n"
        "hashalg:     sha256 (guessed from the 64-character digest; pass --hashalg if it is another)\n"
    )


def test_authtkt_inspect_with_timeout(mat):
    cookie = authtkt().new("alice", timestamp=NOW)
    result = mat("inspect", cookie, "--now", str(NOW + 180), "--timeout", "60", digest=None)
    assert f"expires_at:  {NOW + 60} (2023-11-14T22:14:20Z, expired 2m ago)\n" in result.out
    result = mat("inspect", cookie, "--now", str(NOW), "--timeout", "0", digest=None)
    assert "expires_at:  no timeout\n" in result.out


def test_authtkt_inspect_json(mat):
    cookie = authtkt("md5").new("alice", ("admin",), "x", NOW)
    argv = ["--now", str(NOW + 10), "--timeout", "7200", "--json"]
    validated = succeeded(mat("validate", cookie, *argv, digest="md5")).json
    assert validated.pop("valid") is True
    result = succeeded(mat("inspect", cookie, *argv, digest=None))
    # What validate reports, unverified, and the hashalg guessed from the digest's length.
    assert result.json == {"verified": False, **validated, "hashalg_guessed": True}
    assert (validated["digest"], validated["hashalg"]) == (authtkt("md5").parse(cookie).digest, "md5")
    unknown = mat("inspect", cookie, "--json", digest=None).json
    assert [unknown[key] for key in ("timeout", "expires_at", "expired", "seconds_left")] == [None] * 4


@pytest.mark.parametrize("digest", AUTHTKT_DIGESTS)
@pytest.mark.parametrize("form", ["base64", "raw", "quoted", "unpadded"])
def test_authtkt_inspect_guesses_the_digest_in_any_form(mat, digest, form):
    cookie = authtkt(digest).new("lucy", ("a",), "d", NOW, raw=form in ("raw", "quoted"))
    cookie = {"quoted": f'"{cookie}"', "unpadded": cookie.rstrip("=")}.get(form, cookie)
    result = mat("inspect", cookie, "--json", digest=None)
    assert result.status == 0, result.err
    assert (result.json["hashalg"], result.json["hashalg_guessed"]) == (digest, True)
    assert (result.json["user_id"], result.json["tokens"], result.json["timestamp"]) == ("lucy", ["a"], NOW)


def test_authtkt_inspect_ignores_the_digest(mat):
    result = mat("inspect", "0" * 64 + raw_ticket()[64:], "--json", digest=None)
    assert (result.status, result.json["verified"], result.json["user_id"]) == (0, False, "bob")


def test_authtkt_inspect_with_hashalg(mat):
    cookie = authtkt("md5").new("lucy", timestamp=NOW)
    result = mat("inspect", cookie, "--json", digest="MD5")
    assert (result.json["hashalg"], result.json["hashalg_guessed"]) == ("md5", False)
    assert "hashalg:     md5\n" in mat("inspect", cookie, digest="md5").out
    # A longer digest does not fit.
    invalid(mat("inspect", cookie, digest="sha256"), "malformed: ticket is too short")
    assert mat("inspect", cookie, "--json", digest="sha256").json == {
        "verified": False,
        "format": "mod_auth_tkt",
        "valid": False,
        "error": "malformed",
        "reason": "malformed: ticket is too short",
    }


def test_authtkt_inspect_malformed(mat):
    reason = "malformed: cookie is not a raw ticket and not base64 of one (as sha512; no usual digest length fits either)"
    invalid(mat("inspect", "abc", digest=None), reason)
    assert mat("inspect", "abc", "--json", digest=None).json == {
        "verified": False,
        "format": "mod_auth_tkt",
        "valid": False,
        "error": "malformed",
        "reason": reason,
    }


# ---------------------------------------------------------------------------------------------
# Help, version, entry points


@pytest.mark.parametrize("command", [[], ["new"], ["validate"], ["inspect"]])
def test_help(run, command):
    result = succeeded(run(*command, "--help"))
    assert result.out.startswith("usage: ticket-auth")
    assert "--json" in result.out


def test_help_explains_the_secret_and_the_formats(run):
    text = run("--help").out
    assert "TICKET_AUTH_SECRET" in text and "--secret-file wins" in text
    new_help = run("new", "--help").out
    assert "--secret-file" in new_help and "--secret " not in new_help
    assert all(option in new_help for option in ("--timestamp", "--raw", "mod_auth_tkt", "--digest"))
    assert "USER_ID must not be empty" in " ".join(new_help.split())
    validate_help = run("validate", "--help").out
    assert "--timeout" in validate_help and "TKTAuthDigestType" in validate_help
    assert "--timeout" in run("inspect", "--help").out


def test_version(run):
    result = run("--version")
    assert (result.status, result.out) == (0, f"ticket-auth {ticket_auth.__version__}\n")


def test_main_reads_sys_argv(monkeypatch, capsys):
    ticket = FACTORY.new("bob", valid_until=NOW + 1)
    monkeypatch.setattr(sys, "argv", ["ticket-auth", "validate", ticket, "--now", str(NOW), "--json"])
    assert main() == 0
    assert json.loads(capsys.readouterr().out)["user_id"] == "bob"
    monkeypatch.setattr(sys, "argv", ["ticket-auth", "validate", "bad", "--now", str(NOW)])
    assert main() == 1
    assert capsys.readouterr().err == "invalid ticket: malformed: ticket is too short\n"
    monkeypatch.setattr(sys, "argv", ["ticket-auth", "frob"])
    assert main() == 2
    assert "ticket-auth: error: argument COMMAND: invalid choice: 'frob'" in capsys.readouterr().err


def test_console_script_entry_point():
    tomllib = pytest.importorskip("tomllib")
    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["ticket-auth"]
    module_name, _, attribute = target.partition(":")
    assert getattr(importlib.import_module(module_name), attribute) is cli.main


# ---------------------------------------------------------------------------------------------
# Across the cores: --core picks one, and each reads what the other minted


@pytest.mark.parametrize("fmt", ["ticket_auth", "mod_auth_tkt"])
def test_core_option_picks_the_core(run, core, monkeypatch, fmt):
    # conftest's ``core``: .name is "compiled" or "pure", .module the core module.
    name = "TicketFactory" if fmt == "ticket_auth" else "AuthTktFactory"
    made, real = [], getattr(core.module, name)
    monkeypatch.setattr(core.module, name, lambda *a, **k: made.append((a, k)) or real(*a, **k))
    options = ["--format", fmt, "--hashalg", "sha256"]
    ticket = run("--core", core.name, "new", "bob", *options).out.strip()
    assert run("--core", core.name, "validate", ticket, *options).status == 0
    assert run("--core", core.name, "inspect", ticket, "--format", fmt).status == 0
    timeout = {} if fmt == "ticket_auth" else {"timeout": 7200}
    assert made[:2] == [((SECRET_BYTES, "sha256"), {}), ((SECRET_BYTES, "sha256"), timeout)]
    assert len(made) > 2  # inspect's own factories


@pytest.mark.parametrize("fmt", ["ticket_auth", "mod_auth_tkt"])
@pytest.mark.parametrize("crossed", [False, True], ids=["same", "crossed"])
def test_cores_read_each_others_tickets(run, both_cores, fmt, crossed):
    writer, reader = (core.name for core in (both_cores[::-1] if crossed else both_cores))
    options = ["--format", fmt, "--hashalg", "sha512"]
    time_option = ["--valid-until", str(NOW + 60)] if fmt == "ticket_auth" else ["--timestamp", str(NOW)]
    argv = ["new", "alice", "--token", "admin", "--user-data", "é!", "--client-ip", "10.0.0.1"]
    argv += [*options, *time_option]
    ticket = run("--core", writer, *argv).out.strip()
    assert run("--core", reader, *argv).out.strip() == ticket  # both cores mint the same ticket
    argv = ["validate", ticket, *options, "--now", str(NOW), "--json"]
    valid = run("--core", reader, *argv, "--client-ip", "10.0.0.1").json
    assert [valid[key] for key in ("valid", "user_id", "tokens", "user_data")] == [
        True,
        "alice",
        ["admin"],
        "é!",
    ]
    timeout = [] if fmt == "ticket_auth" else ["--timeout", "7200"]
    shown = run("--core", reader, "inspect", ticket, "--format", fmt, "--now", str(NOW), *timeout, "--json")
    shown = shown.json
    del valid["valid"]
    assert shown == {**valid, "verified": False, "hashalg_guessed": True}  # the same fields
    assert run("--core", reader, *argv, "--client-ip", "10.0.0.2").json["error"] == "bad_digest"


def test_core_option_without_the_compiled_core(run, monkeypatch):
    def missing(name):
        raise ModuleNotFoundError(name=name)

    monkeypatch.setattr(cli._core, "load_core", missing)
    usage_error(
        run("--core", "compiled", "new", "bob"), "the compiled core is not available in this installation"
    )


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


def test_subprocess_console_script():
    script = Path(sys.executable).with_name("ticket-auth")
    if not script.exists():
        pytest.skip("the ticket-auth script is not installed next to this interpreter")
    env = {**os.environ, "TICKET_AUTH_SECRET": SECRET}
    proc = subprocess.run(
        [script, "new", "bob", "--valid-for", "-5"], capture_output=True, text=True, env=env
    )
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (
        "ticket-auth new: error: --valid-for must be at least 1 second, not -5 "
        "(to mint an expired ticket on purpose, pass --valid-until EPOCH)\n"
    )


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
    env = {"TICKET_AUTH_SECRET": SECRET, **core_env}
    options = ["--format", "mod_auth_tkt", "--hashalg", "sha256"]
    new = _python("-m", "ticket_auth", "new", "alice", *options, env=env)
    assert new.returncode == 0, new.stderr
    cookie = new.stdout.strip()
    assert authtkt().validate(cookie).user_id == "alice"
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
