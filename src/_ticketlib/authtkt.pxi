# AuthTktFactory: Apache mod_auth_tkt 2.x tickets (ticket_auth._authtkt_format). Included by
# _ticketcore.pyx; base64 is in base64.h, the hex header in scan.h.

cdef object _APACHE_TIMEOUT = _authtkt_format.DEFAULT_TIMEOUT
cdef str _TIMESTAMP_RANGE_ERROR = _authtkt_format.TIMESTAMP_RANGE_ERROR


cdef bytes _authtkt_field(object value, str what, bint forbid_bang):
    """A mod_auth_tkt field as UTF-8 bytes, refusing what the format cannot carry."""
    cdef bytes raw
    if isinstance(value, str):
        raw = (<str>value).encode("utf-8")       # UnicodeEncodeError for lone surrogates
    elif isinstance(value, (bytes, bytearray)):
        raw = _held_bytes(value)
        if not ta_utf8_valid(<const unsigned char*>PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw)):
            raise ValueError(_authtkt_format.UTF8_ERROR.format(what))
    else:
        raise TypeError(_authtkt_format.FIELD_TYPE_ERROR.format(what, type(value).__name__))
    if memchr(PyBytes_AS_STRING(raw), 0, <size_t>PyBytes_GET_SIZE(raw)) != NULL:
        raise ValueError(_authtkt_format.NUL_ERROR.format(what))
    if forbid_bang and memchr(PyBytes_AS_STRING(raw), c'!', <size_t>PyBytes_GET_SIZE(raw)) != NULL:
        raise ValueError(_authtkt_format.BANG_ERROR.format(what))
    return raw


cdef int _authtkt_ip4(object client_ip, unsigned char* ip4) except -1:
    cdef unsigned char prefix[MAX_PREFIX]
    if _ip_prefix(client_ip, prefix) != 5:
        raise ValueError(_authtkt_format.IPV6_ERROR.format(client_ip))
    memcpy(ip4, prefix + 1, 4)
    return 0


cdef bytes _authtkt_fields(const unsigned char* uid, Py_ssize_t uid_len, const unsigned char* tokens,
                           Py_ssize_t tokens_len, const unsigned char* data, Py_ssize_t data_len):
    """UID + NUL + TOKENS + NUL + DATA (lengths are of live buffers, so their sum fits)."""
    cdef unsigned char* d
    result = PyBytes_FromStringAndSize(NULL, uid_len + tokens_len + data_len + 2)
    d = <unsigned char*>PyBytes_AS_STRING(result)
    memcpy(d, uid, <size_t>uid_len)
    d[uid_len] = 0
    memcpy(d + uid_len + 1, tokens, <size_t>tokens_len)
    d[uid_len + 1 + tokens_len] = 0
    memcpy(d + uid_len + 2 + tokens_len, data, <size_t>data_len)
    return result


cdef struct AuthTktParsed:
    Py_ssize_t rest              # first UID byte
    Py_ssize_t first             # the '!' after UID
    Py_ssize_t second            # the '!' after TOKENS, or -1 when the tokens part is omitted
    unsigned long timestamp
    unsigned char digest[MAX_DIGEST_SIZE]


# The signature in the docstring and __init__(*args, **kwargs): see TicketFactory (ticket.pxi).
# 2**62: a float smaller than this in size converts to a long long exactly as int() truncates it.
cdef double _TWO_62 = 4611686018427387904.0


@cython.auto_pickle(False)
@cython.embedsignature(False)
cdef class AuthTktFactory(_Factory):
    """AuthTktFactory(secret, digest, *, fallback_secrets=(), timeout=7200, max_length=None)
--

Mints and validates Apache mod_auth_tkt 2.x tickets (see ``ticket_auth.mod_auth_tkt``).

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

    cdef unsigned long long _timeout     # TKTAuthTimeout in seconds; 0: none

    def __init__(self, *args, **kwargs):
        secret, digest, fallback_secrets, timeout, max_length = _authtkt_format.init_arguments(
            self, *args, **kwargs)
        timeout = _authtkt_format.check_timeout(timeout)
        self._configure(secret, fallback_secrets, digest, max_length)
        self._timeout = timeout

    cdef object _hashlib_name(self, object algorithm):
        return _authtkt_format.check_digest_type(algorithm)

    cdef str _describe(self):
        return f"digest={self._algorithm!r}, timeout={self._timeout}"

    @cython.embedsignature(True)
    def new(self, user_id, tokens=(), user_data="", timestamp=None, client_ip=None, *, raw=False):
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
        cdef unsigned char ip4[4]
        cdef unsigned long ts
        cdef Py_ssize_t uid_len, tokens_len, data_len, middle, length, size
        cdef unsigned char* d
        cdef unsigned char digest[MAX_DIGEST_SIZE]   # _digest_size <= MAX_DIGEST_SIZE
        self._ready()
        # As TicketFactory.new (0.1.4's order): int(timestamp), the fields, the client address,
        # the 32-bit range.
        time_value = _time_argument(timestamp, 0, _TIMESTAMP_RANGE_ERROR)
        uid = _authtkt_field(user_id, "user_id", True)
        token_text = b""
        if tokens:
            if isinstance(tokens, (str, bytes, bytearray)):
                raise TypeError(_authtkt_format.TOKENS_STR_ERROR.format(type(tokens).__name__))
            parts = [_authtkt_field(token, "a token", True) for token in tokens]
            for part in parts:
                if memchr(PyBytes_AS_STRING(<bytes>part), c',', <size_t>PyBytes_GET_SIZE(<bytes>part)) != NULL:
                    raise ValueError(_authtkt_format.COMMA_ERROR)
            token_text = b",".join(parts)
        data = _authtkt_field(user_data, "user_data", False) if user_data else b""
        _authtkt_ip4(client_ip, ip4)
        ts = _time_in_range(time_value, _TIMESTAMP_RANGE_ERROR)
        uid_len, tokens_len, data_len = len(uid), len(token_text), len(data)
        secret = <bytes>self._secrets[0]
        fields = _authtkt_fields(<const unsigned char*>PyBytes_AS_STRING(uid), uid_len,
                                 <const unsigned char*>PyBytes_AS_STRING(token_text), tokens_len,
                                 <const unsigned char*>PyBytes_AS_STRING(data), data_len)
        _digest_into(&self._evp, self._hash, self._digest_size, ip4, 4, ts, secret,
                     <const unsigned char*>PyBytes_AS_STRING(fields), PyBytes_GET_SIZE(fields), -1, -1, True,
                     digest)
        # The tokens part is omitted when there are none, unless the data holds a '!'.
        middle = 2 + tokens_len if tokens_len or memchr(PyBytes_AS_STRING(data), c'!', <size_t>data_len) != NULL else 1
        length = self._hex_len + 8 + uid_len + middle + data_len
        ticket = PyBytes_FromStringAndSize(NULL, length)
        d = <unsigned char*>PyBytes_AS_STRING(ticket)
        ta_write_header(d, digest, self._digest_size, ts)
        d += self._hex_len + 8
        memcpy(d, PyBytes_AS_STRING(uid), <size_t>uid_len)
        d += uid_len
        d[0] = c'!'
        if middle > 1:
            memcpy(d + 1, PyBytes_AS_STRING(token_text), <size_t>tokens_len)
            d[1 + tokens_len] = c'!'
        memcpy(d + middle, PyBytes_AS_STRING(data), <size_t>data_len)
        if raw:
            if PyBytes_AS_STRING(ticket)[length - 1] == c'"':      # length > hex_len + 8
                raise ValueError(_authtkt_format.RAW_QUOTE_ERROR)
            cookie = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(ticket), length, NULL)   # UTF-8 fields
        else:
            cookie = PyUnicode_New(4 * ((length + 2) // 3), 127)
            ta_b64_encode(<const unsigned char*>PyBytes_AS_STRING(ticket), length,
                          <unsigned char*>PyUnicode_DATA(cookie))
        size = length if raw else PyUnicode_GET_LENGTH(cookie)   # bytes, as validate counts them
        if 0 <= self._max_length < size:
            raise ValueError(_authtkt_format.NEW_TOO_LONG_ERROR.format(size, self._max_length))
        return cookie

    cdef bytes _ticket(self, object cookie, AuthTktParsed* parsed):
        """The raw ticket inside a cookie value, structurally checked (see _authtkt_format)."""
        cdef const unsigned char* v
        cdef const unsigned char* bang
        cdef const unsigned char* percent
        cdef Py_ssize_t n, core
        cdef int header
        cdef bytes ticket
        cdef object keep = cookie
        self._ready()
        if isinstance(cookie, str):
            # UTF-8 has at least one byte per character: a str with more characters than
            # max_length is too long, whatever it holds (and is not encoded at all).
            if 0 <= self._max_length < PyUnicode_GET_LENGTH(cookie):
                raise _parse_error(cookie, _authtkt_format.TOO_LONG)
            if PyUnicode_IS_ASCII(cookie):       # the str's own bytes
                v = <const unsigned char*>PyUnicode_DATA(cookie)
                n = PyUnicode_GET_LENGTH(cookie)
            else:                                # a private copy: nothing is cached in the str
                try:
                    keep = PyUnicode_AsEncodedString(cookie, "utf-8", "strict")
                except UnicodeEncodeError:
                    raise _parse_error(cookie, _authtkt_format.NOT_ENCODABLE) from None
                v = <const unsigned char*>PyBytes_AS_STRING(keep)
                n = PyBytes_GET_SIZE(keep)
        elif isinstance(cookie, bytes):
            v = <const unsigned char*>PyBytes_AS_STRING(cookie)
            n = PyBytes_GET_SIZE(cookie)
        else:
            try:
                view = memoryview(cookie)
            except TypeError:
                raise not_text_error(cookie, _authtkt_format.COOKIE_TYPE_ERROR.format(type(cookie).__name__)) from None
            with view:
                keep = view.tobytes()
            v = <const unsigned char*>PyBytes_AS_STRING(keep)
            n = PyBytes_GET_SIZE(keep)
        if 0 <= self._max_length < n:
            raise _parse_error(cookie, _authtkt_format.TOO_LONG)
        if n >= 1 and v[0] == c'"':         # leading and trailing quotes, each on its own
            v += 1
            n -= 1
        if n >= 1 and v[n - 1] == c'"':
            n -= 1
        if memchr(v, c'!', <size_t>n) != NULL:
            ticket = PyBytes_FromStringAndSize(<const char*>v, n)
        else:
            percent = <const unsigned char*>memchr(v, c'%', <size_t>n)
            while percent != NULL and not (percent - v + 2 < n and percent[1] == c'2' and percent[2] == c'1'):
                percent = <const unsigned char*>memchr(percent + 1, c'%', <size_t>(n - (percent - v) - 1))
            if percent != NULL:                  # the %21-escaped form
                ticket = _authtkt_format.unescape(cookie, PyBytes_FromStringAndSize(<const char*>v, n))
            else:
                core = ta_b64_core(v, n)
                if core < 0:
                    raise _parse_error(cookie, _authtkt_format.BAD_BASE64)
                ticket = PyBytes_FromStringAndSize(NULL, core * 3 // 4)
                ta_b64_decode(v, core, <unsigned char*>PyBytes_AS_STRING(ticket))
                if memchr(PyBytes_AS_STRING(ticket), c'!', <size_t>PyBytes_GET_SIZE(ticket)) == NULL:
                    raise _parse_error(cookie, _authtkt_format.BAD_BASE64)
        v = <const unsigned char*>PyBytes_AS_STRING(ticket)
        n = PyBytes_GET_SIZE(ticket)
        if n < self._hex_len + 8:
            raise _parse_error(cookie, _authtkt_format.TOO_SHORT)
        header = ta_read_header(v, self._digest_size, parsed.digest, &parsed.timestamp)
        if header == TA_HEADER_BAD_DIGEST:
            raise _parse_error(cookie, _authtkt_format.BAD_DIGEST)
        if header == TA_HEADER_BAD_TIME:
            raise _parse_error(cookie, _authtkt_format.BAD_TIME)
        parsed.rest = self._hex_len + 8
        bang = <const unsigned char*>memchr(v + parsed.rest, c'!', <size_t>(n - parsed.rest))
        if bang == NULL:
            raise _parse_error(cookie, _authtkt_format.MISSING_SEPARATOR)
        if memchr(v, 0, <size_t>n) != NULL:
            raise _parse_error(cookie, _authtkt_format.HAS_NUL)
        parsed.first = bang - v
        bang = <const unsigned char*>memchr(v + parsed.first + 1, c'!', <size_t>(n - parsed.first - 1))
        parsed.second = -1 if bang == NULL else bang - v
        # UTF-8: user id, tokens, user data.
        if not ta_utf8_valid(v + parsed.rest, parsed.first - parsed.rest):
            raise _parse_error(cookie, _authtkt_format.UID_NOT_UTF8)
        if parsed.second >= 0:
            if not ta_utf8_valid(v + parsed.first + 1, parsed.second - parsed.first - 1):
                raise _parse_error(cookie, _authtkt_format.TOKENS_NOT_UTF8)
            if not ta_utf8_valid(v + parsed.second + 1, n - parsed.second - 1):
                raise _parse_error(cookie, _authtkt_format.DATA_NOT_UTF8)
        elif not ta_utf8_valid(v + parsed.first + 1, n - parsed.first - 1):
            raise _parse_error(cookie, _authtkt_format.DATA_NOT_UTF8)
        return ticket

    cdef object _info(self, bytes ticket, AuthTktParsed* parsed, type info_type):
        cdef const unsigned char* v = <const unsigned char*>PyBytes_AS_STRING(ticket)
        cdef Py_ssize_t n = PyBytes_GET_SIZE(ticket)
        cdef Py_ssize_t data_start = parsed.first + 1 if parsed.second < 0 else parsed.second + 1
        user_id = _field_text(None, v, parsed.rest, parsed.first, UTF8_BYTES)
        # No tokens part (second < 0) reads as empty TOKENS.
        tokens = _split_tokens(None, v, parsed.first + 1, parsed.second, UTF8_BYTES)
        user_data = _field_text(None, v, data_start, n, UTF8_BYTES)
        return ta_make_info(info_type, PyUnicode_DecodeASCII(<const char*>v, self._hex_len, NULL), user_id,
                            tokens, user_data, parsed.timestamp)

    cdef Py_ssize_t _match(self, bytes ticket, AuthTktParsed* parsed, const unsigned char* ip4) except -2:
        """Index of the secret that signed a ticket _ticket accepted, or -1 (_match_secret)."""
        cdef const unsigned char* v = <const unsigned char*>PyBytes_AS_STRING(ticket)
        cdef Py_ssize_t n = PyBytes_GET_SIZE(ticket)
        if parsed.second >= 0:                   # UID!TOKENS!DATA: the separators become NUL
            return _match_secret(&self._evp, self._hash, self._digest_size, self._secrets, ip4, 4, parsed.timestamp,
                                 v + parsed.rest, n - parsed.rest, parsed.first - parsed.rest,
                                 parsed.second - parsed.rest, True, parsed.digest)
        # UID!DATA: hashed as UID NUL NUL DATA
        fields = _authtkt_fields(v + parsed.rest, parsed.first - parsed.rest, v, 0,
                                 v + parsed.first + 1, n - parsed.first - 1)
        return _match_secret(&self._evp, self._hash, self._digest_size, self._secrets, ip4, 4, parsed.timestamp,
                             <const unsigned char*>PyBytes_AS_STRING(fields), PyBytes_GET_SIZE(fields),
                             -1, -1, True, parsed.digest)

    cdef bint _timed_out(self, unsigned long timestamp, object now) except -1:
        """True when a ticket stamped ``timestamp`` is past ``timeout`` at ``now`` (None: the
        clock); False when the factory has no timeout."""
        if not self._timeout:
            return False
        if now is None:
            now = _time.time()           # looked up per call: a patched time.time is honoured
        # Apache's time is an unsigned 32-bit number: the sum wraps modulo 2**32.
        if type(now) is float and -_TWO_62 < PyFloat_AS_DOUBLE(now) < _TWO_62:
            # int(now) & MAX_UINT32 in C: truncation toward zero, then the low 32 bits of
            # the two's complement (what Python's & gives for a negative int too).
            return <uint32_t>(timestamp + self._timeout) < (
                <unsigned long long><long long>PyFloat_AS_DOUBLE(now) & 0xFFFFFFFFULL)
        return <object><uint32_t>(timestamp + self._timeout) < (int(now) & _MAX_UINT32)

    @cython.embedsignature(True)
    def validate(self, cookie, client_ip=None, now=None):
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
        cdef AuthTktParsed parsed
        cdef unsigned char ip4[4]
        cdef Py_ssize_t matched
        ticket = self._ticket(cookie, &parsed)
        _authtkt_ip4(client_ip, ip4)
        matched = self._match(ticket, &parsed, ip4)
        if matched < 0:
            raise _digest_error(cookie)
        if self._timed_out(parsed.timestamp, now):
            raise _expired_error(cookie)
        return self._info(ticket, &parsed, _AuthTktInfo if matched == 0 else _FallbackAuthTktInfo)

    @cython.embedsignature(True)
    def parse(self, cookie):
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
        cdef AuthTktParsed parsed
        ticket = self._ticket(cookie, &parsed)
        return self._info(ticket, &parsed, _AuthTktInfo)
