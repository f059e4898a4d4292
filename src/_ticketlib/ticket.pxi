# TicketFactory: the ticket_auth 0.1.4 format (ticket_auth._ticket_format). Included by
# _ticketcore.pyx; the structure check is in scan.pxi, quoting in quote.pxi.

cdef frozenset _ASCII_COMPATIBLE = _ticket_format.ASCII_COMPATIBLE_ENCODINGS
cdef str _UTF8 = "utf-8"                 # the same constant object as the default argument
# Looked up on the module once, not per call.
cdef object _DEFAULT_LIFETIME = _ticket_format.DEFAULT_LIFETIME
cdef str _VALID_UNTIL_RANGE_ERROR = _ticket_format.VALID_UNTIL_RANGE_ERROR
cdef str _USER_ID_TYPE_ERROR = _ticket_format.USER_ID_TYPE_ERROR
cdef str _TOKEN_TYPE_ERROR = _ticket_format.TOKEN_TYPE_ERROR
cdef str _USER_DATA_TYPE_ERROR = _ticket_format.USER_DATA_TYPE_ERROR


# The class docstring starts with the constructor's signature in the form CPython reads for
# inspect.signature(TicketFactory) ("name(...)\n--\n\n"; Cython's own embedded signature is
# turned off for the class, and __init__ takes *args so that _ticket_format.init_arguments
# binds them with the pure core's messages); methods keep Cython's embedded signatures.
@cython.auto_pickle(False)
@cython.embedsignature(False)
cdef class TicketFactory(_Factory):
    """TicketFactory(secret, hashalg='sha512', *, fallback_secrets=(), max_length=None)
--

Mints and validates tickets signed with ``secret`` using hashlib's ``hashalg``.

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

    def __init__(self, *args, **kwargs):
        secret, hashalg, fallback_secrets, max_length = _ticket_format.init_arguments(self, *args, **kwargs)
        self._configure(secret, fallback_secrets, hashalg, max_length)

    cdef str _describe(self):
        return f"hashalg={self._algorithm!r}"

    @cython.embedsignature(True)
    def new(self, user_id, tokens=None, user_data=None, valid_until=None, client_ip=None, encoding="utf-8"):
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
        cdef unsigned char stack[STACK_BUFFER]
        cdef unsigned char prefix[MAX_PREFIX]
        cdef Buffer signed
        cdef Py_ssize_t bang1, bang2, prefix_len, i, length
        cdef unsigned long until
        cdef unsigned char* d
        cdef unsigned char raw[MAX_DIGEST_SIZE]   # the digest; _digest_size <= MAX_DIGEST_SIZE
        self._ready()
        # 0.1.4's order: int(valid_until), the fields, the client address, the 32-bit range.
        time_value = _time_argument(valid_until, _DEFAULT_LIFETIME, _VALID_UNTIL_RANGE_ERROR)
        _buffer_init(&signed, stack, STACK_BUFFER)
        try:
            _quote_into(&signed, user_id, _USER_ID_TYPE_ERROR)
            bang1 = signed.length
            _append_byte(&signed, c'!')
            if tokens:
                if isinstance(tokens, (str, bytes, bytearray)):
                    raise TypeError(_ticket_format.TOKENS_STR_ERROR.format(type(tokens).__name__))
                if type(tokens) is not tuple:
                    tokens = tuple(tokens)   # a private snapshot of the sequence
                for i in range(len(<tuple>tokens)):
                    if i:
                        _append_byte(&signed, c',')
                    _quote_into(&signed, (<tuple>tokens)[i], _TOKEN_TYPE_ERROR)
            bang2 = signed.length
            _append_byte(&signed, c'!')
            if user_data:
                _quote_into(&signed, user_data, _USER_DATA_TYPE_ERROR)
            prefix_len = _ip_prefix(client_ip, prefix)
            until = _time_in_range(time_value, _VALID_UNTIL_RANGE_ERROR)
            secret = <bytes>self._secrets[0]
            if encoding is _UTF8 or encoding in _ASCII_COMPATIBLE:
                _digest_into(&self._evp, self._hash, self._digest_size, prefix, prefix_len, until, secret,
                             signed.data, signed.length, bang1, bang2, False, raw)
            else:
                data1 = PyUnicode_DecodeASCII(<const char*>signed.data, signed.length, NULL).replace(
                    "!", "\0").encode(encoding)
                _digest_into(&self._evp, self._hash, self._digest_size, prefix, prefix_len, until, secret,
                             <const unsigned char*>PyBytes_AS_STRING(data1), PyBytes_GET_SIZE(data1), -1, -1,
                             False, raw)
            if signed.length > PY_SSIZE_T_MAX - self._hex_len - 8:
                raise MemoryError()
            length = self._hex_len + 8 + signed.length
            if 0 <= self._max_length < length:
                raise ValueError(_ticket_format.NEW_TOO_LONG_ERROR.format(length, self._max_length))
            ticket = PyUnicode_New(length, 127)
            d = <unsigned char*>PyUnicode_DATA(ticket)   # ASCII: one byte per character
            ta_write_header(d, raw, self._digest_size, until)
            memcpy(d + self._hex_len + 8, signed.data, <size_t>signed.length)
            return ticket
        finally:
            _buffer_free(&signed)

    cdef str _text(self, object ticket):
        if isinstance(ticket, str):
            return <str>ticket
        return _ticket_format.ascii_text(ticket)

    cdef const unsigned char* _check(self, object ticket, str text, Parsed* parsed) except NULL:
        """Check the whole ticket (length, structure, canonical fields, UTF-8); return its bytes."""
        cdef const unsigned char* p
        cdef int code
        self._ready()
        if 0 <= self._max_length < PyUnicode_GET_LENGTH(text):
            raise _parse_error(ticket, _ticket_format.TOO_LONG)
        if not PyUnicode_IS_ASCII(text):
            raise _parse_error(ticket, _ticket_format.NOT_ASCII)
        p = <const unsigned char*>PyUnicode_DATA(text)   # ASCII: one byte per character
        code = _scan(p, PyUnicode_GET_LENGTH(text), self._digest_size, parsed)
        if code != OK:
            raise _parse_error(ticket, _MESSAGES[code])
        return p

    cdef object _info(self, str text, const unsigned char* p, Parsed* parsed, object valid_until,
                      type info_type):
        """The TicketInfo (or FallbackTicketInfo) of a ticket that _check accepted."""
        user_id = _unquote(text, p, parsed.rest, parsed.bang1, parsed.uid_kind)
        tokens = _split_tokens(text, p, parsed.bang1 + 1, parsed.bang2, parsed.tokens_kind)
        user_data = _unquote(text, p, parsed.bang2 + 1, PyUnicode_GET_LENGTH(text), parsed.data_kind)
        return ta_make_info(info_type, PyUnicode_Substring(text, 0, self._hex_len), user_id,
                            tokens, user_data, valid_until)

    @cython.embedsignature(True)
    def validate(self, ticket, client_ip=None, now=None, encoding="utf-8"):
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
        cdef Parsed parsed
        cdef unsigned char prefix[MAX_PREFIX]
        cdef Py_ssize_t prefix_len, rest, matched
        cdef str text = self._text(ticket)
        cdef const unsigned char* p = self._check(ticket, text, &parsed)
        prefix_len = _ip_prefix(client_ip, prefix)
        rest = parsed.rest
        if encoding is _UTF8 or encoding in _ASCII_COMPATIBLE:
            matched = _match_secret(&self._evp, self._hash, self._digest_size, self._secrets, prefix, prefix_len,
                                    parsed.valid_until, p + rest, PyUnicode_GET_LENGTH(text) - rest,
                                    parsed.bang1 - rest, parsed.bang2 - rest, False, parsed.digest)
        else:
            try:
                data1 = text[rest:].replace("!", "\0").encode(encoding)
            except UnicodeError:
                raise _parse_error(ticket, _ticket_format.NOT_ENCODABLE) from None
            matched = _match_secret(&self._evp, self._hash, self._digest_size, self._secrets, prefix, prefix_len,
                                    parsed.valid_until, <const unsigned char*>PyBytes_AS_STRING(data1),
                                    PyBytes_GET_SIZE(data1), -1, -1, False, parsed.digest)
        if matched < 0:
            raise _digest_error(ticket)
        if now is None:
            now = _time.time()           # looked up per call: a patched time.time is honoured
        if type(now) is float:           # as Python compares: valid_until < 2**32 is an exact double
            if <double>parsed.valid_until <= PyFloat_AS_DOUBLE(now):
                raise _expired_error(ticket)
        elif parsed.valid_until <= now:  # an int or any other number: Python's own comparison
            raise _expired_error(ticket)
        # Only an accepted ticket pays for its TicketInfo.
        return self._info(text, p, &parsed, parsed.valid_until,
                          _TicketInfo if matched == 0 else _FallbackTicketInfo)

    @cython.embedsignature(True)
    def parse(self, ticket):
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
        cdef Parsed parsed
        cdef str text = self._text(ticket)
        cdef const unsigned char* p = self._check(ticket, text, &parsed)
        return self._info(text, p, &parsed, parsed.valid_until, _TicketInfo)
