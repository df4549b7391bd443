"""Sixteenth batch of blind provokers, weighted towards the categories the corpus is thin in (service,
resource, auth, network); written after batch 15 had been folded in and the learned classifier retrained on
batches 1-15, and scored once, blind, before anyone read its texts: a private redis-server with a password and
a 1 MB memory cap, a Prometheus push gateway (the local status server) answering 401/429/503, cryptography's
Fernet, concurrent.futures, numpy allocation under an address-space limit, Java's URL and HttpClient, Node.js
(heap limit, EMFILE, fetch), perl HTTP::Tiny, git over HTTP, psql and mariadb against a closed port, JVM
start-up under ulimit. Everything talks to 127.0.0.1 only."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from common import (
    Env,
    Record,
    failure_text,
    free_port,
    git_env,
    python_case_records,
    record,
    run,
    shell_failure_records,
    write_batch,
)
from runtime_provokers import java_records

BLIND16_SOURCES = frozenset({"redis-server", "pushgateway", "fernet", "futures", "numpy-alloc", "node-extra14",
                             "java-extra14", "git-extra13", "shell-extra13"})
_GIT_ENV = git_env("blind16")


def _redis_server(env: Env) -> int:
    """A private redis-server on a free port, with a password and a 1 MB memory cap."""
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--requirepass", "s3cret",
                             "--maxmemory", "1mb", "--maxmemory-policy", "noeviction", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env._closers.append(proc.wait)
    env._closers.append(proc.terminate)
    for _ in range(100):
        if run(["redis-cli", "-p", str(port), "-a", "s3cret", "--no-auth-warning", "ping"]).stdout.strip() == "PONG":
            return port
        time.sleep(0.05)
    raise RuntimeError("private redis-server did not start")


def _py_cases(env: Env, redis_port: int) -> list[tuple[str, str, str, Callable[[], Any]]]:
    def redis_noauth() -> None:
        import redis

        redis.Redis(port=redis_port, socket_timeout=2).set("k", "v")

    def redis_wrongpass() -> None:
        import redis

        redis.Redis(port=redis_port, password="wrong", socket_timeout=2).ping()

    def redis_oom() -> None:
        import redis

        r = redis.Redis(port=redis_port, password="s3cret", socket_timeout=5)
        for i in range(200):
            r.set(f"blob:{i}", b"x" * 100_000)

    def push(status: int) -> Callable[[], None]:
        def fn() -> None:  # pushadd is a POST, which the local status server answers (it has no PUT)
            import prometheus_client

            registry = prometheus_client.CollectorRegistry()
            prometheus_client.Gauge("last_run", "doc", registry=registry).set(1)
            prometheus_client.pushadd_to_gateway(f"127.0.0.1:{env.http_port}/status/{status}", job="nightly",
                                              registry=registry)
        return fn

    def fernet_wrong_key() -> None:
        from cryptography.fernet import Fernet

        token = Fernet(Fernet.generate_key()).encrypt(b"secret")
        Fernet(Fernet.generate_key()).decrypt(token)

    def futures_after_shutdown() -> None:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(1)
        pool.shutdown()
        pool.submit(print)

    return [
        ("redis_noauth", "auth", "redis-server", redis_noauth),
        ("redis_wrongpass", "auth", "redis-server", redis_wrongpass),
        ("redis_oom", "resource", "redis-server", redis_oom),
        ("push_401", "auth", "pushgateway", push(401)),
        ("push_429", "resource", "pushgateway", push(429)),
        ("push_503", "service", "pushgateway", push(503)),
        ("push_refused", "network", "pushgateway", lambda: _push_closed(env)),
        ("fernet_wrong_key", "auth", "fernet", fernet_wrong_key),
        ("futures_after_shutdown", "programming", "futures", futures_after_shutdown),
    ]


def _push_closed(env: Env) -> None:
    import prometheus_client

    registry = prometheus_client.CollectorRegistry()
    prometheus_client.Gauge("last_run", "doc", registry=registry).set(1)
    prometheus_client.pushadd_to_gateway(f"127.0.0.1:{env.closed_port}", job="nightly", registry=registry)


NODE: list[tuple[str, str, str]] = [
    ("node_heap_limit", "resource",
     "--max-old-space-size=16|const a = []; while (true) a.push(new Array(100000).fill('x'))"),
    ("node_fetch_504", "service",
     "|const r = await fetch('HTTPURL/status/504'); if (!r.ok) throw new Error(`report upload: ${r.status} "
     "${r.statusText}`)"),
    ("node_fetch_429", "resource",
     "|const r = await fetch('HTTPURL/status/429'); if (!r.ok) throw new Error(`sync: HTTP ${r.status} "
     "${r.statusText}, retry after ${r.headers.get('retry-after')}s`)"),
    ("node_fetch_reset", "network", "|await fetch('http://127.0.0.1:RESET/')"),
]

JAVA: dict[str, tuple[str, str]] = {
    "url_401": ("auth", 'new java.net.URL("http://127.0.0.1:HTTP/status/401").openStream();'),
    "url_429": ("resource", 'new java.net.URL("http://127.0.0.1:HTTP/status/429").openStream();'),
    "url_504": ("service", 'new java.net.URL("http://127.0.0.1:HTTP/status/504").openStream();'),
    "httpclient_timeout": ("network", 'java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest'
                                      '.newBuilder(java.net.URI.create("http://127.0.0.1:HANG/")).timeout('
                                      'java.time.Duration.ofMillis(300)).build(), '
                                      'java.net.http.HttpResponse.BodyHandlers.ofString());'),
}


def _git_remote_records(env: Env) -> list[Record]:
    """git against a remote that fails: the category is the remote's failure (TAXONOMY.md), not `git`."""
    cases = [
        ("git_ls_remote_500", "service", f"{env.http}/status/500/repo.git"),
        ("git_ls_remote_401", "auth", f"{env.http}/status/401/repo.git"),
        ("git_ls_remote_closed", "network", f"http://127.0.0.1:{env.closed_port}/repo.git"),
    ]
    out: list[Record] = []
    for name, category, url in cases:
        try:
            text = failure_text(run(["git", "ls-remote", url], cwd=env.tmp, env=_GIT_ENV))
        except RuntimeError:
            print(f"problem: {name}: no failure", file=sys.stderr)
            continue
        out.append(record(text, category, "git-extra13", "stderr", name))
    return out


SHELL: list[tuple[str, str, str]] = [
    ("shell_perl_http_503", "service",
     "perl -MHTTP::Tiny -e '$r = HTTP::Tiny->new->get(\"HTTPURL/status/503\"); "
     "die \"fetch failed: $r->{status} $r->{reason}\\n\" unless $r->{success}'"),
    ("shell_perl_http_403", "auth",
     "perl -MHTTP::Tiny -e '$r = HTTP::Tiny->new->get(\"HTTPURL/status/403\"); "
     "die \"fetch failed: $r->{status} $r->{reason}\\n\" unless $r->{success}'"),
    ("shell_psql_closed", "network", "psql -h 127.0.0.1 -p CLOSED -U postgres -d test -c 'select 1'"),
    ("shell_mariadb_closed", "network", "mariadb -h 127.0.0.1 -P CLOSED -u root -e 'select 1'"),
    ("shell_java_heap_ulimit", "resource", "ulimit -v 300000; java -Xmx2g -version"),
    ("shell_numpy_alloc", "resource",
     "ulimit -v 600000; PYEXE -c 'import numpy; numpy.ones((40000, 40000))'"),
    ("shell_node_emfile", "resource",
     "ulimit -n 40; node -e \"for (let i = 0; i < 200; i++) require('fs').openSync('/dev/null', 'r')\""),
    ("shell_redis_cli_noauth", "auth", "redis-cli -p REDIS set k v; exit 1"),
    ("shell_gpg_bad_passphrase", "auth",
     "export GNUPGHOME=$(mktemp -d); echo data | gpg --batch --yes --pinentry-mode loopback --passphrase right "
     "-c -o /tmp/blind16.gpg && gpg --batch --pinentry-mode loopback --passphrase wrong -d /tmp/blind16.gpg"),
]


def blind16_records(env: Env) -> list[Record]:
    redis_port = _redis_server(env)
    out: list[Record] = python_case_records(_py_cases(env, redis_port))
    for name, category, spec in NODE:
        flag, script = spec.split("|", 1)
        flags = [flag] if flag else []
        if "await" in script:
            flags.append("--input-type=module")
        script = (script.replace("HTTPURL", env.http).replace("CLOSED", str(env.closed_port))
                  .replace("RESET", str(env.reset_port)))
        try:
            text = failure_text(run(["node", *flags, "-e", script], cwd=env.tmp))
        except RuntimeError:
            print(f"problem: {name}: no failure", file=sys.stderr)
            continue
        out.append(record(text, category, "node-extra14", "stderr", name))
    out.extend(java_records(env, JAVA, "java-extra14"))
    out.extend(_git_remote_records(env))
    out.extend(shell_failure_records(
        SHELL, env.tmp, "shell-extra13",
        prepare=lambda s: s.replace("HTTPURL", env.http).replace("CLOSED", str(env.closed_port))
        .replace("REDIS", str(redis_port)).replace("PYEXE", sys.executable)))
    return out


if __name__ == "__main__":
    write_batch(blind16_records)


__all__ = ["BLIND16_SOURCES", "blind16_records"]
