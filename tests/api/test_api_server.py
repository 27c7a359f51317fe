"""The API server over real sockets: bursts queue instead of being reset, slow or partial
requests are cut off while others are served, oversized bodies get 413 in the service's
own error format and change nothing."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
from collections.abc import Iterator

import pytest
from api_helpers import Client, auth_body

from ovnlab import api
from ovnlab.api.http import MAX_BODY


def _token(server: api.ApiServer) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("POST", "/identity/v3/auth/tokens", json.dumps(auth_body("admin", "secret",
                                                                          "admin")))
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status == 201
    return str(resp.getheader("X-Subject-Token"))


def _request(server: api.ApiServer, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request(method, path, body, headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, json.loads(data) if data else {}


async def _burst_get(port: int, path: str, n: int) -> list[bytes]:
    async def one() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        data = await reader.read()
        writer.close()
        return data

    return list(await asyncio.wait_for(asyncio.gather(*(one() for _ in range(n))), 120))


def test_a_burst_of_connections_is_queued_not_reset(served: api.ApiServer) -> None:
    # 300 connections at once: the stdlib server's backlog of 5 reset a quarter of these
    replies = asyncio.run(_burst_get(served.port, "/identity/v3", 300))
    assert [r.split(b"\r\n", 1)[0] for r in replies] == [b"HTTP/1.1 200 OK"] * 300


@pytest.fixture
def impatient(app: api.App) -> Iterator[api.ApiServer]:
    server = api.serve(app, "127.0.0.1", 0, background=True, limits=api.Limits(timeout=1))
    yield server
    server.close()


def test_a_partial_request_is_cut_off_while_others_are_served(impatient: api.ApiServer) -> None:
    slow = socket.create_connection(("127.0.0.1", impatient.port), timeout=30)
    try:
        slow.sendall(b"GET /identity/v3 HTTP/1.1\r\nHost: lab\r\n")  # no blank line: partial
        # meanwhile, others are served
        assert _request(impatient, "GET", "/identity/v3")[0] == 200
        assert _request(impatient, "GET", "/networking/")[0] == 200
        # the server gives up on the silent client: an error status or a bare close, no 200
        reply = b""
        while chunk := slow.recv(4096):
            reply += chunk
        assert not reply.startswith(b"HTTP/1.1 200")
    finally:
        slow.close()


def test_an_oversized_body_gets_413_in_neutrons_format_and_changes_nothing(
        served: api.ApiServer) -> None:
    token = _token(served)
    headers = {"X-Auth-Token": token, "Content-Type": "application/json"}
    body = json.dumps({"network": {"name": "big", "description": "x" * MAX_BODY}}).encode()
    status, reply = _request(served, "POST", "/networking/v2.0/networks", body, headers)
    assert status == 413
    assert reply == {"NeutronError": {
        "type": "HTTPRequestEntityTooLarge",
        "message": f"Request is too large. Larger than max_request_body_size ({MAX_BODY}).",
        "detail": ""}}
    status, listed = _request(served, "GET", "/networking/v2.0/networks?name=big",
                              headers=headers)
    assert status == 200 and listed == {"networks": []}


def test_an_oversized_chunked_body_gets_413_and_a_small_one_is_read(
        served: api.ApiServer) -> None:
    token = _token(served)
    headers = {"X-Auth-Token": token, "Content-Type": "application/json",
               "Transfer-Encoding": "chunked"}

    def chunked(payload: bytes) -> Iterator[bytes]:
        for i in range(0, len(payload), 65536):
            yield payload[i:i + 65536]

    big = json.dumps({"network": {"name": "big", "description": "x" * MAX_BODY}}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    conn.request("POST", "/networking/v2.0/networks", chunked(big), headers,
                 encode_chunked=True)
    resp = conn.getresponse()
    assert resp.status == 413
    assert json.loads(resp.read())["NeutronError"]["type"] == "HTTPRequestEntityTooLarge"
    conn.close()
    small = json.dumps({"network": {"name": "small"}}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    conn.request("POST", "/networking/v2.0/networks", chunked(small), headers,
                 encode_chunked=True)
    resp = conn.getresponse()
    assert resp.status == 201 and json.loads(resp.read())["network"]["name"] == "small"
    conn.close()


def test_an_oversized_token_request_gets_413_in_keystones_format(
        served: api.ApiServer, app: api.App) -> None:
    body = json.dumps({**auth_body("admin", "secret", "admin"), "pad": "x" * MAX_BODY})
    status, reply = _request(served, "POST", "/identity/v3/auth/tokens", body.encode(),
                             {"Content-Type": "application/json"})
    assert status == 413
    assert reply["error"]["code"] == 413  # type: ignore[index]
    assert reply["error"]["title"] == "Request Entity Too Large"  # type: ignore[index]
    assert "max_request_body_size" in reply["error"]["message"]  # type: ignore[index]
    assert Client(app).login().status == 201  # the server still serves
