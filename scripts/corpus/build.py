"""Build the classification corpus by provoking real failures: `python scripts/corpus/build.py --out tests/corpus/`.

Every record is the real output of a real failure (an exception's traceback and `Type: message` line, or a
tool's stderr) whose cause we know because we provoked it; the label comes from that cause, following
shared/TAXONOMY.md. Needs the local services (PostgreSQL, Redis, MariaDB on 127.0.0.1), git, curl, node,
java/javac and go; provokers whose tool is missing are skipped and reported.

The corpus is split by SOURCE: records of HELDOUT_SOURCES go to heldout.jsonl, which rule authors do not
read; batches 14-32 (scored blind against the learned classifier) to blind14.jsonl ... blind32.jsonl;
everything else goes to dev.jsonl. This script prints counts only, never the held-out texts.
Regenerating changes ports, paths and timestamps inside texts but not the labels.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from blind3_provokers import blind3_records
from blind4_provokers import blind4_records
from blind5_provokers import BLIND5_SOURCES, blind5_records
from blind6_provokers import blind6_records
from blind7_provokers import blind7_records
from blind8_provokers import blind8_records
from blind9_provokers import blind9_records
from blind10_provokers import blind10_records
from blind11_provokers import blind11_records
from blind12_provokers import blind12_records
from blind13_provokers import BLIND13_SOURCES, blind13_records
from blind14_provokers import BLIND14_SOURCES, blind14_records
from blind15_provokers import BLIND15_SOURCES, blind15_records
from blind16_provokers import BLIND16_SOURCES, blind16_records
from blind17_provokers import BLIND17_SOURCES, blind17_records
from blind18_provokers import BLIND18_SOURCES, blind18_records
from blind19_provokers import BLIND19_SOURCES, blind19_records
from blind20_provokers import BLIND20_SOURCES, blind20_records
from blind21_provokers import BLIND21_SOURCES, blind21_records
from blind22_provokers import BLIND22_SOURCES, blind22_records
from blind23_provokers import BLIND23_SOURCES, blind23_records
from blind24_provokers import BLIND24_SOURCES, blind24_records
from blind25_provokers import BLIND25_SOURCES, blind25_records
from blind26_provokers import BLIND26_SOURCES, blind26_records
from blind27_provokers import BLIND27_SOURCES, blind27_records
from blind28_provokers import BLIND28_SOURCES, blind28_records
from blind29_provokers import BLIND29_SOURCES, blind29_records
from blind30_provokers import BLIND30_SOURCES, blind30_records
from blind31_provokers import BLIND31_SOURCES, blind31_records
from blind32_provokers import BLIND32_SOURCES, blind32_records
from blind_provokers import blind_records
from common import Env, Record, exception_records, local_env, record
from py_provokers import PROVOKERS, provoke
from runtime_provokers import go_records, java_records
from tool_provokers import TOOL_PROVOKERS, available

HELDOUT_SOURCES = frozenset(
    {"aiohttp", "urllib3", "mariadb", "mariadb-cli", "java", "go", "curl", "git-remote", "psql", "redis-cli"}
) | BLIND5_SOURCES | BLIND13_SOURCES


def _python_traceback_text(env: Env) -> list[Record]:
    """Uncaught errors of child Python processes, as they appear on stderr (real rlimits, real uid)."""
    cases = [
        ("python_child_memory", "resource",
         "import resource; resource.setrlimit(resource.RLIMIT_AS, (300 << 20, 300 << 20)); x = bytearray(400 << 20)"),
        ("python_child_emfile", "resource",
         "import resource; resource.setrlimit(resource.RLIMIT_NOFILE, (20, 20)); "
         "fs = [open('/dev/null') for _ in range(64)]"),
        ("python_child_eacces", "filesystem",
         "import os; os.setgid(65534); os.setuid(65534); open('/root/.bashrc-recoup-corpus', 'w')"),
    ]
    out: list[Record] = []
    for name, category, code in cases:
        import subprocess

        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=env.tmp, check=False)
        if proc.returncode == 0:
            raise RuntimeError(f"{name} did not fail")
        out.append(record(proc.stderr.strip(), category, "python", "traceback", name))
    return out


def build(only: str | None) -> tuple[list[Record], list[str]]:
    records: list[Record] = []
    problems: list[str] = []
    with local_env() as env:
        for p in PROVOKERS:
            if only and only not in p.name:
                continue
            try:
                exc = provoke(p, env)
            except Exception as harness:  # the provoker did not fail as designed
                problems.append(f"{p.name}: {type(harness).__name__}: {harness}")
                continue
            records.extend(exception_records(exc, p.category, p.source, p.name))
        for t in TOOL_PROVOKERS:
            if only and only not in t.name:
                continue
            if not available(t):
                problems.append(f"{t.name}: skipped, {t.needs} not installed")
                continue
            try:
                text = t.fn(env)
            except Exception as harness:
                problems.append(f"{t.name}: {type(harness).__name__}")
                continue
            if not text:
                problems.append(f"{t.name}: printed nothing")
                continue
            records.append(record(text, t.category, t.source, "stderr", t.name))
        extra: list[Callable[[Env], list[Record]]] = [_python_traceback_text, java_records, go_records,
                                                      blind_records, blind3_records, blind4_records,
                                                      blind5_records, blind6_records,
                                                      blind7_records, blind8_records,
                                                      blind9_records, blind10_records, blind11_records,
                                                      blind12_records, blind13_records, blind14_records,
                                                      blind15_records, blind16_records, blind17_records,
                                                      blind18_records, blind19_records, blind20_records,
                                                      blind21_records, blind22_records, blind23_records,
                                                      blind24_records, blind25_records, blind26_records,
                                                      blind27_records, blind28_records, blind29_records,
                                                      blind30_records, blind31_records, blind32_records]
        for fn in extra:
            if only and only not in fn.__name__:
                continue
            try:
                records.extend(fn(env))
            except Exception as harness:
                problems.append(f"{fn.__name__}: {type(harness).__name__}")
    return records, problems


#: batches scored blind against the learned classifier, each kept in its own file
_BLIND_SPLITS: dict[str, frozenset[str]] = {
    "blind14": BLIND14_SOURCES, "blind15": BLIND15_SOURCES, "blind16": BLIND16_SOURCES, "blind17": BLIND17_SOURCES,
    "blind18": BLIND18_SOURCES, "blind19": BLIND19_SOURCES, "blind20": BLIND20_SOURCES, "blind21": BLIND21_SOURCES,
    "blind22": BLIND22_SOURCES, "blind23": BLIND23_SOURCES, "blind24": BLIND24_SOURCES,
    "blind25": BLIND25_SOURCES, "blind26": BLIND26_SOURCES, "blind27": BLIND27_SOURCES, "blind28": BLIND28_SOURCES,
    "blind29": BLIND29_SOURCES, "blind30": BLIND30_SOURCES, "blind31": BLIND31_SOURCES, "blind32": BLIND32_SOURCES,
}


def _split_of(source: str) -> str:
    """heldout.jsonl for held-out sources; blindN.jsonl for the batches scored blind against the learned
    classifier (kept apart so the rule accuracy floors over dev and heldout stay as measured); dev.jsonl otherwise."""
    if source in HELDOUT_SOURCES:
        return "heldout"
    return next((name for name, sources in _BLIND_SPLITS.items() if source in sources), "dev")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("tests/corpus"))
    parser.add_argument("--only", help="run only provokers whose name contains this (does not write files)")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    started = time.monotonic()
    records, problems = build(args.only)
    for problem in problems:
        print("problem:", problem, file=sys.stderr)
    if args.only:
        for rec in records:
            if rec["source"] not in HELDOUT_SOURCES:
                print(json.dumps(rec))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    split: dict[str, list[Record]] = {"dev": [], "heldout": [], **{name: [] for name in _BLIND_SPLITS}}
    for rec in records:
        split[_split_of(rec["source"])].append(rec)
    for name, recs in split.items():
        with (args.out / f"{name}.jsonl").open("w", encoding="utf-8") as f:
            for rec in recs:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        by_cat = collections.Counter(r["category"] for r in recs)
        by_src = collections.Counter(r["source"] for r in recs)
        print(f"{name}: {len(recs)} records; categories {dict(sorted(by_cat.items()))}")
        print(f"{name}: sources {dict(sorted(by_src.items()))}")
    print(f"built in {time.monotonic() - started:.1f}s, {len(problems)} problem(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
