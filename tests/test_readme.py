"""Every ```python block in README.md and the guides that promise runnable examples runs as written (the
examples are part of the contract)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
#: Guides whose Python examples are run too.
GUIDES = (README, ROOT / "docs" / "CHAOS.md")
BLOCKS = [
    block
    for guide in GUIDES
    for block in re.findall(r"```python\n(.*?)```", guide.read_text(encoding="utf-8"), flags=re.DOTALL)
]


def test_readme_opens_with_the_two_commands() -> None:
    head = README.read_text(encoding="utf-8").split("```", 2)[1]
    assert "make assess" in head and "make test" in head


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_example_runs(index: int) -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCKS[index]], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"example {index} failed:\n{BLOCKS[index]}\n{result.stderr}"
