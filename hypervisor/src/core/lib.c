/*
 * lib.c: the few C library functions the hypervisor needs (the compiler may also
 * call memcpy/memset for structure copies, so they carry their standard names).
 */
#include "hv.h"

void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    if ((((uintptr_t)dp | (uintptr_t)sp | n) & 7) == 0) {
        for (size_t i = 0; i < n; i += 8)
            *(uint64_t *)(dp + i) = *(const uint64_t *)(sp + i);
        return d;
    }
    while (n--)
        *dp++ = *sp++;
    return d;
}

void *memset(void *d, int c, size_t n)
{
    uint8_t *dp = d;
    if ((((uintptr_t)dp | n) & 7) == 0 && c == 0) {
        for (size_t i = 0; i < n; i += 8)
            *(uint64_t *)(dp + i) = 0;
        return d;
    }
    while (n--)
        *dp++ = (uint8_t)c;
    return d;
}

void *hv_memcpy(void *d, const void *s, size_t n) { return memcpy(d, s, n); }
void *hv_memset(void *d, int c, size_t n) { return memset(d, c, n); }

int hv_strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}
