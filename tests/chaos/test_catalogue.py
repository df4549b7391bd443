"""Every catalogue fault is the real exception (type, errno, message) and recoup classifies it right."""

from __future__ import annotations

import asyncio
import json
import subprocess
import urllib.error

import pytest

import recoup
from recoup.chaos.catalogue import CATALOGUE, Fault, ProvocationError, fault, faults_of
from recoup.errors.classifier import retry_after_of

NAMES = CATALOGUE.names()


@pytest.mark.parametrize("name", NAMES)
def test_fault_is_real_and_classified_into_its_category(name: str) -> None:
    entry = fault(name)
    exc = entry.exception()
    assert isinstance(exc, entry.expected)
    if entry.errno is not None:
        assert exc.errno == entry.errno  # type: ignore[attr-defined]
    verdict = recoup.classify(exc)
    assert (verdict.category, verdict.transient) == (entry.category, entry.transient), verdict.reason


@pytest.mark.parametrize("name", NAMES)
def test_async_variant_is_classified_into_its_category(name: str) -> None:
    entry = fault(name)
    exc = asyncio.run(entry.aexception())
    assert isinstance(exc, entry.expected)
    assert recoup.classify(exc).category == entry.category


def test_every_category_has_several_faults() -> None:
    for category in recoup.Category:
        assert len(faults_of(category)) >= 3, category


def test_each_injection_is_a_fresh_exception_with_no_history() -> None:
    entry = fault("network.connection-refused")
    first, second = entry.exception(), entry.exception()
    assert first is not second and str(first) == str(second) == "[Errno 111] Connection refused"
    try:
        raise first
    except ConnectionRefusedError as caught:
        caught.add_note("seen once")
    third = entry.exception()
    assert third.__traceback__ is None and not getattr(third, "__notes__", None)


def test_messages_are_what_the_real_failures_say() -> None:
    refused_async = asyncio.run(fault("network.connection-refused").aexception())
    assert "Connect call failed ('127.0.0.1'" in str(refused_async)
    assert str(fault("resource.disk-full").exception()) == "[Errno 28] No space left on device"
    assert "Too many open files" in str(fault("resource.too-many-open-files").exception())
    assert str(fault("resource.database-locked").exception()) == "database is locked"
    decode = fault("validation.bad-json").exception()
    assert isinstance(decode, json.JSONDecodeError) and decode.pos == 18
    git = fault("git.index-locked").exception()
    assert isinstance(git, subprocess.CalledProcessError) and git.returncode == 128
    assert "index.lock': File exists" in git.stderr
    assert "not a git repository" in fault("git.not-a-repository").exception().stderr  # type: ignore[attr-defined]


def test_http_faults_carry_status_headers_and_a_readable_body_each_time() -> None:
    entry = fault("service.http-503")
    for _ in range(2):
        exc = entry.exception()
        assert isinstance(exc, urllib.error.HTTPError) and exc.code == 503
        assert exc.headers["Retry-After"] == "0" and retry_after_of(exc) == 0.0
        assert json.loads(exc.read()) == {"error": "Service Unavailable", "status": 503}
    unauthorized = fault("auth.http-401").exception()
    assert isinstance(unauthorized, urllib.error.HTTPError)
    assert unauthorized.headers["WWW-Authenticate"].startswith("Bearer")


def test_raise_helpers_raise_the_fault() -> None:
    with pytest.raises(FileNotFoundError, match="No such file or directory"):
        fault("filesystem.missing-file").raise_()
    with pytest.raises(ConnectionRefusedError, match="Connect call failed"):
        asyncio.run(fault("network.connection-refused").araise())


def test_unknown_name_gets_suggestions() -> None:
    with pytest.raises(KeyError, match=r"did you mean 'network\.connection-refused'"):
        fault("network.conection-refused")


def test_a_provocation_that_fails_differently_is_reported_not_injected() -> None:
    wrong = Fault("network.fake", recoup.Category.NETWORK, True, ConnectionRefusedError, "wrong provoker",
                  lambda: KeyError("nope"))
    with pytest.raises(ProvocationError, match=r"raised KeyError.*instead of ConnectionRefusedError"):
        wrong.exception()
