# The structure check of a 0.1.4-format ticket (ticket_auth._ticket_format lists the checks
# in order): hex header, the two '!', canonical quoted fields, UTF-8 once unquoted.
# Included by _ticketcore.pyx; the byte tables and UTF-8 checks are in scan.h and utf8.h.

cdef enum:
    BAD = -1                 # the kind of a field: not in canonical quoted form,
    PLAIN = 0                # in canonical form without any %XX escape,
    ESCAPED = 1              # in canonical form with escapes.


cdef struct Parsed:
    int uid_kind             # PLAIN or ESCAPED, for UID, TOKENS and DATA
    int tokens_kind
    int data_kind
    Py_ssize_t rest          # index of the first UID character
    Py_ssize_t bang1         # index of the '!' after UID
    Py_ssize_t bang2         # index of the '!' after TOKENS
    unsigned long valid_until
    unsigned char digest[MAX_DIGEST_SIZE]


cdef inline unsigned int _hex_value(unsigned char c) noexcept nogil:
    # For a character already known to be a hex digit of either case:
    # '0'..'9' -> 0..9, 'a'..'f' and 'A'..'F' -> 10..15.
    return (c & 0x0F) + 9 * ((c >> 6) & 1)


cdef inline int _field_kind(const unsigned char* p, Py_ssize_t i, Py_ssize_t end, bint commas) noexcept nogil:
    """BAD when p[i:end] is not in canonical quoted form (commas allowed between tokens),
    else PLAIN (no escapes) or ESCAPED."""
    cdef unsigned char c
    cdef unsigned int byte
    cdef int kind = PLAIN
    while i < end:                       # 0 <= i < end <= len(ticket)
        i += ta_safe_prefix(p + i, end - i)   # a run of safe characters: i <= end
        if i == end:
            break
        c = p[i]
        if ta_class[c] & SAFE or (commas and c == c','):
            i += 1
            continue
        if c != c'%' or end - i < 3:     # an escape needs p[i+1] and p[i+2]: i + 2 < end
            return BAD
        if not (ta_class[p[i + 1]] & ta_class[p[i + 2]] & UPPER_HEX):
            return BAD
        byte = (_hex_value(p[i + 1]) << 4) | _hex_value(p[i + 2])   # < 256
        if ta_class[byte] & SAFE:        # quote never escapes a safe character
            return BAD
        kind = ESCAPED
        i += 3
    return kind


cdef int _scan(const unsigned char* p, Py_ssize_t n, Py_ssize_t digest_size, Parsed* out) noexcept nogil:
    """Check an ASCII ticket's structure; fill ``out``; return OK or the first error."""
    cdef Py_ssize_t start, end
    cdef const unsigned char* bang
    cdef const unsigned char* comma
    cdef int header
    if n < 2 * digest_size + 8:
        return E_TOO_SHORT
    # The header is in range; digest_size <= MAX_DIGEST_SIZE.
    header = ta_read_header(p, digest_size, out.digest, &out.valid_until)
    if header == TA_HEADER_BAD_DIGEST:
        return E_BAD_DIGEST
    if header == TA_HEADER_BAD_TIME:
        return E_BAD_TIME
    out.rest = 2 * digest_size + 8
    # memchr is given exactly the bytes between its start and n.
    bang = <const unsigned char*>memchr(p + out.rest, c'!', <size_t>(n - out.rest))
    if bang == NULL:
        return E_MISSING_PARTS
    out.bang1 = bang - p
    bang = <const unsigned char*>memchr(p + out.bang1 + 1, c'!', <size_t>(n - out.bang1 - 1))
    if bang == NULL:
        return E_MISSING_PARTS
    out.bang2 = bang - p
    if memchr(p + out.bang2 + 1, c'!', <size_t>(n - out.bang2 - 1)) != NULL:
        return E_TOO_MANY_PARTS
    out.uid_kind = _field_kind(p, out.rest, out.bang1, False)
    if out.uid_kind == BAD:
        return E_BAD_UID
    out.tokens_kind = _field_kind(p, out.bang1 + 1, out.bang2, True)
    if out.tokens_kind == BAD:
        return E_BAD_TOKENS
    out.data_kind = _field_kind(p, out.bang2 + 1, n, False)
    if out.data_kind == BAD:
        return E_BAD_DATA
    # Escapes must decode to UTF-8, each token on its own (',' is never inside an escape).
    if out.uid_kind == ESCAPED and not ta_quoted_utf8_valid(p, out.rest, out.bang1):
        return E_UID_NOT_UTF8
    if out.tokens_kind == ESCAPED:
        start = out.bang1 + 1
        while True:
            comma = <const unsigned char*>memchr(p + start, c',', <size_t>(out.bang2 - start))
            end = out.bang2 if comma == NULL else comma - p
            if not ta_quoted_utf8_valid(p, start, end):
                return E_TOKEN_NOT_UTF8
            if comma == NULL:
                break
            start = end + 1
    if out.data_kind == ESCAPED and not ta_quoted_utf8_valid(p, out.bang2 + 1, n):
        return E_DATA_NOT_UTF8
    return OK
