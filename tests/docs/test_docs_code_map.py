"""docs/code-map.md names modules that exist: a newcomer's one hop must land somewhere."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "ovnlab"
MODULE = re.compile(r"`([a-z0-9_/]+(?:\.py|/))`")


def table_modules(text: str) -> list[str]:
    return [m for line in text.splitlines() if line.startswith("|")
            for m in MODULE.findall(line)]


def test_every_module_in_the_code_map_exists() -> None:
    names = table_modules((ROOT / "docs" / "code-map.md").read_text())
    assert len(names) > 50  # the tables were read, not skipped
    missing = [n for n in names if not (PACKAGE / n).exists()]
    assert missing == []


def test_the_readme_links_the_code_map() -> None:
    assert "(docs/code-map.md)" in (ROOT / "README.md").read_text()
