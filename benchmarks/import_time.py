"""Cold import time of `recoup` beside the peer libraries, each in a fresh interpreter.

Run: `.venv/bin/python benchmarks/import_time.py [--runs N]`. Each figure is the best of N fresh
processes (`python -X importtime -c "import X"`, the top-level cumulative time), minus nothing: the
interpreter's own start-up is not included, only the import.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from rich.console import Console
from rich.table import Table

MODULES = ("recoup", "tenacity", "stamina", "backoff", "pybreaker", "circuitbreaker")


def import_microseconds(module: str) -> int:
    """Cumulative import time of `module` in a fresh interpreter, from -X importtime."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True, check=True
    )
    for line in reversed(result.stderr.splitlines()):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1])
    raise RuntimeError(f"no importtime line for {module}")


def foreign_modules(module: str) -> list[str]:
    code = (
        "import sys; before = set(sys.modules); import " + module + "; "
        "print('\\n'.join(sorted(m for m in set(sys.modules) - before "
        "if m.split('.')[0] not in sys.stdlib_module_names and m.split('.')[0] != '" + module + "')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    table = Table(title=f"Cold import time, best of {args.runs} fresh interpreters")
    table.add_column("module")
    table.add_column("import ms", justify="right")
    table.add_column("× recoup", justify="right")
    table.add_column("non-stdlib modules loaded", justify="right")
    best = {m: min(import_microseconds(m) for _ in range(args.runs)) for m in MODULES}
    for module, micros in best.items():
        ratio = micros / best["recoup"]
        table.add_row(module, f"{micros / 1000:.1f}", f"{ratio:.1f}", str(len(foreign_modules(module))))
    Console().print(table)


if __name__ == "__main__":
    main()
