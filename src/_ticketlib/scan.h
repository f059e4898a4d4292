/* Character classes and hex of both ticket formats: the byte tables, the run of characters
   urllib.parse.quote leaves alone (SIMD where the CPU has it), and the hex header
   DIGEST TIME that both formats start with.

   Part of the compiled core of ticket_auth (src/_ticketcore.pyx includes it). Every function
   reads only the bytes its arguments say it may. */
#ifndef TICKET_AUTH_SCAN_H
#define TICKET_AUTH_SCAN_H

#include <Python.h>

/* Character classes of the 0.1.4 format, indexed by byte value:
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

/* The hex header of both formats: DIGEST (2 * digest_size lowercase hex digits), then TIME
   (8 lowercase hex digits, a 32-bit number of seconds). */
enum { TA_HEADER_OK = 0, TA_HEADER_BAD_DIGEST = 1, TA_HEADER_BAD_TIME = 2 };

/* Decode the header at p (the caller checked that p holds 2 * digest_size + 8 bytes) into
   digest[0:digest_size] and *time. Returns TA_HEADER_OK, or which part is not lowercase hex
   (DIGEST is checked first). */
static int ta_read_header(const unsigned char *p, Py_ssize_t digest_size, unsigned char *digest,
                          unsigned long *time) {
    Py_ssize_t i, hex_len = 2 * digest_size;
    unsigned char hi, lo;
    unsigned int bad = 0;
    unsigned long value = 0;
    for (i = 0; i < digest_size; i++) {        /* 2 * i + 1 < hex_len */
        hi = ta_lower_hex_value[p[2 * i]];
        lo = ta_lower_hex_value[p[2 * i + 1]];
        bad |= hi | lo;                        /* 0xF0 bits set for anything but [0-9a-f] */
        digest[i] = (unsigned char)((hi << 4) | (lo & 0x0F));
    }
    if (bad & 0xF0) return TA_HEADER_BAD_DIGEST;
    for (i = hex_len; i < hex_len + 8; i++) {
        hi = ta_lower_hex_value[p[i]];
        bad |= hi;
        value = (value << 4) | (hi & 0x0F);
    }
    if (bad & 0xF0) return TA_HEADER_BAD_TIME;
    *time = value;
    return TA_HEADER_OK;
}

/* Write the header of digest[0:digest_size] and time (< 2**32) to d[0:2 * digest_size + 8]. */
static void ta_write_header(unsigned char *d, const unsigned char *digest, Py_ssize_t digest_size,
                            unsigned long time) {
    Py_ssize_t i;
    for (i = 0; i < digest_size; i++) {
        d[2 * i] = (unsigned char)ta_hex_lower[digest[i] >> 4];
        d[2 * i + 1] = (unsigned char)ta_hex_lower[digest[i] & 0x0F];
    }
    d += 2 * digest_size;
    for (i = 0; i < 8; i++) {
        d[i] = (unsigned char)ta_hex_lower[(time >> (28 - 4 * i)) & 0x0F];
    }
}

#endif /* TICKET_AUTH_SCAN_H */
