"""Real failures provoked during the run, labelled by the cause we provoked, for scoring the classifier on texts
written by this machine today (not read from a file).

The faults of `recoup.assess.faults` (a refused connection, HTTP 401/429/502/503 from a local server, a missing
file, bad JSON, a MemoryError, git outside a repository, an attribute error) plus a few more of the same kind
(a silent peer that times out, 403/500/504, directory errors, bad input, a full bounded queue, a git ref that
does not exist), each provoked ``rounds`` times with different inputs. Every text is what the runtime or tool
printed: the full traceback and the one-line ``module.Type: message`` form of each exception, or the tool's
stderr. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import asyncio
import os
import queue
import socket
import subprocess
import tempfile
import traceback
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from recoup.assess.analytics_eval import Labelled
from recoup.assess.faults import PERMANENT_FAULTS, TRANSIENT_FAULTS, FaultContext
from recoup.assess.fixtures import LocalHTTPServer, closed_port
from recoup.errors.taxonomy import Category

Provoke = Callable[[FaultContext, int], None]


def _get(url: str, timeout: float = 5.0) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        response.read()


def _silent_peer(ctx: FaultContext, i: int) -> None:
    with socket.socket() as listener:  # accepts into the backlog, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        _get(f"http://127.0.0.1:{listener.getsockname()[1]}/orders/{i}", timeout=0.05 + 0.01 * i)


def _status(code: int) -> Provoke:
    def provoke(ctx: FaultContext, i: int) -> None:
        _get(f"{ctx.base_url}/status/{code}?attempt={i}")

    return provoke


def _is_a_directory(ctx: FaultContext, i: int) -> None:
    folder = Path(ctx.scratch_dir) / f"reports-{i}"
    folder.mkdir(exist_ok=True)
    folder.read_text()


def _exists(ctx: FaultContext, i: int) -> None:
    os.mkdir(ctx.scratch_dir)


def _bad_int(ctx: FaultContext, i: int) -> None:
    int(f"{i}x{i * 7}")


def _bad_date(ctx: FaultContext, i: int) -> None:
    datetime.fromisoformat(f"2026-{13 + i}-01")


def _type_error(ctx: FaultContext, i: int) -> None:
    sizes: object = i
    len(sizes)  # type: ignore[arg-type]


def _queue_full(ctx: FaultContext, i: int) -> None:
    jobs: queue.Queue[int] = queue.Queue(maxsize=1 + i)
    for n in range(2 + i):
        jobs.put_nowait(n)


def _missing_ref(ctx: FaultContext, i: int) -> None:
    repo = Path(ctx.scratch_dir) / f"repo-{i}"
    repo.mkdir(exist_ok=True)
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", str(repo)], check=True, capture_output=True, env=env)
    subprocess.run(["git", "-C", str(repo), "checkout", f"release-{i}"], check=True, capture_output=True, text=True,
                   env=env)


#: (name, category, source, provoker) beyond `recoup.assess.faults`.
EXTRA: tuple[tuple[str, Category, str, Provoke], ...] = (
    ("silent-peer-timeout", Category.NETWORK, "urllib", _silent_peer),
    ("http-403", Category.AUTH, "urllib", _status(403)),
    ("http-500", Category.SERVICE, "urllib", _status(500)),
    ("http-504", Category.SERVICE, "urllib", _status(504)),
    ("is-a-directory", Category.FILESYSTEM, "pathlib", _is_a_directory),
    ("file-exists", Category.FILESYSTEM, "os", _exists),
    ("bad-int", Category.VALIDATION, "python", _bad_int),
    ("bad-date", Category.VALIDATION, "datetime", _bad_date),
    ("type-error", Category.PROGRAMMING, "python", _type_error),
    ("queue-full", Category.RESOURCE, "queue", _queue_full),
    ("git-missing-ref", Category.GIT, "git", _missing_ref),
)


def texts_of(exc: BaseException) -> list[str]:
    """What gets classified: a tool's stderr when the failure is a tool's, else the traceback and the one-line
    form of the exception."""
    if isinstance(exc, subprocess.CalledProcessError):
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr
        if err and err.strip():
            return [err.strip()]
    kind = type(exc)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    return ["".join(traceback.format_exception(exc)), f"{name}: {exc}"]


def provoke_fresh(rounds: int = 2) -> tuple[list[Labelled], list[str]]:
    """(labelled texts, problems): every fault provoked ``rounds`` times. A provoker that does not fail is a
    problem reported by name (its cause was not produced), never a silent gap."""
    out: list[Labelled] = []
    problems: list[str] = []
    with LocalHTTPServer() as server, tempfile.TemporaryDirectory(prefix="recoup-analytics-") as scratch:
        ctx = FaultContext(server.base_url, closed_port(), scratch)
        kinds: list[tuple[str, Category, str, Provoke]] = [
            (k.name, k.category, "faults", lambda c, _i, k=k: asyncio.run(k.provoke(c)))  # type: ignore[misc]
            for k in (*TRANSIENT_FAULTS, *PERMANENT_FAULTS)
        ]
        kinds.extend(EXTRA)
        for name, category, source, provoke in kinds:
            for i in range(rounds):
                try:
                    provoke(ctx, i)
                except Exception as exc:  # the failure we came for
                    out.extend(Labelled(t, category.value, f"{source}:{name}", "fresh") for t in texts_of(exc))
                else:
                    problems.append(f"{name}: round {i} did not fail")
    return out, problems


__all__ = ["EXTRA", "provoke_fresh", "texts_of"]
