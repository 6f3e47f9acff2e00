/*
 * fdt.c: the flattened device tree reader of the guest runtime (Devicetree Specification
 * v0.4 chapter 5: header 5.2, structure block tokens 5.4): the first /memory reg, the
 * /cpus timebase-frequency and the blob size.
 */
#include "klib.h"

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE 2u
#define FDT_PROP 3u
#define FDT_NOP 4u
#define FDT_END 9u

struct boot_info boot;


static uint32_t be32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint64_t cells(const uint8_t *p, uint32_t n)
{
    uint64_t v = 0;
    while (n--) {
        v = v << 32 | be32(p);
        p += 4;
    }
    return v;
}

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* The node name without its unit address ("memory@80000000" is "memory"). */
static int name_is(const char *name, const char *want)
{
    while (*want && *name == *want)
        name++, want++;
    return !*want && (!*name || *name == '@');
}

uint32_t fdt_totalsize(const void *dtb)
{
    return dtb && be32(dtb) == FDT_MAGIC ? be32((const uint8_t *)dtb + 4) : 0;
}

int fdt_parse(const void *dtb, struct boot_info *out)
{
    const uint8_t *h = dtb;
    uint32_t total = fdt_totalsize(dtb);
    if (!total)
        return -1;
    const uint8_t *p = h + be32(h + 8), *end = h + be32(h + 8) + be32(h + 36);
    const char *strs = (const char *)h + be32(h + 12);
    uint32_t addr_cells = 2, size_cells = 1;
    int depth = 0, in_memory = 0, in_cpus = 0, found = 0;
    memset(out, 0, sizeof *out);
    out->dtb_size = total;
    while (p + 4 <= end) {
        uint32_t tok = be32(p);
        p += 4;
        if (tok == FDT_BEGIN_NODE) {
            const char *name = (const char *)p;
            depth++;
            in_memory = depth == 2 && name_is(name, "memory");
            in_cpus = depth == 2 && name_is(name, "cpus");
            p += (strlen(name) + 4) & ~3ul;
        } else if (tok == FDT_END_NODE) {
            depth--;
            in_memory = in_cpus = 0;
        } else if (tok == FDT_PROP) {
            uint32_t len = be32(p), nameoff = be32(p + 4);
            const uint8_t *val = p + 8;
            const char *pname = strs + nameoff;
            if (depth == 1 && streq(pname, "#address-cells"))
                addr_cells = be32(val);
            else if (depth == 1 && streq(pname, "#size-cells"))
                size_cells = be32(val);
            else if (in_memory && !(found & 1) && streq(pname, "reg") &&
                     len >= 4 * (addr_cells + size_cells)) {
                out->mem_base = cells(val, addr_cells);
                out->mem_size = cells(val + 4 * addr_cells, size_cells);
                found |= 1;
            } else if (in_cpus && streq(pname, "timebase-frequency") && len >= 4) {
                out->timebase_hz = (uint32_t)cells(val, len >= 8 ? 2 : 1);
                found |= 2;
            }
            p += 8 + ((len + 3) & ~3u);
        } else if (tok == FDT_END) {
            break;
        } else if (tok != FDT_NOP) {
            return -1;
        }
    }
    return found == 3 ? 0 : -1;
}

int boot_init(const void *dtb) { return fdt_parse(dtb, &boot); }
