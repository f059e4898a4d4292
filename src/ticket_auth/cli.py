"""The ``ticket-auth`` command line (``python -m ticket_auth``; docs/cli.md): mint, inspect and validate tickets of either format, ticket_auth or Apache's
mod_auth_tkt. The secret comes from ``--secret-file PATH`` or ``$TICKET_AUTH_SECRET``, never from
the command line, and is never printed. Exit status: 0 success, 1 invalid or unparsable ticket
(one line on stderr, or ``--json`` on stdout), 2 usage error (plain text on stderr).

What differs between the formats is in one table, ``_FORMATS``; their rules come from
``_ticket_format`` and ``_authtkt_format``. Only ``python -m ticket_auth`` and the ``ticket-auth``
script import this module, so ``import ticket_auth`` does not pay for argparse.
"""

from __future__ import annotations

import argparse
import codecs
import hashlib
import ipaddress
import json
import math
import os
import sys
import time

from . import __version__, _authtkt_format, _core, _ticket_format
from ._arguments import MAX_UINT32
from .exception import TicketDigestError, TicketError, TicketExpired, TicketParseError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any, ClassVar, TypeAlias

    # What a subcommand returns: exit status, JSON object, text (stdout on 0, else stderr).
    _Result: TypeAlias = tuple[int, dict[str, Any], str]

__all__ = ["main"]

SECRET_ENV = "TICKET_AUTH_SECRET"  # noqa: S105 - the variable's name, not a secret

# Lets ``inspect`` (and the hints of ``validate``) parse a ticket without knowing the secret:
# parse never uses it, but a factory needs a non-empty one.
_DUMMY_SECRET = b"inspect-without-secret"

_BAD_DIGEST_REASON = "bad digest (wrong secret, wrong client IP, wrong hash algorithm, or tampered)"
_NEVER_ON_COMMAND_LINE = "never taken from the command line"
_USE_FILE = "pass --secret-file PATH"
_USE_ENV_OR_FILE = f"set the {SECRET_ENV} environment variable or {_USE_FILE}"
_NO_DIGEST_TYPE = (
    "--format mod_auth_tkt needs the digest type: pass --hashalg md5|sha256|sha512 (TKTAuthDigestType); "
    "Apache's default, MD5, is never chosen silently"
)
_AUTHTKT_LIFETIME = (
    "a mod_auth_tkt ticket carries its issue time (--timestamp EPOCH, default now), and its "
    "lifetime is TKTAuthTimeout, given with --timeout SECONDS to 'validate'"
)
_CARRIES_EXPIRY = "a ticket_auth ticket carries its expiry"
_UNKNOWN_EXPIRY = "unknown: pass --timeout SECONDS (TKTAuthTimeout)"


class UsageError(Exception):
    """A mistake in how the command was called: exit status 2, message on stderr."""


# ---------------------------------------------------------------------------------------------
# The two formats: what differs between them


def _longest_first(hashalgs: Iterable[str]) -> tuple[str, ...]:
    """Hash algorithms, longest digest first (md5 is measured, not used: FIPS builds allow that)."""
    return tuple(sorted(hashalgs, key=lambda name: -hashlib.new(name, usedforsecurity=False).digest_size))


class _TicketAuthFormat:
    """The ticket_auth format (``TicketFactory``): a ticket carries its expiry."""

    factory = "TicketFactory"  # the class's name in a core module
    default_hashalg: str | None = _ticket_format.DEFAULT_HASHALG
    default_timeout: int | None = None
    canonical: staticmethod[[str], str] = staticmethod(str)  # the hash algorithm's name as --json shows it
    # Tried by inspect without --hashalg, longest digest first: a user id that starts with hex
    # digits can make a shorter digest parse too, never a longer one that does not fit.
    hashalgs: tuple[str, ...] = ("sha512", "sha384", "sha256", "sha224", "sha1", "md5")
    short_digest_errors = (_ticket_format.TOO_SHORT, _ticket_format.BAD_DIGEST)  # hint at a shorter one
    json: ClassVar[dict[str, Any]] = {}  # in every JSON object
    utf8_only = ipv4_only = False
    expired = "expired at {valid_until_iso} ({ago} ago)"
    refused: ClassVar[dict[str, str]] = {  # the other format's options, and why they do not apply
        "--timestamp": f"{_CARRIES_EXPIRY}: use --valid-for or --valid-until",
        "--raw": "a ticket_auth ticket has a single form",
        "--timeout": _CARRIES_EXPIRY,
    }

    @staticmethod
    def new(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any], str | None]:
        """(arguments for ``factory.new``, what --json shows besides the ticket, a note)."""
        valid_until, note = args.valid_until, None
        if args.valid_for is not None:
            if args.valid_for < 1:
                raise UsageError(
                    f"--valid-for must be at least 1 second, not {args.valid_for} "
                    "(to mint an expired ticket on purpose, pass --valid-until EPOCH)"
                )
            valid_until = int(time.time()) + args.valid_for
        elif valid_until is not None and valid_until <= time.time():
            ago = _duration(time.time() - valid_until)
            note = f"note: this ticket has already expired (--valid-until is {ago} in the past)"
        return {"valid_until": valid_until, "encoding": args.encoding or "utf-8"}, {}, note

    @staticmethod
    def fields(info: Any, now: float, timeout: int | None) -> dict[str, Any]:
        until: int = info.valid_until
        expiry = _expiry(until, now, until <= now)  # as TicketFactory.validate decides it
        return {**_user_fields(info), "valid_until": until, "valid_until_iso": _iso(until), **expiry}


class _AuthTktFormat(_TicketAuthFormat):
    """The mod_auth_tkt format (``AuthTktFactory``): a ticket carries its issue time and is
    valid for TKTAuthTimeout seconds after it. Any issue time is legitimate, past or future."""

    factory = "AuthTktFactory"
    default_hashalg = None  # MD5, Apache's default, is never chosen silently
    default_timeout = _authtkt_format.DEFAULT_TIMEOUT
    canonical = staticmethod(_authtkt_format.check_digest_type)
    hashalgs = _longest_first(_authtkt_format.DIGEST_TYPES)
    short_digest_errors = (_authtkt_format.TOO_SHORT, _authtkt_format.BAD_DIGEST)
    json: ClassVar[dict[str, Any]] = {"format": "mod_auth_tkt"}
    utf8_only = ipv4_only = True
    expired = "expired at {expires_at_iso} ({ago} ago; issued at {timestamp_iso}, timeout {timeout}s)"
    refused: ClassVar[dict[str, str]] = {"--valid-for": _AUTHTKT_LIFETIME, "--valid-until": _AUTHTKT_LIFETIME}

    @staticmethod
    def new(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any], str | None]:
        timestamp = int(time.time()) if args.timestamp is None else args.timestamp
        return {"timestamp": timestamp, "raw": args.raw}, {"timestamp": timestamp}, None

    @staticmethod
    def fields(info: Any, now: float, timeout: int | None) -> dict[str, Any]:
        """``timeout`` None (inspect without --timeout): the expiry is unknown; 0: none."""
        timestamp: int = info.timestamp
        age = now - timestamp
        issued = f"issued {_duration(age)} ago" if age >= 0 else f"issued in the future (in {_duration(age)})"
        fields = {**_user_fields(info), "timestamp": timestamp, "timestamp_iso": _iso(timestamp)}
        fields.update(issued=issued, timeout=timeout, expires_at=None, expires_at_iso=None)
        if timeout is None:
            return {**fields, "expired": None, "seconds_left": None, "expiry": _UNKNOWN_EXPIRY}
        if timeout == 0:
            return {**fields, "expired": False, "seconds_left": None, "expiry": "no timeout"}
        fields.update(expires_at=timestamp + timeout, expires_at_iso=_iso(timestamp + timeout))
        expired = _authtkt_format.expired(timestamp, timeout, now)
        return {**fields, **_expiry(timestamp + timeout, now, expired)}


_FORMATS = {"ticket_auth": _TicketAuthFormat, "mod_auth_tkt": _AuthTktFormat}  # --format's choices


# ---------------------------------------------------------------------------------------------
# The parser


class _RefuseSecret(argparse.Action):
    """``--secret``: refused with a message that does not repeat the value."""

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        why = "it would land in shell history and ps"
        parser.error(f"the secret is {_NEVER_ON_COMMAND_LINE} ({why}); {_USE_ENV_OR_FILE}")


def _typed(convert: Any, what: str) -> Any:
    """An argparse type: ``convert(text)``; "WHAT: 'text'" when it raises ValueError or LookupError."""

    def parse(text: str) -> Any:
        try:
            return convert(text)
        except (ValueError, LookupError):
            raise argparse.ArgumentTypeError(f"{what}: {text!r}") from None

    return parse


def _epoch(text: str) -> float:
    if not math.isfinite(value := float(text)):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def _text_encoding(text: str) -> str:
    codecs.lookup(text)
    try:
        "".encode(text)  # a codec, but is it a text encoding? (rot13, hex, base64 are not)
    except LookupError:
        raise argparse.ArgumentTypeError(f"not a text encoding: {text!r}") from None
    return text


_INTEGER = _typed(int, "not an integer")
_SUPPRESS = argparse.SUPPRESS
_EPOCH = _typed(_epoch, "not a number of seconds since the epoch")
_TIMEOUT = _typed(
    lambda text: _authtkt_format.check_timeout(int(text)),
    f"not a number of seconds from 0 (no timeout) to {MAX_UINT32}",
)
_CLIENT_IP = _typed(lambda text: ipaddress.ip_address(text) and text, "not an IPv4 or IPv6 address")
_ENCODING = _typed(_text_encoding, "unknown encoding")
_HELP = {
    "epilog": f"The secret comes from --secret-file PATH or the {SECRET_ENV} environment variable "
    "(--secret-file wins when both are given), never from the command line. "
    "Exit status: 0 success, 1 invalid or unparsable ticket, 2 usage error.",
    "json": "print one JSON object (for scripts)",
    "ticket": "the ticket; '-' or absent: read it from stdin",
    "now": "the time to check the expiry at, seconds since the epoch (default: now)",
    "core": "which core to use (default: the compiled one when it is built); for debugging",
    "format": "ticket format: ticket_auth (default) or mod_auth_tkt (Apache's auth_tkt cookie)",
    "hashalg": f"hash algorithm: any hashlib name for ticket_auth (default: {_ticket_format.DEFAULT_HASHALG}, "
    "or for inspect, guessed from the digest length); md5, sha256 or sha512 for mod_auth_tkt "
    "(TKTAuthDigestType; required by new and validate)",
    "client-ip": "the client address the ticket is bound to (IPv4 only for mod_auth_tkt)",
    "encoding": "ticket_auth: encoding of the signed text (default: utf-8; mod_auth_tkt is always UTF-8)",
    "secret-file": f"read the secret from PATH (one trailing newline is dropped); wins over ${SECRET_ENV}",
    "valid-for": f"ticket_auth: lifetime from now, 1 or more (default: {_ticket_format.DEFAULT_LIFETIME})",
    "valid-until": "ticket_auth: expiry, seconds since the epoch (a past one: a note on stderr)",
    "token": "a token (repeatable)",
    "raw": "mod_auth_tkt: print the raw ticket text instead of base64",
    "timestamp": "mod_auth_tkt: issue time, seconds since the epoch, past or future (default: now)",
    "timeout": "mod_auth_tkt: TKTAuthTimeout, counted from the issue time; 0: none "
    f"(default: {_authtkt_format.DEFAULT_TIMEOUT} for validate; for inspect, the expiry is not shown)",
}


def _build_parser(prog: str) -> argparse.ArgumentParser:
    # Options every subcommand takes, also before it (SUPPRESS: a subcommand does not
    # overwrite them). No abbreviations: '--secret x' must never match --secret-file.
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    common.add_argument("--secret", nargs="?", action=_RefuseSecret, default=_SUPPRESS, help=_SUPPRESS)
    common.add_argument("--json", action="store_true", default=_SUPPRESS, help=_HELP["json"])
    common.add_argument("--core", choices=tuple(_core.CORE_MODULES), default=_SUPPRESS, help=_HELP["core"])
    description = "Mint, inspect and validate ticket_auth tickets."
    parser = argparse.ArgumentParser(
        prog, parents=[common], allow_abbrev=False, description=description, epilog=_HELP["epilog"]
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for handler, summary in (
        (_cmd_new, "mint a ticket and print it"),
        (_cmd_validate, "check a ticket's digest and expiry"),
        (_cmd_inspect, "show a ticket's fields without the secret (UNVERIFIED)"),
    ):
        name = handler.__name__.removeprefix("_cmd_")
        sub = commands.add_parser(
            name, help=summary, description=handler.__doc__, parents=[common], allow_abbrev=False
        )
        sub.set_defaults(handler=handler)
        sub.add_argument("--format", choices=tuple(_FORMATS), default="ticket_auth", help=_HELP["format"])
        if name == "new":
            sub.add_argument("user_id", metavar="USER_ID", help="the user the ticket names (not empty)")
            sub.add_argument("--token", dest="tokens", action="append", metavar="T", help=_HELP["token"])
            sub.add_argument("--user-data", default="", metavar="S", help="user data carried in the ticket")
            lifetime = sub.add_mutually_exclusive_group()
            lifetime.add_argument("--valid-for", type=_INTEGER, metavar="SECONDS", help=_HELP["valid-for"])
            lifetime.add_argument("--valid-until", type=_INTEGER, metavar="EPOCH", help=_HELP["valid-until"])
            sub.add_argument("--timestamp", type=_INTEGER, metavar="EPOCH", help=_HELP["timestamp"])
            sub.add_argument("--raw", action="store_true", help=_HELP["raw"])
        else:
            sub.add_argument("ticket", nargs="?", metavar="TICKET", help=_HELP["ticket"])
            sub.add_argument("--now", type=_EPOCH, metavar="EPOCH", help=_HELP["now"])
            sub.add_argument("--timeout", type=_TIMEOUT, metavar="SECONDS", help=_HELP["timeout"])
        sub.add_argument("--hashalg", "--digest", dest="hashalg", metavar="NAME", help=_HELP["hashalg"])
        if name != "inspect":
            sub.add_argument("--client-ip", type=_CLIENT_IP, metavar="IP", help=_HELP["client-ip"])
            sub.add_argument("--encoding", type=_ENCODING, help=_HELP["encoding"])
            sub.add_argument("--secret-file", metavar="PATH", help=_HELP["secret-file"])
    return parser


# ---------------------------------------------------------------------------------------------
# Helpers


def _factory_class(args: argparse.Namespace, fmt: type[_TicketAuthFormat] | None = None) -> Any:
    """The factory class of ``fmt`` (default: ``--format``'s) in the core ``--core`` names, or
    in the library's."""
    fmt, name = fmt or _FORMATS[args.format], getattr(args, "core", None)
    try:
        return getattr(_core if name is None else _core.load_core(name), fmt.factory)
    except ModuleNotFoundError:
        raise UsageError(f"the {name} core is not available in this installation; use --core pure") from None


def _check_options(args: argparse.Namespace) -> type[_TicketAuthFormat]:
    """The format of ``--format``, once the options it cannot use are refused (before the
    secret is read, and before the ticket is)."""
    fmt = _FORMATS[args.format]
    for option, why in fmt.refused.items():
        value = getattr(args, option[2:].replace("-", "_"), None)
        if value is not None and value is not False:  # 0 is a value given
            raise UsageError(f"{option} does not apply to --format {args.format}: {why}")
    encoding, client_ip = getattr(args, "encoding", None), getattr(args, "client_ip", None)
    if fmt.utf8_only and encoding is not None and codecs.lookup(encoding).name != "utf-8":
        raise UsageError(f"--encoding does not apply to --format {args.format}: its fields are always UTF-8")
    if fmt.ipv4_only and client_ip is not None and ipaddress.ip_address(client_ip).version != 4:
        raise UsageError(_authtkt_format.IPV6_ERROR.format(client_ip))
    return fmt


def _read_secret(args: argparse.Namespace) -> bytes:
    """The secret as bytes, from --secret-file or $TICKET_AUTH_SECRET. Never echoed."""
    path = args.secret_file
    if path is None:
        value = os.environ.get(SECRET_ENV)
        if value is None:
            raise UsageError(f"no secret: {_USE_ENV_OR_FILE} (the secret is {_NEVER_ON_COMMAND_LINE})")
        if not value:
            raise UsageError(f"{SECRET_ENV} is set but empty; put the secret in it or {_USE_FILE}")
        return value.encode("utf-8", "surrogateescape")
    try:
        with open(path, "rb") as file:
            secret = file.read()
    except OSError as exc:
        raise UsageError(f"cannot read secret file {path!r}: {exc.strerror or type(exc).__name__}") from None
    secret = secret[:-2] if secret.endswith(b"\r\n") else secret.removesuffix(b"\n")
    if not secret:
        raise UsageError(f"secret file {path!r} is empty")
    return secret


def _make_factory(args: argparse.Namespace, secret: bytes | None = None, **kwargs: Any) -> Any:
    """A factory of ``--format`` with ``--hashalg`` (or the format's default, which mod_auth_tkt
    does not have) in the ``--core`` asked for; ``secret`` None: read it."""
    if args.hashalg is None:
        args.hashalg = _FORMATS[args.format].default_hashalg  # from here on, the one in use
    if args.hashalg is None:
        raise UsageError(_NO_DIGEST_TYPE)
    cls = _factory_class(args)
    try:
        factory = cls(_read_secret(args) if secret is None else secret, args.hashalg, **kwargs)
        args.hashalg = _FORMATS[args.format].canonical(args.hashalg)  # as --json shows it
        return factory
    except (TypeError, ValueError) as exc:
        # The secret is non-empty bytes and the other arguments were checked by the parser,
        # so this is about the algorithm; the cores' messages name it, never the secret.
        raise UsageError(f"--hashalg: {exc}") from None


def _read_ticket(args: argparse.Namespace) -> str:
    ticket: str | None = args.ticket
    if ticket is not None and ticket != "-":
        if not ticket:
            raise UsageError("the ticket is empty")
        return ticket
    terminal = ticket is None and getattr(sys.stdin, "isatty", bool)()  # sys.stdin may be None
    if sys.stdin is None or terminal:
        raise UsageError("no ticket: pass it as an argument or pipe it on stdin")
    buffer = getattr(sys.stdin, "buffer", None)
    text = sys.stdin.read() if buffer is None else buffer.read().decode("utf-8", "surrogateescape")
    if not text.strip():
        raise UsageError("no ticket on stdin: pass it as an argument or pipe it in")
    return text.strip()


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
    return " ".join(f"{count}{unit}" for count, unit in parts[:2] if count) or "0s"


def _expiry(until: int, now: float, expired: bool) -> dict[str, Any]:
    """The expiry fields of a ticket valid until ``until``, ``expired`` as validate decides it.
    Apache counts time modulo 2**32, so its verdict can contradict the plain difference."""
    left: float = until - now
    left = int(left) if left == int(left) else round(left, 3)
    modulo = " (Apache counts time modulo 2**32)"
    if expired:
        expiry = f"expired {_duration(left)} ago" if left <= 0 else "expired" + modulo
    else:
        expiry = f"expires in {_duration(left)}" if left > -1 else "not expired" + modulo
    return {"expired": expired, "seconds_left": left, "expiry": expiry}


def _user_fields(info: Any) -> dict[str, Any]:
    return {"user_id": info.user_id, "tokens": list(info.tokens), "user_data": info.user_data}


def _show(value: str) -> str:
    """A field for text output: as is when plainly printable, else JSON-quoted (ASCII-only),
    so that a hostile ticket cannot write control characters to the terminal."""
    if value and value.isprintable() and value == value.strip() and not value.startswith('"'):
        return value
    return json.dumps(value)


def _text(fields: dict[str, Any], *extra: tuple[str, str]) -> str:
    """The fields as "name:  value" lines, the times with their ISO form and what they mean."""
    rows = [("user_id", _show(fields["user_id"])), ("tokens", json.dumps(fields["tokens"]))]
    rows.append(("user_data", _show(fields["user_data"])))
    times = ("valid_until", "expiry"), ("timestamp", "issued"), ("expires_at", "expiry")
    for key, note in (pair for pair in times if pair[0] in fields):
        value = fields[key]
        shown = fields[note] if value is None else f"{value} ({fields[key + '_iso']}, {fields[note]})"
        rows.append((key, shown))
    return "".join(f"{key + ':':<13}{value}\n" for key, value in [*rows, *extra])


def _parse(cls: Any, ticket: str, hashalgs: Iterable[str]) -> tuple[list[tuple[str, Any]], list[str]]:
    """([(hashalg, info)] for each of ``hashalgs`` the ticket parses with, the others' errors)."""
    found, errors = [], []
    for hashalg in hashalgs:
        try:
            found.append((hashalg, cls(_DUMMY_SECRET, hashalg).parse(ticket)))
        except TicketError as exc:
            errors.append(exc.msg)
        except (TypeError, ValueError):  # an algorithm this Python lacks
            continue
    return found, errors


def _hint(args: argparse.Namespace, cls: Any, ticket: str, msg: str, hashalg: str | None) -> str | None:
    """The usual cause of a parse error: a ticket minted with a shorter digest than ``hashalg``
    (None: none is expected), or, for the ticket_auth format, a mod_auth_tkt cookie. A
    ticket_auth ticket always holds '!', so a value without one that reads as mod_auth_tkt
    (base64 or %21-escaped) is one; a raw mod_auth_tkt ticket can look like both."""
    fmt = _FORMATS[args.format]
    if hashalg is not None and msg in fmt.short_digest_errors:
        found, _ = _parse(cls, ticket, [name for name in fmt.hashalgs if name != hashalg.lower()])
        if found:
            name = found[0][0]
            return f"its digest length fits {name}: if it is a {name} ticket, pass --hashalg {name}"
    if fmt is _AuthTktFormat or "!" in ticket:
        return None
    found, _ = _parse(_factory_class(args, _AuthTktFormat), ticket, _AuthTktFormat.hashalgs)
    option = f" --hashalg {found[0][0]}" if found and args.command == "validate" else ""
    return f"it reads as a mod_auth_tkt cookie: pass --format mod_auth_tkt{option}" if found else None


def _invalid(extra: dict[str, Any], kind: str, reason: str, *notes: str | None, **fields: Any) -> _Result:
    """Exit 1: ``reason`` (and the ``notes`` that are not None, in brackets) on stderr."""
    if notes := tuple(note for note in notes if note):
        reason += f" ({'; '.join(notes)})"
    result = {**extra, "valid": False, "error": kind, "reason": reason, **fields}
    return 1, result, f"invalid ticket: {reason}\n"


# ---------------------------------------------------------------------------------------------
# Subcommands: each returns (exit status, JSON object, text); the docstrings are their help


def _cmd_new(args: argparse.Namespace) -> _Result:
    """Mint a ticket and print it on stdout. With --format mod_auth_tkt, print the cookie value
    Apache's mod_auth_tkt checks (base64 unless --raw). USER_ID must not be empty, in either
    format (Apache would take an empty user for a missing one)."""
    fmt = _check_options(args)
    if not args.user_id:
        raise UsageError("USER_ID is empty: a ticket must name its user")
    kwargs, shown, note = fmt.new(args)
    factory = _make_factory(args)
    try:
        fields = (args.user_id, args.tokens or (), args.user_data)
        ticket = factory.new(*fields, client_ip=args.client_ip, **kwargs)
    except UnicodeError as exc:  # UnicodeEncodeError has .reason; some codecs raise the base class
        reason = getattr(exc, "reason", None) or exc
        raise UsageError(f"cannot encode the ticket's fields: {reason}") from None
    except (TypeError, ValueError) as exc:  # including what mod_auth_tkt cannot carry
        raise UsageError(str(exc)) from None
    if note:
        print(note, file=sys.stderr)
    return 0, {**fmt.json, "ticket": ticket, **shown}, ticket + "\n"


def _cmd_validate(args: argparse.Namespace) -> _Result:
    """Check a ticket's digest and expiry. Exit 0 and print its fields when it is valid; exit 1
    with a one-line reason when it is not."""
    fmt = _check_options(args)
    timeout = fmt.default_timeout if args.timeout is None else args.timeout
    factory = _make_factory(args, None, **({} if timeout is None else {"timeout": timeout}))
    ticket = _read_ticket(args)
    now = time.time() if args.now is None else args.now
    try:
        kwargs = {} if fmt.utf8_only else {"encoding": args.encoding or "utf-8"}
        info = factory.validate(ticket, client_ip=args.client_ip, now=now, **kwargs)
    except TicketParseError as exc:
        hint = _hint(args, type(factory), ticket, exc.msg, args.hashalg)
        return _invalid(fmt.json, "malformed", f"malformed: {exc.msg}", hint)
    except TicketDigestError:
        return _invalid(fmt.json, "bad_digest", _BAD_DIGEST_REASON)
    except TicketExpired:  # the digest was right, so these fields are genuine
        fields = fmt.fields(factory.parse(ticket), now, timeout)
        reason = fmt.expired.format(ago=_duration(fields["seconds_left"]), **fields)
        return _invalid(fmt.json, "expired", reason, **fields)
    except ValueError as exc:  # a client address the core refuses
        raise UsageError(str(exc)) from None
    fields = fmt.fields(info, now, timeout)
    result = {"valid": True, **fmt.json, **fields, "digest": info.digest, "hashalg": args.hashalg}
    return 0, result, "valid:       yes\n" + _text(fields)


def _cmd_inspect(args: argparse.Namespace) -> _Result:
    """Show a ticket's fields and expiry without checking its digest (no secret needed). The
    output is UNVERIFIED: anyone can forge these fields; use 'validate' to trust them."""
    fmt = _check_options(args)
    extra = {"verified": False, **fmt.json}
    if args.hashalg is not None:
        _make_factory(args, _DUMMY_SECRET)  # a usage error for an unknown algorithm
    cls, ticket = _factory_class(args), _read_ticket(args)
    now = time.time() if args.now is None else args.now
    found, errors = _parse(cls, ticket, fmt.hashalgs if args.hashalg is None else [args.hashalg])
    if not found:
        note = None if args.hashalg else f"as {fmt.hashalgs[0]}; no usual digest length fits either"
        hint = _hint(args, cls, ticket, "", None)
        return _invalid(extra, "malformed", f"malformed: {errors[0]}", note, hint)
    # Guessed: the longest digest that fits. Shorter ones nearly always "fit" too, reading part
    # of the real digest as TIME and UID, so they say nothing.
    (hashalg, info), guessed = found[0], args.hashalg is None
    fields = {**fmt.fields(info, now, args.timeout), "digest": info.digest, "hashalg": fmt.canonical(hashalg)}
    note = f" (guessed from the {len(info.digest)}-character digest; pass --hashalg if it is another)"
    text = "UNVERIFIED: the digest was not checked (inspect uses no secret); use 'validate' to check it\n"
    text += _text(fields, ("digest", info.digest), ("hashalg", fields["hashalg"] + (note if guessed else "")))
    return 0, {**extra, **fields, "hashalg_guessed": guessed}, text


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (``ticket-auth``, ``python -m ticket_auth``) with the ``sys`` streams.

    Args:
        argv: The arguments, without the program name. ``None``: ``sys.argv[1:]``.

    Returns:
        int: The exit status: 0 success, 1 invalid ticket, 2 usage error. Errors are reported
        on stderr (or as JSON with ``--json``), never raised.
    """
    prog = "ticket-auth"
    if argv is None:
        argv, prog = sys.argv[1:], os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
        prog = "python -m ticket_auth" if prog in ("", "-c", "__main__.py") else prog
    try:
        args = _build_parser(prog).parse_args(list(argv))
    except SystemExit as exc:  # --help, --version, or a usage error argparse has reported
        return exc.code if isinstance(exc.code, int) else 2
    try:
        status, result, text = args.handler(args)
    except UsageError as exc:
        print(f"{prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "json", False):
        print(json.dumps(result))
    else:
        (sys.stderr if status else sys.stdout).write(text)
    return int(status)
