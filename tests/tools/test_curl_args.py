"""curl's command line, refused as curl 7.8x refuses it (before anything is sent)."""

from __future__ import annotations

import pytest

from ovnlab.tools import curl

TRY = "curl: try 'curl --help' or 'curl --manual' for more information\n"


@pytest.mark.parametrize(("argv", "rc", "stderr"), [
    ([], 2, "curl: no URL specified!\n" + TRY),
    (["-o"], 2, "curl: option -o: requires parameter\n" + TRY),
    (["-m", "soon", "http://x/"], 2,
     "curl: option -m: expected a proper numerical parameter\n" + TRY),
    (["--frobnicate", "http://x/"], 2, "curl: option --frobnicate: is unknown\n" + TRY),
    (["-9", "http://x/"], 2, "curl: option -9: is unknown\n" + TRY),
])
def test_bad_usage(argv: list[str], rc: int, stderr: str) -> None:
    r = curl.run(None, "vm_1", argv)
    assert (r.rc, r.stdout, r.stderr) == (rc, "", stderr)
