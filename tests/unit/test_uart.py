"""Unit tests of the ns16550a UART (hardware/soc/uart.py)."""

import pytest
from hypothesis import given, strategies as st

from hardware.config import SocConfig
from hardware.soc.regmap import check_map, regmap_c_defines
from hardware.soc.uart import UART_REGS, build_uart
from soc_bench import Benches, DeviceBench

RBR = THR = DLL = 0
IER = DLM = 1
IIR = FCR = 2
LCR, MCR, LSR, MSR, SCR = 3, 4, 5, 6, 7
DR, OE, THRE, TEMT = 0x01, 0x02, 0x20, 0x40


def make_bench(depth: int = 16) -> DeviceBench:
    cfg = SocConfig(uart_fifo_depth=depth)
    return DeviceBench(lambda req, rx_valid, rx_data: build_uart(cfg, req, rx_valid, rx_data),
                       {"rx_valid": 1, "rx_data": 8})


@pytest.fixture(scope="module")
def bench():
    """``bench(depth=16)``: a UART with that FIFO depth, from reset."""
    return Benches(make_bench)


def rx(b: DeviceBench, data: bytes) -> list[int]:
    """Offer each byte for one cycle; return rx_ready of each of those cycles."""
    ready = [b.step(rx_valid=1, rx_data=d)["rx_ready"] for d in data]
    b.step(rx_valid=0)
    return ready


def test_reset_values(bench):
    b = bench()
    lane = b.lane(0, commit=False)
    assert list(lane.to_bytes(8, "little")) == [0, 0, 0x01, 0, 0x08, 0x60, 0xB0, 0]
    out = b.step()
    assert out["irq"] == 0 and out["tx_valid"] == 0 and out["rx_ready"] == 1


def test_check_map_and_defines():
    check_map(UART_REGS)
    text = regmap_c_defines("UART", UART_REGS)
    assert "#define UART_LSR_THRE (1u << 5)" in text
    assert "#define UART_LCR_DLAB (1u << 7)" in text
    assert "#define UART_THR 0x0u" in text


def test_divisor_latch_and_scratch(bench):
    b = bench()
    b.write(IER, 0x05, 1)
    b.write(LCR, 0x83, 1)
    assert b.read(DLL, 1) == 0x0C
    b.write(DLL, 0x34, 1)
    b.write(DLM, 0x12, 1)
    out = b.step()
    assert out["tx_valid"] == 0  # the DLL write did not transmit
    assert b.read(DLL, 1) == 0x34 and b.read(DLM, 1) == 0x12
    b.write(LCR, 0x03, 1)
    assert b.read(IER, 1) == 0x05 and b.read(LCR, 1) == 0x03
    b.write(SCR, 0xA5, 1)
    assert b.read(SCR, 1) == 0xA5
    b.write(IER, 0xFF, 1)
    assert b.read(IER, 1) == 0x0F


def test_tx_one_byte_per_cycle(bench):
    b = bench()
    b.write(THR, ord("h"), 1)
    out = b.step(sel=1, mask=1 << LSR, offset=0)
    assert (out["tx_valid"], out["tx_data"]) == (1, ord("h"))
    assert out["rdata"] >> 8 * LSR & (THRE | TEMT) == 0
    out = b.step()
    assert out["tx_valid"] == 0
    assert b.read(LSR, 1) & (THRE | TEMT) == THRE | TEMT


@pytest.mark.parametrize("depth", [1, 16])
@given(data=st.binary(min_size=1, max_size=20), gaps=st.lists(st.integers(0, 2), max_size=20))
def test_tx_order(bench, depth, data, gaps):
    b = bench(depth)
    sent = []
    for i, d in enumerate(data):
        out = b.write(THR, d, 1)
        if out["tx_valid"]:
            sent.append(out["tx_data"])
        for _ in range(gaps[i] if i < len(gaps) else 0):
            out = b.step()
            if out["tx_valid"]:
                sent.append(out["tx_data"])
    for _ in range(depth + 2):
        out = b.step()
        if out["tx_valid"]:
            sent.append(out["tx_data"])
    assert bytes(sent) == data


def test_rx_fifo_full_and_overrun(bench):
    b = bench(4)
    b.write(FCR, 0x01, 1)
    ready = rx(b, b"abcde")
    assert ready == [1, 1, 1, 1, 0]
    lsr = b.read(LSR, 1)
    assert lsr & (DR | OE) == DR | OE
    assert b.read(LSR, 1) & OE == 0  # the LSR read cleared OE
    assert bytes(b.read(RBR, 1) for _ in range(4)) == b"abcd"
    assert b.read(LSR, 1) & DR == 0
    assert b.read(RBR, 1) == 0


def test_rx_without_fifo_holds_one_byte(bench):
    b = bench(16)
    assert rx(b, b"xy") == [1, 0]
    assert b.read(LSR, 1) & (DR | OE) == DR | OE
    assert b.read(RBR, 1) == ord("x")
    assert b.read(LSR, 1) & DR == 0


def test_rx_pop_needs_re_and_mask(bench):
    b = bench()
    b.write(FCR, 0x01, 1)
    rx(b, b"pq")
    assert b.read(RBR, 1, commit=False) == ord("p")
    b.step(sel=1, re=1, mask=0x02, offset=0)  # reads IER only
    b.step(sel=0, re=1, mask=0x01, offset=0)  # not selected
    b.write(LCR, 0x80, 1)
    assert b.read(DLL, 1) == 0x0C  # DLAB: offset 0 is DLL, nothing popped
    b.write(LCR, 0x00, 1)
    assert b.read(RBR, 1) == ord("p") and b.read(RBR, 1) == ord("q")


def test_fcr_clears_fifos(bench):
    b = bench()
    b.write(FCR, 0x01, 1)
    rx(b, b"zz")
    b.write(FCR, 0x03, 1)
    assert b.read(LSR, 1) & DR == 0
    b.write(THR, 0x41, 1)
    b.write(FCR, 0x05, 1)  # the byte was already sent in the previous cycle
    assert b.step()["tx_valid"] == 0


def test_iir_priorities_and_thre_ack(bench):
    b = bench(2)
    b.write(FCR, 0x01, 1)
    assert b.read(IIR, 1) == 0xC1
    b.write(IER, 0x07, 1)
    assert b.step()["irq"] == 1
    assert b.read(IIR, 1, commit=False) == 0xC2
    rx(b, b"123")  # the third byte overruns
    assert b.read(IIR, 1) == 0xC6
    b.read(LSR, 1)
    assert b.read(IIR, 1) == 0xC4
    b.read(RBR, 1)
    b.read(RBR, 1)
    assert b.step()["irq"] == 1
    assert b.read(IIR, 1) == 0xC2  # reports THRE: the read acknowledges it
    assert b.step()["irq"] == 0
    assert b.read(IIR, 1) == 0xC1
    b.write(IER, 0x07, 1)  # re-arms THRE
    assert b.step()["irq"] == 1
    b.read(IIR, 1)
    b.write(THR, 0x30, 1)  # re-arms THRE once the byte is sent
    b.step()
    assert b.step()["irq"] == 1


def test_iir_without_fifo_and_ack_needs_commit(bench):
    b = bench()
    b.write(IER, 0x02, 1)
    assert b.read(IIR, 1, commit=False) == 0x02
    assert b.read(IIR, 1, commit=False) == 0x02
    assert b.read(IIR, 1) == 0x02
    assert b.read(IIR, 1) == 0x01


def test_loopback(bench):
    b = bench()
    b.write(FCR, 0x01, 1)
    b.write(MCR, 0x1B, 1)  # LOOP, OUT2, RTS, DTR
    assert b.read(MSR, 1) == 0xB0
    out = b.write(THR, 0x5A, 1)
    assert out["rx_ready"] == 0
    out = b.step(rx_valid=1, rx_data=0x11)  # ignored in loopback
    assert out["tx_valid"] == 0
    b.step(rx_valid=0)
    assert b.read(RBR, 1) == 0x5A
    assert b.read(LSR, 1) & (DR | OE) == 0
    b.write(MCR, 0x08, 1)
    assert b.read(MSR, 1) == 0xB0


@given(data=st.binary(min_size=1, max_size=24), reads=st.lists(st.booleans(), max_size=40))
def test_rx_fifo_order_against_model(bench, data, reads):
    b = bench(8)
    b.write(FCR, 0x01, 1)
    model, got, expected = [], [], []
    pending = list(data)
    for r in reads + [True] * 40:
        if pending and not r:
            out = b.step(rx_valid=1, rx_data=pending[0])
            if len(model) < 8:
                assert out["rx_ready"] == 1
                model.append(pending[0])
            else:
                assert out["rx_ready"] == 0
            pending.pop(0)
            b.step(rx_valid=0)
        elif r:
            v = b.read(RBR, 1)
            if model:
                expected.append(model.pop(0))
                got.append(v)
            else:
                assert v == 0
    assert got == expected
