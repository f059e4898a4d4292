# The hash path of the compiled core (included by _ticketcore.pyx).
#
# Each factory computes its digests one of two ways, chosen once in __init__:
#
# * "openssl": EVP calls into the libcrypto that hashlib itself uses (evp.h), with the
#   algorithm fetched once per factory and the digests written into stack buffers; no hash
#   objects, no bytes objects.
# * "hashlib": the hash constructor from ticket_auth._arguments.resolve_hashalg, as the pure
#   core does.
#
# "openssl" is used only when all of these hold, otherwise the factory silently keeps
# hashlib (same results, same errors):
#
# * TICKET_AUTH_FORCE_HASHLIB is unset or empty in the environment at import (and the
#   private context variable _FORCE_HASHLIB, which the test suite sets, is false);
# * the constructor is hashlib's own OpenSSL one for the algorithm (not blake2, which
#   hashlib serves from its builtin module, nor any other callable);
# * the algorithm is in _OPENSSL_NAMES, and libcrypto's symbols, the algorithm and its
#   digest size are found (see evp.h);
# * the known-answer test below gives hashlib's digests on both the ticket_auth and the
#   mod_auth_tkt constructions.
#
# A digest call that fails on the OpenSSL path (only an allocation failure inside OpenSSL
# can) is computed again with hashlib, so errors are hashlib's too.

import contextvars as _contextvars
import functools as _functools
import hashlib as _hashlib_module
import os as _os
import types as _types

from libc.stdint cimport uintptr_t
from libc.string cimport memcmp

cdef extern from "_ticketlib/evp.h":
    enum:
        TA_EVP_MAX_MD
        TA_FN_COUNT
    ctypedef struct ta_evp:
        const void* md
        int size
    int ta_evp_open(ta_evp* e, const uintptr_t* fns, Py_ssize_t count, const char* name, int expected_size,
                    object key) noexcept
    void ta_evp_close(ta_evp* e) noexcept
    int ta_evp_nested(const ta_evp* e, const unsigned char* head, size_t head_len,
                      const unsigned char* secret, size_t secret_len,
                      const unsigned char* fields, size_t fields_len,
                      Py_ssize_t bang1, Py_ssize_t bang2, int hex_inner, unsigned char* out) noexcept nogil

# hashlib's name of each algorithm it serves from OpenSSL -> OpenSSL's name for it.
_OPENSSL_NAMES = _types.MappingProxyType({
    "md5": "MD5",
    "md5-sha1": "MD5-SHA1",
    "ripemd160": "RIPEMD160",
    "sha1": "SHA1",
    "sha224": "SHA224",
    "sha256": "SHA256",
    "sha384": "SHA384",
    "sha512": "SHA512",
    "sha512_224": "SHA512-224",
    "sha512_256": "SHA512-256",
    "sha3_224": "SHA3-224",
    "sha3_256": "SHA3-256",
    "sha3_384": "SHA3-384",
    "sha3_512": "SHA3-512",
    "sm3": "SM3",
})

# Read once at import: any non-empty value keeps every factory on hashlib. The test suite
# sets the context variable instead, for the factories built while it is set.
_FORCE_HASHLIB = _contextvars.ContextVar(
    "ticket_auth_force_hashlib", default=bool(_os.environ.get("TICKET_AUTH_FORCE_HASHLIB"))
)

# Known-answer inputs: a ticket-like message with both separators, a long secret (two
# blocks of any of the hashes), and a message with no separators to blank.
_KAT_CASES = (
    (b"\x04\xcb\x00q\x07", 0x5F5E0FFF, b"kat-secret", b"u-0123!admin,staff!display%3DAlice", 6, 18),
    (b"\x06" + bytes(range(16)), 0, bytes(range(256)) * 2, b"", -1, -1),
    (b"\x04\x00\x00\x00\x00", 0xFFFFFFFF, b"k", b"a\x00\x00" + b"d" * 300, -1, -1),
)


# The OpenSSL functions the path uses, in the order of evp.h's TA_FN_* (the last five: the
# OpenSSL 3 ones, then their OpenSSL 1.1 counterparts).
_OPENSSL_FUNCTIONS = (
    "EVP_MD_CTX_new", "EVP_MD_CTX_free", "EVP_DigestInit_ex", "EVP_DigestUpdate", "EVP_DigestFinal_ex",
    "ERR_clear_error", "ERR_set_mark", "ERR_pop_to_mark",
    "EVP_MD_fetch", "EVP_MD_free", "EVP_MD_get_size",
    "EVP_get_digestbyname", "EVP_MD_size",
)

# Where each thread keeps its EVP context (in its thread-state dict; see evp.h).
_THREAD_CONTEXT_KEY = "ticket_auth._ticketcore.evp_ctx"


def _openssl_library():
    """The file of the module hashlib gets OpenSSL from (None when there is none)."""
    try:
        import _hashlib
    except ImportError:
        return None
    return getattr(_hashlib, "__file__", None)


def _openssl_functions(path):
    """The address of each of _OPENSSL_FUNCTIONS (0 when missing) in the libcrypto the
    already loaded shared object at ``path`` is linked to; None when they cannot be looked up
    (no ctypes, no RTLD_NOLOAD, the object not loaded). The library stays loaded: it is
    _hashlib's, and neither _hashlib nor ctypes ever unloads it."""
    try:
        import ctypes
        library = ctypes.CDLL(path, mode=_os.RTLD_NOLOAD | _os.RTLD_LOCAL)
    except (ImportError, AttributeError, OSError):
        return None
    addresses = []
    for function in _OPENSSL_FUNCTIONS:
        try:
            address = ctypes.cast(getattr(library, function), ctypes.c_void_p).value
        except AttributeError:
            address = None
        addresses.append(address or 0)
    return addresses


cdef object _openssl_name(object constructor, object hashalg):
    """OpenSSL's name for the algorithm when ``constructor`` is hashlib's own OpenSSL
    constructor for ``hashalg``, else None."""
    try:
        import _hashlib
        probe = _hashlib_module.new(hashalg)
    except Exception:                    # no OpenSSL in hashlib, or a name only a test double knows
        return None
    if type(probe) is not _hashlib.HASH:  # blake2 and any builtin fallback: hashlib's own code
        return None
    name = probe.name
    if constructor is getattr(_hashlib_module, name, None):
        pass                             # hashlib.sha512 and the like (openssl_sha512 ...)
    elif not (type(constructor) is _functools.partial and (<object>constructor).func is _hashlib_module.new
              and (<object>constructor).args == (hashalg,) and not (<object>constructor).keywords):
        return None
    return _OPENSSL_NAMES.get(name)


cdef inline size_t _digest_head(const unsigned char* prefix, Py_ssize_t prefix_len, unsigned long timestamp,
                                unsigned char* head) noexcept:
    """prefix + timestamp (4 bytes, big-endian) into head (MAX_PREFIX + 4 bytes); its length."""
    memcpy(head, prefix, <size_t>prefix_len)   # prefix_len <= MAX_PREFIX (_ip_prefix, or 5)
    head[prefix_len] = <unsigned char>(timestamp >> 24)
    head[prefix_len + 1] = <unsigned char>(timestamp >> 16)
    head[prefix_len + 2] = <unsigned char>(timestamp >> 8)
    head[prefix_len + 3] = <unsigned char>timestamp
    return <size_t>(prefix_len + 4)


cdef int _open_hash_path(ta_evp* evp, object constructor, object hashalg, Py_ssize_t digest_size) except -1:
    """Fill ``evp`` (a factory's, still closed: ``evp.md == NULL``) for the OpenSSL path when
    it is safe (see the top of this file); leave it closed (hashlib) otherwise.

    The path is opened and checked in a local struct and copied into ``evp`` only at the end,
    in one step without Python calls, and only if ``evp`` is still closed: ``evp`` is never
    seen half filled, nor closed while in use, even by a (pathological) second ``__init__``
    running at the same time."""
    cdef ta_evp fresh
    cdef uintptr_t fns[TA_FN_COUNT]
    cdef Py_ssize_t i
    cdef bytes name, secret, fields, expected
    cdef unsigned char head[MAX_PREFIX + 4]
    cdef unsigned char got[TA_EVP_MAX_MD]
    cdef size_t head_len
    cdef bint agree = True
    if _FORCE_HASHLIB.get():
        return 0
    openssl_name = _openssl_name(constructor, hashalg)
    path = _openssl_library()
    if openssl_name is None or path is None:
        return 0
    addresses = _openssl_functions(path)
    if addresses is None or len(addresses) != TA_FN_COUNT:
        return 0
    for i in range(TA_FN_COUNT):
        fns[i] = <uintptr_t>addresses[i]
    name = openssl_name.encode("ascii")
    if not ta_evp_open(&fresh, fns, TA_FN_COUNT, name, <int>digest_size, _THREAD_CONTEXT_KEY):
        return 0
    try:
        for hex_inner in (False, True):
            for prefix, timestamp, secret, fields, bang1, bang2 in _KAT_CASES:
                head_len = _digest_head(prefix, len(prefix), timestamp, head)
                expected = _nested_digest(constructor, digest_size,
                                          _inner_input(prefix, len(prefix), timestamp, secret, fields,
                                                       len(fields), bang1, bang2),
                                          secret, hex_inner)
                if not ta_evp_nested(&fresh, head, head_len, secret, <size_t>len(secret), fields,
                                     <size_t>len(fields), bang1, bang2, hex_inner, got):
                    agree = False
                elif memcmp(got, PyBytes_AS_STRING(expected), <size_t>digest_size) != 0:
                    agree = False
    except BaseException:
        ta_evp_close(&fresh)
        raise
    if agree and evp.md == NULL:
        evp[0] = fresh
    else:
        ta_evp_close(&fresh)
    return 0


cdef int _digest_into(const ta_evp* evp, object constructor, Py_ssize_t digest_size,
                      const unsigned char* prefix, Py_ssize_t prefix_len, unsigned long timestamp,
                      bytes secret, const unsigned char* fields, Py_ssize_t fields_len,
                      Py_ssize_t bang1, Py_ssize_t bang2, bint hex_inner, unsigned char* out) except -1:
    """The ticket digest (see ticket_auth._arguments) into ``out`` (digest_size bytes): on the
    OpenSSL path when ``evp`` is open, else (and if OpenSSL fails) with ``constructor``."""
    cdef unsigned char head[MAX_PREFIX + 4]
    cdef size_t head_len
    if evp.md != NULL:
        head_len = _digest_head(prefix, prefix_len, timestamp, head)
        if ta_evp_nested(evp, head, head_len, <const unsigned char*>PyBytes_AS_STRING(secret),
                         <size_t>PyBytes_GET_SIZE(secret), fields, <size_t>fields_len, bang1, bang2,
                         hex_inner, out):
            return 0
    digest = _nested_digest(constructor, digest_size,
                            _inner_input(prefix, prefix_len, timestamp, secret, fields, fields_len, bang1, bang2),
                            secret, hex_inner)
    memcpy(out, PyBytes_AS_STRING(digest), <size_t>digest_size)
    return 0
