"""The ``ticket-auth`` command line: mint, inspect and validate tickets.

    export TICKET_AUTH_SECRET='correct horse battery staple'
    ticket=$(python -m ticket_auth new alice --token admin)
    python -m ticket_auth validate "$ticket"
    python -m ticket_auth inspect "$ticket"          # no secret needed; UNVERIFIED

The secret comes from ``--secret-file PATH`` or the ``TICKET_AUTH_SECRET`` environment
variable (``--secret-file`` wins when both are given), never from the command line, where it
would land in shell history and ``ps``. It is never printed, not even in error messages.

Exit codes: 0 success; 1 the ticket is not valid (``validate``) or cannot be parsed
(``inspect``), with a one-line reason; 2 usage error (bad option, no secret, unreadable
secret file, unknown hash algorithm, bad client IP ...). ``--json`` prints one JSON object on
stdout for results (exit 0 and 1); usage errors (exit 2) are always plain text on stderr.

This module is imported only by ``python -m ticket_auth`` and the ``ticket-auth`` script,
never by ``import ticket_auth``, so the library does not pay for argparse.
"""

from __future__ import annotations

import argparse
import codecs
import importlib
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

    # A factory class (TicketFactory of either core, or mod_auth_tkt's AuthTktFactory), the
    # result of a subcommand (exit status, JSON object, text for stdout, text for stderr),
    # and the (stdout, stderr) pair the parser writes to.
    _FactoryClass: TypeAlias = Callable[..., Any]
    _Result: TypeAlias = tuple[int, dict[str, Any], str, str]
    _Streams: TypeAlias = tuple[SupportsWrite[str], SupportsWrite[str]]

__all__ = ["main"]

SECRET_ENV = "TICKET_AUTH_SECRET"  # noqa: S105 - the variable's name, not a secret
DEFAULT_HASHALG = "sha512"

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

_BAD_DIGEST_REASON = "bad digest (wrong secret, wrong client IP, wrong hash algorithm, or tampered)"
_NO_SECRET = (
    f"no secret: set the {SECRET_ENV} environment variable or pass --secret-file PATH "
    "(the secret is never taken from the command line)"
)
_SECRET_ON_COMMAND_LINE = (
    f"the secret is never taken from the command line (it would land in shell history and ps); "
    f"set the {SECRET_ENV} environment variable or pass --secret-file PATH"
)
_MOD_AUTH_TKT_UNAVAILABLE = "mod_auth_tkt format is not available in this version"


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
            choices=("ticket_auth", "mod_auth_tkt"),
            default="ticket_auth",
            help="ticket format (default: ticket_auth)",
        )
        return sub

    def add_hashalg(sub: _Parser, default: str | None, help_text: str) -> None:
        sub.add_argument("--hashalg", metavar="NAME", default=default, help=help_text)

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

    new = subcommand("new", "mint a ticket and print it", "Mint a ticket and print it on stdout.")
    new.add_argument("user_id", metavar="USER_ID")
    new.add_argument(
        "--token", dest="tokens", action="append", default=[], metavar="T", help="a token (repeatable)"
    )
    new.add_argument("--user-data", metavar="S", help="user data carried in the ticket")
    lifetime = new.add_mutually_exclusive_group()
    lifetime.add_argument(
        "--valid-for", type=_integer, metavar="SECONDS", help="lifetime from now (default: 120 seconds)"
    )
    lifetime.add_argument(
        "--valid-until", type=_integer, metavar="EPOCH", help="expiry, seconds since the epoch"
    )
    new.add_argument(
        "--client-ip", type=_client_ip, metavar="IP", help="bind the ticket to this client address"
    )
    add_hashalg(new, DEFAULT_HASHALG, f"hashlib algorithm (default: {DEFAULT_HASHALG})")
    new.add_argument(
        "--encoding", type=_encoding, default="utf-8", help="encoding of the signed text (default: utf-8)"
    )
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
        "--client-ip", type=_client_ip, metavar="IP", help="the client address the ticket is bound to"
    )
    validate.add_argument(
        "--now", type=_epoch, metavar="EPOCH", help="check the expiry at this time (default: now)"
    )
    add_hashalg(validate, DEFAULT_HASHALG, f"hashlib algorithm (default: {DEFAULT_HASHALG})")
    validate.add_argument(
        "--encoding", type=_encoding, default="utf-8", help="encoding of the signed text (default: utf-8)"
    )
    add_secret(validate)
    validate.set_defaults(handler=_cmd_validate)

    inspect = subcommand(
        "inspect",
        "show a ticket's fields without the secret (UNVERIFIED)",
        "Show a ticket's fields and expiry without checking its digest (no secret needed). "
        "The output is UNVERIFIED: anyone can forge these fields; use 'validate' to trust them.",
    )
    add_ticket(inspect)
    add_hashalg(inspect, None, "hashlib algorithm (default: guessed from the digest length)")
    inspect.add_argument(
        "--now", type=_epoch, metavar="EPOCH", help="describe the expiry relative to this time"
    )
    inspect.set_defaults(handler=_cmd_inspect)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


# ---------------------------------------------------------------------------------------------
# Helpers


def _factory_class(args: argparse.Namespace, factory_class: _FactoryClass | None) -> _FactoryClass:
    """The factory class for ``--format`` (and ``--core``); a plug-in point per format."""
    if args.format == "mod_auth_tkt":
        try:
            module = importlib.import_module("ticket_auth.mod_auth_tkt")
        except ModuleNotFoundError as exc:
            if exc.name != "ticket_auth.mod_auth_tkt":
                raise
            raise UsageError(_MOD_AUTH_TKT_UNAVAILABLE) from None
        try:
            auth_tkt_factory: _FactoryClass = module.AuthTktFactory
        except AttributeError:
            raise UsageError(_MOD_AUTH_TKT_UNAVAILABLE) from None
        return auth_tkt_factory
    if factory_class is not None:
        return factory_class
    core = getattr(args, "core", None)
    if core == "compiled":
        try:
            from ._ticketcore import TicketFactory as CompiledFactory
        except ImportError:
            raise UsageError(
                "the compiled core is not available in this installation; use --core pure"
            ) from None
        return CompiledFactory
    if core == "pure":
        from ._ticketcore_py import TicketFactory as PureFactory

        return PureFactory
    from .ticket_factory import TicketFactory

    return TicketFactory


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


def _make_factory(cls: _FactoryClass, secret: bytes, hashalg: str) -> Any:
    try:
        return cls(secret, hashalg)
    except (TypeError, ValueError) as exc:
        # The secret is non-empty bytes here, so this is about the algorithm; the core's
        # messages name the algorithm, never the secret.
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


def _expiry(valid_until: int, now: float) -> tuple[bool, str, float]:
    """(expired, human text, seconds left, negative once expired), as ``validate`` decides it."""
    left = valid_until - now
    left = int(left) if left == int(left) else round(left, 3)
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


def _text_fields(fields: dict[str, Any], extra: Iterable[str] = ()) -> str:
    lines = [
        f"user_id:     {_show(fields['user_id'])}",
        f"tokens:      {json.dumps(fields['tokens'])}",
        f"user_data:   {_show(fields['user_data'])}",
        f"valid_until: {fields['valid_until']} ({fields['valid_until_iso']}, {fields['expiry']})",
    ]
    lines.extend(extra)
    return "".join(line + "\n" for line in lines)


def _parsing_algorithms(cls: _FactoryClass, ticket: str, skip: str | None = None) -> list[tuple[str, Any]]:
    """``[(hashalg, TicketInfo)]`` for every usual digest length the ticket parses with."""
    from .exception import TicketError

    found = []
    for _hex_len, hashalg in _HASHALG_BY_HEX_LEN:
        if hashalg == skip:
            continue
        try:
            info = cls(_DUMMY_SECRET, hashalg).parse(ticket)
        except (TicketError, TypeError, ValueError):
            continue
        found.append((hashalg, info))
    return found


# ---------------------------------------------------------------------------------------------
# Subcommands: each returns (exit status, JSON object, text for stdout, text for stderr)


def _cmd_new(args: argparse.Namespace, factory_class: _FactoryClass | None, stdin: IO[str] | None) -> _Result:
    cls = _factory_class(args, factory_class)
    factory = _make_factory(cls, _read_secret(args), args.hashalg)
    valid_until = args.valid_until
    if args.valid_for is not None:
        valid_until = int(time.time()) + args.valid_for
    try:
        ticket = factory.new(
            args.user_id,
            tokens=args.tokens or None,
            user_data=args.user_data,
            valid_until=valid_until,
            client_ip=args.client_ip,
            encoding=args.encoding,
        )
    except UnicodeError as exc:  # UnicodeEncodeError has .reason; some codecs raise the base class
        reason = getattr(exc, "reason", None) or str(exc)
        raise UsageError(f"cannot encode the ticket's fields: {reason}") from None
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    return 0, {"ticket": ticket}, ticket + "\n", ""


def _cmd_validate(
    args: argparse.Namespace, factory_class: _FactoryClass | None, stdin: IO[str] | None
) -> _Result:
    from . import _wire
    from .exception import TicketDigestError, TicketExpired, TicketParseError

    cls = _factory_class(args, factory_class)
    factory = _make_factory(cls, _read_secret(args), args.hashalg)
    ticket = _read_ticket(args, stdin)
    now = time.time() if args.now is None else args.now
    try:
        info = factory.validate(ticket, client_ip=args.client_ip, now=now, encoding=args.encoding)
    except TicketParseError as exc:
        reason = f"malformed: {exc.msg}"
        if exc.msg in (_wire.TOO_SHORT, _wire.BAD_DIGEST):
            # The usual cause: a ticket minted with a shorter digest (another --hashalg).
            others = _parsing_algorithms(cls, ticket, skip=args.hashalg.lower())
            if others:
                name = others[0][0]
                reason += f" (its digest length fits {name}: if it is a {name} ticket, pass --hashalg {name})"
        return _invalid("malformed", reason)
    except TicketDigestError:
        return _invalid("bad_digest", _BAD_DIGEST_REASON)
    except TicketExpired:
        # The digest was right, so these fields are genuine.
        fields = _fields(factory.parse(ticket), now)
        reason = f"expired at {fields['valid_until_iso']} ({_duration(fields['seconds_left'])} ago)"
        return _invalid("expired", reason, fields)
    except ValueError as exc:  # a client address the core refuses
        raise UsageError(str(exc)) from None
    fields = _fields(info, now)
    result = {"valid": True, **fields, "digest": info.digest, "hashalg": args.hashalg}
    return 0, result, "valid:       yes\n" + _text_fields(fields), ""


def _invalid(kind: str, reason: str, fields: dict[str, Any] | None = None, **extra: Any) -> _Result:
    result = {**extra, "valid": False, "error": kind, "reason": reason}
    if fields:
        result.update(fields)
    return 1, result, "", f"invalid ticket: {reason}\n"


def _cmd_inspect(
    args: argparse.Namespace, factory_class: _FactoryClass | None, stdin: IO[str] | None
) -> _Result:
    from .exception import TicketError

    cls = _factory_class(args, factory_class)
    ticket = _read_ticket(args, stdin)
    now = time.time() if args.now is None else args.now
    if args.hashalg is not None:
        factory = _make_factory(cls, _DUMMY_SECRET, args.hashalg)
        try:
            info = factory.parse(ticket)
        except TicketError as exc:
            return _invalid("malformed", f"malformed: {exc.msg}", verified=False)
        hashalg, guessed = args.hashalg, False
    else:
        found = _parsing_algorithms(cls, ticket)
        if not found:
            try:
                cls(_DUMMY_SECRET, DEFAULT_HASHALG).parse(ticket)
            except TicketError as exc:
                reason = f"malformed: {exc.msg} (as {DEFAULT_HASHALG}; no usual digest length fits either)"
            else:  # pragma: no cover - the default is among the algorithms tried
                reason = "malformed"
            return _invalid("malformed", reason, verified=False)
        # The longest digest that fits: shorter ones nearly always "fit" too, reading part
        # of the real digest as TIME and UID, so they say nothing.
        (hashalg, info), guessed = found[0], True
    fields = _fields(info, now)
    result = {
        "verified": False,
        **fields,
        "digest": info.digest,
        "hashalg": hashalg,
        "hashalg_guessed": guessed,
    }
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
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Run the command line; return the exit status (0 ok, 1 invalid ticket, 2 usage error).

    ``factory_class`` replaces the ``ticket_auth`` format's ``TicketFactory`` (tests run the
    CLI against each core this way; it wins over ``--core``). ``stdin``/``stdout``/``stderr``
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
        status, result, out, err = handler(args, factory_class, stdin)
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
