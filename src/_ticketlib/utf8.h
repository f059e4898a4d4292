/* Strict UTF-8 validation (Unicode Table 3-7: exactly what Python's strict decoder accepts),
   of plain bytes or of the bytes that canonical %XX-quoted text stands for.

   Part of the compiled core of ticket_auth (src/_ticketcore.pyx includes it). */
#ifndef TICKET_AUTH_UTF8_H
#define TICKET_AUTH_UTF8_H

#include <Python.h>

/* The byte at p[*i] of canonical quoted text, read through a %XX escape; advances *i.
   Canonical means every '%' is followed by two uppercase hex digits inside the range. */
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

/* The canonical quoted text p[i:end] unquotes to well-formed UTF-8. */
static int ta_quoted_utf8_valid(const unsigned char *p, Py_ssize_t i, Py_ssize_t end) {
    return ta_utf8_check(p, i, end, 1);
}

/* The plain bytes p[0:n] are well-formed UTF-8. */
static int ta_utf8_valid(const unsigned char *p, Py_ssize_t n) {
    return ta_utf8_check(p, 0, n, 0);
}

#endif /* TICKET_AUTH_UTF8_H */
