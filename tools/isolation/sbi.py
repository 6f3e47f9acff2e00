"""SBI extension and function ids the fuzzer generates and the oracles recognise (SBI
spec v2.0, chapters 4-12; HVSIM is the firmware's own, docs/hypervisor.md "SBI"): the
one table for ``gen``, ``oracles`` and ``handover``."""

#: Extension ids (EID, in a7).
SBI_EXTS = {"BASE": 0x10, "TIME": 0x54494D45, "IPI": 0x735049, "RFENCE": 0x52464E43,
            "HSM": 0x48534D, "SRST": 0x53525354, "DBCN": 0x4442434E, "HVSIM": 0x0A006876}
#: Legacy extensions (SBI spec v2.0 chapter 5): set_timer and send_ipi.
LEGACY_SET_TIMER, LEGACY_SEND_IPI = 0x00, 0x04
#: HVSIM function ids (FID, in a6).
HVSIM_YIELD = 0
