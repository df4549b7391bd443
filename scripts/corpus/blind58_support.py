"""Helpers of batch 58: each documentation case gets its own small project (an mkdocs, Sphinx, Hugo or pandoc tree
written from a dict of files) in the batch's temporary directory, then the build is run there the way a CI job
runs it. Placeholders in file texts and commands are filled in by a `Filler`."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from checked import tool_records
from common import Record

VENV_BIN = Path(sys.executable).parent
MKDOCS = VENV_BIN / "mkdocs"
SPHINX_BUILD = VENV_BIN / "sphinx-build"

#: name, category, expected output token (`A|B`), files of the project (path -> text), bash command
DocCase = tuple[str, str, str, Mapping[str, str], str]


@dataclass
class Filler:
    """Replaces the `@NAME@` placeholders of a case with the batch's ports, URLs and mounts."""

    values: dict[str, str] = field(default_factory=dict)

    def __call__(self, text: str) -> str:
        for key, value in self.values.items():
            text = text.replace(f"@{key}@", value)
        return text


def write_tree(root: Path, files: Mapping[str, str], fill: Filler) -> None:
    """Write each file of a project under root (a text of `@BIG@` becomes 600 kB of data, to fill a disk)."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if text == "@BIG@":
            path.write_bytes(bytes(range(256)) * 2400)
        elif text == "@BIGTEXT@":
            path.write_text("Release notes, line after line of them.\n\n" * 16000, encoding="utf-8")
        else:
            path.write_text(fill(text), encoding="utf-8")


def project_records(cases: Iterable[DocCase], source: str, base: Path, fill: Filler,
                    timeout: float = 60) -> list[Record]:
    """Build each case's project in its own directory and record the failure when it carries the token."""
    out: list[Record] = []
    for name, category, token, files, command in cases:
        root = base / source / name
        write_tree(root, files, fill)
        out += tool_records([(name, category, token, command)], source, root, fill, timeout=timeout)
    return out


__all__ = ["MKDOCS", "SPHINX_BUILD", "DocCase", "Filler", "project_records", "write_tree"]
