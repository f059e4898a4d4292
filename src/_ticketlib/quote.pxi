# Quoting of the 0.1.4 format: urllib.parse.quote into a growable buffer (new) and the
# unquoting of a field that _scan accepted (validate, parse). Included by _ticketcore.pyx.


cdef bytes _held_bytes(object value):
    """The bytes a bytes or bytearray (or a subclass of either) holds, read from its buffer:
    never through a subclass's __bytes__ or __iter__, so both cores read the same bytes. A
    bytearray is copied, so another thread cannot resize it under us."""
    if type(value) is bytes:
        return <bytes>value
    if isinstance(value, bytes):
        return PyBytes_FromStringAndSize(PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value))
    return PyBytes_FromStringAndSize(PyByteArray_AS_STRING(value), PyByteArray_GET_SIZE(value))


cdef struct Buffer:
    unsigned char* data
    Py_ssize_t length
    Py_ssize_t capacity
    bint on_heap


cdef object _unquote(str text, const unsigned char* p, Py_ssize_t start, Py_ssize_t end, int kind):
    """The text of a field p[start:end] that _scan accepted (canonical, UTF-8 once unquoted).
    ``text`` is the ticket's str, whose characters p holds, or None when p is a plain byte
    buffer (the guard's decoded cookie value): a field without escapes is then read from p."""
    cdef Py_ssize_t i, j = 0
    cdef unsigned char stack[STACK_BUFFER]
    cdef unsigned char* buf = stack
    if kind == PLAIN or memchr(p + start, c'%', <size_t>(end - start)) == NULL:
        if text is None:
            return PyUnicode_DecodeASCII(<const char*>p + start, end - start, NULL)   # _scan: ASCII
        return PyUnicode_Substring(text, start, end)
    if end - start > STACK_BUFFER:
        buf = <unsigned char*>PyMem_Malloc(<size_t>(end - start))
        if buf == NULL:
            raise MemoryError()
    try:
        i = start
        while i < end:                   # j <= i - start < end - start: within buf
            if p[i] == c'%':             # canonical: i + 2 < end
                buf[j] = <unsigned char>((_hex_value(p[i + 1]) << 4) | _hex_value(p[i + 2]))
                i += 3
            else:
                buf[j] = p[i]
                i += 1
            j += 1
        return PyUnicode_DecodeUTF8(<const char*>buf, j, NULL)   # _scan checked it is UTF-8
    finally:
        if buf != stack:
            PyMem_Free(buf)


cdef inline void _buffer_init(Buffer* buf, unsigned char* stack, Py_ssize_t size) noexcept:
    buf.data = stack
    buf.length = 0
    buf.capacity = size
    buf.on_heap = False


cdef int _buffer_reserve(Buffer* buf, Py_ssize_t extra) except -1:
    cdef Py_ssize_t wanted
    cdef unsigned char* grown
    if extra <= buf.capacity - buf.length:
        return 0
    if extra > PY_SSIZE_T_MAX // 2 - buf.length:
        raise MemoryError()
    wanted = max(2 * buf.capacity, buf.length + extra)
    if buf.on_heap:
        grown = <unsigned char*>PyMem_Realloc(buf.data, <size_t>wanted)
    else:
        grown = <unsigned char*>PyMem_Malloc(<size_t>wanted)
        if grown != NULL:
            memcpy(grown, buf.data, <size_t>buf.length)
    if grown == NULL:
        raise MemoryError()
    buf.data = grown
    buf.capacity = wanted
    buf.on_heap = True
    return 0


cdef inline void _buffer_free(Buffer* buf) noexcept:
    if buf.on_heap:
        PyMem_Free(buf.data)
        buf.on_heap = False


cdef int _append_byte(Buffer* buf, unsigned char c) except -1:
    _buffer_reserve(buf, 1)
    buf.data[buf.length] = c             # reserve made length < capacity
    buf.length += 1
    return 0


cdef int _quote_into(Buffer* buf, object value, str type_error) except -1:
    """Append urllib.parse.quote(value) for a str, bytes or bytearray value."""
    cdef const unsigned char* src
    cdef Py_ssize_t n, i, run, unsafe = 0
    cdef unsigned char c
    cdef unsigned char* out
    cdef object keep = value             # keeps the buffer we read alive
    if isinstance(value, str):
        src = <const unsigned char*>PyUnicode_AsUTF8AndSize(value, &n)   # UnicodeEncodeError as quote
    elif isinstance(value, bytes):
        src = <const unsigned char*>PyBytes_AS_STRING(value)
        n = PyBytes_GET_SIZE(value)
    elif isinstance(value, bytearray):
        keep = _held_bytes(value)        # a private copy: no one can resize it under us
        src = <const unsigned char*>PyBytes_AS_STRING(keep)
        n = PyBytes_GET_SIZE(keep)
    else:
        raise TypeError(type_error.format(type(value).__name__))
    i = 0
    while i < n:                         # count the bytes quote escapes
        i += ta_safe_prefix(src + i, n - i)
        if i < n:
            unsafe += 1
            i += 1
    if unsafe > (PY_SSIZE_T_MAX // 2 - n) // 2:
        raise MemoryError()
    _buffer_reserve(buf, n + 2 * unsafe)
    out = buf.data + buf.length          # room for exactly n + 2 * unsafe bytes
    i = 0
    while i < n:                         # runs of safe bytes copied, the others escaped
        run = ta_safe_prefix(src + i, n - i)
        memcpy(out, src + i, <size_t>run)
        out += run
        i += run
        if i < n:
            c = src[i]
            out[0] = c'%'
            out[1] = ta_hex_upper[c >> 4]
            out[2] = ta_hex_upper[c & 0x0F]
            out += 3
            i += 1
    buf.length += n + 2 * unsafe
    return 0
