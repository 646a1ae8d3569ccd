"""An embedded fake iQualify server for tests, demos and benchmarks.

``FakeIQualify`` serves all 84 operations of the Management API on loopback with an in-memory
organisation, optional deterministic seed data and runtime-configurable fault injection.
"""

from __future__ import annotations

from .errors import FakeAPIError
from .faults import Faults
from .seed import build_state
from .server import FakeIQualify, run_forever, serve
from .state import State
from .stats import FakeStats

__all__ = [
    "FakeAPIError",
    "FakeIQualify",
    "FakeStats",
    "Faults",
    "State",
    "build_state",
    "run_forever",
    "serve",
]
