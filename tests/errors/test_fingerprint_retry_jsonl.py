"""Fingerprint stability, Retry-After extraction and the JSON-lines front end of `recoup classify`."""

from __future__ import annotations

import email.utils
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

import pytest

from recoup.errors.classifier import classify, retry_after_of
from recoup.errors.fingerprint import normalise
from recoup.errors.jsonl import JsonlClassifier, classify_lines


def _read_missing(path: Path) -> BaseException:
    try:
        path.read_text()
    except OSError as exc:
        return exc
    raise AssertionError("expected a failure")


def _refused(port: int) -> BaseException:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2)
    except OSError as exc:
        return exc
    raise AssertionError("expected a failure")


def test_same_error_from_different_paths_has_one_fingerprint(tmp_path: Path) -> None:
    a = _read_missing(tmp_path / "a" / "config-1234.yaml")
    b = _read_missing(tmp_path / "other" / "deeper" / "config-98.yaml")
    assert classify(a).fingerprint == classify(b).fingerprint
    c = _refused(1)
    assert classify(c).fingerprint != classify(a).fingerprint


def test_same_text_with_other_ids_ports_and_times_has_one_fingerprint() -> None:
    t1 = ("2026-01-02T03:04:05Z request 6f1c2a3e-1111-2222-3333-444455556666 to http://10.0.0.1:8080/v1/x failed: "
          "connect ECONNREFUSED 10.0.0.1:8080 (user bob@example.org, id 0xdeadbeef)")
    t2 = ("2027-11-12T13:14:15Z request 0a0b0c0d-aaaa-bbbb-cccc-ddddeeeeffff to https://api.example.org/v2/y failed: "
          "connect ECONNREFUSED 192.168.1.9:5432 (user alice@example.com, id 0x1234abcd)")
    assert classify(t1).fingerprint == classify(t2).fingerprint
    assert classify("connect ECONNRESET 10.0.0.1:80").fingerprint != classify(t1).fingerprint
    assert "<n>" in normalise("retry 12 of 30")


def test_fingerprint_is_stable_across_processes() -> None:
    code = (
        "from recoup.errors.classifier import classify\n"
        "try:\n    {}['tenant_42']\nexcept KeyError as e:\n    pass\n"
        "print(classify('fatal: Unable to create /tmp/x/.git/index.lock: File exists.').fingerprint)\n"
    )
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)}
    assert len(outs) == 1
    here = classify("fatal: Unable to create /tmp/x/.git/index.lock: File exists.").fingerprint
    assert outs == {here + "\n"}


def test_retry_after_from_real_http_responses(corpus_env: Any) -> None:
    import httpx
    import requests

    with pytest.raises(httpx.HTTPStatusError) as hx:
        httpx.get(corpus_env.url(429), timeout=2).raise_for_status()
    assert retry_after_of(hx.value) == 7.0
    with pytest.raises(requests.HTTPError) as rq:
        requests.get(corpus_env.url(503), timeout=2).raise_for_status()
    assert retry_after_of(rq.value) == 7.0
    with pytest.raises(urllib.error.HTTPError) as ul:
        urllib.request.urlopen(corpus_env.url(429), timeout=2)
    assert retry_after_of(ul.value) == 7.0
    ul.value.close()
    with pytest.raises(httpx.HTTPStatusError) as none:
        httpx.get(corpus_env.url(500), timeout=2).raise_for_status()
    assert retry_after_of(none.value) is None


def test_retry_after_http_date_and_policy_attribute() -> None:
    from recoup.policies.errors import CircuitOpenError

    class Resp:
        headers: ClassVar[dict[str, str]] = {"retry-after": email.utils.formatdate(time.time() + 30, usegmt=True)}

    class ClientResponseError(Exception):
        response = Resp()

    wait = retry_after_of(ClientResponseError())
    assert wait is not None and 25 <= wait <= 31
    assert retry_after_of(CircuitOpenError("db", retry_after=1.5)) == 1.5
    assert retry_after_of(ValueError("x")) is None
    try:
        try:
            raise CircuitOpenError("db", retry_after=2.0)
        except CircuitOpenError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert retry_after_of(outer) == 2.0


def test_classify_lines_keeps_order_and_reports_bad_lines() -> None:
    lines = [
        json.dumps({"text": "Error: connect ECONNREFUSED 127.0.0.1:80"}),
        "",
        "{not json",
        json.dumps({"msg": "no text"}),
        json.dumps({"text": 42}),
        json.dumps(["a list"]),
        json.dumps({"text": "fatal: not a git repository (or any of the parent directories): .git"}),
    ]
    runner = JsonlClassifier()
    out = [json.loads(x) for x in runner.classify_lines(lines)]
    assert len(out) == 6  # the blank line is skipped, nothing else is dropped
    assert out[0]["category"] == "network" and out[0]["transient"] is True
    assert set(out[0]) == {"category", "transient", "confidence", "fingerprint", "reason"}
    assert out[1]["error"].startswith("line 3: invalid JSON")
    assert out[2] == {"error": 'line 4: missing "text"'}
    assert out[3]["error"] == 'line 5: "text" must be a string, got int'
    assert out[4]["error"].startswith("line 6: expected a JSON object")
    assert out[5]["category"] == "git"
    assert runner.bad_lines == 4


def test_classify_lines_callback() -> None:
    bad: list[int] = []
    out = list(classify_lines(["{}", json.dumps({"text": "x"})], on_bad=lambda n, _m: bad.append(n)))
    assert bad == [1] and len(out) == 2
