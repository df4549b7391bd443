"""Local fixtures of batch 47: a real Celery worker (solo pool, its own redis-server as broker and result backend)
whose tasks fail inside the worker, a grpclib server on a free loopback port whose handler answers chosen gRPC
statuses, and a cause check that asks for both the exception type and a token of the provoked cause. Only
127.0.0.1; everything is stopped by the batch's `Env`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from checked import has_token, problem
from common import Env, Record, exception_records

#: name, category, source, expected exception type names (`A|B`), token the traceback must carry ('' = none), fn
TokenCase = tuple[str, str, str, str, str, Callable[[], Any]]


def token_records(cases: Iterable[TokenCase]) -> list[Record]:
    """Each case's real exception as two records, if its type (or a base) is the expected one and its traceback
    names the provoked cause (a yes/no check; no text is shown)."""
    out: list[Record] = []
    for name, category, source, expected, token, fn in cases:
        try:
            fn()
        except BaseException as exc:  # the real exception, whatever it is
            if not set(expected.split("|")) & {k.__name__ for k in type(exc).__mro__}:
                problem(name, f"not the provoked cause (expected {expected})")
                continue
            recs = exception_records(exc, category, source, name)
            if token and not has_token(name, recs[0]["text"], token):
                continue
            out.extend(recs)
        else:
            problem(name, "no failure")
    return out


def quiet_loggers(*names: str) -> None:
    """Library loggers that would print a server- or transport-side traceback on stderr: silenced."""
    for name in names:
        logger = logging.getLogger(name)
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
        logger.setLevel(logging.CRITICAL + 1)


# --------------------------------------------------------------------------- a real Celery worker

TASKS_MODULE = '''\
"""Tasks of a release pipeline; the broker and result backend come from B47_BROKER."""
import os
import socket

from celery import Celery

app = Celery("pipeline47", broker=os.environ["B47_BROKER"], backend=os.environ["B47_BROKER"])
app.conf.update(broker_connection_retry_on_startup=False, broker_connection_max_retries=0,
                task_serializer="json", result_serializer="json", accept_content=["json"])


@app.task
def load_manifest(path):
    with open(path, encoding="utf-8") as manifest:
        return manifest.read()


@app.task
def warm_cache(port):
    with socket.create_connection(("127.0.0.1", port), timeout=3) as conn:
        conn.sendall(b"PING\\r\\n")
        return conn.recv(64).decode()


@app.task
def import_row(row):
    return {"sku": row["sku"], "qty": int(row["qty"])}


@app.task
def tag_image(config):
    name, tag = config.get("image").split(":")
    return f"{name}:{tag}-b47"
'''


def start_celery_worker(env: Env, broker: str) -> Any:
    """Write the tasks module, start ``celery worker --pool=solo`` on it, wait until it answers a ping and
    return the imported module (its `app` and tasks), so the batch calls the tasks as a client would."""
    home = env.tmp / "celery47"
    home.mkdir()
    (home / "pipeline47.py").write_text(TASKS_MODULE, encoding="utf-8")
    os.environ["B47_BROKER"] = broker
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "pipeline47", "worker", "--pool=solo", "--concurrency=1",
         "--loglevel=ERROR", "--without-heartbeat", "--without-gossip", "--without-mingle", "-n", "b47@localhost"],
        cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, PYTHONPATH=str(home)))

    def stop() -> None:
        if worker.poll() is None:
            worker.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.wait(timeout=10)
            if worker.poll() is None:
                worker.kill()

    env._closers.append(stop)
    sys.path.insert(0, str(home))
    import pipeline47  # type: ignore[import-not-found]

    for _ in range(40):
        if worker.poll() is not None:
            break
        with contextlib.suppress(Exception):
            if pipeline47.app.control.ping(timeout=0.5):
                return pipeline47
        time.sleep(0.1)
    raise RuntimeError("the celery worker did not come up")


# --------------------------------------------------------------------------- a grpclib server

#: request value -> (gRPC status name, details) the handler answers with
GRPC_ANSWERS: dict[str, tuple[str, str]] = {
    "unavailable": ("UNAVAILABLE", "release store is not reachable, retry later"),
    "unauthenticated": ("UNAUTHENTICATED", "missing or expired bearer token"),
    "exhausted": ("RESOURCE_EXHAUSTED", "rollout quota of 5 concurrent deploys exceeded"),
    "invalid": ("INVALID_ARGUMENT", "replicas must be a positive integer"),
    "internal": ("INTERNAL", "rollout controller failed to persist the release"),
}
GRPC_METHOD = "/deploy47.Deployer/Rollout"


class _Deployer:
    async def rollout(self, stream: Any) -> None:
        from google.protobuf.wrappers_pb2 import StringValue
        from grpclib.const import Status
        from grpclib.exceptions import GRPCError

        request = await stream.recv_message()
        if request.value in GRPC_ANSWERS:
            status, details = GRPC_ANSWERS[request.value]
            raise GRPCError(Status[status], details)
        await stream.send_message(StringValue(value="rolled out"))

    def __mapping__(self) -> dict[str, Any]:
        from google.protobuf.wrappers_pb2 import StringValue
        from grpclib.const import Cardinality, Handler

        return {GRPC_METHOD: Handler(self.rollout, Cardinality.UNARY_UNARY, StringValue, StringValue)}


def start_grpclib_server(env: Env) -> int:
    """Serve the Deployer on a free loopback port from an event loop in a thread; returns the port."""
    from grpclib.server import Server

    quiet_loggers("grpclib")
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def serve() -> None:
        server = Server([_Deployer()])
        await server.start("127.0.0.1", 0)
        box["server"] = server
        box["port"] = server._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ready.set()

    def run_loop() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(serve())
        loop.run_forever()

    thread = threading.Thread(target=run_loop, daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the grpclib server did not start")

    def stop() -> None:
        async def close() -> None:
            box["server"].close()
            await box["server"].wait_closed()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)

    env._closers.append(stop)
    port: int = box["port"]
    return port


def grpclib_call(port: int, value: str, message: Any = None) -> Any:
    """One unary call to the Deployer, as a deploy tool would make it (a fresh channel, a 3 s deadline)."""
    from google.protobuf.wrappers_pb2 import StringValue
    from grpclib.client import Channel, UnaryUnaryMethod

    async def call() -> Any:
        channel = Channel("127.0.0.1", port)
        try:
            method = UnaryUnaryMethod(channel, GRPC_METHOD, StringValue, StringValue)
            return await method(StringValue(value=value) if message is None else message, timeout=3)
        finally:
            channel.close()

    return asyncio.run(call())


def remote_dir(env: Env, name: str) -> Path:
    """A directory on the 'remote' host (the private sshd shares this machine's filesystem)."""
    path = env.tmp / name
    path.mkdir(parents=True, exist_ok=True)
    return path


__all__ = ["GRPC_ANSWERS", "TokenCase", "grpclib_call", "quiet_loggers", "remote_dir", "start_celery_worker",
           "start_grpclib_server", "token_records"]
