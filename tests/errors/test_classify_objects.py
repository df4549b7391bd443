"""Classification of real exception objects, provoked here against real local components."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import py_provokers  # found through tests/errors/conftest.py
import pytest

from recoup.errors.classifier import category_of, classify
from recoup.errors.taxonomy import Category

CHEAP = [p for p in py_provokers.PROVOKERS if p.cheap]
NEEDS_ROOT = {"os_eacces", "os_eacces_write_dir"}


@pytest.mark.parametrize("prov", CHEAP, ids=[p.name for p in CHEAP])
def test_real_exception_is_classified_by_its_provoked_cause(prov: Any, corpus_env: Any) -> None:
    if prov.name in NEEDS_ROOT and os.geteuid() != 0:
        pytest.skip("needs root to switch to an unprivileged uid")
    exc = py_provokers.provoke(prov, corpus_env)
    result = classify(exc)
    assert result.category.value == prov.category, (type(exc), str(exc)[:300], result)
    assert 0.0 <= result.confidence <= 1.0
    assert result.reason
    assert len(result.fingerprint) == 20 and int(result.fingerprint, 16) >= 0
    # the hot path agrees with the full classification on every real error of the corpus
    assert category_of(exc) == (result.category, result.transient), str(exc)[:200]


def test_chained_cause_decides_over_a_vague_wrapper(corpus_env: Any) -> None:
    try:
        try:
            socket.create_connection(("127.0.0.1", corpus_env.closed_port), timeout=2)
        except OSError as inner:
            raise RuntimeError("could not refresh the catalogue") from inner
    except RuntimeError as outer:
        result = classify(outer)
        assert result.category is Category.NETWORK
        assert result.transient
        assert category_of(outer) == (Category.NETWORK, True)


def test_implicit_context_counts_too(tmp_path: Path) -> None:
    try:
        try:
            (tmp_path / "missing.json").read_text()
        except FileNotFoundError:
            raise RuntimeError("loading settings failed")  # noqa: B904  (implicit context on purpose)
    except RuntimeError as outer:
        assert classify(outer).category is Category.FILESYSTEM


def test_git_stderr_carried_by_called_process_error(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.org")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True, env=env)
    (repo / "a.txt").write_text("a")
    subprocess.run(["git", "add", "a.txt"], cwd=repo, check=True, env=env)
    (repo / ".git" / "index.lock").write_text("")
    with pytest.raises(subprocess.CalledProcessError) as info:
        subprocess.run(["git", "commit", "-qm", "x"], cwd=repo, check=True, capture_output=True, text=True, env=env)
    result = classify(info.value)
    assert result.category is Category.GIT
    assert not result.transient


def test_git_unresolvable_host_is_network(tmp_path: Path) -> None:
    with pytest.raises(subprocess.CalledProcessError) as info:
        subprocess.run(["git", "ls-remote", "https://git.recoup-test.invalid/x/y.git"], cwd=tmp_path, check=True,
                       capture_output=True, env=dict(os.environ, GIT_TERMINAL_PROMPT="0"), timeout=30)
    assert classify(info.value).category is Category.NETWORK


def test_recoup_policy_errors() -> None:
    from recoup.policies.errors import BulkheadFullError, CircuitOpenError, DeadlineExceeded, RateLimitedError

    cases: list[tuple[BaseException, Category]] = [
        (CircuitOpenError("db", retry_after=1.5), Category.SERVICE),
        (BulkheadFullError("db", 4, 8), Category.RESOURCE),
        (RateLimitedError("api", retry_after=0.2), Category.RESOURCE),
        (DeadlineExceeded("fetch", 0.5), Category.NETWORK),
    ]
    for exc, expected in cases:
        assert category_of(exc) == (expected, True)
        assert classify(exc).category is expected


def test_duck_typed_http_status_without_importing_the_library() -> None:
    class Response:
        def __init__(self, status_code: int) -> None:
            self.status_code = status_code
            self.headers = {"Retry-After": "2"}

    class HTTPStatusError(Exception):
        def __init__(self, status: int) -> None:
            super().__init__(f"status {status}")
            self.response = Response(status)

    expected = {401: Category.AUTH, 403: Category.AUTH, 422: Category.VALIDATION, 400: Category.VALIDATION,
                429: Category.RESOURCE, 500: Category.SERVICE, 503: Category.SERVICE}
    for status, cat in expected.items():
        exc = HTTPStatusError(status)
        assert category_of(exc)[0] is cat
        assert classify(exc).category is cat
        assert f"HTTP {status}" in classify(exc).reason
    assert category_of(HTTPStatusError(501)) == (Category.SERVICE, False)


def test_unknown_library_names_by_suffix() -> None:
    class QuotaExceededError(Exception):
        pass

    class TokenExpiredError(Exception):
        pass

    class WidgetDecodeError(Exception):
        pass

    class Mystery(Exception):
        pass

    assert category_of(QuotaExceededError("nope"))[0] is Category.RESOURCE
    assert category_of(TokenExpiredError("nope"))[0] is Category.AUTH
    assert category_of(WidgetDecodeError("nope"))[0] is Category.VALIDATION
    assert category_of(Mystery("the frobnicator declined")) == (Category.UNKNOWN, False)


def test_real_http_errors_via_httpx_and_requests(corpus_env: Any) -> None:
    import httpx
    import requests

    with pytest.raises(httpx.HTTPStatusError) as hx:
        httpx.get(corpus_env.url(503), timeout=2).raise_for_status()
    assert category_of(hx.value) == (Category.SERVICE, True)
    with pytest.raises(requests.HTTPError) as rq:
        requests.get(corpus_env.url(401), timeout=2).raise_for_status()
    assert category_of(rq.value) == (Category.AUTH, False)


def test_postgres_errors_from_the_real_server() -> None:
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3) as conn:
        with pytest.raises(psycopg.Error) as syntax:
            conn.execute("SELEC 1")
        assert classify(syntax.value).category is Category.PROGRAMMING
        conn.rollback()
        with pytest.raises(psycopg.Error) as invalid:
            conn.execute("SELECT 'abc'::int")
        assert category_of(invalid.value)[0] is Category.VALIDATION
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect("postgresql://postgres@127.0.0.1:1/test", connect_timeout=3)
    assert classify(refused.value).category is Category.NETWORK


@pytest.mark.redis
def test_redis_errors_from_the_real_server(corpus_env: Any) -> None:
    redis = pytest.importorskip("redis")
    client = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2)
    client.set("recoup:test:classify:str", "x")
    with pytest.raises(redis.ResponseError) as wrongtype:
        client.lpush("recoup:test:classify:str", "y")
    assert classify(wrongtype.value).category is Category.PROGRAMMING
    with pytest.raises(redis.ConnectionError) as refused:
        redis.Redis(host="127.0.0.1", port=corpus_env.closed_port, socket_connect_timeout=1).ping()
    assert category_of(refused.value) == (Category.NETWORK, True)


def test_json_line_errors_are_validation() -> None:
    with pytest.raises(json.JSONDecodeError) as info:
        json.loads("{")
    assert category_of(info.value) == (Category.VALIDATION, False)


def test_hostile_exception_attributes_do_not_break_classification() -> None:
    class Hostile(Exception):
        @property
        def response(self) -> object:
            raise RuntimeError("property exploded")

        def __str__(self) -> str:
            raise RuntimeError("str exploded")

    exc = Hostile()
    assert category_of(exc) == (Category.UNKNOWN, False)
    assert classify(exc).category is Category.UNKNOWN


def test_importing_the_errors_package_does_not_load_the_rules() -> None:
    code = "import sys, recoup.errors; print('recoup.errors.rules' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    from recoup import errors

    assert errors.classify("fatal: not a git repository").category is Category.GIT
