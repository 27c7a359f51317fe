"""Where a node tool's files live (`tcpdump -r FILE`, `-w FILE`): the user's side.

In-process (`Lab.exec`), that is this process's directory. Through a running lab's
daemon, it is the client's: the `ovnlab` CLI uploads the files a command reads and
writes what it gets back, so the daemon never opens a path a caller names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class ToolFiles(Protocol):
    def read(self, name: str) -> bytes: ...

    def write(self, name: str, data: bytes) -> None: ...


@dataclass(frozen=True, slots=True)
class LocalFiles:
    """Files relative to a directory of this machine (the Python API's default: the cwd)."""

    cwd: Path = field(default_factory=Path.cwd)

    def read(self, name: str) -> bytes:
        return (self.cwd / name).read_bytes()

    def write(self, name: str, data: bytes) -> None:
        (self.cwd / name).write_bytes(data)


@dataclass(frozen=True, slots=True)
class ClientFiles:
    """Files the client uploaded (by the name in its command); writes are kept for the
    client to save on its side, in order."""

    uploaded: dict[str, bytes] = field(default_factory=dict)
    written: dict[str, bytes] = field(default_factory=dict)

    def read(self, name: str) -> bytes:
        try:
            return self.uploaded[name]
        except KeyError:
            raise FileNotFoundError(name) from None

    def write(self, name: str, data: bytes) -> None:
        self.written[name] = data
