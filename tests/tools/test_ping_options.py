"""ping's option errors, worded and numbered as iputils' ping prints them; nothing is sent."""

from __future__ import annotations

import pytest

from ovnlab.tools.ping import run


@pytest.mark.parametrize(("argv", "rc", "message"), [
    (["-c", "0", "x"], 1, "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807"),
    (["-c", "abc", "x"], 1, "ping: invalid argument: 'abc'"),
    (["-i", "-1", "x"], 1, "ping: bad timing interval: -1"),
    (["-W", "-2", "x"], 1, "ping: bad linger time: -2"),
    (["-w", "-1", "x"], 1, "ping: bad wait time: -1"),
    (["-s", "70000", "x"], 1, "ping: invalid argument: '70000': out of range: 0 <= value <= 65507"),
    (["-t", "0", "x"], 1, "ping: invalid argument: '0': out of range: 1 <= value <= 255"),
    (["-M", "bad", "x"], 2, "ping: invalid -M argument: bad"),
    (["-c"], 2, "ping: option requires an argument -- 'c'"),
    ([], 1, "ping: usage error: Destination address required"),
])
def test_bad_options_fail_before_any_send(argv: list[str], rc: int, message: str) -> None:
    result = run(None, "vm", argv)  # no fabric: parsing must fail before touching one
    assert (result.rc, result.stdout) == (rc, "")
    assert result.stderr.splitlines()[0] == message
