"""Talking to a running lab's control API (`/ovnlab/...`) on loopback."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.client import HTTPResponse
from typing import Any

from ovnlab.errors import LabNotRunning, OvnlabError
from ovnlab.state import Runtime


def _open(runtime: Runtime, verb: str, body: dict[str, Any] | None,
          timeout: float | None) -> HTTPResponse:
    req = urllib.request.Request(f"{runtime.url}/ovnlab/{verb}",
                                 data=json.dumps(body or {}).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        resp: HTTPResponse = urllib.request.urlopen(req, timeout=timeout)
        return resp
    except urllib.error.HTTPError as exc:
        reply = json.loads(exc.read() or b"{}")
        err = OvnlabError(reply.get("error", str(exc)), type=reply.get("type"))
        err.status = exc.code
        raise err from None
    except (urllib.error.URLError, ConnectionError) as exc:
        raise LabNotRunning(f"the lab at {runtime.url} does not answer: {exc}") from None


def call(runtime: Runtime, verb: str, body: dict[str, Any] | None = None,
         timeout: float = 600.0) -> dict[str, Any]:
    with _open(runtime, verb, body, timeout) as resp:
        result: dict[str, Any] = json.loads(resp.read())
        return result


def stream(runtime: Runtime, verb: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """An NDJSON control call (`exec`): events as they come (a live tcpdump never ends
    by itself; closing the generator closes the connection, which stops it)."""
    with _open(runtime, verb, body, None) as resp:
        for line in resp:
            if line.strip():
                yield json.loads(line)
