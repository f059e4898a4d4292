/* The OpenSSL hash path of the compiled core (see hashing.pxi), and the word-wise
   constant-time compare.

   The digests are computed with the EVP functions of the libcrypto that Python's own
   _hashlib module is linked to: the symbols are looked up at run time through _hashlib
   (dlopen of its file with RTLD_NOLOAD, then dlsym, which searches the object and its
   dependencies). Nothing is linked or bundled at build time and no OpenSSL header is needed,
   so the algorithms, providers and FIPS policy are exactly hashlib's. Whatever is in doubt
   makes ta_evp_open fail, and the factory then keeps hashlib:

   * no dlopen (Windows), _hashlib not found or not already loaded, a symbol missing (an
     OpenSSL older than 1.1, or one linked statically into _hashlib without exporting it);
   * the algorithm cannot be fetched (unknown name, refused by the FIPS provider);
   * its digest size differs from hashlib's or exceeds TA_EVP_MAX_MD (EVP_MAX_MD_SIZE).

   The caller then compares both paths on fixed inputs (the known-answer test in
   hashing.pxi) before using this one.

   State: a ta_evp is filled once by ta_evp_open (in the factory's __init__) and then only
   read. Each thread keeps one EVP_MD_CTX for its digest calls (a pthread key created once,
   whose destructor frees the context when the thread exits): allocating and freeing a
   context on every call cost about 3.5 % of a validate and 5 % of a new. Nothing else is
   global. */

#ifndef TA_EVP_H
#define TA_EVP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TA_EVP_MAX_MD 64 /* EVP_MAX_MD_SIZE */

#if !defined(_WIN32) && !defined(__CYGWIN__)
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#define TA_EVP_DLOPEN 1
#endif

/* The OpenSSL types are opaque: only pointers to them are passed around. */
typedef struct ta_evp_md ta_evp_md;
typedef struct ta_evp_ctx ta_evp_ctx;

typedef struct ta_evp {
    void *library;          /* dlopen handle of _hashlib (keeps libcrypto loaded), or NULL */
    const ta_evp_md *md;    /* the algorithm, NULL when this path is not in use */
    ta_evp_md *fetched;     /* md when it must be freed (OpenSSL 3 EVP_MD_fetch), else NULL */
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
#if defined(TA_EVP_DLOPEN)
    if (e->library != NULL) {
        dlclose(e->library);
    }
#endif
    e->library = NULL;
}

/* Fill e for the OpenSSL algorithm `name` (e.g. "SHA512"), using the libcrypto that the
   shared object at `library_path` (_hashlib's file) is linked to. Returns 1 when this path
   can be used, 0 when not (e is then left closed, md == NULL). Never raises, never leaves an
   OpenSSL error behind. */
static int ta_evp_open(ta_evp *e, const char *library_path, const char *name, int expected_size) {
    memset(e, 0, sizeof(*e));
#if defined(TA_EVP_DLOPEN)
    {
        typedef ta_evp_md *(*fetch_fn)(void *, const char *, const char *);
        typedef const ta_evp_md *(*byname_fn)(const char *);
        typedef int (*size_fn)(const ta_evp_md *);
        typedef int (*mark_fn)(void);
        void *handle;
        fetch_fn fetch;
        byname_fn byname;
        size_fn md_size;
        mark_fn set_mark, pop_to_mark;
        const ta_evp_md *md = NULL;
        int size;

        if (library_path == NULL || name == NULL) {
            return 0;
        }
        handle = dlopen(library_path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
        if (handle == NULL) {
            return 0;
        }
        e->library = handle;
        /* Function pointers from dlsym (POSIX guarantees the conversion). */
#define TA_SYM(var, type, symbol) (*(void **)(&(var)) = dlsym(handle, symbol), (var) != (type)0)
        if (!TA_SYM(e->ctx_new, ta_evp_ctx *(*)(void), "EVP_MD_CTX_new")
            || !TA_SYM(e->ctx_free, void (*)(ta_evp_ctx *), "EVP_MD_CTX_free")
            || !TA_SYM(e->init, int (*)(ta_evp_ctx *, const ta_evp_md *, void *), "EVP_DigestInit_ex")
            || !TA_SYM(e->update, int (*)(ta_evp_ctx *, const void *, size_t), "EVP_DigestUpdate")
            || !TA_SYM(e->final, int (*)(ta_evp_ctx *, unsigned char *, unsigned int *), "EVP_DigestFinal_ex")
            || !TA_SYM(e->clear_error, void (*)(void), "ERR_clear_error")
            || !TA_SYM(set_mark, mark_fn, "ERR_set_mark")
            || !TA_SYM(pop_to_mark, mark_fn, "ERR_pop_to_mark")) {
            ta_evp_close(e);
            return 0;
        }
        /* OpenSSL 3: fetch the algorithm as hashlib does (default library context, no
           properties) and free it with the factory. OpenSSL 1.1: the static table. */
        if (TA_SYM(fetch, fetch_fn, "EVP_MD_fetch")) {
            if (!TA_SYM(e->md_free, void (*)(ta_evp_md *), "EVP_MD_free")
                || !TA_SYM(md_size, size_fn, "EVP_MD_get_size")) {
                ta_evp_close(e);
                return 0;
            }
            set_mark();
            e->fetched = fetch(NULL, name, NULL);
            pop_to_mark();   /* a refused fetch leaves nothing in the error queue */
            md = e->fetched;
        } else {
            if (!TA_SYM(byname, byname_fn, "EVP_get_digestbyname")
                || !TA_SYM(md_size, size_fn, "EVP_MD_size")) {
                ta_evp_close(e);
                return 0;
            }
            e->md_free = NULL;
            md = byname(name);
        }
#undef TA_SYM
        if (md == NULL) {
            ta_evp_close(e);
            return 0;
        }
        size = md_size(md);
        if (size <= 0 || size > TA_EVP_MAX_MD || size != expected_size) {
            ta_evp_close(e);
            return 0;
        }
        e->md = md;
        e->size = size;
        return 1;
    }
#else
    (void)library_path;
    (void)name;
    (void)expected_size;
    return 0;
#endif
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

#if defined(TA_EVP_DLOPEN)
/* This thread's context, and the function that frees it (from the libcrypto that made it). */
typedef struct ta_evp_slot {
    ta_evp_ctx *ctx;
    void (*ctx_free)(ta_evp_ctx *);
} ta_evp_slot;

static pthread_key_t ta_evp_key;
static pthread_once_t ta_evp_key_once = PTHREAD_ONCE_INIT;
static int ta_evp_key_ready = 0;   /* written once, inside pthread_once */

static void ta_evp_slot_free(void *p) {
    ta_evp_slot *slot = (ta_evp_slot *)p;
    if (slot->ctx != NULL) {
        slot->ctx_free(slot->ctx);
    }
    free(slot);
}

static void ta_evp_key_create(void) {
    ta_evp_key_ready = pthread_key_create(&ta_evp_key, ta_evp_slot_free) == 0;
}

/* This thread's context for e (made on first use), or NULL when none can be had. The
   context keeps the state of the last digest it finished (as a hashlib object does until it
   is freed) and is reinitialised by the next call. */
static ta_evp_ctx *ta_evp_thread_ctx(const ta_evp *e) {
    ta_evp_slot *slot;
    if (pthread_once(&ta_evp_key_once, ta_evp_key_create) != 0 || !ta_evp_key_ready) {
        return NULL;
    }
    slot = (ta_evp_slot *)pthread_getspecific(ta_evp_key);
    if (slot != NULL && slot->ctx != NULL && slot->ctx_free == e->ctx_free) {
        return slot->ctx;
    }
    if (slot == NULL) {
        slot = (ta_evp_slot *)calloc(1, sizeof(*slot));
        if (slot == NULL) {
            return NULL;
        }
        if (pthread_setspecific(ta_evp_key, slot) != 0) {
            free(slot);
            return NULL;
        }
    }
    if (slot->ctx != NULL) {                 /* made by another libcrypto: never mixed */
        slot->ctx_free(slot->ctx);
        slot->ctx = NULL;
    }
    slot->ctx = e->ctx_new();
    slot->ctx_free = e->ctx_free;
    return slot->ctx;
}

/* Forget this thread's context (after a failed call: its state is not trusted). */
static void ta_evp_thread_ctx_drop(void) {
    ta_evp_slot *slot;
    if (!ta_evp_key_ready) {
        return;
    }
    slot = (ta_evp_slot *)pthread_getspecific(ta_evp_key);
    if (slot != NULL && slot->ctx != NULL) {
        slot->ctx_free(slot->ctx);
        slot->ctx = NULL;
    }
}
#endif

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
#if defined(TA_EVP_DLOPEN)
    ctx = ta_evp_thread_ctx(e);
#else
    ctx = NULL;
#endif
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
#if defined(TA_EVP_DLOPEN)
        ta_evp_thread_ctx_drop();
#endif
        e->clear_error();
    }
    return ok;
}

/* Constant time in the position and number of differences: a[0:n] and b[0:n] are read in
   full, eight bytes at a time (memcpy: no alignment assumed), and the accumulator passes
   through an empty asm (or a volatile) so the compiler cannot stop at the first difference. */
static int ta_equal_ct_words(const unsigned char *a, const unsigned char *b, size_t n) {
    uint64_t acc = 0, x, y;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        acc |= x ^ y;
#if defined(__GNUC__) || defined(__clang__)
        __asm__("" : "+r"(acc));
#endif
    }
    for (; i < n; i++) {
        acc |= (uint64_t)(a[i] ^ b[i]);
#if defined(__GNUC__) || defined(__clang__)
        __asm__("" : "+r"(acc));
#endif
    }
    {
        volatile uint64_t result = acc;
        return result == 0;
    }
}

#endif /* TA_EVP_H */
