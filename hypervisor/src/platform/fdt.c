/*
 * fdt.c: what the hypervisor needs from the flattened devicetree passed in a1
 * (Devicetree Specification v0.4, chapter 5): RAM (/memory reg), the console
 * (compatible "ns16550a"), the test finisher ("sifive,test0") and the timebase
 * (/cpus timebase-frequency). Addresses use #address-cells = #size-cells = 2, as
 * on the model, Spike and QEMU virt.
 */
#include "hv.h"

#define FDT_MAGIC      0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE   2u
#define FDT_PROP       3u
#define FDT_NOP        4u
#define FDT_END        9u

static uint32_t be32(const void *p)
{
    const uint8_t *b = p;
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static uint64_t be64(const void *p)
{
    return ((uint64_t)be32(p) << 32) | be32((const uint8_t *)p + 4);
}

/** Whether the string list `val` (length `len`) contains `want`. */
static int has_string(const char *val, uint32_t len, const char *want)
{
    for (uint32_t i = 0; i < len;) {
        if (!hv_strcmp(val + i, want))
            return 1;
        while (i < len && val[i])
            i++;
        i++;
    }
    return 0;
}

static int prefix(const char *s, const char *p)
{
    while (*p)
        if (*s++ != *p++)
            return 0;
    return *s == 0 || *s == '@';
}

struct node_facts {
    const uint8_t *reg;
    uint32_t reg_len;
    int uart, finisher, memory, cpus;
};

static void apply(const struct node_facts *n, struct platform *p)
{
    if (!n->reg || n->reg_len < 16)
        return;
    if (n->memory && !p->ram_size)
        p->ram_base = be64(n->reg), p->ram_size = be64(n->reg + 8);
    if (n->uart && !p->uart_base)
        p->uart_base = be64(n->reg);
    if (n->finisher && !p->finisher_base)
        p->finisher_base = be64(n->reg);
}

/** Fill `p` from the DTB; returns 0, or -1 when the blob is not a DTB. */
int fdt_parse(const void *dtb, struct platform *p)
{
    const uint8_t *base = dtb;
    if (!dtb || be32(base) != FDT_MAGIC)
        return -1;
    const uint8_t *s = base + be32(base + 8);
    const uint8_t *end = s + be32(base + 36);
    const char *strings = (const char *)base + be32(base + 12);
    struct node_facts stack[8];
    int depth = -1;
    while (s < end) {
        uint32_t tok = be32(s);
        s += 4;
        if (tok == FDT_BEGIN_NODE) {
            const char *name = (const char *)s;
            uint32_t n = 0;
            while (name[n])
                n++;
            s += (n + 4) & ~3u;
            if (++depth >= 8)
                return -1;
            hv_memset(&stack[depth], 0, sizeof stack[depth]);
            stack[depth].memory = prefix(name, "memory");
            stack[depth].cpus = depth == 1 && prefix(name, "cpus");
        } else if (tok == FDT_END_NODE) {
            if (depth < 0)
                return -1;
            apply(&stack[depth--], p);
        } else if (tok == FDT_PROP) {
            uint32_t len = be32(s), off = be32(s + 4);
            const uint8_t *val = s + 8;
            const char *pname = strings + off;
            s += 8 + ((len + 3) & ~3u);
            if (depth < 0)
                return -1;
            struct node_facts *n = &stack[depth];
            if (!hv_strcmp(pname, "reg"))
                n->reg = val, n->reg_len = len;
            else if (!hv_strcmp(pname, "compatible")) {
                n->uart |= has_string((const char *)val, len, "ns16550a");
                n->finisher |= has_string((const char *)val, len, "sifive,test0");
            } else if (!hv_strcmp(pname, "device_type"))
                n->memory |= has_string((const char *)val, len, "memory");
            else if (n->cpus && !hv_strcmp(pname, "timebase-frequency"))
                p->timebase_hz = len == 8 ? be64(val) : be32(val);
        } else if (tok == FDT_END) {
            break;
        } else if (tok != FDT_NOP) {
            return -1;
        }
    }
    return 0;
}
