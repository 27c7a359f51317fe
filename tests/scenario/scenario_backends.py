"""The scenario tests that make sense on both backends take a `backend` parameter: the
emulated lab in-process, or the same topology on the real OVN 22.03 programs in network
namespaces (root and the programs, tests/ovn22.py: skipped without them, failed in CI)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from ovn22 import require_real

from ovnlab.lab import lab_on
from ovnlab.topology import Backend

BACKENDS = [Backend.EMULATED.value, Backend.OVN.value]


@contextmanager
def lab_for(backend: str, topology: str = "seed", overrides: Sequence[str] = ()
            ) -> Iterator[Any]:
    ovn_bin = ""
    if backend == Backend.OVN.value:
        if os.geteuid() != 0:
            pytest.skip("the real backend needs root (network namespaces)")
        ovn_bin = str(require_real() / "bin")
    with lab_on(Backend(backend), topology, overrides, ovn_bin) as lab:
        yield lab
