"""Small PyRTL designs that exercise the simulation harness (ARCHITECTURE.md section 2):
used by the backend-equivalence tests and the benchmark in ``docs/simulation.md``.

Each builder elaborates into the working block (reset it first) and returns it.
"""

from __future__ import annotations

import random

import pyrtl

#: Opcodes of the accumulator machine: name -> (code, meaning).
ACC_OPS = {
    "HALT": (0, "halt: the halt Output is 1, pc stays"),
    "LOAD": (1, "acc = ram[a]"),
    "ADD": (2, "acc = acc + ram[a]"),
    "STORE": (3, "ram[a] = acc"),
    "JNZ": (4, "if acc != 0: pc = a"),
    "OUT": (5, "tx_valid = 1, tx_data = acc[7:0]"),
    "WAITRX": (6, "wait until a byte was received, then acc = that byte"),
    "ADDI": (7, "acc = acc + sign-extended imm"),
    "MUL": (8, "acc = acc * ram[a] (low 64 bits)"),
    "SLTU": (9, "acc = acc < ram[a] (unsigned)"),
}


def acc_insn(op: str, a: int = 0, imm: int = 0) -> int:
    """Encode one accumulator-machine word: op[63:56] imm[55:32] a[31:0]."""
    return (ACC_OPS[op][0] << 56) | ((imm & 0xFF_FFFF) << 32) | (a & 0xFFFF_FFFF)


def accumulator_machine(addrwidth: int = 10) -> pyrtl.Block:
    """A one-instruction-per-cycle accumulator machine over a 64-bit MemBlock ``ram``.

    Inputs: ``rx_data`` (8), ``rx_valid`` (1, latches rx_data). Outputs: ``halt``,
    ``tx_valid``, ``tx_data``, the retirement record ``ret_valid``/``ret_pc``/
    ``ret_acc``, and ``mix_out`` (a 100-bit mixing register) plus ``wide_rd`` (a read of
    the 80-bit MemBlock ``wide``) so that multi-limb values are exercised.
    """
    ram = pyrtl.MemBlock(64, addrwidth, name="ram", asynchronous=True)
    wide = pyrtl.MemBlock(80, 4, name="wide", asynchronous=True)
    pc = pyrtl.Register(addrwidth, name="pc")
    acc = pyrtl.Register(64, name="acc")
    mix = pyrtl.Register(100, name="mix", reset_value=1)
    rx_full = pyrtl.Register(1, name="rx_full")
    rx_byte = pyrtl.Register(8, name="rx_byte")
    rx_data, rx_valid = pyrtl.Input(8, "rx_data"), pyrtl.Input(1, "rx_valid")

    insn = ram[pc]
    op, imm, a = insn[56:64], insn[32:56], insn[0:addrwidth]
    operand = ram[a]
    is_op = {name: op == code for name, (code, _) in ACC_OPS.items()}
    waiting = is_op["WAITRX"] & ~rx_full
    halt = is_op["HALT"]

    new_acc = pyrtl.select(is_op["LOAD"], operand, acc)
    new_acc = pyrtl.select(is_op["ADD"], (acc + operand)[:64], new_acc)
    new_acc = pyrtl.select(is_op["ADDI"], (acc + imm.sign_extended(64))[:64], new_acc)
    new_acc = pyrtl.select(is_op["MUL"], (acc * operand)[:64], new_acc)
    new_acc = pyrtl.select(is_op["SLTU"], (acc < operand).zero_extended(64), new_acc)
    new_acc = pyrtl.select(is_op["WAITRX"] & rx_full, rx_byte.zero_extended(64), new_acc)
    acc.next <<= new_acc

    seq = (pc + 1)[:addrwidth]
    taken = is_op["JNZ"] & (acc != 0)
    pc.next <<= pyrtl.select(halt | waiting, pc, pyrtl.select(taken, a, seq))

    consumed = is_op["WAITRX"] & rx_full
    rx_full.next <<= rx_valid | (rx_full & ~consumed)
    rx_byte.next <<= pyrtl.select(rx_valid, rx_data, rx_byte)

    ram[a] <<= pyrtl.MemBlock.EnabledWrite(acc, is_op["STORE"])
    mix.next <<= ((mix * 5)[:100] ^ pyrtl.concat(acc[:36], acc))[:100]
    wide[pc[:4]] <<= pyrtl.concat(acc[:16], acc)

    outs = {
        "halt": halt, "tx_valid": is_op["OUT"], "tx_data": acc[:8],
        "ret_valid": ~(halt | waiting), "ret_pc": pc, "ret_acc": new_acc,
        "mix_out": mix, "wide_rd": wide[(pc - 1)[:4]],
    }
    for name, wire in outs.items():
        out = pyrtl.Output(len(wire), name)
        out <<= wire
    return pyrtl.working_block()


def acc_program() -> list[int]:
    """A program for ``accumulator_machine``: sums 5 numbers with a loop, multiplies,
    stores results far apart, prints two bytes, echoes one received byte, and halts."""
    data, out = 200, 300
    prog = [
        acc_insn("LOAD", data + 10),       # 0: acc = counter (5)
        acc_insn("ADDI", imm=-1),          # 1: acc -= 1
        acc_insn("STORE", data + 10),      # 2: counter = acc
        acc_insn("LOAD", out),             # 3: acc = sum
        acc_insn("ADD", data),             # 4: acc += data[0]
        acc_insn("MUL", data + 1),         # 5: acc *= 3
        acc_insn("STORE", out),            # 6: sum = acc
        acc_insn("LOAD", data + 10),       # 7
        acc_insn("JNZ", 1),                # 8: loop while counter != 0
        acc_insn("LOAD", out),             # 9
        acc_insn("OUT"),                   # 10
        acc_insn("SLTU", data + 2),        # 11: acc = sum < big
        acc_insn("OUT"),                   # 12
        acc_insn("WAITRX"),                # 13
        acc_insn("OUT"),                   # 14
        acc_insn("STORE", (1 << 10) - 1),  # 15: last word of a 1K-word ram
        acc_insn("HALT"),                  # 16
    ]
    image = prog + [0] * (data - len(prog))
    image += [0x1234_5678_9ABC_DEF1, 3, 1 << 63] + [0] * 7 + [5]
    return image


def bench_machine(addrwidth: int = 21, span_log2: int = 17, extra_nets: int = 0,
                  seed: int = 1, salt: int = 0) -> pyrtl.Block:
    """Read-modify-write traffic over a large 64-bit MemBlock ``ram``.

    Each cycle an LFSR picks one of ``2**span_log2`` words (at most 2**addrwidth),
    adds the LFSR to it and writes it back; ``acc`` XORs the words read. So after
    enough cycles ``2**span_log2 * 8`` bytes are live. ``extra_nets`` adds that many
    nets of random 64-bit logic feeding a register, to grow the design. ``salt`` is
    XORed into ``acc_out``: a different salt gives a different C source (so a benchmark
    cannot hit a compiler's own cache).
    """
    ram = pyrtl.MemBlock(64, addrwidth, name="ram", asynchronous=True)
    lfsr = pyrtl.Register(32, name="lfsr", reset_value=0xACE1)
    acc = pyrtl.Register(64, name="acc")
    count = pyrtl.Register(40, name="count")
    feedback = lfsr[31] ^ lfsr[21] ^ lfsr[1] ^ lfsr[0]
    lfsr.next <<= pyrtl.concat(lfsr[:31], feedback)
    addr = (lfsr[:span_log2]).zero_extended(addrwidth)
    word = ram[addr]
    ram[addr] <<= (word + lfsr)[:64]
    acc.next <<= acc ^ word
    count.next <<= (count + 1)[:40]
    junk = _random_logic(extra_nets, [acc, word, lfsr.zero_extended(64)], seed)
    out = pyrtl.Output(64, "acc_out")
    out <<= acc ^ junk ^ pyrtl.Const(salt, 64)
    done = pyrtl.Output(1, "done")
    done <<= count == (1 << 40) - 1
    return pyrtl.working_block()


def _random_logic(n_nets: int, seeds: list, seed: int) -> pyrtl.WireVector:
    """About ``n_nets`` nets of random 64-bit logic over ``seeds``, mostly reading
    recent results (like the local logic of a module) and sometimes any earlier one
    (like a global control signal); every result that
    nothing else reads is XORed into a register, so none of it is dead. Returns that
    register."""
    rng = random.Random(seed)
    pool = list(seeds)
    state = pyrtl.Register(64, name="junk")
    pool.append(state)
    ops = [
        lambda a, b: a & b, lambda a, b: a | b, lambda a, b: a ^ b,
        lambda a, b: (a + b)[:64], lambda a, b: (a - b)[:64],
        lambda a, b: pyrtl.select(a[rng.randrange(64)], a, b),
        lambda a, b: pyrtl.select(a < b, a, b), lambda a, b: pyrtl.select(a == b, b, a),
        lambda a, b: pyrtl.concat(a[:rng.randrange(1, 64)], b)[:64],
    ]
    made = len(pyrtl.working_block().logic)
    unused = set()
    while len(pyrtl.working_block().logic) - made < n_nets:
        a = rng.choice(pool[-64:])
        b = rng.choice(pool if rng.random() < 0.1 else pool[-256:])
        unused -= {a, b}
        pool.append(rng.choice(ops)(a, b))
        unused.add(pool[-1])
    folded = pool[-1]
    for w in sorted(unused - {folded}, key=lambda w: w.name):
        folded = folded ^ w
    state.next <<= folded
    return state


WIDE_WIDTHS = (1, 7, 63, 64, 65, 100, 130)


def wide_logic(n_nets: int = 150, seed: int = 1) -> pyrtl.Block:
    """Random logic over every PyRTL primitive at widths on both sides of the 64-bit
    limb boundary: Inputs ``in0..in2`` (130 bits), registers ``r0..r3`` and one Output
    ``o<k>`` per register; for checking the compiled emitters against the interpreter."""
    rng = random.Random(seed)
    pool = [pyrtl.Input(130, f"in{i}") for i in range(3)]
    regs = [pyrtl.Register(rng.choice(WIDE_WIDTHS), name=f"r{i}",
                           reset_value=rng.getrandbits(1)) for i in range(4)]
    pool += regs

    def fit(w, width):
        return w[:width] if len(w) >= width else w.zero_extended(width)

    def one(a, b):
        op = rng.randrange(12)
        width = rng.choice(WIDE_WIDTHS)
        a, b = fit(a, width), fit(b, width)
        if op < 6:
            return [a & b, a | b, a ^ b, a + b, a - b, a * b][op]
        if op < 9:
            return [a < b, a > b, a == b][op - 6]
        if op == 9:
            return pyrtl.select(b[0], a, b)
        if op == 10:
            return pyrtl.concat(a, ~b)
        lo = rng.randrange(len(a))
        return a[lo:rng.randrange(lo + 1, len(a) + 1)]

    while len(pool) < n_nets:
        pool.append(one(rng.choice(pool[-20:]), rng.choice(pool)))
    def fold(wires, width):
        acc = fit(wires[0], width)
        for w in wires[1:]:
            acc = acc ^ fit(w, width)
        return acc

    wide = [w for w in pool if len(w) > 64]
    for i, reg in enumerate(regs):
        reg.next <<= fold(pool[-1 - i::-7][:4] + wide[-1 - i::-5][:3], reg.bitwidth)
        out = pyrtl.Output(reg.bitwidth, f"o{i}")
        out <<= reg
    mix = pyrtl.Output(130, "mix")
    mix <<= fold(pool[-12:] + wide[-6:], 130)
    return pyrtl.working_block()
