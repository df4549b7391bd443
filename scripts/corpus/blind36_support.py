"""Helpers of batch 36: a private nats-server with a password, a publish permission and a small payload limit, and
a stricter cause check for cases whose exception type alone (a driver's OperationalError, nats' bare Error) does
not say which cause failed."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from common import Env, free_port
from servers import _wait_port


class WrongCause(RuntimeError):
    """The case failed, but its message does not name the cause we provoked (the case is dropped)."""


def expect(token: str, fn: Callable[[], Any]) -> Callable[[], Any]:
    """Let `fn`'s failure through only when its message holds `token` (`A|B`: either, case-insensitive)."""

    def case() -> Any:
        try:
            return fn()
        except Exception as exc:
            message = str(exc).lower()
            if any(t.lower() in message for t in token.split("|")):
                raise
            raise WrongCause(f"no {token!r} in a {type(exc).__name__}") from None

    return case


def sync(make: Callable[[], Coroutine[Any, Any, Any]]) -> Callable[[], Any]:
    """A blocking case that runs one coroutine in a fresh event loop, as a script's `asyncio.run(main())` does."""
    return lambda: asyncio.run(make())


def private_nats(env: Env) -> int:
    """A nats-server on a free port that admits only `app`/`right-password`, lets it publish to `orders.>` only and
    caps a message at 1 KiB; stopped with the batch."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-nats-"))
    port = free_port()
    (root / "nats.conf").write_text(
        f"listen: 127.0.0.1:{port}\nmax_payload: 1024\n"
        'authorization { users = [ { user: app, password: "right-password", '
        'permissions: { publish: "orders.>", subscribe: "_INBOX.>" } } ] }\n'
    )
    proc = subprocess.Popen(["nats-server", "-c", str(root / "nats.conf")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    env._closers.append(lambda: proc.wait(timeout=10))
    env._closers.append(proc.terminate)
    _wait_port(port)
    return port


__all__ = ["WrongCause", "expect", "private_nats", "sync"]
