"""Fifteenth batch of blind provokers, written after batch 14 had been scored and folded into the corpus and
the shipped model retrained on batches 1-14; scored once, blind, by rules, model and combined before anyone
read its texts: python-dotenv, watchfiles, frozenlist, scikit-learn, prometheus-client, requests-oauthlib,
cloudpickle, joblib, stdlib corners (xmlrpc against 503, urllib against 429, socket read timeout, strptime,
base64, semaphores, asyncio queues, symlinks), Node.js, Java, git and CLI tools (mariadb, sort, openssl
x509, tar). Everything talks to 127.0.0.1 only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common import (
    Env,
    Record,
    git_env,
    git_failure_records,
    node_script_records,
    python_case_records,
    run,
    shell_failure_records,
    write_batch,
)
from runtime_provokers import java_records

BLIND15_SOURCES = frozenset({"python-dotenv", "watchfiles", "frozenlist", "scikit-learn", "prometheus-client",
                             "requests-oauthlib", "cloudpickle", "joblib", "py-extra13", "node-extra13",
                             "java-extra13", "git-extra12", "shell-extra12"})
_GIT_ENV = git_env("blind15")


def _py_cases(env: Env) -> list[tuple[str, str, str, Callable[[], Any]]]:
    def dotenv_missing() -> None:
        import os

        import dotenv

        empty = env.tmp / "blind15-empty"
        empty.mkdir()
        os.chdir(empty)
        try:
            dotenv.find_dotenv(raise_error_if_not_found=True, usecwd=True)
        finally:
            os.chdir(env.tmp)

    def watch_missing() -> None:
        import watchfiles

        next(iter(watchfiles.watch("/srv/blind15/incoming", stop_event=None, yield_on_timeout=True)))

    def frozen_append() -> None:
        from frozenlist import FrozenList

        items = FrozenList([1])
        items.freeze()
        items.append(2)

    def sklearn_nan() -> None:
        from sklearn.linear_model import LogisticRegression

        LogisticRegression().fit([[float("nan")], [1.0]], [0, 1])

    def prom_duplicate() -> None:
        import prometheus_client

        registry = prometheus_client.CollectorRegistry()
        prometheus_client.Counter("jobs_total", "doc", registry=registry)
        prometheus_client.Counter("jobs_total", "doc", registry=registry)

    def oauth_token_401() -> None:
        from requests_oauthlib import OAuth2Session

        OAuth2Session("cid").fetch_token(f"{env.http}/status/401", client_secret="wrong", include_client_id=True)

    def cloudpickle_garbage() -> None:
        import cloudpickle

        cloudpickle.loads(b"this is not a pickle stream")

    def joblib_missing() -> None:
        import joblib

        joblib.load("/srv/blind15/model.joblib")

    def xmlrpc_503() -> None:
        import xmlrpc.client

        xmlrpc.client.ServerProxy(env.url(503)).status()

    def urllib_429() -> None:
        import urllib.request

        urllib.request.urlopen(env.url(429), timeout=5)

    def socket_read_timeout() -> None:
        import socket

        with socket.create_connection(("127.0.0.1", env.hang_port), timeout=0.5) as s:
            s.recv(16)

    def strptime_bad() -> None:
        import datetime

        datetime.datetime.strptime("2024-02-30", "%Y-%m-%d")

    def b64_bad() -> None:
        import base64

        base64.b64decode("abc", validate=True)

    def semaphore_over() -> None:
        import threading

        threading.BoundedSemaphore(1).release()

    def asyncio_queue_full() -> None:
        import asyncio

        q: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
        q.put_nowait(1)
        q.put_nowait(2)

    def symlink_exists() -> None:
        import os

        target = env.tmp / "blind15-link"
        target.write_text("x")
        os.symlink(env.tmp / "elsewhere", target)

    def none_call() -> None:
        handlers: dict[str, Any] = {"start": None}
        handlers["start"]()

    return [
        ("dotenv_missing", "filesystem", "python-dotenv", dotenv_missing),
        ("watch_missing", "filesystem", "watchfiles", watch_missing),
        ("frozen_append", "programming", "frozenlist", frozen_append),
        ("sklearn_nan", "validation", "scikit-learn", sklearn_nan),
        ("prom_duplicate", "programming", "prometheus-client", prom_duplicate),
        ("oauth_token_401", "auth", "requests-oauthlib", oauth_token_401),
        ("cloudpickle_garbage", "validation", "cloudpickle", cloudpickle_garbage),
        ("joblib_missing", "filesystem", "joblib", joblib_missing),
        ("xmlrpc_503", "service", "py-extra13", xmlrpc_503),
        ("urllib_429", "resource", "py-extra13", urllib_429),
        ("socket_read_timeout", "network", "py-extra13", socket_read_timeout),
        ("strptime_bad", "validation", "py-extra13", strptime_bad),
        ("b64_bad", "validation", "py-extra13", b64_bad),
        ("semaphore_over", "programming", "py-extra13", semaphore_over),
        ("asyncio_queue_full", "resource", "py-extra13", asyncio_queue_full),
        ("symlink_exists", "filesystem", "py-extra13", symlink_exists),
        ("none_call", "programming", "py-extra13", none_call),
    ]


NODE: list[tuple[str, str, str]] = [
    ("node_write_missing_dir", "filesystem", "require('fs').writeFileSync('/srv/blind15/out/report.json', '{}')"),
    ("node_fetch_503", "service",
     "const r = await fetch('HTTPURL/status/503'); if (!r.ok) throw new Error(`upstream: ${r.status} "
     "${r.statusText}`)"),
    ("node_fetch_403", "auth",
     "const r = await fetch('HTTPURL/status/403'); if (!r.ok) throw new Error(`GET /admin failed: ${r.status} "
     "${r.statusText}`)"),
    ("node_not_a_function", "programming", "const api = {}; api.connect()"),
    ("node_dns_invalid", "network", "await (await import('node:dns')).promises.lookup('db.blind15.invalid')"),
    ("node_bigint_bad", "validation", "BigInt('12.5')"),
]

JAVA: dict[str, tuple[str, str]] = {
    "url_403": ("auth", 'new java.net.URL("http://127.0.0.1:HTTP/status/403").openStream();'),
    "url_502": ("service", 'new java.net.URL("http://127.0.0.1:HTTP/status/502").openStream();'),
    "date_parse": ("validation", 'java.time.LocalDate.parse("2024-13-01");'),
    "array_index": ("programming", 'int[] a = new int[2]; a[args.length + 3] = 1;'),
    "nio_missing": ("filesystem", 'java.nio.file.Files.readString(java.nio.file.Path.of("/srv/blind15/a.txt"));'),
}


def _git(env: Env) -> list[tuple[str, list[str]]]:
    return [
        ("git_switch_missing", ["switch", "feature-blind15"]),
        ("git_merge_missing", ["merge", "origin/nope-blind15"]),
        ("git_stash_pop_empty", ["stash", "pop"]),
        ("git_commit_nothing", ["commit", "-m", "empty"]),
    ]


SHELL: list[tuple[str, str, str]] = [
    ("shell_mariadb_denied", "auth", "mariadb -h 127.0.0.1 -u blind15_nobody -pwrong -e 'select 1'"),
    ("shell_cat_missing", "filesystem", "cat /srv/blind15/app.conf"),
    ("shell_sort_bad_key", "validation", "sort -k 0 /dev/null"),
    ("shell_python_missing_module", "programming", "python3 -c 'import nosuchmodule_blind15'"),
    ("shell_openssl_bad_cert", "validation", "printf 'not a cert' > /tmp/blind15.pem && openssl x509 -in "
                                             "/tmp/blind15.pem -noout"),
    ("shell_tar_missing", "filesystem", "tar -xf /srv/blind15/backup.tar"),
]


def blind15_records(env: Env) -> list[Record]:
    out: list[Record] = python_case_records(_py_cases(env))
    out.extend(node_script_records(env, NODE, "node-extra13"))
    java = {k: (c, b.replace("HTTP", str(env.http_port))) for k, (c, b) in JAVA.items()}
    out.extend(java_records(env, java, "java-extra13"))
    repo = env.tmp / "blind15-repo"
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], cwd=repo, env=_GIT_ENV)
    run(["git", "commit", "-q", "--allow-empty", "-m", "one"], cwd=repo, env=_GIT_ENV)
    out.extend(git_failure_records(_git(env), repo, "git-extra12", _GIT_ENV))
    out.extend(shell_failure_records(SHELL, env.tmp, "shell-extra12"))
    return out


if __name__ == "__main__":
    write_batch(blind15_records)


__all__ = ["BLIND15_SOURCES", "blind15_records"]
