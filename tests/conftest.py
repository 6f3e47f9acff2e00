"""Test-suite wide settings: Hypothesis profiles (ARCHITECTURE.md section 5) and the
shared `cfg`/`machine` fixtures.

- ``ci``: derandomized, no example database, no deadline, so CI runs are repeatable
  and finish in minutes. Selected when ``CI=true`` or ``HYPOTHESIS_PROFILE=ci``.
- ``dev`` (default): random, with the example database, no deadline (simulation speed
  varies with machine load).
- ``campaign``: long runs for bug hunting (``HYPOTHESIS_PROFILE=campaign``); failures
  are kept in the example database.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile("ci", derandomize=True, database=None, deadline=None,
                          print_blob=True, suppress_health_check=_SLOW_OK)
settings.register_profile("dev", deadline=None, suppress_health_check=_SLOW_OK)
settings.register_profile("campaign", max_examples=20_000, deadline=None,
                          suppress_health_check=_SLOW_OK)

_default = "ci" if os.environ.get("CI", "").lower() == "true" else "dev"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _default))


@pytest.fixture(scope="module")
def cfg():
    """The default SoC configuration (a module may define its own ``cfg``)."""
    from hardware.config import variant

    return variant("default")


@pytest.fixture(scope="module")
def machine(cfg):
    """One compiled-backend Machine of ``cfg`` per module, reused by its runs."""
    from hardware.sim.machine import Machine

    return Machine(cfg, "compiled")
