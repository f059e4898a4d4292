"""The pure-Python core: ``TicketFactory`` (the ticket_auth 0.1.4 format) and
``AuthTktFactory`` (Apache mod_auth_tkt) in plain Python, in this one module.

Used when the compiled core (``ticket_auth._ticketcore``, built from ``src/_ticketcore.pyx``
and ``src/_ticketlib/``) is not built, on interpreters other than CPython, or when
``TICKET_AUTH_NO_EXTENSIONS=1`` is set. It behaves exactly like the compiled core: same
results, same errors, same messages. Both cores use the same Python modules for what each
format accepts and the order of its checks (``_ticket_format``, ``_authtkt_format``) and for
the argument checks the formats share (``_arguments``).

Layout: helpers of the 0.1.4 format (quoting, unquoting), ``_Factory`` (what both factories
share: configuration, refusals, copies, weak references), the 0.1.4 format's parser and
``TicketFactory``, then the mod_auth_tkt helpers and ``AuthTktFactory``. As in the compiled
core, the parsers stay with each format.

As fixed as the compiled core: a factory's configuration is one tuple set once by
``__init__`` and read through ``_Factory``'s own slot (assigning or deleting it is refused,
and a subclass attribute of the same name is never read), and ``new``, ``validate`` and
``parse`` call module-level functions only, so a subclass overriding a private name changes
nothing they check.
"""

from __future__ import annotations

import binascii
import hmac
import re
import socket
import time
from codecs import unicode_escape_decode as _unicode_escape_decode
from urllib.parse import quote

from . import _authtkt_format, _ticket_format
from ._arguments import (
    check_max_length,
    check_secrets,
    check_time_range,
    ip_prefix,
    not_text_error,
    resolve_hashalg,
    time_value,
)
from .exception import TicketDigestError, TicketExpired, TicketParseError
from .ticket_info import AuthTktInfo, FallbackAuthTktInfo, FallbackTicketInfo, TicketInfo

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, Literal, NoReturn, SupportsIndex, TypeAlias

    from _typeshed import ConvertibleToInt, ReadableBuffer
    from typing_extensions import Self

    from ._arguments import ClientIP, HashConstructor

    # A field of a ticket as new takes it (str, or bytes that are quoted as they are).
    Field: TypeAlias = str | bytes | bytearray
    # What each factory holds once configured: (secrets, hash constructor, hex length of a
    # digest, max_length, pattern or timeout, the algorithm as the caller named it).
    _TicketConfig: TypeAlias = tuple[
        tuple[bytes, ...], HashConstructor, int, int | None, re.Pattern[str], str
    ]
    _AuthTktConfig: TypeAlias = tuple[tuple[bytes, ...], HashConstructor, int, int | None, int, str]

__all__ = ["AuthTktFactory", "AuthTktInfo", "TicketFactory", "TicketInfo"]

# One quoted field: safe characters, or %XX (uppercase) of a byte that quote would escape.
_ESCAPE_HEX = r"(?:[0189A-F][0-9A-F]|2[0-9A-C]|3[A-F]|40|5[B-E]|60|7[B-DF])"
_ESCAPE = rf"%{_ESCAPE_HEX}"
# A '%' that does not start such an escape.
_BAD_ESCAPE_RE = re.compile(rf"%(?!{_ESCAPE_HEX})")
_FIELD = rf"(?:[A-Za-z0-9_.~/\-]|{_ESCAPE})*"
_TOKENS = rf"(?:[A-Za-z0-9_.~/\-,]|{_ESCAPE})*"
_FIELD_RE = re.compile(_FIELD)
_TOKENS_RE = re.compile(_TOKENS)
_HEX_RE = re.compile(r"[0-9a-f]*")
_HEX_BYTES_RE = re.compile(rb"[0-9a-f]*")
# The strict dotted quad that ipaddress accepts (ASCII digits, no leading zeros, <= 255).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_RE = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")


def _exact_str(value: str) -> str:
    """The characters of a str, as an exact str: a subclass's own len(), encode(), slicing
    and so on are not consulted (the compiled core reads the characters themselves)."""
    return value if type(value) is str else str.__getitem__(value, slice(None))


# TicketInfo(*fields) without the namedtuple's Python-level __new__.
_new_info = tuple.__new__


def _held_bytes(value: bytes | bytearray) -> bytes:
    """The bytes a bytes or bytearray (or a subclass of either) holds, read from its buffer:
    never through a subclass's ``__bytes__`` or ``__iter__`` (as the compiled core reads them)."""
    if type(value) is bytes:
        return value
    if isinstance(value, bytes):
        return bytes.__getitem__(value, slice(None))
    return bytes(bytearray.__getitem__(value, slice(None)))


def _quote(value: object, type_error: str) -> str:
    # A subclass's own methods are not consulted (quote() calls some): its data is quoted.
    if isinstance(value, str):
        return quote(_exact_str(value))
    if isinstance(value, (bytes, bytearray)):
        return quote(_held_bytes(value))
    raise TypeError(type_error.format(type(value).__name__))


def _quote_tokens(tokens: Iterable[Field] | None) -> str:
    if not tokens:
        return ""
    if isinstance(tokens, (str, bytes, bytearray)):
        raise TypeError(_ticket_format.TOKENS_STR_ERROR.format(type(tokens).__name__))
    return ",".join([_quote(token, _ticket_format.TOKEN_TYPE_ERROR) for token in tokens])


def _client_prefix(client_ip: ClientIP) -> bytes:
    """``ip_prefix`` with a fast path for dotted-quad IPv4 text (the same result, proven by
    accepting only the strict form ``ipaddress`` itself accepts and deferring the rest)."""
    if type(client_ip) is str and _IPV4_RE.fullmatch(client_ip):
        try:
            return b"\x04" + socket.inet_pton(socket.AF_INET, client_ip)
        except OSError:  # pragma: no cover - every inet_pton accepts a strict dotted quad
            pass
    return ip_prefix(client_ip)


def _unquote_utf8(field: str) -> str | None:
    """Unquote a canonical field; ``None`` when the bytes are not UTF-8.

    Canonical text has no backslash (it would be %5C) and every '%' starts %XX, so with
    '%' made '\\x' it is unicode_escape text whose characters are the escaped bytes
    (as latin-1); encoding those back gives the bytes, which must then be UTF-8.
    """
    if "%" not in field:
        return field
    try:
        return _unicode_escape_decode(field.replace("%", "\\x"))[0].encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return None


def _split_tokens(token_text: str) -> tuple[str, ...]:
    """TOKENS (comma-separated) as a tuple; ``()`` when empty."""
    return tuple(token_text.split(",")) if token_text else ()


# The attributes no one may set or delete on a factory of this core (the compiled core's
# factories have no such attributes at all): the configuration, and the class (which would
# swap the methods). Other names are left to object: a factory itself has no others, a
# subclass's instance may have its own.
_SEALED = frozenset({"_config", "__class__"})


class _Factory:
    """What both factories share: the configuration, set once by ``__init__`` into the one
    slot ``_config`` (a tuple each factory defines) and read through this class's own slot
    descriptor (``_read_config``), so that neither assignment nor a subclass attribute can
    change what ``validate`` uses; the refusal to be re-configured, changed or pickled; copies
    (the factory itself) and weak references. As in the compiled core, ``validate``,
    ``parse`` and ``new`` call module-level functions, never methods a subclass could
    override: a subclass can add behaviour but not loosen the checks."""

    __slots__ = ("__weakref__", "_config")

    _config: Any  # _TicketConfig or _AuthTktConfig

    def __setattr__(self, name: str, value: object) -> None:
        if name in _SEALED:
            raise AttributeError(_IMMUTABLE_ERROR.format(_public_class(self).__name__, name))
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if name in _SEALED:
            raise AttributeError(_IMMUTABLE_ERROR.format(_public_class(self).__name__, name))
        object.__delattr__(self, name)

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        raise TypeError(f"{_public_class(self).__name__} holds a secret and cannot be pickled")

    # A factory never changes once configured: its copy is itself (copying is not pickling:
    # the secret is never written out).
    @property
    def hash_path(self) -> Literal["openssl", "hashlib"]:
        """How this factory computes digests: ``"openssl"`` (OpenSSL's EVP functions called directly,
        compiled core only) or ``"hashlib"``. Results are the same on both paths.
        """
        return "hashlib"

    def __copy__(self) -> Self:
        return self

    def __repr__(self) -> str:
        return _repr(self)

    def __deepcopy__(self, memo: object) -> Self:
        return self


_IMMUTABLE_ERROR = "a {} never changes once made: {!r} cannot be set or deleted"
# The slot itself (its member descriptor), whatever a subclass defines under the same name.
_read_config = _Factory.__dict__["_config"].__get__
_write_config = _Factory.__dict__["_config"].__set__


def _public_class(factory: _Factory) -> type:
    """TicketFactory or AuthTktFactory: the class of this module that ``factory`` is."""
    return next(
        cls
        for cls in type(factory).__mro__
        if cls.__module__ == __name__ and not cls.__name__.startswith("_")
    )


def _not_configured(factory: _Factory) -> AttributeError:
    # A factory whose __init__ never ran (TicketFactory.__new__, or a subclass that does not
    # call super().__init__) has no secret: refuse rather than guess.
    return AttributeError(f"{type(factory).__qualname__}.__init__ was not called: the factory has no secret")


def _config_of(factory: _Factory) -> Any:
    """The factory's configuration, or the error of a factory whose ``__init__`` never ran.
    (``validate`` reads the slot inline, as this does, to spare a call on its hot path.)"""
    try:
        return _read_config(factory)
    except AttributeError:
        raise _not_configured(factory) from None


def _configure(
    factory: _Factory,
    secret: ReadableBuffer,
    fallback_secrets: Iterable[ReadableBuffer],
    algorithm: str,
    hashlib_name: Callable[[str], str] | None,
    max_length: int | None,
    format_item: Callable[[int], object],
) -> None:
    """Check every shared argument (in the compiled core's order) and store the factory's
    configuration: ``(secrets, hash constructor, hex length of a digest, max_length, the
    format's own item, algorithm)``, where ``format_item`` makes that item from the hex
    length. A factory is configured once (the compiled core reads its fields without a lock)."""
    try:
        _read_config(factory)
    except AttributeError:
        pass
    else:
        raise TypeError(_ticket_format.REINIT_ERROR.format(type(factory).__qualname__))
    secrets = check_secrets(secret, fallback_secrets)
    constructor, digest_size = resolve_hashalg(algorithm if hashlib_name is None else hashlib_name(algorithm))
    hex_len = 2 * digest_size
    limit = check_max_length(max_length)
    _write_config(factory, (secrets, constructor, hex_len, limit, format_item(hex_len), algorithm))


def _repr(factory: _Factory) -> str:
    describe = _DESCRIBE[_public_class(factory)]
    try:
        arguments = describe(_read_config(factory))
    except AttributeError:  # not configured: as the compiled core shows it
        arguments = describe(None)
    return f"{type(factory).__module__}.{type(factory).__qualname__}({arguments})"


def _sign(hash_: HashConstructor, data0: bytes, data1: bytes, secret: bytes) -> str:
    """The DIGEST of a 0.1.4-format ticket (hex) for the inputs ``_arguments`` describes."""
    inner = hash_(data0 + secret + data1).digest()
    return hash_(inner + secret).hexdigest()


def _ticket_text(ticket: str | ReadableBuffer) -> str:
    """The ticket as an exact str (step 0 of ``_ticket_format``; an exact str is its own)."""
    return _exact_str(ticket) if isinstance(ticket, str) else _ticket_format.ascii_text(ticket)


def _parse_ticket(
    ticket: str | ReadableBuffer, text: str, pattern: re.Pattern[str], hex_len: int
) -> tuple[TicketInfo, str]:
    """``(TicketInfo, "UID!TOKENS!DATA")`` for a canonical ticket, else TicketParseError."""
    match = pattern.fullmatch(text)
    if match is None:
        raise TicketParseError(ticket, _diagnose(text, hex_len))
    digest, hex_time, uid, token_text, data = match.groups()
    if "%" in text and _BAD_ESCAPE_RE.search(text, hex_len + 8):
        raise TicketParseError(ticket, _diagnose(text, hex_len))
    user_id = _unquote_utf8(uid)
    if user_id is None:
        raise TicketParseError(ticket, _ticket_format.UID_NOT_UTF8)
    tokens = _split_tokens(token_text)
    if "%" in token_text:
        unquoted = tuple([_unquote_utf8(token) for token in tokens])
        if None in unquoted:
            raise TicketParseError(ticket, _ticket_format.TOKEN_NOT_UTF8)
        tokens = unquoted  # type: ignore[assignment]  # no None left
    user_data = _unquote_utf8(data)
    if user_data is None:
        raise TicketParseError(ticket, _ticket_format.DATA_NOT_UTF8)
    info = _new_info(TicketInfo, (digest, user_id, tokens, user_data, int(hex_time, 16)))
    return info, text[hex_len + 8 :]


def _diagnose(text: str, hex_len: int) -> str:
    """The message for a ticket the pattern rejected: the first check it fails."""
    if not text.isascii():
        return _ticket_format.NOT_ASCII
    if len(text) < hex_len + 8:
        return _ticket_format.TOO_SHORT
    if not _HEX_RE.fullmatch(text, 0, hex_len):
        return _ticket_format.BAD_DIGEST
    if not _HEX_RE.fullmatch(text, hex_len, hex_len + 8):
        return _ticket_format.BAD_TIME
    parts = text[hex_len + 8 :].split("!")
    if len(parts) < 3:
        return _ticket_format.MISSING_PARTS
    if len(parts) > 3:
        return _ticket_format.TOO_MANY_PARTS
    uid, token_text, _data = parts
    if not _FIELD_RE.fullmatch(uid):
        return _ticket_format.BAD_UID
    if not _TOKENS_RE.fullmatch(token_text):
        return _ticket_format.BAD_TOKENS
    return _ticket_format.BAD_DATA


def _ticket_pattern(hex_len: int) -> re.Pattern[str]:
    """The structure of a ticket whose digest has ``hex_len`` hex digits; fields holding '%'
    get the strict escape check afterwards."""
    return re.compile(
        rf"([0-9a-f]{{{hex_len}}})([0-9a-f]{{8}})([A-Za-z0-9_.~/%-]*)!([A-Za-z0-9_.~/%,-]*)!([A-Za-z0-9_.~/%-]*)"
    )


def _describe_ticket_factory(config: _TicketConfig | None) -> str:
    return f"hashalg={None if config is None else config[5]!r}"


class TicketFactory(_Factory):
    """Mints and validates tickets signed with ``secret`` using hashlib's ``hashalg``.

    The factory is configured once, holds no per-call state and is safe to share between
    threads. It cannot be pickled (it holds the secret), and its repr shows only the algorithm.

    Args:
        secret: The signing secret, bytes-like and non-empty.
        hashalg: Any fixed-length algorithm ``hashlib.new`` accepts, in any case (``"md5"``,
            ``"sha256"``, ``"SHA512"``, ``"blake2b"``, ``"sha3_256"``, ...).
        fallback_secrets: Keyword-only. Older secrets that ``validate`` still accepts (it then
            returns a ``FallbackTicketInfo``); ``new`` always signs with ``secret``.
        max_length: Keyword-only. An int: ``validate`` and ``parse`` refuse a longer ticket
            before any other work, and ``new`` refuses to mint one. ``None``: no limit.

    Raises:
        TypeError: ``secret`` or a fallback secret is not bytes-like, or an argument has the
            wrong type.
        ValueError: A secret is empty, ``hashalg`` is unknown or variable-length (``shake_*``),
            or ``max_length`` is not positive.
    """

    __slots__ = ()

    def __init__(
        self,
        secret: ReadableBuffer,
        hashalg: str = "sha512",
        *,
        fallback_secrets: Iterable[ReadableBuffer] = (),
        max_length: int | None = None,
    ) -> None:
        _configure(self, secret, fallback_secrets, hashalg, None, max_length, _ticket_pattern)

    def new(
        self,
        user_id: Field,
        tokens: Iterable[Field] | None = None,
        user_data: Field | None = None,
        valid_until: ConvertibleToInt | None = None,
        client_ip: ClientIP = None,
        encoding: str = "utf-8",
    ) -> str:
        """Mint a ticket, signed with the current secret.

        Args:
            user_id: The user id, ``str`` or ``bytes``.
            tokens: A sequence of ``str``/``bytes`` tokens (not a bare string), or ``None``.
            user_data: ``str`` or ``bytes``, or ``None`` for none.
            valid_until: The expiry, anything ``int()`` takes, in 0..2**32-1 seconds since the
                epoch. ``None``: now + 120 seconds.
            client_ip: The client address to bind the ticket to (``str``, ``IPv4Address``,
                ``IPv6Address``, int or packed bytes, whatever ``ipaddress.ip_address`` takes), or
                ``None`` for an unbound ticket.
            encoding: The codec of the signed text.

        Returns:
            str: The ticket, byte-identical to what ticket_auth 0.1.4 mints.

        Raises:
            TypeError: A field of the wrong type, or ``tokens`` given as a bare string.
            ValueError: ``valid_until`` outside 0..2**32-1, a bad ``client_ip``, or a ticket longer
                than ``max_length``.
        """
        config: _TicketConfig = _config_of(self)
        secrets, hash_, _hex_len, max_length, _pattern, _algorithm = config
        # 0.1.4's order: int(valid_until), the fields, the client address, the 32-bit range.
        until = time_value(
            valid_until, _ticket_format.DEFAULT_LIFETIME, _ticket_format.VALID_UNTIL_RANGE_ERROR
        )
        uid = _quote(user_id, _ticket_format.USER_ID_TYPE_ERROR)
        token_text = _quote_tokens(tokens)
        data_text = _quote(user_data, _ticket_format.USER_DATA_TYPE_ERROR) if user_data else ""
        prefix = _client_prefix(client_ip)
        check_time_range(until, _ticket_format.VALID_UNTIL_RANGE_ERROR)
        data0 = prefix + until.to_bytes(4, "big")
        signed = f"{uid}\0{token_text}\0{data_text}"
        data1 = signed.encode("ascii" if encoding in _ticket_format.ASCII_COMPATIBLE_ENCODINGS else encoding)
        ticket = f"{_sign(hash_, data0, data1, secrets[0])}{until:08x}{uid}!{token_text}!{data_text}"
        if max_length is not None and len(ticket) > max_length:
            raise ValueError(_ticket_format.NEW_TOO_LONG_ERROR.format(len(ticket), max_length))
        return ticket

    def validate(
        self,
        ticket: str | ReadableBuffer,
        client_ip: ClientIP = None,
        now: float | None = None,
        encoding: str = "utf-8",
    ) -> TicketInfo:
        """Check a ticket: its form, then its digest, then its expiry.

        Args:
            ticket: The ticket, ``str`` or bytes-like (ASCII).
            client_ip: The client address the ticket must be bound to (as in ``new``), or ``None``
                for an unbound ticket.
            now: The current time in seconds since the epoch. ``None``: ``time.time()``.
            encoding: The codec of the signed text (as given to ``new``).

        Returns:
            TicketInfo: The ticket's fields; a ``FallbackTicketInfo`` when the ticket was signed
            with one of the ``fallback_secrets``.

        Raises:
            TicketParseError: The ticket is not in the exact form ``new`` mints (the message names
                the part that is wrong), or is longer than ``max_length``.
            TicketDigestError: The digest does not match (forged, tampered, another secret or client
                address).
            TicketExpired: The digest matches but ``valid_until`` is not after ``now``.
            TypeError: The ticket is neither ``str`` nor bytes-like.
            ValueError: ``client_ip`` is not an address.
        """
        try:  # _config_of(self), inline: no extra call on the hot path
            config: _TicketConfig = _read_config(self)
        except AttributeError:
            raise _not_configured(self) from None
        secrets, hash_, hex_len, max_length, pattern, _algorithm = config
        text = ticket if type(ticket) is str else _ticket_text(ticket)
        if max_length is not None and len(text) > max_length:
            raise TicketParseError(ticket, _ticket_format.TOO_LONG)
        info, signed = _parse_ticket(ticket, text, pattern, hex_len)
        data0 = _client_prefix(client_ip) + info.valid_until.to_bytes(4, "big")
        signed = signed.replace("!", "\0")
        if encoding in _ticket_format.ASCII_COMPATIBLE_ENCODINGS:
            data1 = signed.encode("ascii")
        else:
            try:
                data1 = signed.encode(encoding)
            except UnicodeError:
                raise TicketParseError(ticket, _ticket_format.NOT_ENCODABLE) from None
        for index, secret in enumerate(secrets):  # noqa: B007 - read after the loop
            if hmac.compare_digest(_sign(hash_, data0, data1, secret), info.digest):
                break
        else:  # every secret cost one digest, whichever it was
            raise TicketDigestError(ticket)
        if now is None:
            now = time.time()
        if info.valid_until <= now:
            raise TicketExpired(ticket)
        return info if index == 0 else _new_info(FallbackTicketInfo, info)

    def parse(self, ticket: str | ReadableBuffer) -> TicketInfo:
        """Read a ticket's fields, checking only its form (not the digest or the time).

        Never trust what it returns: anyone can write a well-formed ticket.

        Args:
            ticket: The ticket, ``str`` or bytes-like (ASCII).

        Returns:
            TicketInfo: The ticket's fields, unverified.

        Raises:
            TicketParseError: The ticket is not in the exact form ``new`` mints, or is longer than
                ``max_length``.
            TypeError: The ticket is neither ``str`` nor bytes-like.
        """
        config: _TicketConfig = _config_of(self)
        _secrets, _hash, hex_len, max_length, pattern, _algorithm = config
        text = _ticket_text(ticket)
        if max_length is not None and len(text) > max_length:
            raise TicketParseError(ticket, _ticket_format.TOO_LONG)
        return _parse_ticket(ticket, text, pattern, hex_len)[0]


# --- mod_auth_tkt ---------------------------------------------------------------------------------


def _authtkt_field(value: object, what: str, forbid_bang: bool) -> bytes:
    """A mod_auth_tkt field as UTF-8 bytes, refusing what the format cannot carry."""
    if isinstance(value, str):
        raw = _exact_str(value).encode("utf-8")  # UnicodeEncodeError for lone surrogates
    elif isinstance(value, (bytes, bytearray)):
        raw = _held_bytes(value)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(_authtkt_format.UTF8_ERROR.format(what)) from None
    else:
        raise TypeError(_authtkt_format.FIELD_TYPE_ERROR.format(what, type(value).__name__))
    if b"\0" in raw:
        raise ValueError(_authtkt_format.NUL_ERROR.format(what))
    if forbid_bang and b"!" in raw:
        raise ValueError(_authtkt_format.BANG_ERROR.format(what))
    return raw


def _authtkt_ip4(client_ip: ClientIP) -> bytes:
    """The 4 address bytes a mod_auth_tkt ticket is bound to (0.0.0.0 when unbound)."""
    prefix = _client_prefix(client_ip)
    if len(prefix) != 5:
        raise ValueError(_authtkt_format.IPV6_ERROR.format(client_ip))
    return prefix[1:]


def _authtkt_sign(hash_: HashConstructor, ip4: bytes, timestamp: int, secret: bytes, fields: bytes) -> str:
    """The digest of a mod_auth_tkt ticket (hex): it hashes the hex text of the inner digest."""
    inner = hash_(ip4 + timestamp.to_bytes(4, "big") + secret + fields).hexdigest()
    return hash_(inner.encode("ascii") + secret).hexdigest()


def _authtkt_ticket(
    cookie: str | ReadableBuffer, max_length: int | None, hex_len: int
) -> tuple[bytes, int, int]:
    """``(raw ticket bytes, index of the first '!', of the second or -1)`` or a parse error."""
    if isinstance(cookie, str):
        text = _exact_str(cookie)
        # UTF-8 has at least one byte per character: more characters than max_length is
        # too long, whatever they are (and nothing is encoded).
        if max_length is not None and len(text) > max_length:
            raise TicketParseError(cookie, _authtkt_format.TOO_LONG)
        try:
            value = text.encode("utf-8")
        except UnicodeEncodeError:
            raise TicketParseError(cookie, _authtkt_format.NOT_ENCODABLE) from None
    else:
        try:
            view = memoryview(cookie)
        except TypeError:
            raise not_text_error(
                cookie, _authtkt_format.COOKIE_TYPE_ERROR.format(type(cookie).__name__)
            ) from None
        with view:
            value = view.tobytes()
    if max_length is not None and len(value) > max_length:
        raise TicketParseError(cookie, _authtkt_format.TOO_LONG)
    ticket = _authtkt_format.unwrap(cookie, value)
    if len(ticket) < hex_len + 8:
        raise TicketParseError(cookie, _authtkt_format.TOO_SHORT)
    if not _HEX_BYTES_RE.fullmatch(ticket, 0, hex_len):
        raise TicketParseError(cookie, _authtkt_format.BAD_DIGEST)
    if not _HEX_BYTES_RE.fullmatch(ticket, hex_len, hex_len + 8):
        raise TicketParseError(cookie, _authtkt_format.BAD_TIME)
    first = ticket.find(b"!", hex_len + 8)
    if first < 0:
        raise TicketParseError(cookie, _authtkt_format.MISSING_SEPARATOR)
    if b"\0" in ticket:
        raise TicketParseError(cookie, _authtkt_format.HAS_NUL)
    return ticket, first, ticket.find(b"!", first + 1)


def _authtkt_fields(
    cookie: str | ReadableBuffer, ticket: bytes, first: int, second: int, hex_len: int
) -> tuple[bytes, bytes, bytes, list[str]]:
    uid = ticket[hex_len + 8 : first]
    token_text = ticket[first + 1 : second] if second >= 0 else b""
    data = ticket[second + 1 :] if second >= 0 else ticket[first + 1 :]
    texts = []
    for raw, message in (
        (uid, _authtkt_format.UID_NOT_UTF8),
        (token_text, _authtkt_format.TOKENS_NOT_UTF8),
        (data, _authtkt_format.DATA_NOT_UTF8),
    ):
        try:
            texts.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise TicketParseError(cookie, message) from None
    return uid, token_text, data, texts


def _authtkt_info(info_type: type[AuthTktInfo], ticket: bytes, texts: list[str], hex_len: int) -> AuthTktInfo:
    user_id, token_text, user_data = texts
    tokens = _split_tokens(token_text)
    return _new_info(
        info_type,
        (
            ticket[:hex_len].decode("ascii"),
            user_id,
            tokens,
            user_data,
            int(ticket[hex_len : hex_len + 8], 16),
        ),
    )


def _describe_authtkt_factory(config: _AuthTktConfig | None) -> str:
    if config is None:
        return "digest=None, timeout=0"
    return f"digest={config[5]!r}, timeout={config[4]}"


class AuthTktFactory(_Factory):
    """Mints and validates Apache mod_auth_tkt 2.x tickets (see ``ticket_auth.mod_auth_tkt``).

    Args:
        secret: ``TKTAuthSecret``, bytes-like and non-empty.
        digest: ``TKTAuthDigestType``: ``"md5"``, ``"sha256"`` or ``"sha512"``, in any case.
            Required: MD5, Apache's default, is never chosen silently.
        fallback_secrets: Keyword-only. Older secrets that ``validate`` still accepts
            (``TKTAuthSecretOld``); it then returns a ``FallbackAuthTktInfo``.
        timeout: Keyword-only. ``TKTAuthTimeout`` in seconds (0: none). A ticket is accepted
            while ``(timestamp + timeout) mod 2**32 >= now``.
        max_length: Keyword-only. An int: ``validate`` and ``parse`` refuse a longer cookie
            before any other work, and ``new`` refuses to mint one. ``None``: no limit.

    Raises:
        TypeError: A secret that is not bytes-like, or an argument of the wrong type.
        ValueError: An empty secret, a ``digest`` Apache does not know, a ``timeout`` outside
            0..2**32-1, or a ``max_length`` that is not positive.
    """

    __slots__ = ()

    def __init__(
        self,
        secret: ReadableBuffer,
        digest: str,
        *,
        fallback_secrets: Iterable[ReadableBuffer] = (),
        timeout: int = _authtkt_format.DEFAULT_TIMEOUT,
        max_length: int | None = None,
    ) -> None:
        timeout = _authtkt_format.check_timeout(timeout)
        _configure(
            self,
            secret,
            fallback_secrets,
            digest,
            _authtkt_format.check_digest_type,
            max_length,
            lambda _hex_len: timeout,
        )

    def new(
        self,
        user_id: Field,
        tokens: Iterable[Field] = (),
        user_data: Field = "",
        timestamp: ConvertibleToInt | None = None,
        client_ip: ClientIP = None,
        *,
        raw: bool = False,
    ) -> str:
        """Mint a cookie value, signed with the current secret and timestamped now by default.

        Args:
            user_id: The user id, ``str`` or UTF-8 ``bytes``, without ``!``.
            tokens: A sequence of ``str``/``bytes`` tokens, each without ``!`` or ``,``.
            user_data: ``str`` or UTF-8 ``bytes``.
            timestamp: The issue time, anything ``int()`` takes, in 0..2**32-1 seconds since the
                epoch. ``None``: now.
            client_ip: The IPv4 address to bind the ticket to (``TKTAuthIgnoreIP off``), or ``None``
                (``TKTAuthIgnoreIP on``).
            raw: Keyword-only. ``True``: the raw ticket text instead of base64.

        Returns:
            str: The cookie value: base64 (the only form safe in a cookie for any user data), or the
            raw ticket with ``raw=True``.

        Raises:
            TypeError: A field of the wrong type, or ``tokens`` given as a bare string.
            ValueError: A value the format cannot carry (``!`` in the user id or a token, ``,`` in a
                token, NUL, bytes that are not UTF-8, an IPv6 address, raw user data ending in
                ``"``), a ``timestamp`` out of range, or a cookie longer than ``max_length``.
        """
        config: _AuthTktConfig = _config_of(self)
        secrets, hash_, _hex_len, max_length, _timeout, _algorithm = config
        # As TicketFactory.new (0.1.4's order): int(timestamp), the fields, the client address,
        # the 32-bit range.
        issued = time_value(timestamp, 0, _authtkt_format.TIMESTAMP_RANGE_ERROR)
        uid = _authtkt_field(user_id, "user_id", True)
        token_text = b""
        if tokens:
            if isinstance(tokens, (str, bytes, bytearray)):
                raise TypeError(_authtkt_format.TOKENS_STR_ERROR.format(type(tokens).__name__))
            parts = [_authtkt_field(token, "a token", True) for token in tokens]
            if any(b"," in part for part in parts):
                raise ValueError(_authtkt_format.COMMA_ERROR)
            token_text = b",".join(parts)
        data = _authtkt_field(user_data, "user_data", False) if user_data else b""
        ip4 = _authtkt_ip4(client_ip)
        check_time_range(issued, _authtkt_format.TIMESTAMP_RANGE_ERROR)
        digest = _authtkt_sign(hash_, ip4, issued, secrets[0], uid + b"\0" + token_text + b"\0" + data)
        # The tokens part is omitted when there are none, unless the data holds a '!'.
        middle = b"!" + token_text + b"!" if token_text or b"!" in data else b"!"
        ticket = f"{digest}{issued:08x}".encode("ascii") + uid + middle + data
        if raw and ticket.endswith(b'"'):
            raise ValueError(_authtkt_format.RAW_QUOTE_ERROR)
        cookie = ticket.decode("utf-8") if raw else binascii.b2a_base64(ticket, newline=False).decode("ascii")
        size = len(ticket) if raw else len(cookie)  # bytes, as validate counts them
        if max_length is not None and size > max_length:
            raise ValueError(_authtkt_format.NEW_TOO_LONG_ERROR.format(size, max_length))
        return cookie

    def validate(
        self, cookie: str | ReadableBuffer, client_ip: ClientIP = None, now: float | None = None
    ) -> AuthTktInfo:
        """Check a cookie value: its form, then its digest, then its timeout.

        It reads every cookie form Apache and its helper libraries write: raw, base64 with or
        without padding, surrounding quotes, ``%21``-escaped.

        Args:
            cookie: The cookie value, ``str`` or bytes-like.
            client_ip: The IPv4 address the ticket must be bound to, or ``None`` for an unbound
                ticket.
            now: The current time in seconds since the epoch. ``None``: ``time.time()``.

        Returns:
            AuthTktInfo: The ticket's fields (``timestamp`` is the issue time); a
            ``FallbackAuthTktInfo`` when it was signed with one of the ``fallback_secrets``.

        Raises:
            TicketParseError: The cookie is not a ticket in a form Apache writes, or is longer than
                ``max_length``.
            TicketDigestError: The digest does not match.
            TicketExpired: The digest matches but the ticket is older than ``timeout``.
            TypeError: The cookie is neither ``str`` nor bytes-like.
            ValueError: ``client_ip`` is not an IPv4 address.
        """
        try:  # _config_of(self), inline: no extra call on the hot path
            config: _AuthTktConfig = _read_config(self)
        except AttributeError:
            raise _not_configured(self) from None
        secrets, hash_, hex_len, max_length, timeout, _algorithm = config
        ticket, first, second = _authtkt_ticket(cookie, max_length, hex_len)
        uid, token_text, data, texts = _authtkt_fields(cookie, ticket, first, second, hex_len)
        ip4 = _authtkt_ip4(client_ip)
        timestamp = int(ticket[hex_len : hex_len + 8], 16)
        fields = uid + b"\0" + token_text + b"\0" + data
        digest = ticket[:hex_len].decode("ascii")
        for index, secret in enumerate(secrets):  # noqa: B007 - read after the loop
            if hmac.compare_digest(_authtkt_sign(hash_, ip4, timestamp, secret, fields), digest):
                break
        else:
            raise TicketDigestError(cookie)
        if timeout and _authtkt_format.expired(timestamp, timeout, time.time() if now is None else now):
            raise TicketExpired(cookie)
        return _authtkt_info(AuthTktInfo if index == 0 else FallbackAuthTktInfo, ticket, texts, hex_len)

    def parse(self, cookie: str | ReadableBuffer) -> AuthTktInfo:
        """Read a cookie's fields, checking only its form (not the digest or the time).

        Never trust what it returns: anyone can write a well-formed ticket.

        Args:
            cookie: The cookie value, ``str`` or bytes-like.

        Returns:
            AuthTktInfo: The ticket's fields, unverified.

        Raises:
            TicketParseError: The cookie is not a ticket in a form Apache writes, or is longer than
                ``max_length``.
            TypeError: The cookie is neither ``str`` nor bytes-like.
        """
        config: _AuthTktConfig = _config_of(self)
        _secrets, _hash, hex_len, max_length, _timeout, _algorithm = config
        ticket, first, second = _authtkt_ticket(cookie, max_length, hex_len)
        return _authtkt_info(
            AuthTktInfo, ticket, _authtkt_fields(cookie, ticket, first, second, hex_len)[3], hex_len
        )


# Each factory's arguments as its repr shows them, by its public class.
_DESCRIBE: dict[type, Callable[[Any], str]] = {
    TicketFactory: _describe_ticket_factory,
    AuthTktFactory: _describe_authtkt_factory,
}
