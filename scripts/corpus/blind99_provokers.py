"""Ninety-ninth batch of blind provokers: languages from Debian not seen before, each failing in its own idiom
(program texts in blind99_support). SBCL (unbound variables, undefined functions, type errors, division by
zero, control stack exhaustion, a read error in compile-file, open/with-open-file on a missing, root-only,
read-only or full path, heap exhaustion under a small dynamic space, parse-integer on an uploaded field,
sb-bsd-sockets to a closed port, a read timeout and a status server answering 503/401); Vala (valac errors for an
unknown symbol, a type mismatch, a syntax error and a missing method, an assertion, GLib.FileError/IOError on
missing, root-only, read-only and full paths, g_malloc failing under ulimit -v, a malformed key file and a
bad number, SocketClient refused and timed out, 503/429 from the status server); Gforth (undefined word, stack
underflow, division by zero, invalid address, return stack overflow, file words on missing, root-only,
and read-only paths, allocate under ulimit -v, a bad number, a refused socket); Chicken Scheme (unbound
variable, call of a non-procedure, bad argument type and count, a csc compile error, vector index out of range,
file errors, a full heap under -:h, malformed data, tcp refused and timed out, 503/403)."""

from __future__ import annotations

import os
from pathlib import Path

from blind99_support import CHICKEN_CASES, GFORTH_CASES, SBCL_CASES, VALA_CASES
from checked import ToolCase, tool_records
from common import Env, Record, write_batch
from servers import mount_tmpfs

BLIND99_SOURCES = frozenset({"sbcl99", "vala99", "gforth99", "chicken99"})


def _prepare(work: Path, cases: list[tuple[str, str, str, str, str, str]], fill: dict[str, str]) -> list[ToolCase]:
    """Write each case's program into `work` (placeholders filled) and return its tool case."""

    def sub(text: str) -> str:
        for key, value in fill.items():
            text = text.replace(key, value)
        return text

    out: list[ToolCase] = []
    for name, category, token, filename, program, command in cases:
        path = work / filename
        path.write_text(sub(program), encoding="utf-8")
        path.chmod(0o644)
        out.append((name, category, token, sub(command)))
    return out


def blind99_records(env: Env) -> list[Record]:
    os.chmod(env.tmp, 0o755)
    work = env.tmp / "w99"
    work.mkdir()
    work.chmod(0o777)
    ro = mount_tmpfs(env, "ro99", "size=64k,ro")
    full = mount_tmpfs(env, "full99", "size=16k")
    secret = env.tmp / "secret99.key"
    secret.write_text("api-key = not-for-others\n", encoding="utf-8")
    secret.chmod(0o600)
    fill = {"@W@": str(work), "@RO@": str(ro), "@FULL@": str(full), "@CLOSED@": str(env.closed_port),
            "@HANG@": str(env.hang_port), "@HTTP@": str(env.http_port), "@SECRET@": str(secret)}
    out: list[Record] = []
    for source, cases in (("sbcl99", SBCL_CASES), ("vala99", VALA_CASES), ("gforth99", GFORTH_CASES),
                          ("chicken99", CHICKEN_CASES)):
        for leftover in full.iterdir():  # each disk-full case starts from an empty 16 KiB mount
            leftover.unlink()
        out += tool_records(_prepare(work, cases, fill), source, work, timeout=120)
    return out


if __name__ == "__main__":
    write_batch(blind99_records)


__all__ = ["BLIND99_SOURCES", "blind99_records"]
