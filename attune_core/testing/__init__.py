"""Testing utilities for Attune users and pack authors: fakes that honour the ports' contracts
and factories for isolated resources. The pytest plugin's fixtures wrap these."""

from attune_core.clock import FakeClock
from attune_core.testing._database import temporary_store

__all__ = ["FakeClock", "temporary_store"]
