/*
 * smc.c: self-modifying code (unprivileged spec chapter "Zifencei": a store to
 * instruction memory is seen by instruction fetches on the same hart only after
 * FENCE.I; SBI spec v2.0 8.1 remote_fence_i does the same for a hart mask).
 *
 * 1. A tiny JIT: PROGRAMS pseudo-random straight-line functions of a0 and a1 (RV64I,
 *    M and C instructions) are written over the same buffer, each at a different
 *    offset near a 4 KiB page boundary so that 32-bit instructions sit at 2-byte
 *    alignment and straddle the page; each runs after FENCE.I and must equal an
 *    interpreter of the same program. The buffer is overwritten code every time.
 * 2. A block that stores a new instruction into itself, executes FENCE.I and then the
 *    patched instruction (twice, with different patches): strict.
 * 3. Its own .text: the first instruction of smc_patchme is rewritten, made visible by
 *    FENCE.I or by SBI remote_fence_i: strict; without any fence the old or the new
 *    instruction may run (both are allowed, so only "old or new" is checked).
 * The transcript holds only checksums and pass/fail, the same on every platform.
 */
#include "klib.h"

#define PROGRAMS 192
#define MAX_OPS 12
#define PAGE 4096u
#define REG_A0 10u
#define REG_A1 11u
#define REG_A2 12u
#define OP_IMM 0x13u
#define OP_REG 0x33u
#define INSN_FENCE_I 0x0000100Fu
#define INSN_NOP 0x00000013u
#define INSN_RET 0x00008067u
#define INSN_C_RET 0x8082u
#define INSN_C_NOP 0x0001u

enum op { ADDI, XORI, SLLI, ADD, SUB, MUL, C_ADDI, C_SLLI, C_ADD, C_XOR, NOPS };

struct insn_op {
    enum op op;
    int64_t imm;
};

typedef uint64_t (*jit_fn)(uint64_t a0, uint64_t a1);

static uint8_t jit_buf[3 * PAGE] __attribute__((aligned(4096)));
static uint32_t block[8] __attribute__((aligned(16)));
static uint64_t rng = 0x5eed5eed12345678ull;

extern uint64_t smc_patchme(void);
__asm__(".text\n"
        ".option push\n"
        ".option norvc\n"
        ".balign 4\n"
        ".globl smc_patchme\n"
        "smc_patchme:\n"
        "    addi a0, zero, 1\n"
        "    ret\n"
        ".option pop\n");

static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void fence_i(void) { __asm__ volatile("fence.i" ::: "memory"); }

static uint32_t i_type(uint32_t funct3, uint32_t rd, uint32_t rs1, int32_t imm)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | funct3 << 12 | rd << 7 | OP_IMM;
}

static uint32_t s_type(uint32_t funct3, uint32_t rs1, uint32_t rs2, int32_t imm)
{
    uint32_t u = (uint32_t)imm & 0xfff;
    return (u >> 5) << 25 | rs2 << 20 | rs1 << 15 | funct3 << 12 | (u & 31) << 7 | 0x23;
}

static uint32_t r_type(uint32_t funct7, uint32_t rd, uint32_t rs1, uint32_t rs2)
{
    return funct7 << 25 | rs2 << 20 | rs1 << 15 | rd << 7 | OP_REG;
}

/* The encoding of `o` on a0 (second operand a1); 16-bit ones in the low half. */
static uint32_t encode(struct insn_op o)
{
    uint32_t imm = (uint32_t)o.imm;
    switch (o.op) {
    case ADDI: return i_type(0, REG_A0, REG_A0, (int32_t)o.imm);
    case XORI: return i_type(4, REG_A0, REG_A0, (int32_t)o.imm);
    case SLLI: return i_type(1, REG_A0, REG_A0, (int32_t)(imm & 63));
    case ADD: return r_type(0x00, REG_A0, REG_A0, REG_A1);
    case SUB: return r_type(0x20, REG_A0, REG_A0, REG_A1);
    case MUL: return r_type(0x01, REG_A0, REG_A0, REG_A1);
    case C_ADDI: return ((imm >> 5) & 1) << 12 | REG_A0 << 7 | (imm & 31) << 2 | 1;
    case C_SLLI: return ((imm >> 5) & 1) << 12 | REG_A0 << 7 | (imm & 31) << 2 | 2;
    case C_ADD: return 0x9002u | REG_A0 << 7 | REG_A1 << 2;
    case C_XOR: return 0x8C21u | (REG_A0 - 8) << 7 | (REG_A1 - 8) << 2;
    default: return INSN_NOP;
    }
}

static int is_compressed(enum op op) { return op >= C_ADDI; }

/* What `o` does to a0: the reference the generated code must match. */
static uint64_t interpret(struct insn_op o, uint64_t a0, uint64_t a1)
{
    switch (o.op) {
    case ADDI: case C_ADDI: return a0 + (uint64_t)o.imm;
    case XORI: return a0 ^ (uint64_t)o.imm;
    case SLLI: case C_SLLI: return a0 << (o.imm & 63);
    case ADD: case C_ADD: return a0 + a1;
    case SUB: return a0 - a1;
    case MUL: return a0 * a1;
    case C_XOR: return a0 ^ a1;
    default: return a0;
    }
}

static struct insn_op random_op(void)
{
    struct insn_op o = { (enum op)(xorshift() % NOPS), 0 };
    if (o.op == ADDI || o.op == XORI)
        o.imm = (int64_t)(xorshift() % 4096) - 2048;
    else if (o.op == SLLI)
        o.imm = (int64_t)(xorshift() % 64);
    else if (o.op == C_ADDI)
        o.imm = (int64_t)(xorshift() % 31) + 1 - ((xorshift() & 1) ? 32 : 0);
    else if (o.op == C_SLLI)
        o.imm = (int64_t)(xorshift() % 63) + 1;
    return o;
}

static uint8_t *emit16(uint8_t *p, uint32_t h)
{
    p[0] = (uint8_t)h;
    p[1] = (uint8_t)(h >> 8);
    return p + 2;
}

static uint8_t *emit(uint8_t *p, uint32_t insn, int compressed)
{
    p = emit16(p, insn & 0xffff);
    return compressed ? p : emit16(p, insn >> 16);
}

/* Write and run program k; 0 when it agrees with the interpreter. */
static int jit_one(unsigned k, uint64_t *sum)
{
    struct insn_op ops[MAX_OPS];
    unsigned n = 1 + (unsigned)(xorshift() % MAX_OPS);
    uint8_t *start = jit_buf + PAGE + PAGE - 2 * (k % 24), *p = start;
    if (k & 1)
        p = emit16(p, INSN_C_NOP);
    for (unsigned i = 0; i < n; i++) {
        ops[i] = random_op();
        p = emit(p, encode(ops[i]), is_compressed(ops[i].op));
    }
    p = (k & 2) ? emit16(p, INSN_C_RET) : emit(p, INSN_RET, 0);
    fence_i();
    uint64_t a0 = xorshift(), a1 = xorshift(), want = a0;
    for (unsigned i = 0; i < n; i++)
        want = interpret(ops[i], want, a1);
    uint64_t got = ((jit_fn)(uintptr_t)start)(a0, a1);
    *sum = (*sum << 5 | *sum >> 59) ^ got;
    if (got != want) {
        kprintf("smc: FAIL: program %u (%u ops) gave 0x%lx, want 0x%lx\n", k, n, got, want);
        return -1;
    }
    return 0;
}

static int jit_test(void)
{
    uint64_t sum = 0;
    for (unsigned k = 0; k < PROGRAMS; k++)
        if (jit_one(k, &sum))
            return -1;
    kprintf("smc: jit: %u programs rewritten in place and run, checksum 0x%016lx\n", PROGRAMS,
            sum);
    return 0;
}

/* The self-patching block: stores a2 (an instruction) over its own word 3, then
 * (fence.i or nop), then runs word 3 on a0 = 0 and returns. */
static uint64_t run_block(uint32_t patch, uint32_t old, int with_fence)
{
    block[0] = s_type(2, REG_A1, REG_A2, 12);  /* sw a2, 12(a1) */
    block[1] = with_fence ? INSN_FENCE_I : INSN_NOP;
    block[2] = i_type(0, REG_A0, 0, 0);         /* li a0, 0 */
    block[3] = old;
    block[4] = INSN_RET;
    fence_i();
    uint64_t r;
    __asm__ volatile("mv a1, %1\n"
                     "mv a2, %2\n"
                     "jalr ra, 0(%1)\n"
                     "mv %0, a0\n"
                     : "=r"(r)
                     : "r"((uintptr_t)block), "r"((uint64_t)patch)
                     : "ra", "a0", "a1", "a2", "memory");
    return r;
}

static int block_test(void)
{
    uint32_t old = i_type(0, REG_A0, REG_A0, 1);
    static const int patches[] = { 100, 7, -5 };
    for (unsigned i = 0; i < sizeof patches / sizeof patches[0]; i++) {
        uint64_t got = run_block(i_type(0, REG_A0, REG_A0, patches[i]), old, 1);
        if (got != (uint64_t)(int64_t)patches[i]) {
            kprintf("smc: FAIL: self-patching block %u gave %ld, want %d\n", i, (long)got,
                    patches[i]);
            return -1;
        }
    }
    uint64_t loose = run_block(i_type(0, REG_A0, REG_A0, 42), old, 0);
    if (loose != 1 && loose != 42) {
        kprintf("smc: FAIL: block patched without fence.i gave %ld, neither old nor new\n",
                (long)loose);
        return -1;
    }
    kprintf("smc: self-patching block: 3 patches seen after fence.i; without it old or new\n");
    return 0;
}

static void patch_text(int value)
{
    *(volatile uint32_t *)(uintptr_t)smc_patchme = i_type(0, REG_A0, 0, value);
}

static int text_test(void)
{
    uint64_t first = smc_patchme();
    patch_text(2);
    fence_i();
    uint64_t after_fence = smc_patchme();
    patch_text(3);
    uint64_t loose = smc_patchme();
    fence_i();
    uint64_t after_loose = smc_patchme();
    patch_text(4);
    struct sbiret r = sbi_remote_fence_i(1, 0);
    uint64_t after_sbi = smc_patchme();
    if (first != 1 || after_fence != 2 || (loose != 2 && loose != 3) || after_loose != 3
        || r.error || after_sbi != 4) {
        kprintf("smc: FAIL: .text patch: %lu %lu %lu %lu %lu (sbi %ld), want 1 2 2|3 3 4 (0)\n",
                first, after_fence, loose, after_loose, after_sbi, r.error);
        return -1;
    }
    kprintf("smc: own .text patched: seen after fence.i and after SBI remote_fence_i\n");
    return 0;
}

int kmain(void)
{
    console_select(CONSOLE_DBCN);
    kprintf("smc: self-modifying code\n");
    if (jit_test() || block_test() || text_test())
        return 1;
    kprintf("smc: PASS\n");
    return 0;
}
