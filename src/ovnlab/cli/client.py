"""Talking to a running lab's control API (`/ovnlab/...`) on loopback, with its token."""

from __future__ import annotations

import base64
import json
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import HTTPResponse
from pathlib import Path
from typing import Any

from ovnlab.errors import LabNotRunning, OvnlabError
from ovnlab.state import TOKEN_HEADER, Runtime, StateDir


@dataclass(frozen=True, slots=True)
class Control:
    """The running lab's control API and the secret it asks for."""

    runtime: Runtime
    token: str

    @classmethod
    def of(cls, state: StateDir) -> Control:
        runtime = state.require_runtime()
        return cls(runtime, state.token())


def _open(control: Control, verb: str, body: dict[str, Any] | None,
          timeout: float | None) -> HTTPResponse:
    url = control.runtime.url
    req = urllib.request.Request(f"{url}/ovnlab/{verb}", data=json.dumps(body or {}).encode(),
                                 headers={"Content-Type": "application/json",
                                          TOKEN_HEADER: control.token})
    try:
        resp: HTTPResponse = urllib.request.urlopen(req, timeout=timeout)
        return resp
    except urllib.error.HTTPError as exc:
        reply = json.loads(exc.read() or b"{}")
        err = OvnlabError(reply.get("error", str(exc)), type=reply.get("type"))
        err.status = exc.code
        raise err from None
    except (urllib.error.URLError, ConnectionError) as exc:
        raise LabNotRunning(f"the lab at {url} does not answer: {exc}") from None


def call(control: Control, verb: str, body: dict[str, Any] | None = None,
         timeout: float = 600.0) -> dict[str, Any]:
    with _open(control, verb, body, timeout) as resp:
        result: dict[str, Any] = json.loads(resp.read())
        return result


def stream(control: Control, verb: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """An NDJSON control call (`exec`): events as they come (a live tcpdump never ends
    by itself; closing the generator closes the connection, which stops it)."""
    with _open(control, verb, body, None) as resp:
        for line in resp:
            if line.strip():
                yield json.loads(line)


# ---------------------------------------------------------------- a tool's files, this side


def uploads(argv: list[str]) -> dict[str, str]:
    """The files a command reads, sent from this side (`tcpdump -r FILE`): the daemon never
    opens a caller's path. A file that cannot be read is left for the tool to report."""
    from ovnlab.tools import tcpdump

    if argv[0] != "tcpdump":
        return {}
    try:
        name = tcpdump.parse_args(argv[1:]).read_file
    except OvnlabError:
        return {}  # the tool reports its own usage errors
    if name is None or name == "-":
        return {}
    try:
        return {name: base64.b64encode(Path(name).read_bytes()).decode()}
    except OSError:
        return {}


def save(event: dict[str, Any]) -> None:
    """A file the tool writes (`tcpdump -w FILE`), saved here from an exec event (a live
    capture's arrives in pieces: `append`)."""
    with open(str(event["file"]), "ab" if event.get("append") else "wb") as f:
        f.write(base64.b64decode(event["data"]))


def write_atomically(target: Path, data: bytes) -> None:
    """A temp file beside the target, renamed over it: the file is whole or untouched."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes it 0600; an export is an ordinary file
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
