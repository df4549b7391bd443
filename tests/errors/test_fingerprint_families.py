"""Grouping on realistic message families: variants differing only in ids, hex or the quoted input value
share one fingerprint, while genuinely different errors stay apart, in the library (`classify`,
`normalise`) and on the server (`recoup.server.enrich`), which must agree."""

from __future__ import annotations

import json
import random
import re
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from recoup.errors.classifier import classify
from recoup.errors.fingerprint import _MASKS, digits_key, fingerprint, normalise

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from ingest_load import ERROR_KINDS  # the benchmark's realistic errors

VARIANTS = 200
#: Families whose generator picks among genuinely different errors: (index, what tells them apart, how many)
SPLIT_FAMILIES = {
    3: (re.compile(r"'(\d{3}) "), 3),  # 502 Bad Gateway / 503 Service Unavailable / 504 Gateway Timeout
    12: (re.compile(r"(.*)"), 4),  # KeyError 'user_id' / 'customer' / 'shipping_address' / 'sku'
}


def _variants(index: int) -> Iterator[tuple[str, str, str]]:
    """(sub-family, exception type, message) of ``VARIANTS`` random variants of family ``index``."""
    etype, factory, *_ = ERROR_KINDS[index]
    rng = random.Random(index)
    split = SPLIT_FAMILIES.get(index)
    for _ in range(VARIANTS):
        message = factory(rng)
        match = split[0].search(message) if split else None
        yield (match.group(1) if match else ""), etype, message


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else ""


@pytest.mark.parametrize("index", range(len(ERROR_KINDS)), ids=[k[0] for k in ERROR_KINDS])
def test_each_family_is_one_group_in_the_library(index: int) -> None:
    groups: dict[str, set[str]] = {}
    normalised: dict[str, set[str]] = {}
    for sub, etype, message in _variants(index):
        groups.setdefault(sub, set()).add(classify(f"{etype}: {message}").fingerprint)
        normalised.setdefault(sub, set()).add(normalise(_first_line(message)))
    assert all(len(fps) == 1 for fps in groups.values()), {k: len(v) for k, v in groups.items()}
    assert all(len(texts) == 1 for texts in normalised.values()), normalised
    expected = SPLIT_FAMILIES[index][1] if index in SPLIT_FAMILIES else 1
    assert len(groups) == expected  # the genuinely different errors of a family are told apart
    assert len({fp for fps in groups.values() for fp in fps}) == expected


def _server_event(etype: str, message: str, payload: dict[str, Any] | None = None) -> Any:
    from recoup.store import EventKind, NewEvent

    return NewEvent(event_id=uuid.uuid4().hex, kind=EventKind.ERROR, occurred_at=datetime.now(UTC), message=message,
                    exception_type=etype, payload=payload or {})


@pytest.mark.parametrize("index", range(len(ERROR_KINDS)), ids=[k[0] for k in ERROR_KINDS])
def test_each_family_is_one_group_on_the_server_with_the_library_fingerprint(index: int) -> None:
    from recoup.server.enrich import enrich

    groups: dict[str, set[str | None]] = {}
    for sub, etype, message in _variants(index):
        event = enrich(_server_event(etype, message))
        assert event.fingerprint == fingerprint(etype, _first_line(message))  # what the library computes
        assert event.category == classify(f"{etype}: {message}").category.value  # masking never changes it
        groups.setdefault(sub, set()).add(event.fingerprint)
    assert all(len(fps) == 1 for fps in groups.values()), {k: len(v) for k, v in groups.items()}
    expected = SPLIT_FAMILIES[index][1] if index in SPLIT_FAMILIES else 1
    assert len({fp for fps in groups.values() for fp in fps}) == expected


@pytest.mark.parametrize(
    "same",
    [
        # ids glued to a prefix, all digits or all letters, inside and outside urls
        ["Server error '503 Service Unavailable' for url 'https://api.example.com/v1/charges/ch_03fa2e9be8137221'",
         "Server error '503 Service Unavailable' for url 'https://api.example.com/v1/charges/ch_8137221038137221'",
         "Server error '503 Service Unavailable' for url 'https://api.example.com/v1/charges/ch_abcdefabcdefabcd'"],
        ["charge ch_03fa2e9be8137221 failed", "charge ch_8137221fa2e9be03 failed", "charge ch_e9be8137221 failed"],
        ["invalid literal for int() with base 10: 'a3f9c2'", "invalid literal for int() with base 10: 'fedcba'",
         "invalid literal for int() with base 10: '170587'", "invalid literal for int() with base 10: ''"],
        ["could not convert string to float: 'abc'", "could not convert string to float: '1,5'"],
        ["time data '2024-13-45' does not match format '%Y-%m-%d'",
         "time data 'yesterday' does not match format '%Y-%m-%d'"],
        ['invalid input syntax for type integer: "abc"', 'invalid input syntax for type integer: "12x"'],
        ['strconv.Atoi: parsing "12a": invalid syntax', 'strconv.Atoi: parsing "many": invalid syntax'],
    ],
)
def test_messages_differing_only_in_ids_or_input_values_share_a_fingerprint(same: list[str]) -> None:
    from recoup.server.enrich import enrich

    assert len({classify(f"ValueError: {m}").fingerprint for m in same}) == 1
    assert len({enrich(_server_event("ValueError", m)).fingerprint for m in same}) == 1


@pytest.mark.parametrize(
    "apart",
    [
        ["'user_id'", "'customer'"],  # KeyError: the key is the bug
        ["No module named 'boto3'", "No module named 'psycopg2'"],
        ["invalid literal for int() with base 10: 'x'", "could not convert string to float: 'x'"],
        ["Server error '502 Bad Gateway' for url 'https://a.example/x'",
         "Server error '503 Service Unavailable' for url 'https://a.example/x'"],
        ["order 12 is in state 'cancelled', cannot capture payment",
         "order 12 is in state 'refunded', cannot capture payment"],
        ["'NoneType' object has no attribute 'id'", "'NoneType' object has no attribute 'email'"],
    ],
)
def test_genuinely_different_errors_stay_apart(apart: list[str]) -> None:
    from recoup.server.enrich import enrich

    assert len({classify(f"KeyError: {m}").fingerprint for m in apart}) == len(apart)
    assert len({enrich(_server_event("KeyError", m)).fingerprint for m in apart}) == len(apart)


def test_fingerprints_of_messages_without_the_bug_are_unchanged() -> None:
    """Digests computed before the fix (library and server alike): messages it did not split keep theirs."""
    assert fingerprint("ConnectionRefusedError", "[Errno 111] Connection refused") == "e0a46cffdc068bcd80f0"
    assert fingerprint("KeyError", "'user_id'", [("app", "run")]) == "b72b893e9e85e7c9b9ab"
    assert fingerprint("psycopg.OperationalError",
                       'connection to server at "10.0.0.5", port 5432 failed: Connection refused') \
        == "5b34da00f165b4b75091"
    assert normalise('connection to server at "10.0.0.5", port 5432 failed: timeout 2026-01-01T10:00:00Z') \
        == 'connection to server at "<ip>", <port> failed: timeout <ts>'


def _literal_digits(pattern: str) -> set[str]:
    """The digits ``pattern`` names one by one (as literals or in a class), not through ``\\d`` or ``[0-9]``."""
    import re._parser as sre_parse  # the regex parser: tells literals from classes and quantifiers

    found: set[str] = set()

    def literal(op: Any, arg: Any) -> None:
        if op is sre_parse.LITERAL and chr(arg).isdigit():
            found.add(chr(arg))
        elif op is sre_parse.RANGE and arg != (ord("0"), ord("9")) and any(
                chr(c).isdigit() for c in range(arg[0], arg[1] + 1)):
            found.add(f"{chr(arg[0])}-{chr(arg[1])}")

    def walk(node: Any) -> None:
        if isinstance(node, sre_parse.SubPattern):
            for op, arg in node:
                literal(op, arg)
                if op is sre_parse.IN:
                    for item in arg:
                        literal(*item)
                walk(arg)
        elif isinstance(node, list | tuple):
            for part in node:
                walk(part)

    walk(sre_parse.parse(pattern))
    return found


def test_digits_key_cannot_change_the_normalised_message() -> None:
    # The masks name no digit but the 0 of 0x (so 1-9 are alike to them) ...
    assert _literal_digits(r"\b0x(?:a5|[1-3])\d{4}[0-9]") == {"0", "5", "1-3"}  # the check sees them
    assert set().union(*(_literal_digits(p) for p, _ in _MASKS)) <= {"0"}
    # ... and on real messages with numbers of every shape, the key normalises exactly like the message.
    rng = random.Random(5)
    messages = [m for index in range(len(ERROR_KINDS)) for _, _, m in _variants(index)]
    messages += ["0x1f at 5x1f", "v2.3.4-rc1 on 10.0.0.1:8080 at 2026-01-02 03:04:05.678+01:00", "id 0a0b0c9d8e7f",
                 "port 5432 =99 :80 [::1]:443 /var/lib/x9/y8 e1e1e1e1e1e1 1.5e10 ١٢٣ 0000000"]
    corpus = Path(__file__).resolve().parents[1] / "corpus"
    for split in ("dev", "heldout"):
        for line in (corpus / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                messages.extend(json.loads(line)["text"].splitlines()[:5])
    for message in messages:
        scrambled = re.sub(r"[1-9]", lambda _: str(rng.randrange(1, 10)), message)
        assert normalise(digits_key(message)) == normalise(message) == normalise(scrambled)
