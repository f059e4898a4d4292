# The digest computation of the compiled core: the nested hash with the secret in the
# middle (ticket_auth._arguments describes it) and the constant-time search over the
# secrets. Included by _ticketcore.pyx; the comparison itself is ta_equal_ct (compare.h).


cdef bytes _inner_input(const unsigned char* prefix, Py_ssize_t prefix_len, unsigned long timestamp,
                        bytes secret, const unsigned char* fields, Py_ssize_t fields_len,
                        Py_ssize_t bang1, Py_ssize_t bang2):
    """prefix + timestamp (4 bytes, big-endian) + secret + fields, where fields[bang1] and
    fields[bang2] (the '!' separators) become NUL; a negative bang is left alone."""
    cdef Py_ssize_t secret_len = PyBytes_GET_SIZE(secret)
    cdef Py_ssize_t head = prefix_len + 4 + secret_len
    cdef unsigned char* d
    if fields_len > PY_SSIZE_T_MAX - head:
        raise MemoryError()
    result = PyBytes_FromStringAndSize(NULL, head + fields_len)
    d = <unsigned char*>PyBytes_AS_STRING(result)
    memcpy(d, prefix, <size_t>prefix_len)
    d[prefix_len] = <unsigned char>(timestamp >> 24)
    d[prefix_len + 1] = <unsigned char>(timestamp >> 16)
    d[prefix_len + 2] = <unsigned char>(timestamp >> 8)
    d[prefix_len + 3] = <unsigned char>timestamp
    memcpy(d + prefix_len + 4, PyBytes_AS_STRING(secret), <size_t>secret_len)
    memcpy(d + head, fields, <size_t>fields_len)
    if bang1 >= 0:                       # 0 <= bang1 < bang2 < fields_len
        d[head + bang1] = 0
        d[head + bang2] = 0
    return result


cdef bytes _checked_digest(object hash_object, Py_ssize_t digest_size):
    digest = hash_object.digest()
    if type(digest) is not bytes or PyBytes_GET_SIZE(digest) != digest_size:
        raise RuntimeError("hash returned a digest of unexpected size")
    return digest


cdef bytes _nested_digest(object constructor, Py_ssize_t digest_size, bytes inner_input, bytes secret,
                          bint hex_inner):
    """H(inner + secret).digest() where inner = H(inner_input).digest() (ticket_auth) or its
    lowercase hex text (mod_auth_tkt)."""
    cdef Py_ssize_t secret_len = PyBytes_GET_SIZE(secret)
    cdef Py_ssize_t inner_len = 2 * digest_size if hex_inner else digest_size
    cdef const unsigned char* raw
    cdef unsigned char* d
    cdef Py_ssize_t i
    inner = _checked_digest(constructor(inner_input), digest_size)
    raw = <const unsigned char*>PyBytes_AS_STRING(inner)
    outer_input = PyBytes_FromStringAndSize(NULL, inner_len + secret_len)
    d = <unsigned char*>PyBytes_AS_STRING(outer_input)
    if hex_inner:
        for i in range(digest_size):     # 2 * i + 1 < inner_len
            d[2 * i] = ta_hex_lower[raw[i] >> 4]
            d[2 * i + 1] = ta_hex_lower[raw[i] & 0x0F]
    else:
        memcpy(d, raw, <size_t>digest_size)
    memcpy(d + inner_len, PyBytes_AS_STRING(secret), <size_t>secret_len)
    return _checked_digest(constructor(outer_input), digest_size)


cdef Py_ssize_t _match_secret(const ta_evp* evp, object constructor, Py_ssize_t digest_size, tuple secrets,
                              const unsigned char* prefix, Py_ssize_t prefix_len, unsigned long timestamp,
                              const unsigned char* fields, Py_ssize_t fields_len,
                              Py_ssize_t bang1, Py_ssize_t bang2, bint hex_inner,
                              const unsigned char* digest) except -2:
    """Index of the first secret whose digest equals ``digest`` (compared in constant time),
    or -1: then every secret has cost exactly one digest, whichever it was. The digests go
    through the factory's hash path (``_digest_into``, hashing.pxi)."""
    cdef unsigned char expected[MAX_DIGEST_SIZE]
    cdef Py_ssize_t index
    for index in range(len(secrets)):
        _digest_into(evp, constructor, digest_size, prefix, prefix_len, timestamp, <bytes>secrets[index],
                     fields, fields_len, bang1, bang2, hex_inner, expected)
        if ta_equal_ct(expected, digest, <size_t>digest_size):   # digest_size <= MAX_DIGEST_SIZE
            return index
    return -1
