# Client addresses as text: strict IPv4 and plain IPv6 parsed in C, anything else handed to
# ipaddress (ticket_auth._arguments.ip_prefix). Included by _ticketcore.pyx.


cdef bint _parse_ipv4(const unsigned char* s, Py_ssize_t n, unsigned char* out) noexcept nogil:
    """Strict dotted-quad IPv4 (1-3 ASCII digits per octet, no leading zero, <= 255): the
    exact form ipaddress accepts. Anything else returns False and goes to ipaddress."""
    cdef Py_ssize_t i = 0, start
    cdef unsigned int value
    cdef int octet
    for octet in range(4):
        if octet:
            if i >= n or s[i] != c'.':
                return False
            i += 1
        start = i
        value = 0
        while i < n and i - start < 3 and c'0' <= s[i] <= c'9':
            value = value * 10 + (s[i] - c'0')
            i += 1
        if i == start or (i - start > 1 and s[start] == c'0') or value > 255:
            return False
        out[octet] = <unsigned char>value
    return i == n


cdef bint _parse_ipv6(const unsigned char* s, Py_ssize_t n, unsigned char* out) noexcept nogil:
    """IPv6 text made only of hex digits and ':' (no scope, no embedded IPv4), following
    ipaddress.IPv6Address's own rules step by step; anything else (or any doubt) returns
    False and goes to ipaddress."""
    cdef unsigned int parts[9]
    cdef Py_ssize_t lengths[9]
    cdef int count = 0, i, skip = -1, hi, lo, k, j
    cdef Py_ssize_t pos = 0, start
    cdef unsigned int value
    if n < 2 or n > 39:
        return False
    while True:                          # split on ':' into at most 9 parts of <= 4 hex digits
        if count == 9:
            return False
        start = pos
        value = 0
        while pos < n and s[pos] != c':':
            if pos - start == 4 or not (ta_class[s[pos]] & (UPPER_HEX | LOWER_HEX)):
                return False
            value = (value << 4) | _hex_value(s[pos])
            pos += 1
        parts[count] = value
        lengths[count] = pos - start
        count += 1
        if pos == n:
            break
        pos += 1                         # the ':'
    if count < 3:
        return False
    for i in range(1, count - 1):        # '::' in the middle: at most one empty inner part
        if lengths[i] == 0:
            if skip >= 0:
                return False
            skip = i
    if skip >= 0:
        hi = skip
        lo = count - skip - 1
        if lengths[0] == 0:
            hi -= 1
            if hi:
                return False
        if lengths[count - 1] == 0:
            lo -= 1
            if lo:
                return False
        if 8 - (hi + lo) < 1:
            return False
    else:
        if count != 8 or lengths[0] == 0 or lengths[count - 1] == 0:
            return False
        hi = 8
        lo = 0
    # hi leading parts, zeros, lo trailing parts (the parts themselves are 0 <= value < 2**16).
    k = 0
    for i in range(hi):
        out[2 * k] = <unsigned char>(parts[i] >> 8)
        out[2 * k + 1] = <unsigned char>parts[i]
        k += 1
    while k < 8 - lo:
        out[2 * k] = 0
        out[2 * k + 1] = 0
        k += 1
    for j in range(count - lo, count):
        out[2 * k] = <unsigned char>(parts[j] >> 8)
        out[2 * k + 1] = <unsigned char>parts[j]
        k += 1
    return True


cdef Py_ssize_t _ip_prefix(object client_ip, unsigned char* out) except -1:
    """Write bytes([version]) + packed address into out (MAX_PREFIX bytes); return its length."""
    cdef Py_ssize_t n
    cdef const unsigned char* text
    if client_ip is None:
        out[0] = 4
        out[1] = out[2] = out[3] = out[4] = 0
        return 5
    if type(client_ip) is str and PyUnicode_IS_ASCII(client_ip):
        text = <const unsigned char*>PyUnicode_DATA(client_ip)
        n = PyUnicode_GET_LENGTH(client_ip)
        if _parse_ipv4(text, n, out + 1):
            out[0] = 4
            return 5
        if _parse_ipv6(text, n, out + 1):
            out[0] = 6
            return MAX_PREFIX
    prefix = ip_prefix(client_ip)        # the shared ipaddress path: ValueError when bad
    n = len(prefix)
    if not isinstance(prefix, bytes) or (n != 5 and n != MAX_PREFIX):
        raise RuntimeError("unexpected address prefix")
    memcpy(out, PyBytes_AS_STRING(prefix), <size_t>n)
    return n
