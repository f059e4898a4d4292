# The guard's per-request decision in one call: from the raw Cookie header(s) to the
# CheckResult of ticket_auth.guard (identity, reason, reissued cookie), for a guard whose
# factory is one of this core's. Included by _ticketcore.pyx.
#
# ticket_auth.guard is the reference: TicketGuard._identify_result states every rule in
# Python, and the pure guard runs it. This file applies the same rules, in the same order, to
# the header bytes the server already has, without a Python string or object on the way
# except the ones the result holds. Where an input falls outside what it reads exactly (a
# header str that is not one byte per character, an address in a form the strict parsers
# leave to ipaddress, a clock that is not a float or an int of at most 2**50, more than
# MAX_LINES Cookie lines), it hands the request to the Python rules instead, so that both
# give the same result for every input (tests/test_guard_core.py checks it on hostile
# headers). Every length is bounded before it is read: the Cookie lines together by
# max_cookie_header, the value by max_cookie_length, the ticket by the factory's max_length.

from cpython.list cimport PyList_GET_SIZE
from cpython.tuple cimport PyTuple_GET_SIZE, PyTuple_GET_ITEM
from libc.string cimport memcmp

cdef extern from "_ticketlib/cookie.h":
    bint ta_quoted_text(const unsigned char* p, Py_ssize_t n) noexcept nogil
    int ta_bare_class(const unsigned char* p, Py_ssize_t n) noexcept nogil

cdef extern from "Python.h":
    int PyUnicode_KIND(object o)
    Py_UCS4 PyUnicode_READ_CHAR(object o, Py_ssize_t index)
    enum: PyUnicode_1BYTE_KIND


cdef enum:
    MAX_LINES = 16               # Cookie lines read in C; more go to the Python rules
    # The reasons, indexes into GuardCore._refusals (the order of _REASON_NAMES).
    R_NO_COOKIE = 0
    R_DUPLICATE
    R_OVERSIZED
    R_MALFORMED_COOKIE
    R_MALFORMED_TICKET
    R_BAD_DIGEST
    R_EXPIRED
    R_BAD_CLIENT_ADDRESS
    R_FUTURE
    R_COUNT
    # What _client_prefix found.
    ADDRESS_UNKNOWN = 0
    ADDRESS_OK = 1
    ADDRESS_ASK_PYTHON = 2

cdef tuple _REASON_NAMES = ("NO_COOKIE", "DUPLICATE_COOKIE", "OVERSIZED_COOKIE", "MALFORMED_COOKIE",
                            "MALFORMED_TICKET", "BAD_DIGEST", "EXPIRED", "BAD_CLIENT_ADDRESS", "FUTURE_TICKET")

cdef str _HTTP = "http"

# 2**50: numbers below it (times, lifetimes) and the sums and differences of two of them are
# exact doubles, so comparisons in double give what Python's int and float arithmetic gives.
cdef double _EXACT = 1125899906842624.0


cdef struct Line:
    const unsigned char* p
    Py_ssize_t n


cdef struct Network:
    int version                  # 4 or 6
    int prefixlen                # 0..32 or 0..128
    unsigned char address[16]    # the network address, packed (4 bytes used for IPv4)


cdef inline bint _blank(unsigned char c) noexcept nogil:
    return c == c' ' or c == c'\t'


cdef int _find_cookie(const Line* lines, Py_ssize_t count, const unsigned char* name, Py_ssize_t name_len,
                      Py_ssize_t* which, Py_ssize_t* start, Py_ssize_t* end) noexcept nogil:
    """How many parts of the lines are the cookie ``name`` (0, 1, or 2 for more), as
    ticket_auth.guard.parse_cookie_header reads the lines joined with "; ": each line split on
    ';', a part ``key=value`` (the first '='), key and value stripped of spaces and tabs. For
    the first match, ``lines[*which].p[*start:*end]`` is the value. Linear in the lines."""
    cdef Py_ssize_t k, i, part_end, key_start, key_end, value_start, value_end, n
    cdef const unsigned char* p
    cdef const unsigned char* hit
    cdef int found = 0
    for k in range(count):
        p = lines[k].p
        n = lines[k].n
        i = 0
        while i <= n:                    # one part per iteration: p[i:part_end], i <= part_end <= n
            hit = <const unsigned char*>memchr(p + i, c';', <size_t>(n - i))
            part_end = n if hit == NULL else hit - p
            hit = <const unsigned char*>memchr(p + i, c'=', <size_t>(part_end - i))
            if hit != NULL:
                key_start = i
                key_end = hit - p
                while key_start < key_end and _blank(p[key_start]):
                    key_start += 1
                while key_end > key_start and _blank(p[key_end - 1]):
                    key_end -= 1
                if key_end - key_start == name_len and memcmp(p + key_start, name, <size_t>name_len) == 0:
                    found += 1
                    if found > 1:
                        return 2
                    value_start = hit - p + 1
                    value_end = part_end
                    while value_start < value_end and _blank(p[value_start]):
                        value_start += 1
                    while value_end > value_start and _blank(p[value_end - 1]):
                        value_end -= 1
                    which[0] = k
                    start[0] = value_start
                    end[0] = value_end
            i = part_end + 1
    return found


cdef inline bint _is_upgrade(const unsigned char* name) noexcept nogil:
    """name[:7] is "upgrade" in any case."""
    return ((name[0] | 0x20) == c'u' and (name[1] | 0x20) == c'p' and (name[2] | 0x20) == c'g'
            and (name[3] | 0x20) == c'r' and (name[4] | 0x20) == c'a' and (name[5] | 0x20) == c'd'
            and (name[6] | 0x20) == c'e')


cdef enum:
    VALUE_MALFORMED = 0
    VALUE_ASCII = 1              # the ticket is ASCII
    VALUE_UTF8 = 2               # the ticket is UTF-8 with bytes above 0x7F (a bare value)


cdef inline bint _octal(unsigned char c) noexcept nogil:
    return c'0' <= c <= c'7'


cdef int _decode_value(const unsigned char* v, Py_ssize_t n, unsigned char* out, Py_ssize_t* out_len,
                       bint* copied) noexcept nogil:
    """The ticket in a cookie value v[:n] (ticket_auth.guard._decode_cookie_value): a bare value
    is the ticket itself (no control character; UTF-8 when not ASCII; *copied False), a quoted
    one ("...", printable ASCII without '"', ',', ';' or '\\' but for the escapes \\ooo (at
    most 0o177), \\" and \\\\) is decoded into ``out``, which holds n bytes (*copied True)."""
    cdef Py_ssize_t i, j = 0, end, run
    cdef const unsigned char* hit
    cdef unsigned char c
    cdef unsigned int code
    cdef int high
    copied[0] = False
    if n == 0:
        return VALUE_MALFORMED
    if v[0] != c'"':
        high = ta_bare_class(v, n)
        if high < 0:
            return VALUE_MALFORMED
        out_len[0] = n
        if not high:
            return VALUE_ASCII
        return VALUE_UTF8 if ta_utf8_valid(v, n) else VALUE_MALFORMED
    if n < 2 or v[n - 1] != c'"':
        return VALUE_MALFORMED
    i = 1
    end = n - 1
    while i < end:                       # j <= i - 1 < end < n: out has room
        hit = <const unsigned char*>memchr(v + i, c'\\', <size_t>(end - i))
        run = (end if hit == NULL else hit - v) - i
        if not ta_quoted_text(v + i, run):
            return VALUE_MALFORMED
        memcpy(out + j, v + i, <size_t>run)
        i += run
        j += run
        if i == end:
            break
        # v[i] is a backslash: \\ooo, \\" or \\\\ (what http.cookies writes), nothing else.
        if end - i >= 4 and _octal(v[i + 1]) and _octal(v[i + 2]) and _octal(v[i + 3]):
            code = ((v[i + 1] - c'0') << 6) | ((v[i + 2] - c'0') << 3) | (v[i + 3] - c'0')
            if code > 0x7F:
                return VALUE_MALFORMED
            out[j] = <unsigned char>code
            i += 4
        elif end - i >= 2 and (v[i + 1] == c'"' or v[i + 1] == c'\\'):
            out[j] = v[i + 1]
            i += 2
        else:
            return VALUE_MALFORMED
        j += 1
    out_len[0] = j
    copied[0] = True
    return VALUE_ASCII


cdef bint _parse_address(const unsigned char* s, Py_ssize_t n, unsigned char* prefix) noexcept nogil:
    """An address in the strict forms iptext.pxi reads, as _ip_prefix writes it (version byte
    and packed address), an IPv4-mapped IPv6 address made IPv4 (as the guard does); False for
    anything else (which the Python rules then read)."""
    cdef int i
    if _parse_ipv4(s, n, prefix + 1):
        prefix[0] = 4
        return True
    if not _parse_ipv6(s, n, prefix + 1):
        return False
    prefix[0] = 6
    for i in range(10):
        if prefix[1 + i]:
            return True
    if prefix[11] == 0xFF and prefix[12] == 0xFF:
        prefix[0] = 4
        memcpy(prefix + 1, prefix + 13, 4)
    return True


cdef bint _in_network(const unsigned char* prefix, const Network* net) noexcept nogil:
    """The address of ``prefix`` lies in ``net`` (same version, the first prefixlen bits equal)."""
    cdef int bits = net.prefixlen, whole = bits // 8, rest = bits % 8
    if prefix[0] != net.version:
        return False
    if memcmp(prefix + 1, net.address, <size_t>whole) != 0:
        return False
    return rest == 0 or ((prefix[1 + whole] ^ net.address[whole]) & (0xFF << (8 - rest)) & 0xFF) == 0


@cython.auto_pickle(False)
@cython.final
cdef class GuardCore:
    """The per-request decision of a ``TicketGuard`` whose factory is exactly this core's
    ``TicketFactory`` or ``AuthTktFactory`` (not a subclass: a subclass may change
    ``validate``). Built by the guard from its configuration (``TicketGuard._core``) and
    rebuilt when that changes; never used directly. Immutable, so safe to share between
    threads.

    Raises:
        ValueError: a setting outside what the core reads exactly (a number of 2**50 or more);
            the guard then keeps to its Python rules.
    """

    cdef _Factory _factory
    cdef bint _authtkt
    cdef bytes _name                     # the cookie name, ASCII
    cdef Py_ssize_t _max_header
    cdef Py_ssize_t _max_length
    cdef double _lifetime
    cdef double _clock_skew
    cdef double _reissue_after           # < 0: never for age
    cdef long long _lifetime_int
    cdef bint _reissue_on_fallback
    cdef bint _bind_ip
    cdef Network* _networks              # the trusted proxies
    cdef Py_ssize_t _network_count
    cdef object _clock
    cdef object _mint                    # guard._mint(user_id, tokens, user_data, client_ip, now, factory)
    cdef object _client_text             # guard._client_text(peer, forwarded): the address as text
    cdef object _python                  # guard._identify_result(header, peer, forwarded, now)
    cdef type _identity_type
    cdef type _result_type
    cdef object _ok
    cdef object _zero
    cdef object _anonymous
    cdef tuple _refusals                 # one CheckResult per R_* reason
    cdef tuple _rules                    # guard._protect: (prefix, tokens) pairs, longest first

    # No __cinit__: Cython zeroes the C attributes (_networks is NULL) before __init__ runs, and
    # the argument-less __cinit__ wrapper Cython 3 generates computes NULL + 0 from the empty
    # vectorcall arguments (undefined behaviour: UBSan's pointer-overflow check stops the fuzzer
    # at the first GuardCore built).

    def __dealloc__(self):
        PyMem_Free(self._networks)

    def __init__(self, guard, factory, *, identity_type, result_type, anonymous, reasons, ok):
        cdef Py_ssize_t i
        cdef Network* net
        if self._factory is not None:
            raise TypeError("GuardCore.__init__ called twice")
        PyMem_Free(self._networks)           # what a failed earlier call left
        self._networks = NULL
        self._network_count = 0
        if type(factory) is TicketFactory:
            self._authtkt = False
        elif type(factory) is AuthTktFactory:
            self._authtkt = True
        else:
            raise TypeError("GuardCore needs this core's TicketFactory or AuthTktFactory")
        for tp in (identity_type, result_type):
            if not (isinstance(tp, type) and issubclass(tp, tuple) and (<type>tp).__basicsize__ == tuple.__basicsize__
                    and len((<type>tp)._fields) == 5):
                raise TypeError(f"{tp!r} is not a 5-field namedtuple")
        name = guard.cookie_name.encode("ascii")
        numbers = (guard.lifetime, guard.clock_skew)
        if guard.reissue_after is not None:
            numbers += (guard.reissue_after,)
        for number in numbers:
            if type(number) is not int or not 0 <= number < _EXACT:
                raise ValueError("a setting outside what the compiled decision reads exactly")
        max_header, max_length = guard.max_cookie_header, guard.max_cookie_length
        if type(max_header) is not int or type(max_length) is not int or max_header < 0 or max_length < 0:
            raise ValueError("the cookie limits must be ints >= 0")
        networks = tuple(guard.trusted_proxies)
        self._networks = <Network*>PyMem_Malloc(sizeof(Network) * max(1, len(networks)))
        if self._networks == NULL:
            raise MemoryError()
        for i in range(len(networks)):
            network = networks[i]
            packed = network.network_address.packed
            net = &self._networks[i]
            net.version = network.version
            net.prefixlen = network.prefixlen
            if net.version not in (4, 6) or len(packed) != (4 if net.version == 4 else 16):
                raise ValueError("trusted_proxies must be ipaddress networks")
            memcpy(net.address, PyBytes_AS_STRING(packed), len(packed))
        self._network_count = len(networks)
        self._name = name
        self._max_header = min(max_header, PY_SSIZE_T_MAX)
        self._max_length = min(max_length, PY_SSIZE_T_MAX)
        self._lifetime = guard.lifetime
        self._lifetime_int = guard.lifetime
        self._clock_skew = guard.clock_skew
        self._reissue_after = -1.0 if guard.reissue_after is None else guard.reissue_after
        self._reissue_on_fallback = bool(guard.reissue_on_fallback)
        self._bind_ip = bool(guard.bind_ip)
        self._clock = guard._clock
        self._mint = guard._mint
        self._client_text = guard._client_text
        self._python = guard._identify_result
        self._identity_type = identity_type
        self._result_type = result_type
        self._ok = ok
        self._zero = 0
        self._anonymous = anonymous
        self._refusals = tuple([ta_make_info(result_type, None, reasons[reason], None, 0, None)
                                for reason in _REASON_NAMES])
        rules = tuple(guard._protect)
        for rule in rules:
            if (type(rule) is not tuple or len(rule) != 2 or type(rule[0]) is not str or type(rule[1]) is not tuple
                    or not all(type(token) is str for token in rule[1])):
                raise TypeError("guard._protect must hold (str prefix, tuple of str tokens) pairs")
        self._rules = rules
        self._factory = factory

    # -- the entries: what each kind of server hands over ---------------------------------

    def check_text(self, header, peer, forwarded, now):
        """The decision for a Cookie header as a str of one character per byte (several lines
        joined with "; "; a WSGI ``HTTP_COOKIE``, or ``TicketGuard.check``'s argument).

        Args:
            header: the Cookie header, or None.
            peer: the connection's peer address (str), or None.
            forwarded: the forwarded header's value, or None.
            now: the time, or None for the guard's clock.

        Returns:
            A ``CheckResult`` with status 0 (the guard applies ``protect`` to it).
        """
        cdef Line line
        if header is None:
            return self._anonymous
        if type(header) is not str or PyUnicode_KIND(header) != PyUnicode_1BYTE_KIND:
            return self._python(header, peer, forwarded, now)
        line.n = PyUnicode_GET_LENGTH(header)
        if line.n == 0:
            return self._anonymous
        if line.n > self._max_header:
            return self._refusals[R_OVERSIZED]
        line.p = <const unsigned char*>PyUnicode_DATA(header)
        return self._decide(&line, 1, header, peer, forwarded, now)

    def check_lines(self, headers, client, forwarded):
        """The decision for an ASGI scope's ``headers`` (a list of (name, value) bytes pairs,
        names in lower case) and ``client``; None when the headers are not in that form (the
        adapter then reads them in Python).

        Args:
            headers: ``scope["headers"]``.
            client: ``scope.get("client")`` (read only with ``bind_ip``).
            forwarded: the forwarded header's value, or None.

        Returns:
            A ``CheckResult`` with status 0, or None.
        """
        if type(headers) is not list and type(headers) is not tuple:
            return None
        peer = None
        if self._bind_ip and client:
            peer = client[0]
            if type(peer) is not str:
                peer = str(peer)
        return self._lines(headers, False, peer, forwarded, False)

    def enter(self, scope, scope_key, guard_key, guard):
        """The ASGI middleware's shortest path, for a guard whose compiled decision reads the
        whole request (no forwarded header to read): for an HTTP scope whose request simply goes
        on (status 0, no reissued cookie, ``protect`` satisfied), a copy of the scope with the
        ``CheckResult`` under ``scope_key`` and ``guard`` under ``guard_key``, the scope to
        hand the application. Otherwise the ``CheckResult`` before ``protect`` (the middleware
        goes on with it), or None (not an HTTP scope of the usual form).

        ``protect`` is applied here only to a scope without ``root_path`` whose ``path`` is
        clean (starts with ``/``, no empty or dot segment): the one candidate path the Python
        adapter would match too. Any other scope comes back as the ``CheckResult``.

        Args:
            scope: the ASGI connection scope.
            scope_key: the key of the ``CheckResult``.
            guard_key: the key of the guard.
            guard: the ``TicketGuard``.

        Returns:
            A dict, a ``CheckResult`` or None.
        """
        if type(scope) is not dict:
            return None
        kind = (<dict>scope).get("type")
        if kind is not _HTTP and kind != _HTTP:
            return None
        result = self.check_scope(scope)
        if result is None or (<tuple>result)[2] is not None:
            return result
        if self._rules and not self._allowed(<dict>scope, <tuple>result):
            return result
        entered = (<dict>scope).copy()
        entered[scope_key] = result
        entered[guard_key] = guard
        return entered

    def check_scope(self, scope):
        """``check_lines`` for an ASGI scope: its ``headers`` and ``client``; None when the
        scope or its headers are not in the usual form (a dict; a list of bytes pairs).

        Args:
            scope: the ASGI connection scope.

        Returns:
            A ``CheckResult`` with status 0, or None.
        """
        if type(scope) is not dict:
            return None
        headers = (<dict>scope).get("headers", ())
        if type(headers) is not list and type(headers) is not tuple:
            return None
        peer = None
        if self._bind_ip:
            client = (<dict>scope).get("client")
            if client:
                peer = client[0]
                if type(peer) is not str:
                    peer = str(peer)
        return self._lines(headers, False, peer, None, False)

    def check_raw(self, raw_headers, peer, forwarded):
        """The decision for aiohttp's ``request.raw_headers`` (a tuple of (name, value) bytes
        pairs, names in any case); None when they are not in that form.

        Args:
            raw_headers: ``request.raw_headers``.
            peer: ``request.remote`` (read only with ``bind_ip``).
            forwarded: the forwarded header's value, or None.

        Returns:
            A ``CheckResult`` with status 0, or None.
        """
        if type(raw_headers) is not tuple and type(raw_headers) is not list:
            return None
        return self._lines(raw_headers, True, peer, forwarded, False)

    def check_plain_raw(self, raw_headers, peer):
        """``check_raw`` for the aiohttp middleware's shortest path (a guard whose compiled
        decision decides the whole request): None also when the request has an ``Upgrade``
        header (a websocket handshake, whose ``Origin`` the middleware checks first).

        Args:
            raw_headers: ``request.raw_headers``.
            peer: ``request.remote`` (read only with ``bind_ip``).

        Returns:
            A ``CheckResult`` with status 0, or None.
        """
        if type(raw_headers) is not tuple and type(raw_headers) is not list:
            return None
        return self._lines(raw_headers, True, peer, None, True)

    # -- protected paths ---------------------------------------------------------------------

    cdef bint _allowed(self, dict scope, tuple result) except -1:
        """True when ``protect`` lets the request go on: its path is clean and the scope has no
        root_path (else False: the adapter decides), and the path is not protected, or the
        identity holds every token the longest matching prefix asks for
        (TicketGuard.required_tokens and _decide)."""
        cdef Py_ssize_t n, k
        path = scope.get("path", "/")
        if type(path) is not str or scope.get("root_path"):
            return False
        n = PyUnicode_GET_LENGTH(<str>path)
        if n == 0 or PyUnicode_READ_CHAR(path, 0) != 0x2F or "//" in <str>path or "/." in <str>path:
            return False
        for prefix, tokens in self._rules:
            k = PyUnicode_GET_LENGTH(<str>prefix)
            if not (<str>path).startswith(<str>prefix):
                continue
            if not (k == n or PyUnicode_READ_CHAR(path, k) == 0x2F or (k == 1 and PyUnicode_READ_CHAR(prefix, 0) == 0x2F)):
                continue
            identity = result[0]
            if identity is None:
                return False
            held = (<tuple>identity)[1]
            for token in <tuple>tokens:
                if token not in held:
                    return False
            return True
        return True

    # -- the decision ----------------------------------------------------------------------

    cdef object _lines(self, object headers, bint any_case, object peer, object forwarded, bint no_upgrade):
        """The Cookie lines of a header list, each held (a strong reference) while read;
        None for a list not of bytes pairs, or (``no_upgrade``) with an ``Upgrade`` header."""
        cdef Line lines[MAX_LINES]
        cdef PyObject* held[MAX_LINES]
        cdef Py_ssize_t count = 0, total = -2, i
        cdef const unsigned char* name
        cdef bint oversized = False
        try:                             # held[:count] is set; nothing else is read
            for item in headers:
                if type(item) is not tuple or PyTuple_GET_SIZE(item) != 2:
                    return None
                key = <object>PyTuple_GET_ITEM(item, 0)
                value = <object>PyTuple_GET_ITEM(item, 1)
                if type(key) is not bytes or type(value) is not bytes:
                    return None
                name = <const unsigned char*>PyBytes_AS_STRING(key)
                if PyBytes_GET_SIZE(key) != 6:
                    if no_upgrade and PyBytes_GET_SIZE(key) == 7 and _is_upgrade(name):
                        return None
                    continue
                if any_case:
                    if not ((name[0] | 0x20) == c'c' and (name[1] | 0x20) == c'o' and (name[2] | 0x20) == c'o'
                            and (name[3] | 0x20) == c'k' and (name[4] | 0x20) == c'i' and (name[5] | 0x20) == c'e'):
                        continue
                elif memcmp(name, b"cookie", 6) != 0:
                    continue
                if oversized:                # only an Upgrade header can change the answer now
                    continue
                if count == MAX_LINES:
                    return None          # the Python rules read this many lines
                Py_INCREF(value)
                held[count] = <PyObject*>value
                lines[count].p = <const unsigned char*>PyBytes_AS_STRING(value)
                lines[count].n = PyBytes_GET_SIZE(value)
                total += lines[count].n + 2
                count += 1
                if total > self._max_header:
                    if not no_upgrade:
                        return self._refusals[R_OVERSIZED]
                    oversized = True     # refused, once no Upgrade header follows
            if oversized:
                return self._refusals[R_OVERSIZED]
            if count == 0 or total <= 0:     # no line, or one empty line: no cookie
                return self._anonymous
            return self._decide(lines, count, None, peer, forwarded, None)
        finally:
            for i in range(count):
                Py_DECREF(<object>held[i])

    cdef object _joined(self, const Line* lines, Py_ssize_t count):
        """The lines joined with "; " as Latin-1 text (for the Python rules)."""
        parts = [PyBytes_FromStringAndSize(<const char*>lines[i].p, lines[i].n) for i in range(count)]
        return b"; ".join(parts).decode("latin-1")

    cdef object _decide(self, const Line* lines, Py_ssize_t count, object header, object peer, object forwarded,
                        object now):
        """TicketGuard._identify_result for a non-empty header of at most max_cookie_header
        bytes, held by the caller."""
        cdef Py_ssize_t which = 0, start = 0, end = 0, n = 0, prefix_len = 5
        cdef int found, kind, address
        cdef bint copied = False
        cdef double t
        cdef const unsigned char* v
        cdef unsigned char stack[STACK_BUFFER]
        cdef unsigned char* buf = stack
        cdef unsigned char prefix[MAX_PREFIX]
        if now is None:
            now = self._clock()
        if type(now) is float:
            t = PyFloat_AS_DOUBLE(now)
        elif type(now) is int and -_EXACT < now < _EXACT:
            t = <double><long long>now
        else:                                # a clock the Python rules compare exactly
            return self._python(header if header is not None else self._joined(lines, count), peer, forwarded, now)
        found = _find_cookie(lines, count, <const unsigned char*>PyBytes_AS_STRING(self._name),
                             PyBytes_GET_SIZE(self._name), &which, &start, &end)
        if found == 0:
            return self._refusals[R_NO_COOKIE]
        if found > 1:
            return self._refusals[R_DUPLICATE]
        v = lines[which].p + start
        n = end - start
        if n > self._max_length:
            return self._refusals[R_OVERSIZED]
        if n > STACK_BUFFER:
            buf = <unsigned char*>PyMem_Malloc(<size_t>n)
            if buf == NULL:
                raise MemoryError()
        try:
            kind = _decode_value(v, n, buf, &n, &copied)
            if kind == VALUE_MALFORMED:
                return self._refusals[R_MALFORMED_COOKIE]
            if copied:
                v = buf
            prefix[0] = 4                # no client address: the unbound ticket's 0.0.0.0
            prefix[1] = prefix[2] = prefix[3] = prefix[4] = 0
            if self._bind_ip:
                address = self._client_prefix(peer, forwarded, prefix)
                if address == ADDRESS_ASK_PYTHON:
                    text = self._client_text(peer, forwarded)
                    if text is None:
                        return self._refusals[R_BAD_CLIENT_ADDRESS]
                    try:
                        prefix_len = _ip_prefix(text, prefix)
                    except ValueError:
                        return self._refusals[R_BAD_CLIENT_ADDRESS]
                elif address == ADDRESS_UNKNOWN:
                    return self._refusals[R_BAD_CLIENT_ADDRESS]
                else:
                    prefix_len = 5 if prefix[0] == 4 else MAX_PREFIX
            if self._authtkt:
                return self._authtkt_result(v, n, kind, prefix, prefix_len, peer, forwarded, now, t)
            return self._ticket_result(v, n, kind, prefix, prefix_len, peer, forwarded, now, t)
        finally:
            if buf != stack:
                PyMem_Free(buf)

    cdef int _client_prefix(self, object peer, object forwarded, unsigned char* prefix) except -1:
        """The client address (TicketGuard._client_text) as _ip_prefix writes it: ADDRESS_OK,
        ADDRESS_UNKNOWN (no peer), or ADDRESS_ASK_PYTHON for a form only ipaddress reads."""
        cdef unsigned char hop[MAX_PREFIX]
        cdef const unsigned char* s
        cdef Py_ssize_t n, end, begin, a, b
        if peer is None or (type(peer) is str and PyUnicode_GET_LENGTH(peer) == 0):
            return ADDRESS_UNKNOWN
        if type(peer) is not str or not PyUnicode_IS_ASCII(peer):
            return ADDRESS_ASK_PYTHON
        if not _parse_address(<const unsigned char*>PyUnicode_DATA(peer), PyUnicode_GET_LENGTH(peer), prefix):
            return ADDRESS_ASK_PYTHON
        if self._network_count == 0 or forwarded is None or not self._trusted(prefix):
            return ADDRESS_OK
        if type(forwarded) is not str or not PyUnicode_IS_ASCII(forwarded):
            return ADDRESS_ASK_PYTHON
        n = PyUnicode_GET_LENGTH(forwarded)
        if n == 0:
            return ADDRESS_OK
        s = <const unsigned char*>PyUnicode_DATA(forwarded)
        end = n
        while True:                      # the hops from the right: s[begin:end], 0 <= begin <= end <= n
            begin = end
            while begin > 0 and s[begin - 1] != c',':
                begin -= 1
            a, b = begin, end
            while a < b and _blank(s[a]):
                a += 1
            while b > a and _blank(s[b - 1]):
                b -= 1
            if not _parse_address(s + a, b - a, hop):
                return ADDRESS_ASK_PYTHON
            memcpy(prefix, hop, 5 if hop[0] == 4 else MAX_PREFIX)   # what _parse_address wrote
            if not self._trusted(prefix) or begin == 0:
                return ADDRESS_OK
            end = begin - 1              # the ',' before this hop

    cdef bint _trusted(self, const unsigned char* prefix) noexcept:
        cdef Py_ssize_t i
        for i in range(self._network_count):
            if _in_network(prefix, &self._networks[i]):
                return True
        return False

    cdef object _ticket_result(self, const unsigned char* v, Py_ssize_t n, int kind, const unsigned char* prefix,
                               Py_ssize_t prefix_len, object peer, object forwarded, object now, double t):
        """A 0.1.4-format ticket v[:n]: TicketFactory.validate's checks, then the guard's."""
        cdef Parsed parsed
        cdef Py_ssize_t matched, rest
        cdef TicketFactory factory = <TicketFactory>self._factory
        cdef long long issued
        if kind != VALUE_ASCII or factory._secrets is None or 0 <= factory._max_length < n:
            return self._refusals[R_MALFORMED_TICKET]
        if _scan(v, n, factory._digest_size, &parsed) != OK:
            return self._refusals[R_MALFORMED_TICKET]
        rest = parsed.rest
        try:
            matched = _match_secret(&factory._evp, factory._hash, factory._digest_size, factory._secrets, prefix,
                                    prefix_len, parsed.valid_until, v + rest, n - rest, parsed.bang1 - rest,
                                    parsed.bang2 - rest, False, parsed.digest)
        except TicketError:
            return self._refusals[R_MALFORMED_TICKET]
        except ValueError:               # as the Python rules read a ValueError from validate
            return self._refusals[R_BAD_CLIENT_ADDRESS]
        except Exception:
            return self._refusals[R_MALFORMED_TICKET]
        if matched < 0:
            return self._refusals[R_BAD_DIGEST]
        if <double>parsed.valid_until <= t:
            return self._refusals[R_EXPIRED]
        issued = <long long>parsed.valid_until - self._lifetime_int
        if <double>issued - t > self._clock_skew:
            return self._refusals[R_FUTURE]
        user_id = _unquote(None, v, rest, parsed.bang1, parsed.uid_kind)
        tokens = _split_tokens(None, v, parsed.bang1 + 1, parsed.bang2, parsed.tokens_kind)
        user_data = _unquote(None, v, parsed.bang2 + 1, n, parsed.data_kind)
        return self._accepted(user_id, tokens, user_data, issued, t, matched > 0, peer, forwarded, now)

    cdef object _authtkt_result(self, const unsigned char* v, Py_ssize_t n, int kind, const unsigned char* prefix,
                                Py_ssize_t prefix_len, object peer, object forwarded, object now, double t):
        """A mod_auth_tkt cookie value v[:n]: AuthTktFactory.validate's checks, then the guard's."""
        cdef AuthTktParsed parsed
        cdef AuthTktFactory factory = <AuthTktFactory>self._factory
        cdef Py_ssize_t matched, data_start, size
        cdef const unsigned char* p
        cookie = (PyUnicode_DecodeASCII(<const char*>v, n, NULL) if kind == VALUE_ASCII
                  else PyUnicode_DecodeUTF8(<const char*>v, n, NULL))
        try:
            ticket = factory._ticket(cookie, &parsed)
        except TicketError:
            return self._refusals[R_MALFORMED_TICKET]
        except ValueError:               # as the Python rules read a ValueError from validate
            return self._refusals[R_BAD_CLIENT_ADDRESS]
        except Exception:
            return self._refusals[R_MALFORMED_TICKET]
        if prefix_len != 5:              # mod_auth_tkt binds IPv4 only
            return self._refusals[R_BAD_CLIENT_ADDRESS]
        try:
            matched = factory._match(ticket, &parsed, prefix + 1)
        except TicketError:
            return self._refusals[R_MALFORMED_TICKET]
        except ValueError:               # as the Python rules read a ValueError from validate
            return self._refusals[R_BAD_CLIENT_ADDRESS]
        except Exception:
            return self._refusals[R_MALFORMED_TICKET]
        if matched < 0:
            return self._refusals[R_BAD_DIGEST]
        try:
            if factory._timed_out(parsed.timestamp, now):
                return self._refusals[R_EXPIRED]
        except TicketError:
            return self._refusals[R_MALFORMED_TICKET]
        except ValueError:               # as the Python rules read a ValueError from validate
            return self._refusals[R_BAD_CLIENT_ADDRESS]
        except Exception:
            return self._refusals[R_MALFORMED_TICKET]
        if t - <double>parsed.timestamp >= self._lifetime:
            return self._refusals[R_EXPIRED]
        if <double>parsed.timestamp - t > self._clock_skew:
            return self._refusals[R_FUTURE]
        p = <const unsigned char*>PyBytes_AS_STRING(ticket)
        size = PyBytes_GET_SIZE(ticket)
        data_start = parsed.first + 1 if parsed.second < 0 else parsed.second + 1
        user_id = _field_text(None, p, parsed.rest, parsed.first, UTF8_BYTES)
        tokens = _split_tokens(None, p, parsed.first + 1, parsed.second, UTF8_BYTES)
        user_data = _field_text(None, p, data_start, size, UTF8_BYTES)
        return self._accepted(user_id, tokens, user_data, parsed.timestamp, t, matched > 0, peer, forwarded, now)

    cdef object _accepted(self, object user_id, object tokens, object user_data, long long issued, double t,
                          bint fallback, object peer, object forwarded, object now):
        """The CheckResult of an accepted ticket, with the reissued cookie when one is due."""
        identity = ta_make_info(self._identity_type, user_id, tokens, user_data, issued, fallback)
        set_cookie = None
        if (fallback and self._reissue_on_fallback) or (
                self._reissue_after >= 0 and t - <double>issued >= self._reissue_after):
            client = self._client_text(peer, forwarded) if self._bind_ip else None
            try:
                # minted by the factory that validated the ticket (not one assigned meanwhile)
                set_cookie = self._mint(user_id, tokens, user_data, client, now, self._factory)
            except (ValueError, TypeError):
                set_cookie = None        # fields this factory cannot mint: keep the ticket as it is
        return ta_make_info(self._result_type, identity, self._ok, set_cookie, self._zero, None)
