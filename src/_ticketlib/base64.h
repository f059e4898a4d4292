/* Standard base64 (A-Z a-z 0-9 + /, '=' padding) for mod_auth_tkt cookie values: the strict
   shape check of the text, decoding and encoding.

   Part of the compiled core of ticket_auth (src/_ticketcore.pyx includes it). */
#ifndef TICKET_AUTH_BASE64_H
#define TICKET_AUTH_BASE64_H

#include <Python.h>

/* The value of a base64 character, 255 for any other byte. */
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

static const char ta_b64_alphabet[65] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

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

/* Encode src[0:n] with padding into out, exactly 4 * ((n + 2) / 3) bytes. */
static void ta_b64_encode(const unsigned char *src, Py_ssize_t n, unsigned char *out) {
    Py_ssize_t i;
    unsigned long group;
    for (i = 0; i < n; i += 3, out += 4) {  /* out[3] is within 4 * (i / 3 + 1) <= the size */
        group = (unsigned long)src[i] << 16;
        if (i + 1 < n) group |= (unsigned long)src[i + 1] << 8;
        if (i + 2 < n) group |= src[i + 2];
        out[0] = (unsigned char)ta_b64_alphabet[(group >> 18) & 63];
        out[1] = (unsigned char)ta_b64_alphabet[(group >> 12) & 63];
        out[2] = i + 1 < n ? (unsigned char)ta_b64_alphabet[(group >> 6) & 63] : '=';
        out[3] = i + 2 < n ? (unsigned char)ta_b64_alphabet[group & 63] : '=';
    }
}

#endif /* TICKET_AUTH_BASE64_H */
