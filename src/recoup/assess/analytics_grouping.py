"""Grouping measured on real errors: known error families provoked in process, fingerprinted the way recoup
groups them, and compared with the truth (a family split over several groups, or groups shared by families).

The families live in a small application written to a temporary folder as two versions of the same module,
the second shifted by blank lines and comments (a deploy that moved the code): every family raises from both,
so line numbers differ within a family. Inputs vary per occurrence (ids, numbers, paths, ports), one family
is a chained exception, one recurses to a different depth each time, one is Python's own RecursionError, and
two families raise the same exception with the same message from different functions (different bugs that
must stay apart), and two put the offending input in the message as plain words (a dict lookup by user name,
an unknown currency code), which a message-based fingerprint cannot tell from the error itself. Fingerprints
are taken twice: from the live exception (`recoup.errors.classify`, what the library's telemetry sends) and
from the printed traceback (`recoup.analytics.grouping.fingerprint_text`, what a log line or a Sentry-style
text gives). The messages are then mined for templates (`recoup.analytics.templates`).
"""

from __future__ import annotations

import gc
import importlib.util
import random
import sqlite3
import tempfile
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from recoup.analytics.grouping import fingerprint_text, grouping_report
from recoup.analytics.templates import TemplateMiner
from recoup.assess.fixtures import closed_port
from recoup.errors.classifier import classify

APP = '''"""An order service: the code paths the grouping check provokes."""
{padding}
import json
import os
import socket


class OrderError(Exception):
    pass


def parse_quantity(raw):
    return int(raw)


def load_cached(folder, key):
    with open(os.path.join(folder, "cache", key + ".json")) as handle:
        return json.load(handle)


def fetch_inventory(port):
    socket.create_connection(("127.0.0.1", port), timeout=1).close()


def checkout(cart, order_id):
    try:
        return cart["sku"]
    except KeyError as exc:
        raise OrderError(f"order {{order_id}} failed: cart has no sku") from exc


def walk(node, depth):
    if depth == 0:
        raise ValueError(f"cycle detected at node {{node}}")
    return walk(node + 1, depth - 1)


def recurse(n):
    return recurse(n + 1)


def ratio(done, total):
    return done / total


def decode(body):
    return json.loads(body)


def read_sku(cart):
    return cart["sku"]


def price_of(cart):
    return cart["sku"]


def find_user(users, name):
    return users[name]


def convert(amount, currency):
    raise ValueError(f"unknown currency {{currency}} for amount {{amount}}")


def query(db, table):
    return db.execute(f"SELECT * FROM {{table}}").fetchall()
'''

#: User names a lookup misses (a dict keyed by user input: the key is in the message, unquoted by nothing).
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
NAMES = ("alice", "bob", "carol", "dmitri", "eve", "farah", "gustavo", "hana")
Call = Callable[[ModuleType, random.Random, Path], object]


def _token(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghkmnpqrstuvwxyz0123456789,.") for _ in range(rng.randint(3, 9)))


#: family -> how one occurrence is provoked (the module version, a seeded generator, a scratch folder)
FAMILIES: dict[str, Call] = {
    "bad-quantity": lambda m, r, d: m.parse_quantity(_token(r) + "x"),
    "cache-miss": lambda m, r, d: m.load_cached(str(d / f"run-{r.randint(1, 999)}"),
                                                str(uuid.UUID(int=r.getrandbits(128)))),
    "inventory-down": lambda m, r, d: m.fetch_inventory(closed_port()),
    "checkout-chained": lambda m, r, d: m.checkout({"qty": r.randint(1, 9)}, r.randint(1000, 99999)),
    "cycle-in-walk": lambda m, r, d: m.walk(r.randint(1, 500), r.randint(2, 40)),
    "runaway-recursion": lambda m, r, d: m.recurse(r.randint(0, 100)),
    "zero-total": lambda m, r, d: m.ratio(r.randint(1, 50), 0),
    "bad-body": lambda m, r, d: m.decode(" " * r.randint(0, 9) + "]" + "x" * r.randint(0, 5)),
    "missing-sku-read": lambda m, r, d: m.read_sku({"id": r.randint(1, 99)}),
    "missing-sku-price": lambda m, r, d: m.price_of({"id": r.randint(1, 99)}),
    "unknown-user": lambda m, r, d: m.find_user({}, r.choice(NAMES)),
    "unknown-currency": lambda m, r, d: m.convert(r.randint(1, 10_000) / 100, "".join(r.sample(LETTERS, 3))),
    "missing-table": lambda m, r, d: m.query(sqlite3.connect(":memory:"), f"orders_{r.randint(2000, 2099)}"),
}


def _load(folder: Path, version: int) -> ModuleType:
    padding = "\n".join(f"# moved by release {version}: line {i}" for i in range(version * 7))
    path = folder / f"v{version}" / "orders.py"
    path.parent.mkdir(parents=True)
    path.write_text(APP.format(padding=padding), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("orders", path)  # one name: a deploy keeps the module name
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def provoke_families(occurrences: int, seed: int = 1) -> tuple[list[tuple[str, BaseException]], list[str]]:
    """(family, exception) for every occurrence, alternating the two module versions; problems name a family
    occurrence that did not raise."""
    rng = random.Random(seed)
    out: list[tuple[str, BaseException]] = []
    problems: list[str] = []
    # No garbage collection while provoking: a finalizer (a TemporaryDirectory's, say) that the collector ran
    # at the bottom of the runaway recursion would itself hit the recursion limit and fail as unraisable.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with tempfile.TemporaryDirectory(prefix="recoup-grouping-") as scratch:
            folder = Path(scratch)
            versions = [_load(folder, 1), _load(folder, 2)]
            for family, call in FAMILIES.items():
                for i in range(occurrences):
                    try:
                        call(versions[i % 2], rng, folder)
                    except Exception as exc:  # the failure we came for
                        out.append((family, exc))
                    else:
                        problems.append(f"{family}: occurrence {i} did not raise")
    finally:
        if collecting:
            gc.enable()
    return out, problems


def _report(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    found = grouping_report(pairs)
    return {"families": found.families, "groups": found.groups, "over_split": found.split_families,
            "over_merged": {fp: fams for fp, fams in found.mixed_groups.items()}, "purity": found.purity}


def one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def measure_grouping(occurrences: int, seed: int = 1) -> dict[str, Any]:
    """Families vs groups, both ways of fingerprinting, and template mining over the occurrences' messages."""
    provoked, problems = provoke_families(occurrences, seed)
    live = [(family, classify(exc).fingerprint) for family, exc in provoked]
    printed = [(family, fingerprint_text("".join(traceback.format_exception(exc)))) for family, exc in provoked]
    lines = [(family, one_line(exc)) for family, exc in provoked]
    miner = TemplateMiner()
    matched = [(family, miner.add(line).template_id) for family, line in lines]
    templates = _report(matched)
    return {
        "occurrences": len(provoked),
        "families": sorted(FAMILIES),
        "problems": problems,
        "live_exception": _report(live),
        "printed_traceback": _report(printed),
        "templates": {
            "lines": len(lines),
            "found": miner.template_count,
            "families": templates["families"],
            "over_split": templates["over_split"],
            "shared": templates["over_merged"],
            "examples": [c.template for c in miner.templates()][:15],
        },
    }


__all__ = ["FAMILIES", "measure_grouping", "provoke_families"]
