"""What every interface saw: the record tcpdump renders and filters, kept in a bounded
ring per interface (`CaptureBuffer`)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import overload

from ovnlab.packet import Packet

# Frames each interface keeps for `tcpdump --history` and the observations: like a
# kernel capture buffer (tcpdump -B) it holds the most recent frames and lets the oldest
# go, so a long-running lab's memory stays flat however many packets cross it.
CAPTURE_BUFFER_FRAMES = 10_000


@dataclass(frozen=True, slots=True)
class Captured:
    """One frame on one interface, at virtual `time` (seconds).

    `direction` is from the owning node's point of view: "out" = the node sent it,
    "in" = the node received it (tcpdump's -Q out / -Q in)."""

    time: float
    iface: str
    direction: str
    packet: Packet


class CaptureBuffer(Sequence[Captured]):
    """The last `limit` frames an interface recorded, oldest first. `total` counts every
    frame ever recorded (`dropped` = those the ring let go), so a mark taken as `total`
    finds what came after it with `since(mark)`, however full the ring is."""

    __slots__ = ("_frames", "total")

    def __init__(self, limit: int = CAPTURE_BUFFER_FRAMES) -> None:
        if limit < 1:
            raise ValueError(f"capture buffer limit must be positive, got {limit}")
        self._frames: deque[Captured] = deque(maxlen=limit)
        self.total = 0

    @property
    def limit(self) -> int:
        maxlen = self._frames.maxlen
        assert maxlen is not None
        return maxlen

    @property
    def dropped(self) -> int:
        return self.total - len(self._frames)

    def append(self, captured: Captured) -> None:
        self._frames.append(captured)
        self.total += 1

    def since(self, mark: int) -> list[Captured]:
        """Frames recorded after `total` was `mark` (those the ring still holds)."""
        skip = max(0, mark - self.dropped)
        return list(islice(self._frames, skip, None))

    def __len__(self) -> int:
        return len(self._frames)

    def __iter__(self) -> Iterator[Captured]:
        return iter(self._frames)

    @overload
    def __getitem__(self, index: int) -> Captured: ...

    @overload
    def __getitem__(self, index: slice) -> list[Captured]: ...

    def __getitem__(self, index: int | slice) -> Captured | list[Captured]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self._frames))
            return list(islice(self._frames, start, stop, step)) if step > 0 else \
                list(self._frames)[index]
        return self._frames[index]

    def __repr__(self) -> str:
        return (f"CaptureBuffer({len(self._frames)} of {self.limit} frames, "
                f"{self.dropped} dropped)")
