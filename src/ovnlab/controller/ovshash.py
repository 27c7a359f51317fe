"""The order in which OVS's hash containers hand back their elements, where that order
reaches a flow: OVN's consider_mc_group outputs to the remote chassis' tunnels in
`SSET_FOR_EACH` order, that is hmap bucket order of hash_string(name, 0) (lib/hash.h's
Murmur-based hash_bytes, as OVS builds without SSE 4.2; lib/hmap.c's growth)."""

from __future__ import annotations

import functools
from collections.abc import Iterable

_M32 = 0xFFFFFFFF


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _M32


def _mhash_add(h: int, data: int) -> int:
    if data:
        data = (data * 0xCC9E2D51) & _M32
        data = _rot(data, 15)
        data = (data * 0x1B873593) & _M32
        h ^= data
    h = _rot(h, 13)
    return (h * 5 + 0xE6546B64) & _M32


def _mhash_finish(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    return h ^ (h >> 16)


def hash_bytes(data: bytes, basis: int = 0) -> int:
    """lib/hash.c hash_bytes: 32-bit little-endian words, the tail zero-padded."""
    h = basis
    for i in range(0, len(data) - len(data) % 4, 4):
        h = _mhash_add(h, int.from_bytes(data[i:i + 4], "little"))
    if len(data) % 4:
        h = _mhash_add(h, int.from_bytes(data[len(data) - len(data) % 4:].ljust(4, b"\0"),
                                         "little"))
    return _mhash_finish(h ^ len(data))


@functools.lru_cache(maxsize=65536)
def hash_string(s: str, basis: int = 0) -> int:
    """Remembered: the same few chassis names are hashed for every multicast group of
    every chassis at every change."""
    return hash_bytes(s.encode(), basis)


def _calc_mask(capacity: int) -> int:
    mask = capacity // 2
    for shift in (1, 2, 4, 8, 16, 32):
        mask |= mask >> shift
    return mask | (mask & 1) << 1


def sset_order(names: Iterable[str]) -> list[str]:
    """The iteration order of an sset built by sset_add() of `names` in this order:
    each insert goes to the head of its bucket; when n / 2 > mask the table grows
    (calc_mask) and the old buckets are re-inserted in their order."""
    buckets: list[list[tuple[int, str]]] = [[]]
    seen: set[str] = set()
    n = 0
    for name in names:
        if name in seen:
            continue
        seen.add(name)
        h = hash_string(name)
        buckets[h & (len(buckets) - 1)].insert(0, (h, name))
        n += 1
        if n // 2 > len(buckets) - 1:
            mask = _calc_mask(n)
            if mask > len(buckets) - 1:
                grown: list[list[tuple[int, str]]] = [[] for _ in range(mask + 1)]
                for bucket in buckets:
                    for node in bucket:
                        grown[node[0] & mask].insert(0, node)
                buckets = grown
    return [name for bucket in buckets for _h, name in bucket]
