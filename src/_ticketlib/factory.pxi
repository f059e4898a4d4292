# What the two factories of the compiled core share: configuration (secrets, hash, length
# limit), the refusals (unconfigured, re-initialised, pickled), copies (the factory itself),
# weak references, the repr, the time argument of new and the splitting of TOKENS into a tuple. Included by _ticketcore.pyx; the parsers
# stay with each format (ticket.pxi, authtkt.pxi).

cdef type _TicketInfo = TicketInfo
cdef type _FallbackTicketInfo = FallbackTicketInfo
cdef type _AuthTktInfo = AuthTktInfo
cdef type _FallbackAuthTktInfo = FallbackAuthTktInfo
for _info_type in (_TicketInfo, _FallbackTicketInfo, _AuthTktInfo, _FallbackAuthTktInfo):
    if not (issubclass(_info_type, tuple) and _info_type.__basicsize__ == tuple.__basicsize__
            and _info_type.__itemsize__ == tuple.__itemsize__ and len(_info_type._fields) == 5):
        raise ImportError(f"{_info_type.__name__} is not the 5-field namedtuple this core builds")

cdef object _MAX_UINT32 = MAX_UINT32     # the largest TIME (valid_until, timestamp)


cdef object _time_argument(object value, object lifetime, str range_error):
    """The TIME of a new ticket as an int, its range not yet checked: ``value`` converted, or
    now + ``lifetime`` when it is None (``time.time`` looked up on each call, as 0.1.4 does).
    ``new`` checks the range (_time_in_range) after the fields and the client address, in
    0.1.4's order (ticket_auth._arguments.time_value)."""
    if value is None:
        return int(_time.time()) + lifetime
    if type(value) is not int:
        return to_int(value, range_error)
    return value


cdef unsigned long _time_in_range(object value, str range_error) except? 0:
    """A TIME from _time_argument as an unsigned long, if it is in 0..MAX_UINT32."""
    if not 0 <= value <= _MAX_UINT32:
        raise ValueError(range_error.format(value))
    return value


cdef enum:
    UTF8_BYTES = 2           # a field kind beside PLAIN and ESCAPED: raw UTF-8 (mod_auth_tkt)


cdef inline object _field_text(object text, const unsigned char* p, Py_ssize_t start, Py_ssize_t end, int kind):
    """The str of the field p[start:end]: UTF8_BYTES decoded, PLAIN or ESCAPED unquoted
    (``text`` is then the ticket's str, whose characters p holds)."""
    if kind == UTF8_BYTES:
        return PyUnicode_DecodeUTF8(<const char*>p + start, end - start, NULL)
    return _unquote(<str>text, p, start, end, kind)


cdef tuple _split_tokens(object text, const unsigned char* p, Py_ssize_t start, Py_ssize_t end, int kind):
    """The tokens of TOKENS = p[start:end] (comma-separated; () when empty), each read by
    _field_text. The parser has checked the field."""
    cdef Py_ssize_t i, count = 1
    if end <= start:
        return ()
    for i in range(start, end):
        if p[i] == c',':
            count += 1
    tokens = PyTuple_New(count)
    count = 0
    for i in range(start, end + 1):          # i == end closes the last token
        if i == end or p[i] == c',':
            token = _field_text(text, p, start, i, kind)
            Py_INCREF(token)
            PyTuple_SET_ITEM(tokens, count, token)
            count += 1
            start = i + 1
    return tokens


@cython.auto_pickle(False)
cdef class _Factory:
    """The configuration both factories hold. Configured once by ``_configure`` (from each
    factory's ``__init__``): the methods read these fields without a lock, so they never
    change afterwards."""

    cdef tuple _secrets                  # (secret, *fallback_secrets), all non-empty bytes
    cdef object _hash                    # hash constructor: _hash(data) -> hash object
    cdef ta_evp _evp                     # the OpenSSL hash path; _evp.md == NULL: hashlib (_hash)
    cdef Py_ssize_t _digest_size         # bytes of a digest; DIGEST is twice as many hex digits
    cdef Py_ssize_t _hex_len             # 2 * _digest_size
    cdef Py_ssize_t _max_length          # -1: no limit
    cdef object _algorithm               # the algorithm as the caller named it (for repr)
    cdef object __weakref__              # weakly referenceable, as 0.1.4's factories are

    cdef object _hashlib_name(self, object algorithm):
        """The hashlib name of the algorithm the caller named (a format may restrict it)."""
        return algorithm

    cdef str _describe(self):
        """The arguments shown by repr (never the secrets)."""
        raise NotImplementedError

    cdef int _configure(self, object secret, object fallback_secrets, object algorithm,
                        object max_length) except -1:
        """Check every shared argument, then set the fields: a failed call changes nothing.
        A format's own arguments are checked before this is called."""
        if self._secrets is not None:
            raise TypeError(_ticket_format.REINIT_ERROR.format(type(self).__qualname__))
        secrets = check_secrets(secret, fallback_secrets)
        hashlib_name = self._hashlib_name(algorithm)
        constructor, digest_size = resolve_hashalg(hashlib_name)
        limit = check_max_length(max_length)
        if not 0 < digest_size <= MAX_DIGEST_SIZE:
            raise ValueError("unsupported digest size")
        _open_hash_path(&self._evp, constructor, hashlib_name, digest_size)
        self._secrets = secrets
        self._hash = constructor
        self._algorithm = algorithm
        self._digest_size = digest_size
        self._hex_len = 2 * digest_size
        # No str or bytes is longer than PY_SSIZE_T_MAX: a larger limit is no limit (as in
        # the pure core, where any int is accepted).
        self._max_length = -1 if limit is None or limit > PY_SSIZE_T_MAX else limit
        return 0

    cdef int _ready(self) except -1:
        # A factory whose __init__ never ran (TicketFactory.__new__, or a subclass that does
        # not call super().__init__) has no secret: refuse rather than read it.
        if self._secrets is None:
            raise AttributeError(f"{type(self).__qualname__}.__init__ was not called: the factory has no secret")
        return 0

    def __dealloc__(self):
        ta_evp_close(&self._evp)

    @property
    def hash_path(self):
        """How this factory computes digests: ``"openssl"`` (OpenSSL's EVP functions called directly,
        compiled core only) or ``"hashlib"``. Results are the same on both paths.
        """
        return "openssl" if self._evp.md != NULL else "hashlib"

    def __repr__(self):
        return f"{type(self).__module__}.{type(self).__qualname__}({self._describe()})"

    def __reduce_ex__(self, protocol):
        raise TypeError(f"{_public_class(self).__name__} holds a secret and cannot be pickled")

    # A factory never changes once configured: its copy is itself (copying is not pickling:
    # the secret is never written out).
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


cdef type _public_class(object factory):
    """TicketFactory or AuthTktFactory: the class of this module that ``factory`` is."""
    for cls in type(factory).__mro__:
        if cls.__module__ == __name__ and not cls.__name__.startswith("_"):
            return cls
    return type(factory)
