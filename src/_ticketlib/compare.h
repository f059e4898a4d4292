/* Constant-time comparison of two digests.

   Part of the compiled core of ticket_auth (src/_ticketcore.pyx includes it). */
#ifndef TICKET_AUTH_COMPARE_H
#define TICKET_AUTH_COMPARE_H

#include <Python.h>

/* a[0:n] == b[0:n], in constant time in the position of the first difference: every byte
   is read, and the volatile accumulator keeps the compiler from turning the loop into an
   early exit. */
static int ta_equal_ct(const unsigned char *a, const unsigned char *b, Py_ssize_t n) {
    volatile unsigned char acc = 0;
    Py_ssize_t i;
    for (i = 0; i < n; i++) {
        acc |= (unsigned char)(a[i] ^ b[i]);
    }
    return acc == 0;
}

#endif /* TICKET_AUTH_COMPARE_H */
