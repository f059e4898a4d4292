"""The ``ticket-auth`` command line: mint, inspect and validate tickets.

    export TICKET_AUTH_SECRET='correct horse battery staple'
    ticket=$(python -m ticket_auth new alice --token admin)
    python -m ticket_auth validate "$ticket"
    python -m ticket_auth inspect "$ticket"          # no secret needed; UNVERIFIED

    # Apache mod_auth_tkt cookies: the digest type is required (TKTAuthDigestType).
    cookie=$(python -m ticket_auth new alice --format mod_auth_tkt --hashalg sha256)
    python -m ticket_auth validate "$cookie" --format mod_auth_tkt --hashalg sha256 --timeout 7200
    python -m ticket_auth inspect "$cookie" --format mod_auth_tkt --timeout 7200

The secret comes from ``--secret-file PATH`` or the ``TICKET_AUTH_SECRET`` environment
variable (``--secret-file`` wins when both are given), never from the command line, where it
would land in shell history and ``ps``. It is never printed, not even in error messages.

Exit codes: 0 success; 1 the ticket is not valid (``validate``) or cannot be parsed
(``inspect``), with a one-line reason; 2 usage error (bad option, no secret, unreadable
secret file, unknown hash algorithm, bad client IP ...). ``--json`` prints one JSON object on
stdout for results (exit 0 and 1); usage errors (exit 2) are always plain text on stderr.

``--format mod_auth_tkt`` works with Apache mod_auth_tkt 2.x cookies
(``ticket_auth.mod_auth_tkt.AuthTktFactory``). Such a ticket carries its issue time (its
``timestamp``), not an expiry: ``new`` takes ``--timestamp``/``--raw`` instead of
``--valid-for``/``--valid-until``, and ``validate``/``inspect`` take ``--timeout`` (Apache's
``TKTAuthTimeout``). MD5, Apache's default digest, is never chosen silently: ``--hashalg`` is
required for ``new`` and ``validate``.

This module is imported only by ``python -m ticket_auth`` and the ``ticket-auth`` script,
never by ``import ticket_auth``, so the library does not pay for argparse.
"""

from __future__ import annotations

import argparse
import codecs
import ipaddress
import json
import math
import os
import sys
import time

# typing.TYPE_CHECKING without importing typing at run time.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import IO, Any, NoReturn, TypeAlias

    from _typeshed import SupportsWrite

    # A factory class (TicketFactory or AuthTktFactory, of either core), the classes given to
    # ``main`` for the two formats (None: chosen by --core), the result of a subcommand (exit
    # status, JSON object, text for stdout, text for stderr), and the (stdout, stderr) pair
    # the parser writes to.
    _FactoryClass: TypeAlias = Callable[..., Any]
    _Classes: TypeAlias = tuple[_FactoryClass | None, _FactoryClass | None]
    _Result: TypeAlias = tuple[int, dict[str, Any], str, str]
    _Streams: TypeAlias = tuple[SupportsWrite[str], SupportsWrite[str]]

__all__ = ["main"]

SECRET_ENV = "TICKET_AUTH_SECRET"  # noqa: S105 - the variable's name, not a secret
DEFAULT_HASHALG = "sha512"  # for the ticket_auth format; mod_auth_tkt has no default
TICKET_AUTH = "ticket_auth"
MOD_AUTH_TKT = "mod_auth_tkt"
DEFAULT_TIMEOUT = 7200  # Apache's default TKTAuthTimeout, in seconds
_MAX_UINT32 = 2**32 - 1

# Lets ``inspect`` (and the hints of ``validate``) parse a ticket without knowing the secret:
# parse never uses it, but a factory needs a non-empty one.
_DUMMY_SECRET = b"inspect-without-secret"

# Digest lengths (hex characters) and the usual algorithm of that length, tried when inspect
# is not told --hashalg. Longest first: a user id that starts with hex digits can make a
# shorter digest parse too, never a longer one that does not fit.
_HASHALG_BY_HEX_LEN = (
    (128, "sha512"),
    (96, "sha384"),
    (64, "sha256"),
    (56, "sha224"),
    (40, "sha1"),
    (32, "md5"),
)
# The same for mod_auth_tkt, whose TKTAuthDigestType is one of these three.
_AUTHTKT_HASHALG_BY_HEX_LEN = ((128, "sha512"), (64, "sha256"), (32, "md5"))

_BAD_DIGEST_REASON = "bad digest (wrong secret, wrong client IP, wrong hash algorithm, or tampered)"
_NO_SECRET = (
    f"no secret: set the {SECRET_ENV} environment variable or pass --secret-file PATH "
    "(the secret is never taken from the command line)"
)
_SECRET_ON_COMMAND_LINE = (
    f"the secret is never taken from the command line (it would land in shell history and ps); "
    f"set the {SECRET_ENV} environment variable or pass --secret-file PATH"
)
_NO_DIGEST_TYPE = (
    "--format mod_auth_tkt needs the digest type: pass --hashalg md5|sha256|sha512 (TKTAuthDigestType); "
    "Apache's default, MD5, is never chosen silently"
)
# Options that one format does not take: (attribute, option, why). A mod_auth_tkt ticket carries
# its issue time and is valid for TKTAuthTimeout seconds after it; a ticket_auth ticket carries
# its expiry.
_AUTHTKT_LIFETIME = (
    "a mod_auth_tkt ticket carries its issue time (--timestamp EPOCH, default now), and its "
    "lifetime is TKTAuthTimeout, given with --timeout SECONDS to 'validate'"
)
_REFUSED_OPTIONS = {
    MOD_AUTH_TKT: (
        ("valid_for", "--valid-for", _AUTHTKT_LIFETIME),
        ("valid_until", "--valid-until", _AUTHTKT_LIFETIME),
    ),
    TICKET_AUTH: (
        (
            "timestamp",
            "--timestamp",
            "a ticket_auth ticket carries its expiry: use --valid-for or --valid-until",
        ),
        ("raw", "--raw", "a ticket_auth ticket has a single form"),
        ("timeout", "--timeout", "a ticket_auth ticket carries its expiry"),
    ),
}


class UsageError(Exception):
    """A mistake in how the command was called: exit status 2, message on stderr."""


class _Exit(Exception):  # noqa: N818 - not an error: a request to exit
    """Raised instead of SystemExit so that ``main`` returns the status to its caller."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that writes to the streams given to ``main`` and does not exit."""

    def __init__(self, *args: Any, streams: _Streams, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)  # '--secret x' must never match --secret-file
        super().__init__(*args, **kwargs)
        self._streams = streams

    def print_usage(self, file: SupportsWrite[str] | None = None) -> None:
        self._print_message(self.format_usage(), self._streams[1] if file is None else file)

    def print_help(self, file: SupportsWrite[str] | None = None) -> None:
        self._print_message(self.format_help(), self._streams[0] if file is None else file)

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        if not message:
            return
        if file is None or file is sys.stderr:
            file = self._streams[1]
        elif file is sys.stdout:
            file = self._streams[0]
        file.write(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._print_message(message, self._streams[1])
        raise _Exit(status)

    def error(self, message: str) -> NoReturn:
        self.print_usage(self._streams[1])
        self.exit(2, f"{self.prog}: error: {message}\n")


class _RefuseSecret(argparse.Action):
    """``--secret``: refused with a message that does not repeat the value."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        parser.error(_SECRET_ON_COMMAND_LINE)


# ---------------------------------------------------------------------------------------------
# Argument types


def _epoch(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds since the epoch: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def _timeout(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= _MAX_UINT32:
        raise argparse.ArgumentTypeError(
            f"not a number of seconds from 0 (no timeout) to {_MAX_UINT32}: {text!r}"
        )
    return value


def _client_ip(text: str) -> str:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an IPv4 or IPv6 address: {text!r}") from None
    return text


def _encoding(text: str) -> str:
    try:
        codecs.lookup(text)
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding: {text!r}") from None
    return text


# ---------------------------------------------------------------------------------------------
# The parser


def _build_parser(prog: str, streams: _Streams) -> _Parser:
    # Options every subcommand takes; also accepted before the subcommand. SUPPRESS keeps a
    # subcommand from overwriting a value given before it.
    common = _Parser(add_help=False, streams=streams)
    # Refused everywhere, with a message that does not repeat the value.
    common.add_argument(
        "--secret", nargs="?", action=_RefuseSecret, default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON object (for scripts)"
    )
    common.add_argument(
        "--core",
        choices=("compiled", "pure"),
        default=argparse.SUPPRESS,
        help="which core to use (default: the compiled one when it is built); for debugging",
    )

    parser = _Parser(
        prog=prog,
        streams=streams,
        parents=[common],
        description="Mint, inspect and validate ticket_auth tickets.",
        epilog=(
            f"The secret comes from --secret-file PATH or the {SECRET_ENV} environment variable "
            "(--secret-file wins when both are given), never from the command line. "
            "Exit status: 0 success, 1 invalid or unparsable ticket, 2 usage error."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def subcommand(name: str, help_text: str, description: str) -> _Parser:
        sub = commands.add_parser(
            name, help=help_text, description=description, parents=[common], streams=streams
        )
        sub.add_argument(
            "--format",
            choices=(TICKET_AUTH, MOD_AUTH_TKT),
            default=TICKET_AUTH,
            help="ticket format: ticket_auth (default) or mod_auth_tkt (Apache's auth_tkt cookie)",
        )
        return sub

    def add_hashalg(sub: _Parser, help_text: str) -> None:
        sub.add_argument("--hashalg", "--digest", dest="hashalg", metavar="NAME", help=help_text)

    def add_secret(sub: _Parser) -> None:
        sub.add_argument(
            "--secret-file",
            metavar="PATH",
            help=f"read the secret from PATH (one trailing newline is dropped); wins over ${SECRET_ENV}",
        )

    def add_ticket(sub: _Parser) -> None:
        sub.add_argument(
            "ticket", nargs="?", metavar="TICKET", help="the ticket; '-' or absent: read it from stdin"
        )

    def add_encoding(sub: _Parser) -> None:
        sub.add_argument(
            "--encoding",
            type=_encoding,
            help="ticket_auth: encoding of the signed text (default: utf-8; mod_auth_tkt is always UTF-8)",
        )

    hashalg_help = (
        f"hash algorithm: any hashlib name for ticket_auth (default: {DEFAULT_HASHALG}); for "
        "mod_auth_tkt, required: md5, sha256 or sha512 (TKTAuthDigestType)"
    )
    new = subcommand(
        "new",
        "mint a ticket and print it",
        "Mint a ticket and print it on stdout. With --format mod_auth_tkt, print the cookie value "
        "Apache's mod_auth_tkt checks (base64 unless --raw).",
    )
    new.add_argument("user_id", metavar="USER_ID")
    new.add_argument(
        "--token", dest="tokens", action="append", default=[], metavar="T", help="a token (repeatable)"
    )
    new.add_argument("--user-data", metavar="S", help="user data carried in the ticket")
    lifetime = new.add_mutually_exclusive_group()
    lifetime.add_argument(
        "--valid-for",
        type=_integer,
        metavar="SECONDS",
        help="ticket_auth: lifetime from now (default: 120 seconds)",
    )
    lifetime.add_argument(
        "--valid-until", type=_integer, metavar="EPOCH", help="ticket_auth: expiry, seconds since the epoch"
    )
    new.add_argument(
        "--timestamp",
        type=_integer,
        metavar="EPOCH",
        help="mod_auth_tkt: issue time, seconds since the epoch (default: now)",
    )
    new.add_argument(
        "--raw", action="store_true", help="mod_auth_tkt: print the raw ticket text instead of base64"
    )
    new.add_argument(
        "--client-ip",
        type=_client_ip,
        metavar="IP",
        help="bind the ticket to this client address (IPv4 only for mod_auth_tkt)",
    )
    add_hashalg(new, hashalg_help)
    add_encoding(new)
    add_secret(new)
    new.set_defaults(handler=_cmd_new)

    validate = subcommand(
        "validate",
        "check a ticket's digest and expiry",
        "Check a ticket's digest and expiry. Exit 0 and print its fields when it is valid; "
        "exit 1 with a one-line reason when it is not.",
    )
    add_ticket(validate)
    validate.add_argument(
        "--client-ip",
        type=_client_ip,
        metavar="IP",
        help="the client address the ticket is bound to (IPv4 only for mod_auth_tkt)",
    )
    validate.add_argument(
        "--now", type=_epoch, metavar="EPOCH", help="check the expiry at this time (default: now)"
    )
    validate.add_argument(
        "--timeout",
        type=_timeout,
        metavar="SECONDS",
        help=f"mod_auth_tkt: TKTAuthTimeout, counted from the issue time (default: {DEFAULT_TIMEOUT}; 0: none)",
    )
    add_hashalg(validate, hashalg_help)
    add_encoding(validate)
    add_secret(validate)
    validate.set_defaults(handler=_cmd_validate)

    inspect = subcommand(
        "inspect",
        "show a ticket's fields without the secret (UNVERIFIED)",
        "Show a ticket's fields and expiry without checking its digest (no secret needed). "
        "The output is UNVERIFIED: anyone can forge these fields; use 'validate' to trust them.",
    )
    add_ticket(inspect)
    add_hashalg(
        inspect,
        "hash algorithm (default: guessed from the digest length); md5, sha256 or sha512 for mod_auth_tkt",
    )
    inspect.add_argument(
        "--now", type=_epoch, metavar="EPOCH", help="describe the expiry relative to this time"
    )
    inspect.add_argument(
        "--timeout",
        type=_timeout,
        metavar="SECONDS",
        help="mod_auth_tkt: TKTAuthTimeout, to show when the ticket expires (default: not shown)",
    )
    inspect.set_defaults(handler=_cmd_inspect)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


# ---------------------------------------------------------------------------------------------
# Helpers


def _factory_class(args: argparse.Namespace, classes: _Classes) -> _FactoryClass:
    """The factory class for ``--format``: the one given to ``main`` (tests run the CLI on
    each core this way), else the one of the ``--core`` asked for, else the library's."""
    authtkt = args.format == MOD_AUTH_TKT
    given = classes[1] if authtkt else classes[0]
    if given is not None:
        return given
    from . import _core

    name = getattr(args, "core", None)
    if name is None:
        module_factory = _core.AuthTktFactory if authtkt else _core.TicketFactory
        return module_factory
    try:
        module = _core.load_core(name)
    except ModuleNotFoundError:
        raise UsageError(f"the {name} core is not available in this installation; use --core pure") from None
    return module.AuthTktFactory if authtkt else module.TicketFactory


def _check_options(args: argparse.Namespace) -> None:
    """Refuse the options the ticket's format cannot use (before the secret is read)."""
    for attr, option, why in _REFUSED_OPTIONS[args.format]:
        value = getattr(args, attr, None)
        if value is not None and value is not False:
            raise UsageError(f"{option} does not apply to --format {args.format}: {why}")
    if args.format == MOD_AUTH_TKT:
        encoding = getattr(args, "encoding", None)
        if encoding is not None and codecs.lookup(encoding).name != "utf-8":
            raise UsageError(
                "--encoding does not apply to --format mod_auth_tkt: its fields are always UTF-8"
            )
        client_ip = getattr(args, "client_ip", None)
        if client_ip is not None and ipaddress.ip_address(client_ip).version != 4:
            from . import _authtkt_format

            raise UsageError(_authtkt_format.IPV6_ERROR.format(client_ip))


def _hashalg(args: argparse.Namespace) -> str:
    """``--hashalg`` as given, or the ticket_auth format's default; mod_auth_tkt has none."""
    hashalg: str | None = args.hashalg
    if hashalg is None:
        if args.format == MOD_AUTH_TKT:
            raise UsageError(_NO_DIGEST_TYPE)
        return DEFAULT_HASHALG
    return hashalg


def _read_secret(args: argparse.Namespace) -> bytes:
    """The secret as bytes, from --secret-file or $TICKET_AUTH_SECRET. Never echoed."""
    path = args.secret_file
    if path is not None:
        try:
            with open(path, "rb") as file:
                secret = file.read()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise UsageError(f"cannot read secret file {path!r}: {reason}") from None
        if secret.endswith(b"\r\n"):
            secret = secret[:-2]
        elif secret.endswith(b"\n"):
            secret = secret[:-1]
        if not secret:
            raise UsageError(f"secret file {path!r} is empty")
        return secret
    value = os.environ.get(SECRET_ENV)
    if value is None:
        raise UsageError(_NO_SECRET)
    if not value:
        raise UsageError(f"{SECRET_ENV} is set but empty; put the secret in it or pass --secret-file PATH")
    return value.encode("utf-8", "surrogateescape")


def _make_factory(cls: _FactoryClass, secret: bytes, hashalg: str, **kwargs: Any) -> Any:
    try:
        return cls(secret, hashalg, **kwargs)
    except (TypeError, ValueError) as exc:
        # The secret is non-empty bytes and the other arguments were checked by the parser,
        # so this is about the algorithm; the cores' messages name it, never the secret.
        raise UsageError(f"--hashalg: {exc}") from None


def _read_ticket(args: argparse.Namespace, stdin: IO[str] | None) -> str:
    ticket: str | None = args.ticket
    if ticket is None or ticket == "-":
        if stdin is None:
            stdin = sys.stdin
        if stdin is None or (ticket is None and _isatty(stdin)):
            raise UsageError("no ticket: pass it as an argument or pipe it on stdin")
        buffer = getattr(stdin, "buffer", None)
        if buffer is not None:
            ticket = buffer.read().decode("utf-8", "surrogateescape")
        else:
            ticket = stdin.read()
        ticket = ticket.strip()
        if not ticket:
            raise UsageError("no ticket on stdin: pass it as an argument or pipe it in")
    elif not ticket:
        raise UsageError("the ticket is empty")
    return ticket


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _duration(seconds: float) -> str:
    """'1h 2m', '3m', '45s', '2d 3h': the two largest units of whole seconds (zeros left out)."""
    seconds = int(abs(seconds))
    parts: list[tuple[int, str]] = []
    for unit, size in (("y", 365 * 86400), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count or parts:
            parts.append((count, unit))
    if not parts:
        return "0s"
    shown = [f"{count}{unit}" for count, unit in parts[:2] if count]
    return " ".join(shown)


def _seconds_left(until: int, now: float) -> float:
    left = until - now
    return int(left) if left == int(left) else round(left, 3)


def _expiry(valid_until: int, now: float) -> tuple[bool, str, float]:
    """(expired, human text, seconds left, negative once expired), as ``validate`` decides it."""
    left = _seconds_left(valid_until, now)
    if valid_until <= now:
        return True, f"expired {_duration(left)} ago", left
    return False, f"expires in {_duration(left)}", left


def _show(value: str) -> str:
    """A field for text output: as is when plainly printable, else JSON-quoted (ASCII-only),
    so that a hostile ticket cannot write control characters to the terminal."""
    if value and value.isprintable() and value == value.strip() and not value.startswith('"'):
        return value
    return json.dumps(value)


def _fields(info: Any, now: float) -> dict[str, Any]:
    expired, human, left = _expiry(info.valid_until, now)
    return {
        "user_id": info.user_id,
        "tokens": list(info.tokens),
        "user_data": info.user_data,
        "valid_until": info.valid_until,
        "valid_until_iso": _iso(info.valid_until),
        "expired": expired,
        "seconds_left": left,
        "expiry": human,
    }


def _authtkt_fields(info: Any, now: float, timeout: int | None) -> dict[str, Any]:
    """The fields of a mod_auth_tkt ticket, whose ``timestamp`` is its issue time. It expires
    ``timeout`` seconds later, as Apache decides it: when ``(timestamp + timeout) mod 2**32 <
    now``; ``timeout`` None (inspect without --timeout): unknown; 0: never."""
    timestamp: int = info.timestamp
    age = -_seconds_left(timestamp, now)
    issued = f"issued {_duration(age)} ago" if age >= 0 else f"issued in the future (in {_duration(age)})"
    expires_at: int | None = None
    expired: bool | None = None
    left: float | None = None
    if timeout is None:
        human = "unknown: pass --timeout SECONDS (TKTAuthTimeout)"
    elif timeout == 0:
        expired, human = False, "no timeout"
    else:
        expires_at = timestamp + timeout
        left = _seconds_left(expires_at, now)
        expired = expires_at & _MAX_UINT32 < int(now) & _MAX_UINT32
        if expired:
            human = (
                f"expired {_duration(left)} ago" if left < 0 else "expired (Apache counts time modulo 2**32)"
            )
        else:
            human = (
                f"expires in {_duration(left)}"
                if left > -1
                else "not expired (Apache counts time modulo 2**32)"
            )
    return {
        "user_id": info.user_id,
        "tokens": list(info.tokens),
        "user_data": info.user_data,
        "timestamp": timestamp,
        "timestamp_iso": _iso(timestamp),
        "issued": issued,
        "timeout": timeout,
        "expires_at": expires_at,
        "expires_at_iso": None if expires_at is None else _iso(expires_at),
        "expired": expired,
        "seconds_left": left,
        "expiry": human,
    }


def _text_fields(fields: dict[str, Any], extra: Iterable[str] = ()) -> str:
    lines = [
        f"user_id:     {_show(fields['user_id'])}",
        f"tokens:      {json.dumps(fields['tokens'])}",
        f"user_data:   {_show(fields['user_data'])}",
    ]
    if "valid_until" in fields:
        lines.append(
            f"valid_until: {fields['valid_until']} ({fields['valid_until_iso']}, {fields['expiry']})"
        )
    else:
        lines.append(f"timestamp:   {fields['timestamp']} ({fields['timestamp_iso']}, {fields['issued']})")
        if fields["expires_at"] is None:
            lines.append(f"expires_at:  {fields['expiry']}")
        else:
            lines.append(
                f"expires_at:  {fields['expires_at']} ({fields['expires_at_iso']}, {fields['expiry']})"
            )
    lines.extend(extra)
    return "".join(line + "\n" for line in lines)


def _parsing_algorithms(
    cls: _FactoryClass, ticket: str, algorithms: Iterable[tuple[int, str]], skip: str | None = None
) -> list[tuple[str, Any]]:
    """``[(hashalg, info)]`` for every usual digest length the ticket parses with."""
    from .exception import TicketError

    found = []
    for _hex_len, hashalg in algorithms:
        if hashalg == skip:
            continue
        try:
            info = cls(_DUMMY_SECRET, hashalg).parse(ticket)
        except (TicketError, TypeError, ValueError):
            continue
        found.append((hashalg, info))
    return found


def _algorithms(args: argparse.Namespace) -> tuple[tuple[int, str], ...]:
    return _AUTHTKT_HASHALG_BY_HEX_LEN if args.format == MOD_AUTH_TKT else _HASHALG_BY_HEX_LEN


def _shorter_digest_hint(
    args: argparse.Namespace, cls: _FactoryClass, ticket: str, msg: str, hashalg: str
) -> str | None:
    """The usual cause of these parse errors: a ticket minted with a shorter digest."""
    from . import _authtkt_format, _ticket_format

    if msg not in (
        _ticket_format.TOO_SHORT,
        _ticket_format.BAD_DIGEST,
        _authtkt_format.TOO_SHORT,
        _authtkt_format.BAD_DIGEST,
    ):
        return None
    others = _parsing_algorithms(cls, ticket, _algorithms(args), skip=hashalg.lower())
    if not others:
        return None
    name = others[0][0]
    return f"its digest length fits {name}: if it is a {name} ticket, pass --hashalg {name}"


def _authtkt_cookie_hint(args: argparse.Namespace, classes: _Classes, ticket: str) -> str | None:
    """For the ticket_auth format: a mod_auth_tkt cookie given by mistake. A ticket_auth
    ticket always holds '!', so a value without one that reads as mod_auth_tkt (base64 or
    %21-escaped) is one; a raw mod_auth_tkt ticket is left alone, as it can look like both."""
    if args.format != TICKET_AUTH or "!" in ticket:
        return None
    authtkt_cls = _factory_class(argparse.Namespace(**{**vars(args), "format": MOD_AUTH_TKT}), classes)
    found = _parsing_algorithms(authtkt_cls, ticket, _AUTHTKT_HASHALG_BY_HEX_LEN)
    if not found:
        return None
    option = f" --hashalg {found[0][0]}" if args.command == "validate" else ""
    return f"it reads as a mod_auth_tkt cookie: pass --format mod_auth_tkt{option}"


# ---------------------------------------------------------------------------------------------
# Subcommands: each returns (exit status, JSON object, text for stdout, text for stderr)


def _cmd_new(args: argparse.Namespace, classes: _Classes, stdin: IO[str] | None) -> _Result:
    _check_options(args)
    hashalg = _hashalg(args)
    cls = _factory_class(args, classes)
    factory = _make_factory(cls, _read_secret(args), hashalg)
    result: dict[str, Any]
    try:
        if args.format == MOD_AUTH_TKT:
            timestamp = int(time.time()) if args.timestamp is None else args.timestamp
            ticket = factory.new(
                args.user_id,
                tokens=args.tokens,
                user_data="" if args.user_data is None else args.user_data,
                timestamp=timestamp,
                client_ip=args.client_ip,
                raw=args.raw,
            )
            result = {"format": MOD_AUTH_TKT, "ticket": ticket, "timestamp": timestamp}
        else:
            valid_until = args.valid_until
            if args.valid_for is not None:
                valid_until = int(time.time()) + args.valid_for
            ticket = factory.new(
                args.user_id,
                tokens=args.tokens or None,
                user_data=args.user_data,
                valid_until=valid_until,
                client_ip=args.client_ip,
                encoding=args.encoding or "utf-8",
            )
            result = {"ticket": ticket}
    except UnicodeError as exc:  # UnicodeEncodeError has .reason; some codecs raise the base class
        reason = getattr(exc, "reason", None) or str(exc)
        raise UsageError(f"cannot encode the ticket's fields: {reason}") from None
    except (TypeError, ValueError) as exc:  # including what mod_auth_tkt cannot carry
        raise UsageError(str(exc)) from None
    return 0, result, ticket + "\n", ""


def _cmd_validate(args: argparse.Namespace, classes: _Classes, stdin: IO[str] | None) -> _Result:
    from .exception import TicketDigestError, TicketExpired, TicketParseError

    _check_options(args)
    hashalg = _hashalg(args)
    cls = _factory_class(args, classes)
    authtkt = args.format == MOD_AUTH_TKT
    timeout = DEFAULT_TIMEOUT if args.timeout is None else args.timeout
    if authtkt:
        factory = _make_factory(cls, _read_secret(args), hashalg, timeout=timeout)
        hashalg = hashalg.lower()
        extra: dict[str, Any] = {"format": MOD_AUTH_TKT}
        kwargs: dict[str, Any] = {}
    else:
        factory = _make_factory(cls, _read_secret(args), hashalg)
        extra, kwargs = {}, {"encoding": args.encoding or "utf-8"}
    ticket = _read_ticket(args, stdin)
    now = time.time() if args.now is None else args.now
    try:
        info = factory.validate(ticket, client_ip=args.client_ip, now=now, **kwargs)
    except TicketParseError as exc:
        hint = _shorter_digest_hint(args, cls, ticket, exc.msg, hashalg) or _authtkt_cookie_hint(
            args, classes, ticket
        )
        reason = f"malformed: {exc.msg}" + (f" ({hint})" if hint else "")
        return _invalid("malformed", reason, **extra)
    except TicketDigestError:
        return _invalid("bad_digest", _BAD_DIGEST_REASON, **extra)
    except TicketExpired:
        # The digest was right, so these fields are genuine.
        if authtkt:
            fields = _authtkt_fields(factory.parse(ticket), now, timeout)
            reason = (
                f"expired at {fields['expires_at_iso']} ({_duration(fields['seconds_left'])} ago; "
                f"issued at {fields['timestamp_iso']}, timeout {timeout}s)"
            )
        else:
            fields = _fields(factory.parse(ticket), now)
            reason = f"expired at {fields['valid_until_iso']} ({_duration(fields['seconds_left'])} ago)"
        return _invalid("expired", reason, fields, **extra)
    except ValueError as exc:  # a client address the core refuses
        raise UsageError(str(exc)) from None
    fields = _authtkt_fields(info, now, timeout) if authtkt else _fields(info, now)
    result = {"valid": True, **extra, **fields, "digest": info.digest, "hashalg": hashalg}
    return 0, result, "valid:       yes\n" + _text_fields(fields), ""


def _invalid(kind: str, reason: str, fields: dict[str, Any] | None = None, **extra: Any) -> _Result:
    result = {**extra, "valid": False, "error": kind, "reason": reason}
    if fields:
        result.update(fields)
    return 1, result, "", f"invalid ticket: {reason}\n"


def _cmd_inspect(args: argparse.Namespace, classes: _Classes, stdin: IO[str] | None) -> _Result:
    from .exception import TicketError

    _check_options(args)
    cls = _factory_class(args, classes)
    authtkt = args.format == MOD_AUTH_TKT
    extra: dict[str, Any] = {"verified": False, "format": MOD_AUTH_TKT} if authtkt else {"verified": False}
    ticket = _read_ticket(args, stdin)
    now = time.time() if args.now is None else args.now
    if args.hashalg is not None:
        factory = _make_factory(cls, _DUMMY_SECRET, args.hashalg)
        try:
            info = factory.parse(ticket)
        except TicketError as exc:
            hint = _authtkt_cookie_hint(args, classes, ticket)
            return _invalid("malformed", f"malformed: {exc.msg}" + (f" ({hint})" if hint else ""), **extra)
        hashalg, guessed = args.hashalg.lower() if authtkt else args.hashalg, False
    else:
        found = _parsing_algorithms(cls, ticket, _algorithms(args))
        if not found:
            longest = _algorithms(args)[0][1]
            try:
                cls(_DUMMY_SECRET, longest).parse(ticket)
            except TicketError as exc:
                notes = [f"as {longest}; no usual digest length fits either"]
                notes += filter(None, [_authtkt_cookie_hint(args, classes, ticket)])
                reason = f"malformed: {exc.msg} ({'; '.join(notes)})"
            else:  # pragma: no cover - the longest is among the algorithms tried
                reason = "malformed"
            return _invalid("malformed", reason, **extra)
        # The longest digest that fits: shorter ones nearly always "fit" too, reading part
        # of the real digest as TIME and UID, so they say nothing.
        (hashalg, info), guessed = found[0], True
    fields = _authtkt_fields(info, now, args.timeout) if authtkt else _fields(info, now)
    result = {**extra, **fields, "digest": info.digest, "hashalg": hashalg, "hashalg_guessed": guessed}
    note = f"{hashalg}"
    if guessed:
        note += f" (guessed from the {len(info.digest)}-character digest; pass --hashalg if it is another)"
    text = (
        "UNVERIFIED: the digest was not checked (inspect uses no secret); use 'validate' to check it\n"
        + _text_fields(fields, [f"digest:      {info.digest}", f"hashalg:     {note}"])
    )
    return 0, result, text, ""


# ---------------------------------------------------------------------------------------------


def _prog_name() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if name in ("", "-c", "__main__.py"):
        return "python -m ticket_auth"
    return name


def main(
    argv: Sequence[str] | None = None,
    *,
    factory_class: _FactoryClass | None = None,
    authtkt_class: _FactoryClass | None = None,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Run the command line; return the exit status (0 ok, 1 invalid ticket, 2 usage error).

    ``factory_class`` replaces the ``ticket_auth`` format's ``TicketFactory`` and
    ``authtkt_class`` the ``mod_auth_tkt`` format's ``AuthTktFactory`` (tests run the CLI
    against each core this way; they win over ``--core``). ``stdin``/``stdout``/``stderr``
    default to the ``sys`` streams.
    """
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    if argv is None:
        argv = sys.argv[1:]
        prog = _prog_name()
    else:
        prog = "ticket-auth"
    parser = _build_parser(prog, (stdout, stderr))
    try:
        args = parser.parse_args(list(argv))
        handler: Callable[..., _Result] = args.handler
        status, result, out, err = handler(args, (factory_class, authtkt_class), stdin)
    except _Exit as exc:
        return exc.status
    except UsageError as exc:
        stderr.write(f"{prog} {args.command}: error: {exc}\n")
        return 2
    if getattr(args, "json", False):
        stdout.write(json.dumps(result) + "\n")
    else:
        stdout.write(out)
        stderr.write(err)
    return status
