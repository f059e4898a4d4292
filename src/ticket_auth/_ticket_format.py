"""The ticket_auth 0.1.4 format (``TicketFactory``): limits, quoting rules and error messages,
used by both cores (the compiled ``_ticketcore``, the pure ``_ticketcore_py``). The argument
checks it shares with mod_auth_tkt are in ``_arguments``.

    ticket = DIGEST TIME UID "!" TOKENS "!" DATA

DIGEST is lowercase hex, TIME is ``valid_until`` as 8 lowercase hex digits, and UID,
TOKENS (comma-joined) and DATA are ``urllib.parse.quote``'d with its defaults. A ticket is
accepted only in exactly the form ``new`` mints, so both cores check the same things in the
same order and raise the same messages:

0. the ticket is a str or bytes-like (anything else is a ``TicketParseError`` if it has a
   ``len()``, as 0.1.4 measures a ticket first, and a ``TypeError`` otherwise); a
   bytes-like ticket is ASCII (it is decoded first);
1. the ticket is no longer than the factory's ``max_length``, if it has one;
2. the ticket is ASCII and long enough to hold DIGEST and TIME;
3. DIGEST and TIME are lowercase hex;
4. the rest has exactly two ``!``;
5. UID, TOKENS and DATA (in that order) are in canonical quoted form;
6. each unquoted UID, token and DATA (in that order) is valid UTF-8.

``new`` checks its arguments in 0.1.4's order: ``valid_until`` converted with ``int()`` (or
now + ``DEFAULT_LIFETIME``), then UID, each token and DATA as they are quoted (their types),
then the client address, then the 32-bit range of the time, then the ``encoding``, and last
``max_length``.
"""

from __future__ import annotations

from ._arguments import not_text_error
from .exception import TicketParseError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed import ReadableBuffer

# Lifetime of a ticket minted without ``valid_until``, in seconds (TIME is ``valid_until``,
# an unsigned 32-bit number: at most ``MAX_UINT32``).
DEFAULT_LIFETIME = 120

# The hash algorithm of a TicketFactory made without one.
DEFAULT_HASHALG = "sha512"

# The characters urllib.parse.quote leaves alone with its default ``safe='/'``.
SAFE_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")

# Encodings under which the (ASCII) quoted text encodes to itself, so no encode is needed.
ASCII_COMPATIBLE_ENCODINGS = frozenset({"utf-8", "utf8", "UTF-8", "ascii", "latin-1", "latin1"})

TOO_LONG = "ticket is longer than max_length"
NOT_ASCII = "ticket contains non-ASCII characters"
TOO_SHORT = "ticket is too short"
BAD_DIGEST = "digest is not lowercase hex"
BAD_TIME = "time is not 8 lowercase hex digits"
MISSING_PARTS = "missing '!' separators: expected user id, tokens and user data"
TOO_MANY_PARTS = "too many '!' separators: expected user id, tokens and user data"
BAD_UID = "user id is not in canonical quoted form"
BAD_TOKENS = "tokens are not in canonical quoted form"
BAD_DATA = "user data is not in canonical quoted form"
UID_NOT_UTF8 = "user id is not valid UTF-8 once unquoted"
TOKEN_NOT_UTF8 = "a token is not valid UTF-8 once unquoted"
DATA_NOT_UTF8 = "user data is not valid UTF-8 once unquoted"
NOT_ENCODABLE = "ticket fields cannot be encoded with the given encoding"

# A factory's configuration never changes once made (no lock is needed to share one).
REINIT_ERROR = "{} is already configured; make a new factory instead of calling __init__ again"

TICKET_TYPE_ERROR = "ticket must be str or bytes-like, not {}"
USER_ID_TYPE_ERROR = "user_id must be str or bytes, not {}"
TOKEN_TYPE_ERROR = "each token must be str or bytes, not {}"
TOKENS_STR_ERROR = "tokens must be a sequence of str or bytes, not a single {}"
USER_DATA_TYPE_ERROR = "user_data must be str or bytes, not {}"
NEW_TOO_LONG_ERROR = "the ticket would be {} characters long, more than max_length={}"
VALID_UNTIL_RANGE_ERROR = "valid_until must be between 0 and 4294967295 (32-bit seconds), not {}"


def ascii_text(ticket: ReadableBuffer) -> str:
    """A bytes-like ticket as str; ``TicketParseError`` unless it is ASCII. Anything else is
    refused by ``_arguments.not_text_error``: ``TicketParseError`` if it has a ``len()``, else
    ``TypeError``. (A str ticket never comes here.)"""
    try:
        view = memoryview(ticket)
    except TypeError:
        raise not_text_error(ticket, TICKET_TYPE_ERROR.format(type(ticket).__name__)) from None
    with view:
        raw = view.tobytes()
    if not raw.isascii():
        raise TicketParseError(ticket, NOT_ASCII)
    return raw.decode("ascii")


def init_arguments(
    self: object,
    secret: ReadableBuffer,
    hashalg: str = "sha512",
    *,
    fallback_secrets: Iterable[ReadableBuffer] = (),
    max_length: int | None = None,
) -> tuple[ReadableBuffer, str, Iterable[ReadableBuffer], int | None]:
    """``TicketFactory.__init__``'s arguments, bound by Python itself: the compiled core's
    ``__init__`` takes ``*args, **kwargs`` and passes them here, so a missing, extra or
    unknown argument is reported exactly as by the pure core (whose ``__init__`` has this
    signature). The compiled class's docstring carries the same signature for ``inspect``."""
    return secret, hashalg, fallback_secrets, max_length


init_arguments.__qualname__ = "TicketFactory.__init__"  # the name Python's messages show
