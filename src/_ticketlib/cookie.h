/* Byte classes of a cookie value, eight bytes at a time (SWAR: plain 64-bit arithmetic, no
   vector instructions, so the same on every platform).

   Part of the compiled core of ticket_auth (src/_ticketcore.pyx includes it; guard.pxi uses
   it). Each test says whether ANY byte of a 64-bit word has a property, exactly: the formulas
   (Hacker's Delight 6-1; "haszero"/"hasless" of the Stanford bit hacks) give no false
   positive when asked as a yes/no question. Words are read with memcpy, so any alignment is
   fine, and only bytes inside [p, p + n) are read. */
#ifndef TICKET_AUTH_COOKIE_H
#define TICKET_AUTH_COOKIE_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

#define TA_ONES UINT64_C(0x0101010101010101)
#define TA_HIGHS UINT64_C(0x8080808080808080)

/* Some byte of x is zero. */
static inline uint64_t ta_has_zero(uint64_t x) { return (x - TA_ONES) & ~x & TA_HIGHS; }

/* Some byte of x is below n (0 < n <= 128), when no byte of x is 0x80 or more; the callers
   refuse such bytes by another test, so a word holding one is refused either way. */
static inline uint64_t ta_has_less(uint64_t x, unsigned n) { return (x - TA_ONES * n) & ~x & TA_HIGHS; }

/* Some byte of x equals c. */
static inline uint64_t ta_has_byte(uint64_t x, unsigned char c) { return ta_has_zero(x ^ (TA_ONES * c)); }

/* p[0:n] is quoted-string text: every byte printable ASCII (0x20..0x7E) and none of '"', ','
   or ';'. (The caller splits the text at backslashes.) */
static inline int ta_quoted_text(const unsigned char *p, Py_ssize_t n) {
    Py_ssize_t i = 0;
    uint64_t bad = 0, x;
    for (; i + 8 <= n; i += 8) {
        memcpy(&x, p + i, 8);
        bad |= (x & TA_HIGHS) | ta_has_less(x, 0x20) | ta_has_byte(x, 0x7F) | ta_has_byte(x, '"') |
               ta_has_byte(x, ',') | ta_has_byte(x, ';');
    }
    for (; i < n; i++) {
        unsigned char c = p[i];
        bad |= (uint64_t)((c < 0x20) | (c > 0x7E) | (c == '"') | (c == ',') | (c == ';'));
    }
    return bad == 0;
}

/* A bare value p[0:n]: -1 if some byte is a control (below 0x20, or 0x7F), else 1 if some
   byte is 0x80 or more, else 0 (all printable ASCII). */
static inline int ta_bare_class(const unsigned char *p, Py_ssize_t n) {
    Py_ssize_t i = 0;
    uint64_t high = 0, x, low;
    for (; i + 8 <= n; i += 8) {
        memcpy(&x, p + i, 8);
        high |= x & TA_HIGHS;
        /* The control test on the bytes below 0x80 only: clear each high bit first, so that a
           byte 0x80..0x9F does not read as 0x00..0x1F (the high bytes are then 0x00..0x7F and a
           clear byte is tested only where the original byte was below 0x80). */
        low = x & ~TA_HIGHS;
        if ((ta_has_less(low, 0x20) | ta_has_byte(low, 0x7F)) != 0) {
            Py_ssize_t k;
            for (k = 0; k < 8; k++) {    /* exactly, byte by byte, for this word */
                unsigned char c = p[i + k];
                if (c < 0x20 || c == 0x7F) return -1;
            }
        }
    }
    for (; i < n; i++) {
        unsigned char c = p[i];
        if (c < 0x20 || c == 0x7F) return -1;
        high |= c & 0x80;
    }
    return high != 0;
}

#endif /* TICKET_AUTH_COOKIE_H */
