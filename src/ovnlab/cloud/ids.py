"""Deterministic identifiers: the same sequence of operations gives the same ids.

UUIDs and `fa:16:3e:xx:xx:xx` MACs (Neutron's default base_mac) come from a counter hashed
with the lab's seed. The counter lives in the store, inside the operation's transaction, so
a failed operation consumes nothing and a reopened lab continues where it stopped.
"""

from __future__ import annotations

import hashlib
import uuid

from ovnlab.cloud.store import Store

META = "meta"
STATE_ID = "ids"
BASE_MAC = "fa:16:3e"


class IdGenerator:
    def __init__(self, store: Store, seed: int = 0) -> None:
        self.store = store
        self.seed = seed

    def _next(self, purpose: str) -> bytes:
        with self.store.transaction():
            state = self.store.get(META, STATE_ID) or {"seed": self.seed, "counter": 0}
            state["counter"] += 1
            self.store.put(META, STATE_ID, state)
        return hashlib.sha256(f"{state['seed']}:{purpose}:{state['counter']}".encode()).digest()

    def uuid(self) -> str:
        """A random-looking version 4 UUID."""
        return str(uuid.UUID(bytes=self._next("uuid")[:16], version=4))

    def mac(self) -> str:
        """A MAC in Neutron's default `fa:16:3e` range (uniqueness is the caller's check)."""
        tail = self._next("mac")[:3]
        return BASE_MAC + "".join(f":{b:02x}" for b in tail)


def stable_hex(*parts: str, length: int = 32) -> str:
    """An id derived from names (Keystone-style 32 hex digits): stable across labs."""
    return hashlib.sha256(":".join(parts).encode()).hexdigest()[:length]


def stable_uuid(*parts: str) -> str:
    return str(uuid.UUID(bytes=hashlib.sha256(":".join(parts).encode()).digest()[:16], version=4))
