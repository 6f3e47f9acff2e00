"""Differential CPU fuzzing (issue 3, parts 3 and 4; docs/fuzzing-cpu.md).

- ``tools.fuzz.gen``: Hypothesis strategies for random RV64IMAC programs (``programs``)
  and their assembly, ELF build and fast ELF patching.
- ``tools.fuzz.coverage``: coverage of a run from its retirement records.
- ``tools.fuzz.campaign``: ``hvsim fuzz cpu``, the parallel campaign and the oracle.
"""

from __future__ import annotations


class FuzzError(RuntimeError):
    """Bad input to the fuzzer (an unwritable output folder, a bad option); the message
    is one line naming the problem."""
