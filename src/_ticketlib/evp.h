/* The OpenSSL hash path of the compiled core (see hashing.pxi), and the word-wise
   constant-time compare.

   The digests are computed with the EVP functions of the libcrypto that Python's own
   _hashlib module is linked to. hashing.pxi looks their addresses up at run time through
   _hashlib's file (ctypes: dlopen with RTLD_NOLOAD, then dlsym, which searches the object and
   its dependencies) and hands them to ta_evp_open. Nothing is linked or bundled at build
   time, no OpenSSL header is needed, and this file uses no dlopen or pthread function of its
   own (so a wheel needs no newer C library than before), and the algorithms, providers and
   FIPS policy are exactly hashlib's. Whatever is in doubt makes ta_evp_open fail, and the
   factory then keeps hashlib:

   * a function missing (no ctypes, Windows, an OpenSSL older than 1.1, one linked
     statically into _hashlib without exporting its symbols);
   * the algorithm cannot be fetched (unknown name, refused by the FIPS provider);
   * its digest size differs from hashlib's or exceeds TA_EVP_MAX_MD (EVP_MAX_MD_SIZE).

   The caller then compares both paths on fixed inputs (the known-answer test in
   hashing.pxi) before using this one.

   State: a ta_evp is filled once by ta_evp_open (in the factory's __init__) and then only
   read. Each thread keeps one EVP_MD_CTX for its digest calls, in a capsule in its Python
   thread-state dict (PyThreadState_GetDict), which frees the context when the thread's state
   is cleared: allocating and freeing a context on every call cost about 3.5 % of a validate
   and 5 % of a new. There is no global state here. Every function below is called with the
   thread attached to the interpreter (the GIL held, on builds that have one). */

#ifndef TA_EVP_H
#define TA_EVP_H

#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TA_EVP_MAX_MD 64 /* EVP_MAX_MD_SIZE */
static const char TA_EVP_CAPSULE_NAME[] = "ticket_auth._ticketcore.evp_ctx";

/* The OpenSSL functions, in the order of hashing.pxi's _OPENSSL_FUNCTIONS. */
enum {
    TA_FN_CTX_NEW, TA_FN_CTX_FREE, TA_FN_INIT, TA_FN_UPDATE, TA_FN_FINAL,
    TA_FN_CLEAR_ERROR, TA_FN_SET_MARK, TA_FN_POP_TO_MARK,
    TA_FN_MD_FETCH, TA_FN_MD_FREE, TA_FN_MD_GET_SIZE,    /* OpenSSL 3 */
    TA_FN_BYNAME, TA_FN_MD_SIZE,                         /* OpenSSL 1.1 */
    TA_FN_COUNT
};

/* The OpenSSL types are opaque: only pointers to them are passed around. */
typedef struct ta_evp_md ta_evp_md;
typedef struct ta_evp_ctx ta_evp_ctx;

typedef struct ta_evp {
    const ta_evp_md *md;    /* the algorithm, NULL when this path is not in use */
    ta_evp_md *fetched;     /* md when it must be freed (OpenSSL 3 EVP_MD_fetch), else NULL */
    PyObject *key;          /* the thread-state dict key of the thread's context (a str) */
    int size;               /* digest size in bytes, 1..TA_EVP_MAX_MD */
    ta_evp_ctx *(*ctx_new)(void);
    void (*ctx_free)(ta_evp_ctx *);
    int (*init)(ta_evp_ctx *, const ta_evp_md *, void *);
    int (*update)(ta_evp_ctx *, const void *, size_t);
    int (*final)(ta_evp_ctx *, unsigned char *, unsigned int *);
    void (*md_free)(ta_evp_md *);
    void (*clear_error)(void);
} ta_evp;

static void ta_evp_close(ta_evp *e) {
    if (e->fetched != NULL && e->md_free != NULL) {
        e->md_free(e->fetched);
    }
    e->fetched = NULL;
    e->md = NULL;
    Py_CLEAR(e->key);
}

/* A function pointer from an address (POSIX, like dlsym, lets object and function pointers
   convert; the size check in ta_evp_open makes sure they are the same size). */
#define TA_FN(var, address) do { void *p_ = (void *)(address); memcpy(&(var), &p_, sizeof(var)); } while (0)

/* Fill e for the OpenSSL algorithm `name` (e.g. "SHA512") with the functions at fns[0:count]
   (0 for a missing one), `key` being the str under which each thread keeps its context.
   Returns 1 when this path can be used, 0 when not (e is then closed, md == NULL). Never
   raises, never leaves an OpenSSL error behind. */
static int ta_evp_open(ta_evp *e, const uintptr_t *fns, Py_ssize_t count, const char *name,
                       int expected_size, PyObject *key) {
    ta_evp_md *(*fetch)(void *, const char *, const char *) = NULL;
    const ta_evp_md *(*byname)(const char *) = NULL;
    int (*md_size)(const ta_evp_md *) = NULL;
    int (*set_mark)(void) = NULL;
    int (*pop_to_mark)(void) = NULL;
    const ta_evp_md *md = NULL;
    int size;

    memset(e, 0, sizeof(*e));
    if (count != TA_FN_COUNT || name == NULL || key == NULL || sizeof(void *) != sizeof(void (*)(void))) {
        return 0;
    }
    if (!fns[TA_FN_CTX_NEW] || !fns[TA_FN_CTX_FREE] || !fns[TA_FN_INIT] || !fns[TA_FN_UPDATE]
        || !fns[TA_FN_FINAL] || !fns[TA_FN_CLEAR_ERROR] || !fns[TA_FN_SET_MARK] || !fns[TA_FN_POP_TO_MARK]) {
        return 0;
    }
    TA_FN(e->ctx_new, fns[TA_FN_CTX_NEW]);
    TA_FN(e->ctx_free, fns[TA_FN_CTX_FREE]);
    TA_FN(e->init, fns[TA_FN_INIT]);
    TA_FN(e->update, fns[TA_FN_UPDATE]);
    TA_FN(e->final, fns[TA_FN_FINAL]);
    TA_FN(e->clear_error, fns[TA_FN_CLEAR_ERROR]);
    TA_FN(set_mark, fns[TA_FN_SET_MARK]);
    TA_FN(pop_to_mark, fns[TA_FN_POP_TO_MARK]);
    /* OpenSSL 3: fetch the algorithm as hashlib does (default library context, no
       properties) and free it with the factory. OpenSSL 1.1: the static table. */
    if (fns[TA_FN_MD_FETCH]) {
        if (!fns[TA_FN_MD_FREE] || !fns[TA_FN_MD_GET_SIZE]) {
            return 0;
        }
        TA_FN(fetch, fns[TA_FN_MD_FETCH]);
        TA_FN(e->md_free, fns[TA_FN_MD_FREE]);
        TA_FN(md_size, fns[TA_FN_MD_GET_SIZE]);
        set_mark();
        e->fetched = fetch(NULL, name, NULL);
        pop_to_mark();   /* a refused fetch leaves nothing in the error queue */
        md = e->fetched;
    } else {
        if (!fns[TA_FN_BYNAME] || !fns[TA_FN_MD_SIZE]) {
            return 0;
        }
        TA_FN(byname, fns[TA_FN_BYNAME]);
        TA_FN(md_size, fns[TA_FN_MD_SIZE]);
        md = byname(name);
    }
    if (md == NULL) {
        ta_evp_close(e);
        return 0;
    }
    size = md_size(md);
    if (size <= 0 || size > TA_EVP_MAX_MD || size != expected_size) {
        ta_evp_close(e);
        return 0;
    }
    Py_INCREF(key);
    e->key = key;
    e->md = md;
    e->size = size;
    return 1;
}

/* Overwrite n bytes in a way the compiler cannot drop as a dead store: memset, then an
   empty asm that may read the memory (GCC, Clang); a volatile byte loop elsewhere. */
static void ta_evp_wipe(unsigned char *p, size_t n) {
#if defined(__GNUC__) || defined(__clang__)
    memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
#else
    volatile unsigned char *v = p;
    while (n--) {
        *v++ = 0;
    }
#endif
}

#define TA_EVP_STACK 512 /* inputs up to this size are hashed from one stack buffer */

/* This thread's context, and the function that frees it (from the libcrypto that made it). */
typedef struct ta_evp_slot {
    ta_evp_ctx *ctx;
    void (*ctx_free)(ta_evp_ctx *);
} ta_evp_slot;

static void ta_evp_slot_destroy(PyObject *capsule) {
    ta_evp_slot *slot = (ta_evp_slot *)PyCapsule_GetPointer(capsule, TA_EVP_CAPSULE_NAME);
    if (slot != NULL) {
        if (slot->ctx != NULL) {
            slot->ctx_free(slot->ctx);
        }
        PyMem_RawFree(slot);
    }
}

/* This thread's slot (NULL when it has none, or something else is under the key). */
static ta_evp_slot *ta_evp_thread_slot(const ta_evp *e, PyObject **dict) {
    PyObject *capsule;
    *dict = PyThreadState_GetDict();     /* borrowed; NULL (no error) when unavailable */
    if (*dict == NULL) {
        return NULL;
    }
    capsule = PyDict_GetItemWithError(*dict, e->key);    /* borrowed */
    if (capsule == NULL) {
        PyErr_Clear();
        return NULL;
    }
    /* Ours: a capsule made below, named with this very string (compared by address, not
       by strcmp: this runs on every digest call), whose context is the slot. */
    if (!PyCapsule_CheckExact(capsule) || PyCapsule_GetName(capsule) != TA_EVP_CAPSULE_NAME) {
        return NULL;
    }
    return (ta_evp_slot *)PyCapsule_GetContext(capsule);
}

/* This thread's context for e (made on first use), or NULL when none can be had. The
   context keeps the state of the last digest it finished (as a hashlib object does until it
   is freed) and is reinitialised by the next call. Leaves no Python error set. */
static ta_evp_ctx *ta_evp_thread_ctx(const ta_evp *e) {
    PyObject *dict, *capsule;
    ta_evp_slot *slot = ta_evp_thread_slot(e, &dict);
    if (slot != NULL) {
        if (slot->ctx != NULL && slot->ctx_free == e->ctx_free) {
            return slot->ctx;
        }
        if (slot->ctx != NULL) {             /* made by another libcrypto: never mixed */
            slot->ctx_free(slot->ctx);
        }
        slot->ctx = e->ctx_new();
        slot->ctx_free = e->ctx_free;
        return slot->ctx;
    }
    if (dict == NULL) {
        return NULL;
    }
    slot = (ta_evp_slot *)PyMem_RawCalloc(1, sizeof(*slot));
    if (slot == NULL) {
        return NULL;
    }
    slot->ctx = e->ctx_new();
    slot->ctx_free = e->ctx_free;
    if (slot->ctx == NULL) {
        PyMem_RawFree(slot);
        return NULL;
    }
    capsule = PyCapsule_New(slot, TA_EVP_CAPSULE_NAME, ta_evp_slot_destroy);
    if (capsule == NULL || PyCapsule_SetContext(capsule, slot) < 0) {
        if (capsule != NULL) {
            Py_DECREF(capsule);              /* its destructor frees the slot */
        } else {
            slot->ctx_free(slot->ctx);
            PyMem_RawFree(slot);
        }
        PyErr_Clear();
        return NULL;
    }
    if (PyDict_SetItem(dict, e->key, capsule) < 0) {
        Py_DECREF(capsule);                  /* its destructor frees the slot */
        PyErr_Clear();
        return NULL;
    }
    Py_DECREF(capsule);                      /* the thread-state dict holds it */
    return slot->ctx;
}

/* Forget this thread's context (after a failed call: its state is not trusted). */
static void ta_evp_thread_ctx_drop(const ta_evp *e) {
    PyObject *dict;
    ta_evp_slot *slot = ta_evp_thread_slot(e, &dict);
    if (slot != NULL && slot->ctx != NULL) {
        slot->ctx_free(slot->ctx);
        slot->ctx = NULL;
    }
}

/* The ticket digest into out (e->size bytes):

       inner = H(head + secret + fields')     fields' = fields with fields[bang1] and
                                              fields[bang2] set to NUL (when bang1 >= 0)
       out   = H(inner + secret)              inner as raw bytes, or as lowercase hex text
                                              when hex_inner (mod_auth_tkt)

   Each message is gathered into one stack buffer when it fits (one EVP_DigestUpdate: each
   call costs about as much as hashing 60 bytes), else fed in pieces. Returns 1 on success,
   0 when an OpenSSL call failed (the error queue is then cleared and the caller computes the
   digest with hashlib instead). 0 <= bang1 < bang2 < fields_len when bang1 >= 0. */
static int ta_evp_nested(const ta_evp *e, const unsigned char *head, size_t head_len,
                         const unsigned char *secret, size_t secret_len,
                         const unsigned char *fields, size_t fields_len,
                         ptrdiff_t bang1, ptrdiff_t bang2, int hex_inner, unsigned char *out) {
    static const char hex[16] = {'0','1','2','3','4','5','6','7','8','9','a','b','c','d','e','f'};
    static const unsigned char nul = 0;
    unsigned char buf[TA_EVP_STACK];     /* >= 2 * TA_EVP_MAX_MD: the inner digest always fits */
    unsigned int n = 0, m = 0;
    size_t size = (size_t)e->size, inner_len, used = 0, i;
    int ok;
    ta_evp_ctx *ctx;

    if (e->md == NULL) {
        return 0;
    }
    ctx = ta_evp_thread_ctx(e);
    if (ctx == NULL) {
        e->clear_error();
        return 0;
    }
    ok = e->init(ctx, e->md, NULL) == 1;
    if (ok && head_len <= TA_EVP_STACK && secret_len <= TA_EVP_STACK - head_len
        && fields_len <= TA_EVP_STACK - head_len - secret_len) {
        memcpy(buf, head, head_len);
        memcpy(buf + head_len, secret, secret_len);
        memcpy(buf + head_len + secret_len, fields, fields_len);
        used = head_len + secret_len + fields_len;
        if (bang1 >= 0) {
            buf[head_len + secret_len + (size_t)bang1] = 0;
            buf[head_len + secret_len + (size_t)bang2] = 0;
        }
        ok = e->update(ctx, buf, used) == 1;
    } else if (ok) {
        ok = e->update(ctx, head, head_len) == 1 && e->update(ctx, secret, secret_len) == 1;
        if (ok && bang1 >= 0) {
            ok = e->update(ctx, fields, (size_t)bang1) == 1 && e->update(ctx, &nul, 1) == 1
                 && e->update(ctx, fields + bang1 + 1, (size_t)(bang2 - bang1 - 1)) == 1
                 && e->update(ctx, &nul, 1) == 1
                 && e->update(ctx, fields + bang2 + 1, fields_len - (size_t)bang2 - 1) == 1;
        } else if (ok) {
            ok = e->update(ctx, fields, fields_len) == 1;
        }
    }
    ok = ok && e->final(ctx, buf, &n) == 1 && n == size;
    if (ok && hex_inner) {
        for (i = size; i-- > 0;) {          /* back to front: buf[i] is read before it is overwritten */
            unsigned char byte = buf[i];
            buf[2 * i] = (unsigned char)hex[byte >> 4];
            buf[2 * i + 1] = (unsigned char)hex[byte & 0x0F];
        }
    }
    inner_len = hex_inner ? 2 * size : size;
    if (used < inner_len) {
        used = inner_len;
    }
    ok = ok && e->init(ctx, e->md, NULL) == 1;
    if (ok && secret_len <= TA_EVP_STACK - inner_len) {
        memcpy(buf + inner_len, secret, secret_len);
        if (used < inner_len + secret_len) {
            used = inner_len + secret_len;
        }
        ok = e->update(ctx, buf, inner_len + secret_len) == 1;
    } else if (ok) {
        ok = e->update(ctx, buf, inner_len) == 1 && e->update(ctx, secret, secret_len) == 1;
    }
    ok = ok && e->final(ctx, out, &m) == 1 && m == size;
    ta_evp_wipe(buf, used);                  /* the secret and the inner digest */
    if (!ok) {
        ta_evp_thread_ctx_drop(e);
        e->clear_error();
    }
    return ok;
}

#endif /* TA_EVP_H */
