/* Constant-time comparison of two digests.

   Part of the compiled core of ticket_auth (src/_ticketcore.pyx includes it). */
#ifndef TICKET_AUTH_COMPARE_H
#define TICKET_AUTH_COMPARE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* a[0:n] == b[0:n]. Constant time in the position and number of differences: a[0:n] and b[0:n] are read in
   full, eight bytes at a time (memcpy: no alignment assumed), and the accumulator passes
   through an empty asm (or a volatile) so the compiler cannot stop at the first difference. */
static int ta_equal_ct(const unsigned char *a, const unsigned char *b, size_t n) {
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

#endif /* TICKET_AUTH_COMPARE_H */
