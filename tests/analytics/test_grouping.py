"""Grouping quality on real errors: every occurrence of one error family (same code path, different ids,
paths, ports, depths) gets one fingerprint, different families get different ones, recursion depth and
chained causes are handled, and custom rules merge and split as written."""

from __future__ import annotations

import json
import socket
import sqlite3
import traceback
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from recoup.analytics.fingerprint_rules import parse_rules
from recoup.analytics.grouping import fingerprint_text, grouping_report, parts_of_text
from recoup.errors import classify
from recoup.errors.fingerprint import collapse_recursion

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _missing_file(tmp: Path, i: int) -> None:
    (tmp / f"report-{uuid.uuid4().hex}-{i}.csv").read_text()


def _refused(_tmp: Path, _i: int) -> None:
    socket.create_connection(("127.0.0.1", _closed_port()), timeout=2).close()


def _bad_int(_tmp: Path, i: int) -> None:
    int(f"{uuid.uuid4().hex[:6]}x{i}")


def _bad_json(_tmp: Path, i: int) -> None:
    json.loads("{" + " " * i + '"a": }')


def _no_table(tmp: Path, i: int) -> None:
    with sqlite3.connect(tmp / f"db{i}.sqlite") as conn:
        conn.execute(f"SELECT * FROM orders_{uuid.uuid4().hex[:12]}")


def _bad_date(_tmp: Path, i: int) -> None:
    datetime.strptime(f"2026-13-{i:02d}", "%Y-%m-%d")


def _recurse(n: int) -> None:
    if n == 0:
        raise RecursionError(f"walked too deep into node 0x7f3a9c{n:02x}")
    _recurse(n - 1)


def _deep(_tmp: Path, i: int) -> None:
    _recurse(3 + i * 7)  # depths 3, 10, 17, ...: one bug


def _ping(n: int) -> None:
    if n == 0:
        raise LookupError(f"cycle ended at user {uuid.uuid4()}")
    _pong(n - 1)


def _pong(n: int) -> None:
    _ping(n)


def _mutual(_tmp: Path, i: int) -> None:
    _ping(2 + i * 3)


def _chained(_tmp: Path, i: int) -> None:
    try:
        _missing_file(_tmp, i)
    except FileNotFoundError as exc:
        raise RuntimeError(f"could not load config for tenant {1000 + i}") from exc


FAMILIES: dict[str, Callable[[Path, int], None]] = {
    "missing_file": _missing_file,
    "refused": _refused,
    "bad_int": _bad_int,
    "bad_json": _bad_json,
    "no_table": _no_table,
    "bad_date": _bad_date,
    "deep_recursion": _deep,
    "mutual_recursion": _mutual,
    "chained": _chained,
}
OCCURRENCES = 6


@pytest.fixture(scope="module")
def provoked(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, BaseException, str]]:
    """(family, exception, printed traceback) for OCCURRENCES real occurrences of every family."""
    tmp = tmp_path_factory.mktemp("provoke")
    out: list[tuple[str, BaseException, str]] = []
    for family, provoke in FAMILIES.items():
        for i in range(OCCURRENCES):
            try:
                provoke(tmp, i)
            except Exception as exc:  # every family raises something different
                out.append((family, exc, "".join(traceback.format_exception(exc))))
            else:
                pytest.fail(f"{family} did not fail")
    return out


def test_one_family_one_group_from_exceptions(provoked: list[tuple[str, BaseException, str]]) -> None:
    report = grouping_report((family, classify(exc).fingerprint) for family, exc, _ in provoked)
    assert report.families == len(FAMILIES)
    assert report.split_families == {}
    assert report.mixed_groups == {}
    assert report.groups == len(FAMILIES)


def test_one_family_one_group_from_printed_tracebacks(provoked: list[tuple[str, BaseException, str]]) -> None:
    report = grouping_report((family, fingerprint_text(text)) for family, _, text in provoked)
    assert (report.split_families, report.mixed_groups, report.groups) == ({}, {}, len(FAMILIES))
    # the text path is the library's text fingerprint
    assert all(fingerprint_text(text) == classify(text).fingerprint for _, _, text in provoked)


def test_recursion_collapsed() -> None:
    a, b, c = ("m", "a"), ("m", "b"), ("m", "c")
    assert collapse_recursion([c, a, a, a, a, b]) == [c, a, b]
    assert collapse_recursion([c, a, b, a, b, a, b, a]) == [c, a, b, a]
    assert collapse_recursion([a, b, c]) == [a, b, c]
    assert collapse_recursion([]) == []


def test_parts_explain_the_group(provoked: list[tuple[str, BaseException, str]]) -> None:
    text = next(t for family, _, t in provoked if family == "chained")
    parts = parts_of_text(text)
    assert parts.exception_type == "RuntimeError"
    assert parts.message == "could not load config for tenant <n>"
    assert parts.chain[:2] == ("FileNotFoundError", "RuntimeError")
    # the cause's in-app frame (where the file was read) is part of the group's identity
    assert ("test_grouping", "_missing_file") in parts.frames
    deep = parts_of_text(next(t for family, _, t in provoked if family == "deep_recursion"))
    assert deep.frames.count(("test_grouping", "_recurse")) == 1
    assert deep.message == "walked too deep into node <hex>"


def test_corpus_families_rarely_share_a_group() -> None:
    """Every corpus traceback is a different provoked failure: count how many share a fingerprint."""
    rows = [json.loads(line) for name in ("dev.jsonl", "heldout.jsonl") for line in (CORPUS / name).open()]
    tracebacks = [r for r in rows if r["kind"] == "traceback"]
    report = grouping_report((r["provoker"], fingerprint_text(r["text"])) for r in tracebacks)
    assert report.families == len(tracebacks) == 512
    # measured: 491 groups, 11 shared (HTTP statuses of one call site, masked as numbers, are one group)
    assert report.groups >= 480
    assert report.purity >= 0.97


def test_rules_merge_and_split_corpus_groups() -> None:
    rows = [json.loads(line) for name in ("dev.jsonl", "heldout.jsonl") for line in (CORPUS / name).open()]
    java_http = {r["provoker"]: r["text"] for r in rows
                 if r["kind"] == "traceback" and r["provoker"].startswith("java_url_")}
    assert len({fingerprint_text(t) for t in java_http.values()}) == 1  # 401 and 503 share the default group
    split = parse_rules('message:"*response code: 4*" -> {{ default }}-client\n'
                        'message:"*response code: 5*" -> {{ default }}-server\n')
    by_kind = {p: fingerprint_text(t, split) for p, t in java_http.items()}
    assert by_kind["java_url_401"] == by_kind["java_url_403"] != by_kind["java_url_503"] == by_kind["java_url_500"]
    assert len(set(by_kind.values())) == 2

    refused_types = ("ConnectError", "ConnectionRefusedError")
    refused = {r["provoker"]: r["text"] for r in rows
               if r["kind"] == "traceback" and r.get("exc_type", "").endswith(refused_types)}
    assert len({fingerprint_text(t) for t in refused.values()}) > 1  # different libraries, different groups
    merge = parse_rules("error.type:*ConnectError -> connection-refused\n"
                        "error.type:ConnectionRefusedError -> connection-refused\n")
    assert len({fingerprint_text(t, merge) for t in refused.values()}) == 1
