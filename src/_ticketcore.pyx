# cython: language_level=3
# cython: freethreading_compatible=True
# cython: embedsignature=True
"""The compiled core: ``TicketFactory`` with parsing, digest input assembly, quoting, hex
and constant-time comparison in C. Hashing calls OpenSSL's EVP functions directly where
hashlib itself uses OpenSSL, and hashlib otherwise (``_ticketlib/hashing.pxi``).

It behaves exactly like ``ticket_auth._ticketcore_py`` (same results, errors and messages;
the shared test suite runs against both). The order of the checks is documented in
``ticket_auth._ticket_format``.

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
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.object cimport PyTypeObject
from cpython.ref cimport Py_DECREF, Py_INCREF, PyObject
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from libc.string cimport memchr, memcpy

import time as _time

from ticket_auth import _authtkt_format, _ticket_format
from ticket_auth._arguments import check_max_length, check_secrets, ip_prefix, resolve_hashalg
from ticket_auth.exception import TicketDigestError, TicketExpired, TicketParseError
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

cdef extern from *:
    """
    /* Character classes of the wire format, indexed by byte value:
       1 = left alone by urllib.parse.quote (A-Z a-z 0-9 _ . - ~ /),
       2 = uppercase hex digit (as in %XX), 4 = lowercase hex digit (DIGEST, TIME). */
    static const unsigned char ta_class[256] = {
        0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
        0,0,0,0,0,0,0,0,0,0,0,0,0,1,1,1, 7,7,7,7,7,7,7,7,7,7,0,0,0,0,0,0,
        0,3,3,3,3,3,3,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,0,0,0,0,1,
        0,5,5,5,5,5,5,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,0,0,0,1,0,
        0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
        0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
        0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
        0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
    };
    /* Value of a lowercase hex digit; 0xF0 (high bits set) for any other byte. */
    static const unsigned char ta_lower_hex_value[256] = {
        0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,
        0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,
        0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,
        0,1,2,3,4,5,6,7,8,9,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,
        0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,
        0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,
        0xF0,10,11,12,13,14,15,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,
        0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,
        0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,
        0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,
        0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,
        0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,
        0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,
        0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,
        0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,
        0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,0xF0,
    };
    static const char ta_hex_lower[16] = {'0','1','2','3','4','5','6','7','8','9','a','b','c','d','e','f'};
    static const char ta_hex_upper[16] = {'0','1','2','3','4','5','6','7','8','9','A','B','C','D','E','F'};

    /* Length of the longest prefix of p[0:n] made of characters quote leaves alone
       (A-Z a-z 0-9 _ . - ~ /). Sixteen bytes at a time where the CPU has SSE2 (every x86-64)
       or NEON (every aarch64); the tail, and any block holding another character, byte by
       byte. Reads only p[0:n]. */
    #if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
    #include <emmintrin.h>
    #define TA_SIMD_SSE2 1
    #elif defined(__aarch64__) || defined(_M_ARM64)
    #include <arm_neon.h>
    #define TA_SIMD_NEON 1
    #endif

    static Py_ssize_t ta_safe_prefix(const unsigned char *p, Py_ssize_t n) {
        Py_ssize_t i = 0;
    #if defined(TA_SIMD_SSE2)
        const __m128i lo_range = _mm_set1_epi8(0x2C), hi_range = _mm_set1_epi8(0x3A);   /* - . / 0-9 */
        const __m128i case_bit = _mm_set1_epi8(0x20);
        const __m128i lo_alpha = _mm_set1_epi8('a' - 1), hi_alpha = _mm_set1_epi8('z' + 1);
        const __m128i underscore = _mm_set1_epi8('_'), tilde = _mm_set1_epi8('~');
        for (; i + 16 <= n; i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
            __m128i folded = _mm_or_si128(v, case_bit);
            /* Signed compares: bytes >= 0x80 are negative and match no range. */
            __m128i safe = _mm_and_si128(_mm_cmpgt_epi8(v, lo_range), _mm_cmplt_epi8(v, hi_range));
            safe = _mm_or_si128(safe, _mm_and_si128(_mm_cmpgt_epi8(folded, lo_alpha), _mm_cmplt_epi8(folded, hi_alpha)));
            safe = _mm_or_si128(safe, _mm_or_si128(_mm_cmpeq_epi8(v, underscore), _mm_cmpeq_epi8(v, tilde)));
            if (_mm_movemask_epi8(safe) != 0xFFFF) break;
        }
    #elif defined(TA_SIMD_NEON)
        const uint8x16_t case_bit = vdupq_n_u8(0x20);
        for (; i + 16 <= n; i += 16) {
            uint8x16_t v = vld1q_u8(p + i);
            uint8x16_t folded = vorrq_u8(v, case_bit);
            uint8x16_t safe = vandq_u8(vcgeq_u8(v, vdupq_n_u8(0x2D)), vcleq_u8(v, vdupq_n_u8(0x39)));
            safe = vorrq_u8(safe, vandq_u8(vcgeq_u8(folded, vdupq_n_u8('a')), vcleq_u8(folded, vdupq_n_u8('z'))));
            safe = vorrq_u8(safe, vorrq_u8(vceqq_u8(v, vdupq_n_u8('_')), vceqq_u8(v, vdupq_n_u8('~'))));
            if (vminvq_u8(safe) != 0xFF) break;
        }
    #endif
        while (i < n && (ta_class[p[i]] & 1)) i++;
        return i;
    }

    /* A TicketInfo (a tuple subclass with no fields of its own, checked at import) built the
       way tuple.__new__(TicketInfo, items) builds it, without the Python-level call. */
    static PyObject *ta_make_info(PyTypeObject *tp, PyObject *digest, PyObject *user_id,
                                  PyObject *tokens, PyObject *user_data, PyObject *valid_until) {
        PyObject *info = tp->tp_alloc(tp, 5);
        if (info == NULL) {
            return NULL;
        }
        Py_INCREF(digest); PyTuple_SET_ITEM(info, 0, digest);
        Py_INCREF(user_id); PyTuple_SET_ITEM(info, 1, user_id);
        Py_INCREF(tokens); PyTuple_SET_ITEM(info, 2, tokens);
        Py_INCREF(user_data); PyTuple_SET_ITEM(info, 3, user_data);
        Py_INCREF(valid_until); PyTuple_SET_ITEM(info, 4, valid_until);
        return info;
    }

    /* Well-formed UTF-8 (Unicode Table 3-7, exactly what Python's strict decoder accepts)
       of the bytes that the canonical quoted text p[i:end] stands for. Canonical means
       every '%' is followed by two uppercase hex digits inside the range. */
    static unsigned char ta_quoted_byte(const unsigned char *p, Py_ssize_t *i) {
        unsigned char c = p[*i];
        if (c == '%') {
            unsigned char h = p[*i + 1], l = p[*i + 2];
            *i += 3;
            return (unsigned char)((((h & 0x0F) + 9 * ((h >> 6) & 1)) << 4) | ((l & 0x0F) + 9 * ((l >> 6) & 1)));
        }
        *i += 1;
        return c;
    }

    /* The bytes of p[i:end], read through %XX escapes when quoted, are well-formed UTF-8. */
    static int ta_utf8_check(const unsigned char *p, Py_ssize_t i, Py_ssize_t end, int quoted) {
        while (i < end) {
            unsigned char c = quoted ? ta_quoted_byte(p, &i) : p[i++];
            unsigned char lo = 0x80, hi = 0xBF;
            int need;
            if (c < 0x80) continue;
            if (c >= 0xC2 && c <= 0xDF) need = 1;
            else if (c == 0xE0) { need = 2; lo = 0xA0; }
            else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) need = 2;
            else if (c == 0xED) { need = 2; hi = 0x9F; }
            else if (c == 0xF0) { need = 3; lo = 0x90; }
            else if (c >= 0xF1 && c <= 0xF3) need = 3;
            else if (c == 0xF4) { need = 3; hi = 0x8F; }
            else return 0;
            while (need-- > 0) {
                if (i >= end) return 0;
                c = quoted ? ta_quoted_byte(p, &i) : p[i++];
                if (c < lo || c > hi) return 0;
                lo = 0x80;
                hi = 0xBF;
            }
        }
        return 1;
    }

    static int ta_quoted_utf8_valid(const unsigned char *p, Py_ssize_t i, Py_ssize_t end) {
        return ta_utf8_check(p, i, end, 1);
    }

    /* The same check on plain (unescaped) bytes. */
    static int ta_utf8_valid(const unsigned char *p, Py_ssize_t n) {
        return ta_utf8_check(p, 0, n, 0);
    }

    /* Standard base64 (A-Z a-z 0-9 + /): the value of a character, 255 for any other byte. */
    static const unsigned char ta_b64_value[256] = {
        255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
        255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
        255,255,255,255,255,255,255,255,255,255,255,62,255,255,255,63,
        52,53,54,55,56,57,58,59,60,61,255,255,255,255,255,255,
        255,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,
        15,16,17,18,19,20,21,22,23,24,25,255,255,255,255,255,
        255,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,
        41,42,43,44,45,46,47,48,49,50,51,255,255,255,255,255,
        255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
        255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
        255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
        255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
        255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
        255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
        255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
        255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,255,
    };

    /* Length of the base64 text s[0:n] without its padding, or -1 when it is not of the form
       (4 chars)* + optional (2 chars [+ "=="] | 3 chars [+ "="]). */
    static Py_ssize_t ta_b64_core(const unsigned char *s, Py_ssize_t n) {
        Py_ssize_t core = n, i;
        unsigned char bad = 0;
        while (core > 0 && n - core < 2 && s[core - 1] == '=') core--;
        if (core != n) {                       /* padded: the whole must be a multiple of 4 */
            if (n % 4 != 0 || (n - core == 2 && core % 4 != 2) || (n - core == 1 && core % 4 != 3)) return -1;
        } else if (core % 4 == 1) {
            return -1;
        }
        for (i = 0; i < core; i++) {
            bad |= ta_b64_value[s[i]];         /* 255 has the bits 6 and 7 that no value has */
        }
        return (bad & 0xC0) ? -1 : core;
    }

    /* Decode core characters (validated by ta_b64_core) into out, core * 3 / 4 bytes;
       leftover bits of a short final group are ignored, as binascii does. */
    static void ta_b64_decode(const unsigned char *s, Py_ssize_t core, unsigned char *out) {
        Py_ssize_t i = 0, j = 0;
        unsigned long group;
        for (; i + 4 <= core; i += 4, j += 3) {
            group = ((unsigned long)ta_b64_value[s[i]] << 18) | ((unsigned long)ta_b64_value[s[i + 1]] << 12)
                    | ((unsigned long)ta_b64_value[s[i + 2]] << 6) | ta_b64_value[s[i + 3]];
            out[j] = (unsigned char)(group >> 16);
            out[j + 1] = (unsigned char)(group >> 8);
            out[j + 2] = (unsigned char)group;
        }
        if (core - i >= 2) {                   /* 2 chars -> 1 byte, 3 chars -> 2 bytes */
            group = ((unsigned long)ta_b64_value[s[i]] << 18) | ((unsigned long)ta_b64_value[s[i + 1]] << 12);
            if (core - i == 3) group |= (unsigned long)ta_b64_value[s[i + 2]] << 6;
            out[j] = (unsigned char)(group >> 16);
            if (core - i == 3) out[j + 1] = (unsigned char)(group >> 8);
        }
    }

    static const char ta_b64_alphabet[65] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /* An instance of one of ticket_auth.exception's classes, in the state its __init__
       leaves it (args from BaseException.__new__, then .ticket and .msg, in that order),
       without running a Python frame: a rejected ticket is raised on the request path. */
    static PyObject *ta_ticket_error(PyTypeObject *cls, PyObject *args, PyObject *ticket_name, PyObject *ticket,
                                     PyObject *msg_name, PyObject *msg) {
        PyObject *exc = cls->tp_new(cls, args, NULL);
        if (exc == NULL) {
            return NULL;
        }
        if (PyObject_SetAttr(exc, ticket_name, ticket) < 0 || PyObject_SetAttr(exc, msg_name, msg) < 0) {
            Py_DECREF(exc);
            return NULL;
        }
        return exc;
    }
    """
    const unsigned char ta_class[256]
    const char ta_hex_lower[16]
    const unsigned char ta_lower_hex_value[256]
    const char ta_hex_upper[16]
    int ta_quoted_utf8_valid(const unsigned char* p, Py_ssize_t i, Py_ssize_t end) noexcept nogil
    int ta_utf8_valid(const unsigned char* p, Py_ssize_t n) noexcept nogil
    Py_ssize_t ta_safe_prefix(const unsigned char* p, Py_ssize_t n) noexcept nogil
    Py_ssize_t ta_b64_core(const unsigned char* s, Py_ssize_t n) noexcept nogil
    void ta_b64_decode(const unsigned char* s, Py_ssize_t core, unsigned char* out) noexcept nogil
    const char ta_b64_alphabet[65]
    object ta_ticket_error(type cls, tuple args, str ticket_name, object ticket, str msg_name, object msg)
    object ta_make_info(type tp, object digest, object user_id, object tokens, object user_data,
                        object valid_until)

cdef enum:
    SAFE = 1
    UPPER_HEX = 2
    LOWER_HEX = 4
    MAX_DIGEST = 64          # ticket_auth._arguments.MAX_DIGEST_SIZE, checked in __init__
    MAX_PREFIX = 17          # version byte + 16-byte IPv6 address
    STACK_BUFFER = 512

# Parse outcomes; the messages are _ticket_format's, in the same order as the checks.
cdef enum:
    OK = 0
    E_TOO_SHORT = 1
    E_BAD_DIGEST = 2
    E_BAD_TIME = 3
    E_MISSING_PARTS = 4
    E_TOO_MANY_PARTS = 5
    E_BAD_UID = 6
    E_BAD_TOKENS = 7
    E_BAD_DATA = 8
    E_UID_NOT_UTF8 = 9
    E_TOKEN_NOT_UTF8 = 10
    E_DATA_NOT_UTF8 = 11

_MESSAGES = (
    None, _ticket_format.TOO_SHORT, _ticket_format.BAD_DIGEST, _ticket_format.BAD_TIME, _ticket_format.MISSING_PARTS,
    _ticket_format.TOO_MANY_PARTS, _ticket_format.BAD_UID, _ticket_format.BAD_TOKENS, _ticket_format.BAD_DATA,
    _ticket_format.UID_NOT_UTF8, _ticket_format.TOKEN_NOT_UTF8, _ticket_format.DATA_NOT_UTF8,
)
cdef frozenset _ASCII_COMPATIBLE = _ticket_format.ASCII_COMPATIBLE_ENCODINGS

# The errors, built as their __init__ would build them (checked at import, and by the tests).
cdef type _TicketParseError = TicketParseError
cdef type _TicketDigestError = TicketDigestError
cdef type _TicketExpired = TicketExpired
cdef str _DIGEST_MSG = TicketDigestError(None).msg
cdef str _EXPIRED_MSG = TicketExpired(None).msg
for _cls in (_TicketParseError, _TicketDigestError, _TicketExpired):
    if (<PyTypeObject*>_cls).tp_new != (<PyTypeObject*>BaseException).tp_new:
        raise ImportError(f"{_cls.__name__} must keep BaseException.__new__")


cdef inline object _parse_error(object ticket, object msg):
    return ta_ticket_error(_TicketParseError, (ticket, msg), "ticket", ticket, "msg", msg)


cdef inline object _digest_error(object ticket):
    return ta_ticket_error(_TicketDigestError, (ticket,), "ticket", ticket, "msg", _DIGEST_MSG)


cdef inline object _expired_error(object ticket):
    return ta_ticket_error(_TicketExpired, (ticket,), "ticket", ticket, "msg", _EXPIRED_MSG)
cdef str _UTF8 = "utf-8"                 # the same constant object as the default argument
# Messages passed down the hot path of new (looked up on the module once, not per call).
cdef str _USER_ID_TYPE_ERROR = _ticket_format.USER_ID_TYPE_ERROR
cdef str _TOKEN_TYPE_ERROR = _ticket_format.TOKEN_TYPE_ERROR
cdef str _USER_DATA_TYPE_ERROR = _ticket_format.USER_DATA_TYPE_ERROR
cdef type _TicketInfo = TicketInfo
cdef type _FallbackTicketInfo = FallbackTicketInfo
cdef type _AuthTktInfo = AuthTktInfo
cdef type _FallbackAuthTktInfo = FallbackAuthTktInfo
for _info_type in (_TicketInfo, _FallbackTicketInfo, _AuthTktInfo, _FallbackAuthTktInfo):
    if not (issubclass(_info_type, tuple) and _info_type.__basicsize__ == tuple.__basicsize__
            and _info_type.__itemsize__ == tuple.__itemsize__ and len(_info_type._fields) == 5):
        raise ImportError(f"{_info_type.__name__} is not the 5-field namedtuple this core builds")
_DEFAULT_TIMEOUT = _ticket_format.DEFAULT_TIMEOUT
_MAX_VALID_UNTIL = _ticket_format.MAX_VALID_UNTIL


cdef enum:
    BAD = -1
    PLAIN = 0
    ESCAPED = 1


cdef struct Parsed:
    int uid_kind             # PLAIN or ESCAPED, for UID, TOKENS and DATA
    int tokens_kind
    int data_kind
    Py_ssize_t rest          # index of the first UID character
    Py_ssize_t bang1         # index of the '!' after UID
    Py_ssize_t bang2         # index of the '!' after TOKENS
    unsigned long valid_until
    unsigned char digest[MAX_DIGEST]


cdef struct Buffer:
    unsigned char* data
    Py_ssize_t length
    Py_ssize_t capacity
    bint on_heap


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


cdef int _scan(const unsigned char* p, Py_ssize_t n, Py_ssize_t hex_len, Parsed* out) noexcept nogil:
    """Check an ASCII ticket's structure; fill ``out``; return OK or the first error."""
    cdef Py_ssize_t i, start, end
    cdef const unsigned char* bang
    cdef const unsigned char* comma
    cdef unsigned char hi, lo
    cdef unsigned int bad = 0
    cdef unsigned long value = 0
    if n < hex_len + 8:
        return E_TOO_SHORT
    # From here every index below hex_len + 8 <= n is in range; hex_len <= 2 * MAX_DIGEST.
    for i in range(hex_len >> 1):
        hi = ta_lower_hex_value[p[2 * i]]
        lo = ta_lower_hex_value[p[2 * i + 1]]
        bad |= hi | lo                   # 0xF0 bits set for anything but [0-9a-f]
        out.digest[i] = <unsigned char>((hi << 4) | (lo & 0x0F))
    if bad & 0xF0:
        return E_BAD_DIGEST
    for i in range(hex_len, hex_len + 8):
        hi = ta_lower_hex_value[p[i]]
        bad |= hi
        value = (value << 4) | (hi & 0x0F)
    if bad & 0xF0:
        return E_BAD_TIME
    out.valid_until = value
    out.rest = hex_len + 8
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


cdef object _unquote(str text, const unsigned char* p, Py_ssize_t start, Py_ssize_t end, int kind):
    """The text of a field p[start:end] that _scan accepted (canonical, UTF-8 once unquoted)."""
    cdef Py_ssize_t i, j = 0
    cdef unsigned char stack[STACK_BUFFER]
    cdef unsigned char* buf = stack
    if kind == PLAIN or memchr(p + start, c'%', <size_t>(end - start)) == NULL:
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
        keep = bytes(value)              # a private copy: no one can resize it under us
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


include "_ticketlib/hashing.pxi"


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
    or -1: then every secret has cost exactly one digest, whichever it was."""
    cdef unsigned char expected[MAX_DIGEST]
    cdef Py_ssize_t index
    for index in range(len(secrets)):
        _digest_into(evp, constructor, digest_size, prefix, prefix_len, timestamp, <bytes>secrets[index],
                     fields, fields_len, bang1, bang2, hex_inner, expected)
        if ta_equal_ct_words(expected, digest, <size_t>digest_size):
            return index
    return -1


@cython.auto_pickle(False)
cdef class TicketFactory:
    """Mints and validates tickets signed with ``secret`` using hashlib's ``hashalg``.

    ``fallback_secrets`` (keyword-only) are older secrets that ``validate`` still accepts
    (``new`` always signs with ``secret``); ``max_length`` rejects longer tickets before any
    other work.
    """

    cdef tuple _secrets                  # (secret, *fallback_secrets), all non-empty bytes
    cdef object _hash
    cdef ta_evp _evp                     # the OpenSSL hash path; md == NULL: hashlib (_hash)
    cdef object _hashalg
    cdef Py_ssize_t _digest_size
    cdef Py_ssize_t _hex_len
    cdef Py_ssize_t _max_length          # -1: no limit

    def __init__(self, secret, hashalg="sha512", *, fallback_secrets=(), max_length=None):
        # Configured once: the methods read these fields without a lock, so they never change.
        if self._secrets is not None:
            raise TypeError(_ticket_format.REINIT_ERROR.format(type(self).__qualname__))
        secrets = check_secrets(secret, fallback_secrets)
        constructor, digest_size = resolve_hashalg(hashalg)
        limit = check_max_length(max_length)
        if not 0 < digest_size <= MAX_DIGEST:
            raise ValueError("unsupported digest size")
        _open_hash_path(&self._evp, constructor, hashalg, digest_size)
        self._secrets = secrets
        self._hash = constructor
        self._hashalg = hashalg
        self._digest_size = digest_size
        self._hex_len = 2 * digest_size
        self._max_length = -1 if limit is None else limit

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
        """``"openssl"`` when digests go straight to OpenSSL's EVP functions, ``"hashlib"``
        when they go through hashlib (see the README's Benchmarks section)."""
        return "openssl" if self._evp.md != NULL else "hashlib"

    def __repr__(self):
        return f"{type(self).__module__}.{type(self).__qualname__}(hashalg={self._hashalg!r})"

    def __reduce_ex__(self, protocol):
        raise TypeError("TicketFactory holds a secret and cannot be pickled or copied")

    def new(self, user_id, tokens=None, user_data=None, valid_until=None, client_ip=None, encoding="utf-8"):
        """Mint a ticket (str), signed with the current secret. See the README."""
        cdef unsigned char stack[STACK_BUFFER]
        cdef unsigned char prefix[MAX_PREFIX]
        cdef Buffer signed
        cdef Py_ssize_t bang1, bang2, prefix_len, i, length
        cdef unsigned long until
        cdef unsigned char* d
        cdef unsigned char raw[MAX_DIGEST]
        self._ready()
        if valid_until is None:
            valid_until = int(_time.time()) + _DEFAULT_TIMEOUT
        elif type(valid_until) is not int:
            valid_until = _ticket_format.to_int(valid_until, _ticket_format.VALID_UNTIL_RANGE_ERROR)
        if not 0 <= valid_until <= _MAX_VALID_UNTIL:
            raise ValueError(_ticket_format.VALID_UNTIL_RANGE_ERROR.format(valid_until))
        until = valid_until
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
            for i in range(self._digest_size):           # raw holds digest_size bytes
                d[2 * i] = ta_hex_lower[raw[i] >> 4]
                d[2 * i + 1] = ta_hex_lower[raw[i] & 0x0F]
            d += self._hex_len
            for i in range(8):
                d[i] = ta_hex_lower[(until >> (28 - 4 * i)) & 0x0F]
            memcpy(d + 8, signed.data, <size_t>signed.length)
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
        code = _scan(p, PyUnicode_GET_LENGTH(text), self._hex_len, parsed)
        if code != OK:
            raise _parse_error(ticket, _MESSAGES[code])
        return p

    cdef object _info(self, str text, const unsigned char* p, Parsed* parsed, object valid_until,
                      type info_type):
        """The TicketInfo (or FallbackTicketInfo) of a ticket that _check accepted."""
        cdef Py_ssize_t i, start, count
        user_id = _unquote(text, p, parsed.rest, parsed.bang1, parsed.uid_kind)
        if parsed.bang2 == parsed.bang1 + 1:
            tokens = ()
        else:
            count = 1
            for i in range(parsed.bang1 + 1, parsed.bang2):
                if p[i] == c',':
                    count += 1
            tokens = PyTuple_New(count)
            start = parsed.bang1 + 1
            count = 0
            for i in range(parsed.bang1 + 1, parsed.bang2 + 1):
                if i == parsed.bang2 or p[i] == c',':
                    token = _unquote(text, p, start, i, parsed.tokens_kind)
                    Py_INCREF(token)
                    PyTuple_SET_ITEM(tokens, count, token)
                    count += 1
                    start = i + 1
        user_data = _unquote(text, p, parsed.bang2 + 1, PyUnicode_GET_LENGTH(text), parsed.data_kind)
        return ta_make_info(info_type, PyUnicode_Substring(text, 0, self._hex_len), user_id,
                            tokens, user_data, valid_until)

    def validate(self, ticket, client_ip=None, now=None, encoding="utf-8"):
        """Return the ticket's ``TicketInfo`` if its digest is right and it has not expired.

        Raises ``TicketParseError``, ``TicketDigestError`` or ``TicketExpired`` (in that order
        of checking); a bad ``client_ip`` is a ``ValueError``.
        """
        cdef Parsed parsed
        cdef unsigned char prefix[MAX_PREFIX]
        cdef Py_ssize_t prefix_len, rest, matched
        cdef str text = self._text(ticket)
        cdef const unsigned char* p = self._check(ticket, text, &parsed)
        prefix_len = _ip_prefix(client_ip, prefix)
        rest = parsed.rest
        if encoding is _UTF8 or encoding in _ASCII_COMPATIBLE:
            matched = _match_secret(&self._evp, self._hash, self._digest_size, self._secrets, prefix,
                                    prefix_len, parsed.valid_until, p + rest, PyUnicode_GET_LENGTH(text) - rest,
                                    parsed.bang1 - rest, parsed.bang2 - rest, False, parsed.digest)
        else:
            try:
                data1 = text[rest:].replace("!", "\0").encode(encoding)
            except UnicodeError:
                raise _parse_error(ticket, _ticket_format.NOT_ENCODABLE) from None
            matched = _match_secret(&self._evp, self._hash, self._digest_size, self._secrets, prefix,
                                    prefix_len, parsed.valid_until, <const unsigned char*>PyBytes_AS_STRING(data1),
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

    def parse(self, ticket):
        """Return the ticket's ``TicketInfo`` without checking the digest or the time."""
        cdef Parsed parsed
        cdef str text = self._text(ticket)
        cdef const unsigned char* p = self._check(ticket, text, &parsed)
        return self._info(text, p, &parsed, parsed.valid_until, _TicketInfo)


# --- mod_auth_tkt -----------------------------------------------------------------------------------

cdef unsigned long long _MASK32 = 0xFFFFFFFF
cdef double _TWO_62 = 4611686018427387904.0    # 2**62: a float below it in size fits a long long


cdef bytes _authtkt_field(object value, str what, bint forbid_bang):
    """A mod_auth_tkt field as UTF-8 bytes, refusing what the format cannot carry."""
    cdef bytes raw
    if isinstance(value, str):
        raw = (<str>value).encode("utf-8")       # UnicodeEncodeError for lone surrogates
    elif isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
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
    unsigned char digest[MAX_DIGEST]


@cython.auto_pickle(False)
cdef class AuthTktFactory:
    """Mints and validates Apache mod_auth_tkt 2.x tickets (see ticket_auth.mod_auth_tkt)."""

    cdef tuple _secrets
    cdef object _hash
    cdef ta_evp _evp                     # the OpenSSL hash path; md == NULL: hashlib (_hash)
    cdef object _digest
    cdef Py_ssize_t _digest_size
    cdef Py_ssize_t _hex_len
    cdef unsigned long long _timeout
    cdef Py_ssize_t _max_length          # -1: no limit

    def __init__(self, secret, digest, *, fallback_secrets=(), timeout=_authtkt_format.DEFAULT_TIMEOUT, max_length=None):
        if self._secrets is not None:
            raise TypeError(_ticket_format.REINIT_ERROR.format(type(self).__qualname__))
        secrets = check_secrets(secret, fallback_secrets)
        hashalg = _authtkt_format.check_digest(digest)
        constructor, digest_size = resolve_hashalg(hashalg)
        timeout = _authtkt_format.check_timeout(timeout)
        limit = check_max_length(max_length)
        if not 0 < digest_size <= MAX_DIGEST:
            raise ValueError("unsupported digest size")
        _open_hash_path(&self._evp, constructor, hashalg, digest_size)
        self._secrets = secrets
        self._hash = constructor
        self._digest = digest
        self._digest_size = digest_size
        self._hex_len = 2 * digest_size
        self._timeout = timeout
        self._max_length = -1 if limit is None else limit

    cdef int _ready(self) except -1:
        if self._secrets is None:
            raise AttributeError(f"{type(self).__qualname__}.__init__ was not called: the factory has no secret")
        return 0

    def __dealloc__(self):
        ta_evp_close(&self._evp)

    @property
    def hash_path(self):
        """``"openssl"`` or ``"hashlib"``, as ``TicketFactory.hash_path``."""
        return "openssl" if self._evp.md != NULL else "hashlib"

    def __repr__(self):
        return f"{type(self).__module__}.{type(self).__qualname__}(digest={self._digest!r}, timeout={self._timeout})"

    def __reduce_ex__(self, protocol):
        raise TypeError("AuthTktFactory holds a secret and cannot be pickled or copied")

    def new(self, user_id, tokens=(), user_data="", timestamp=None, client_ip=None, *, raw=False):
        """A cookie value (base64 by default, the raw ticket text with ``raw=True``)."""
        cdef unsigned char ip4[4]
        cdef unsigned long ts
        cdef Py_ssize_t i, uid_len, tokens_len, data_len, middle, length, out_len, size
        cdef unsigned char digest[MAX_DIGEST]
        cdef unsigned char* d
        cdef unsigned char* src
        cdef unsigned long group
        self._ready()
        if timestamp is None:
            timestamp = int(_time.time())
        elif type(timestamp) is not int:
            timestamp = _ticket_format.to_int(timestamp, _authtkt_format.TIMESTAMP_RANGE_ERROR)
        if not 0 <= timestamp <= _MAX_VALID_UNTIL:
            raise ValueError(_authtkt_format.TIMESTAMP_RANGE_ERROR.format(timestamp))
        ts = timestamp
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
        for i in range(self._digest_size):
            d[2 * i] = ta_hex_lower[digest[i] >> 4]
            d[2 * i + 1] = ta_hex_lower[digest[i] & 0x0F]
        d += self._hex_len
        for i in range(8):
            d[i] = ta_hex_lower[(ts >> (28 - 4 * i)) & 0x0F]
        d += 8
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
            out_len = 4 * ((length + 2) // 3)
            cookie = PyUnicode_New(out_len, 127)
            d = <unsigned char*>PyUnicode_DATA(cookie)
            src = <unsigned char*>PyBytes_AS_STRING(ticket)
            for i in range(0, length, 3):                # d[4 * (i // 3) + 3] < out_len
                group = <unsigned long>src[i] << 16
                if i + 1 < length:
                    group |= <unsigned long>src[i + 1] << 8
                if i + 2 < length:
                    group |= src[i + 2]
                d[0] = ta_b64_alphabet[(group >> 18) & 63]
                d[1] = ta_b64_alphabet[(group >> 12) & 63]
                d[2] = ta_b64_alphabet[(group >> 6) & 63] if i + 1 < length else c'='
                d[3] = ta_b64_alphabet[group & 63] if i + 2 < length else c'='
                d += 4
        size = length if raw else len(cookie)            # bytes, as validate counts them
        if 0 <= self._max_length < size:
            raise ValueError(_authtkt_format.NEW_TOO_LONG_ERROR.format(size, self._max_length))
        return cookie

    cdef bytes _ticket(self, object cookie, AuthTktParsed* parsed):
        """The raw ticket inside a cookie value, structurally checked (see _authtkt_format)."""
        cdef const unsigned char* v
        cdef const unsigned char* bang
        cdef const unsigned char* percent
        cdef Py_ssize_t n, i, core
        cdef unsigned char hi, lo
        cdef unsigned int bad = 0
        cdef unsigned long value = 0
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
                raise TypeError(_authtkt_format.COOKIE_TYPE_ERROR.format(type(cookie).__name__)) from None
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
        for i in range(self._digest_size):       # 2 * i + 1 < hex_len <= n
            hi = ta_lower_hex_value[v[2 * i]]
            lo = ta_lower_hex_value[v[2 * i + 1]]
            bad |= hi | lo                       # 0xF0 bits set for anything but [0-9a-f]
            parsed.digest[i] = <unsigned char>((hi << 4) | (lo & 0x0F))
        if bad & 0xF0:
            raise _parse_error(cookie, _authtkt_format.BAD_DIGEST)
        for i in range(self._hex_len, self._hex_len + 8):
            hi = ta_lower_hex_value[v[i]]
            bad |= hi
            value = (value << 4) | (hi & 0x0F)
        if bad & 0xF0:
            raise _parse_error(cookie, _authtkt_format.BAD_TIME)
        parsed.timestamp = value
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
        cdef const char* v = PyBytes_AS_STRING(ticket)
        cdef Py_ssize_t n = PyBytes_GET_SIZE(ticket)
        cdef Py_ssize_t data_start = parsed.first + 1 if parsed.second < 0 else parsed.second + 1
        cdef Py_ssize_t i, start, count
        user_id = PyUnicode_DecodeUTF8(v + parsed.rest, parsed.first - parsed.rest, NULL)
        if parsed.second <= parsed.first + 1:
            tokens = ()
        else:
            count = 1
            for i in range(parsed.first + 1, parsed.second):
                if v[i] == c',':
                    count += 1
            tokens = PyTuple_New(count)
            start = parsed.first + 1
            count = 0
            for i in range(parsed.first + 1, parsed.second + 1):
                if i == parsed.second or v[i] == c',':
                    token = PyUnicode_DecodeUTF8(v + start, i - start, NULL)
                    Py_INCREF(token)
                    PyTuple_SET_ITEM(tokens, count, token)
                    count += 1
                    start = i + 1
        user_data = PyUnicode_DecodeUTF8(v + data_start, n - data_start, NULL)
        return ta_make_info(info_type, PyUnicode_DecodeASCII(v, self._hex_len, NULL), user_id, tokens,
                            user_data, parsed.timestamp)

    def validate(self, cookie, client_ip=None, now=None):
        """The ticket's ``AuthTktInfo`` if its digest is right and it has not timed out."""
        cdef AuthTktParsed parsed
        cdef unsigned char ip4[4]
        cdef Py_ssize_t matched, n
        cdef const unsigned char* v
        ticket = self._ticket(cookie, &parsed)
        _authtkt_ip4(client_ip, ip4)
        v = <const unsigned char*>PyBytes_AS_STRING(ticket)
        n = PyBytes_GET_SIZE(ticket)
        if parsed.second >= 0:                   # UID!TOKENS!DATA: the separators become NUL
            matched = _match_secret(&self._evp, self._hash, self._digest_size, self._secrets, ip4, 4,
                                    parsed.timestamp, v + parsed.rest, n - parsed.rest,
                                    parsed.first - parsed.rest, parsed.second - parsed.rest, True, parsed.digest)
        else:                                    # UID!DATA: hashed as UID NUL NUL DATA
            fields = _authtkt_fields(v + parsed.rest, parsed.first - parsed.rest, v, 0,
                                     v + parsed.first + 1, n - parsed.first - 1)
            matched = _match_secret(&self._evp, self._hash, self._digest_size, self._secrets, ip4, 4,
                                    parsed.timestamp, <const unsigned char*>PyBytes_AS_STRING(fields),
                                    PyBytes_GET_SIZE(fields), -1, -1, True, parsed.digest)
        if matched < 0:
            raise _digest_error(cookie)
        if self._timeout:
            if now is None:
                now = _time.time()
            if type(now) is float and -_TWO_62 < PyFloat_AS_DOUBLE(now) < _TWO_62:
                # int(now) & MAX_VALID_UNTIL in C: truncation toward zero, then the low 32 bits
                # of the two's complement (what Python's & gives for a negative int too).
                if ((parsed.timestamp + self._timeout) & _MASK32) < (
                        <unsigned long long><long long>PyFloat_AS_DOUBLE(now) & _MASK32):
                    raise _expired_error(cookie)
            elif <object>((parsed.timestamp + self._timeout) & _MASK32) < (int(now) & _MAX_VALID_UNTIL):
                raise _expired_error(cookie)
        return self._info(ticket, &parsed, _AuthTktInfo if matched == 0 else _FallbackAuthTktInfo)

    def parse(self, cookie):
        """The ticket's ``AuthTktInfo`` without checking the digest or the time."""
        cdef AuthTktParsed parsed
        ticket = self._ticket(cookie, &parsed)
        return self._info(ticket, &parsed, _AuthTktInfo)
