/*
 * crc32.c: the CRC-32 of IEEE 802.3 (reflected polynomial 0xEDB88320, initial value and
 * final XOR 0xFFFFFFFF; "CRC-32/ISO-HDLC" in the Williams/Greg Cook catalogue) over a
 * generated buffer, computed table-driven, one byte per step. Checked against
 *   - a bitwise implementation that needs no table,
 *   - the catalogue's check value CRC("123456789") = 0xCBF43926, for both,
 *   - the table itself at two known entries (T[1] = 0x77073096, T[128] = 0xEDB88320),
 *   - linearity of the running state: the buffer in two pieces gives the same CRC,
 *   - the residue: the CRC of the buffer followed by its CRC (little endian) is the
 *     constant 0x2144DF1C for every message.
 * arg[0]: buffer size in KiB (default 6); arg[1]: rounds, each over a fresh buffer
 * (default 1).
 */
#include "workload.h"

#define POLY 0xEDB88320u
#define CHECK_INPUT "123456789"
#define CHECK_VALUE 0xCBF43926u
#define RESIDUE 0x2144DF1Cu
#define DEFAULT_KIB 6

const char workload_name[] = "crc32";

static uint32_t table[256];

static void make_table(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
        table[n] = c;
    }
}

/* The running (pre-inversion) state after `len` more bytes, by table. */
static uint32_t crc_table_update(uint32_t state, const uint8_t *p, size_t len)
{
    while (len--)
        state = table[(state ^ *p++) & 0xff] ^ (state >> 8);
    return state;
}

static uint32_t crc_table(const uint8_t *p, size_t len)
{
    return ~crc_table_update(0xFFFFFFFFu, p, len);
}

/* The same CRC one bit at a time, with the polynomial as a mask, no table. */
static uint32_t crc_bitwise(const uint8_t *p, size_t len)
{
    uint32_t c = 0xFFFFFFFFu;
    while (len--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (POLY & -(c & 1));
    }
    return ~c;
}

static void fill(uint8_t *buf, size_t len, uint64_t *seed)
{
    for (size_t i = 0; i < len; i += 8) {
        uint64_t r = wl_rand(seed);
        for (size_t k = 0; k < 8 && i + k < len; k++)
            buf[i + k] = (uint8_t)(r >> (8 * k));
    }
}

static void check_known(void)
{
    const uint8_t *msg = (const uint8_t *)CHECK_INPUT;
    size_t n = sizeof CHECK_INPUT - 1;
    wl_check(table[1] == 0x77073096u && table[128] == POLY, "table entries 0x%08x 0x%08x",
             table[1], table[128]);
    wl_check(crc_table(msg, n) == CHECK_VALUE, "table check value 0x%08x",
             crc_table(msg, n));
    wl_check(crc_bitwise(msg, n) == CHECK_VALUE, "bitwise check value 0x%08x",
             crc_bitwise(msg, n));
}

/* One round over `len` bytes (the buffer has 4 spare bytes for the residue test). */
static uint32_t round_crc(uint8_t *buf, size_t len, uint64_t *seed, unsigned r)
{
    fill(buf, len, seed);
    uint32_t fast = crc_table(buf, len);
    uint32_t slow = crc_bitwise(buf, len);
    size_t cut = len / 3;
    uint32_t split = ~crc_table_update(crc_table_update(0xFFFFFFFFu, buf, cut), buf + cut,
                                       len - cut);
    for (int k = 0; k < 4; k++)
        buf[len + k] = (uint8_t)(fast >> (8 * k));
    uint32_t residue = crc_table(buf, len + 4);
    wl_check(fast == slow, "round %u: table 0x%08x, bitwise 0x%08x", r, fast, slow);
    wl_check(split == fast, "round %u: split 0x%08x, whole 0x%08x", r, split, fast);
    wl_check(residue == RESIDUE, "round %u: residue 0x%08x", r, residue);
    wl_print("round %u: %lu bytes, crc 0x%08x", r, (unsigned long)len, fast);
    return fast;
}

int workload_run(const struct wl_env *env)
{
    size_t len = wl_arg(env, 0, DEFAULT_KIB) << 10;
    unsigned rounds = (unsigned)wl_arg(env, 1, 1);
    uint8_t *buf = wl_alloc(len + 4);
    if (wl_check(buf != NULL, "%lu KiB buffer does not fit", (unsigned long)(len >> 10)))
        return 1;
    make_table();
    check_known();
    uint64_t seed = 0x243F6A8885A308D3ull;
    uint32_t folded = 0;
    for (unsigned r = 0; r < rounds; r++)
        folded ^= round_crc(buf, len, &seed, r);
    wl_print("%u rounds, folded crc 0x%08x", rounds, folded);
    return 0;
}
