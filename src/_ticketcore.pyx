# cython: language_level=3
# cython: freethreading_compatible=True
# cython: embedsignature=True
"""The compiled core: ``TicketFactory`` (the ticket_auth 0.1.4 format) and ``AuthTktFactory``
(Apache mod_auth_tkt) with parsing, digest input assembly, quoting, hex, base64 and
constant-time comparison in C. Hashing calls OpenSSL's EVP functions directly where hashlib
itself uses OpenSSL, and hashlib otherwise (``hashing.pxi``, ``evp.h``).

It behaves exactly like the pure core, ``ticket_auth._ticketcore_py`` (same results, errors
and messages; the shared test suite runs against both). What each format accepts, and the
order of the checks, is written in ``ticket_auth._ticket_format`` and
``ticket_auth._authtkt_format``; the argument checks both formats share are in
``ticket_auth._arguments``. Those Python modules are used by both cores.

This file is the entry of the extension; its parts are in ``src/_ticketlib/``, one file per
idea, included below in this order:

* C headers (declared below): ``scan.h`` (byte classes, hex tables, the quote-safe run,
  the DIGEST TIME header), ``utf8.h`` (strict UTF-8, plain or through %XX escapes),
  ``base64.h`` (mod_auth_tkt cookie values), ``compare.h`` (constant-time comparison, a
  word at a time), ``evp.h`` (OpenSSL's digest functions, found at run time),
  ``objects.h`` (TicketInfo and the exceptions built without a Python frame);
* Cython includes: ``errors.pxi`` (scan outcomes paired with their messages; the
  exceptions), ``scan.pxi`` (structure of a 0.1.4 ticket), ``quote.pxi`` (quoting and
  unquoting), ``iptext.pxi`` (client addresses), ``hashing.pxi`` (the per-factory hash path: OpenSSL
  or hashlib), ``digest.pxi`` (the nested hash through hashlib and the constant-time search
  over the secrets), ``factory.pxi`` (``_Factory``, the base both
  factories share: configuration, refusals, repr, time argument, token splitting),
  ``ticket.pxi`` (``TicketFactory``), ``authtkt.pxi`` (``AuthTktFactory``), ``guard.pxi``
  (``GuardCore``: ``ticket_auth.guard``'s per-request decision in one call).

Safety notes for reviewers:

* Every pointer access below is into a buffer whose length is checked on the line above
  or is a loop bound; each such place says why the index is in range. Cython's
  ``boundscheck``/``wraparound`` are left at their defaults: no memoryview or list indexing
  is used on the hot path, only raw pointers with proven ranges.
* No module-level mutable state: the lookup tables are ``static const`` C arrays, and all
  scratch buffers live on the C stack or are allocated per call and freed in ``finally``.
* Objects whose buffers are read (str, bytes) are immutable; a bytearray is copied to bytes
  first and a token sequence to a tuple, so another thread cannot resize them under us.
"""

cimport cython
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.object cimport PyTypeObject
from cpython.ref cimport Py_DECREF, Py_INCREF, PyObject
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from libc.stdint cimport uint32_t
from libc.string cimport memchr, memcpy

import time as _time

from ticket_auth import _authtkt_format, _ticket_format
from ticket_auth._arguments import (MAX_UINT32, check_max_length, check_secrets, ip_prefix, not_text_error,
                                    resolve_hashalg, to_int)
from ticket_auth.exception import TicketDigestError, TicketError, TicketExpired, TicketParseError
from ticket_auth.ticket_info import AuthTktInfo, FallbackAuthTktInfo, FallbackTicketInfo, TicketInfo

__all__ = ["AuthTktFactory", "AuthTktInfo", "TicketFactory", "TicketInfo"]

cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object o)
    void* PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    object PyUnicode_Substring(object s, Py_ssize_t start, Py_ssize_t end)
    const char* PyUnicode_AsUTF8AndSize(object s, Py_ssize_t* size) except NULL
    object PyUnicode_DecodeUTF8(const char* s, Py_ssize_t size, const char* errors)
    object PyUnicode_DecodeASCII(const char* s, Py_ssize_t size, const char* errors)
    object PyUnicode_AsEncodedString(object s, const char* encoding, const char* errors)
    void PyErr_Clear()
    const Py_ssize_t PY_SSIZE_T_MAX

cdef extern from "_ticketlib/scan.h":
    const unsigned char ta_class[256]
    const unsigned char ta_lower_hex_value[256]
    const char ta_hex_lower[16]
    const char ta_hex_upper[16]
    Py_ssize_t ta_safe_prefix(const unsigned char* p, Py_ssize_t n) noexcept nogil
    enum:
        TA_HEADER_OK
        TA_HEADER_BAD_DIGEST
        TA_HEADER_BAD_TIME
    int ta_read_header(const unsigned char* p, Py_ssize_t digest_size, unsigned char* digest,
                       unsigned long* time) noexcept nogil
    void ta_write_header(unsigned char* d, const unsigned char* digest, Py_ssize_t digest_size,
                         unsigned long time) noexcept nogil

cdef extern from "_ticketlib/utf8.h":
    int ta_quoted_utf8_valid(const unsigned char* p, Py_ssize_t i, Py_ssize_t end) noexcept nogil
    int ta_utf8_valid(const unsigned char* p, Py_ssize_t n) noexcept nogil

cdef extern from "_ticketlib/base64.h":
    Py_ssize_t ta_b64_core(const unsigned char* s, Py_ssize_t n) noexcept nogil
    void ta_b64_decode(const unsigned char* s, Py_ssize_t core, unsigned char* out) noexcept nogil
    void ta_b64_encode(const unsigned char* src, Py_ssize_t n, unsigned char* out) noexcept nogil

cdef extern from "_ticketlib/compare.h":
    int ta_equal_ct(const unsigned char* a, const unsigned char* b, size_t n) noexcept nogil

cdef extern from "_ticketlib/objects.h":
    object ta_ticket_error(type cls, tuple args, str ticket_name, object ticket, str msg_name, object msg)
    object ta_make_info(type tp, object digest, object user_id, object tokens, object user_data,
                        object valid_until)

cdef enum:
    SAFE = 1                 # the classes of ta_class (scan.h)
    UPPER_HEX = 2
    LOWER_HEX = 4
    MAX_DIGEST_SIZE = 64     # ticket_auth._arguments.MAX_DIGEST_SIZE, checked in _configure
    MAX_PREFIX = 17          # version byte + 16-byte IPv6 address
    STACK_BUFFER = 512

include "_ticketlib/errors.pxi"
include "_ticketlib/scan.pxi"
include "_ticketlib/quote.pxi"
include "_ticketlib/iptext.pxi"
include "_ticketlib/hashing.pxi"
include "_ticketlib/digest.pxi"
include "_ticketlib/factory.pxi"
include "_ticketlib/ticket.pxi"
include "_ticketlib/authtkt.pxi"
include "_ticketlib/guard.pxi"


# help() lists every name in a class's __dict__, and Cython stores each class's C method table
# there as ``__pyx_vtable__`` (a capsule), for other extension modules that cimport the class.
# None does: remove it, so that help(TicketFactory) shows only the API. The table itself
# stays where the instances read it (a static pointer set by tp_new), so nothing else changes.
cdef extern from "Python.h":
    ctypedef struct _TypeDict "PyTypeObject":
        PyObject* tp_dict
    void PyType_Modified(PyTypeObject* tp)
    int PyDict_DelItemString(object d, const char* key) except -1
    int PyDict_Contains(object d, object key) except -1

for _cls in (_Factory, TicketFactory, AuthTktFactory, GuardCore):
    if (<_TypeDict*>_cls).tp_dict != NULL and PyDict_Contains(<object>(<_TypeDict*>_cls).tp_dict, "__pyx_vtable__"):
        PyDict_DelItemString(<object>(<_TypeDict*>_cls).tp_dict, "__pyx_vtable__")
        PyType_Modified(<PyTypeObject*>_cls)
del _cls
