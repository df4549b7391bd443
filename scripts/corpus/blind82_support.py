"""Private job servers for the eighty-second batch, each on a free 127.0.0.1 port and stopped with the batch:
beanstalkd (a small maximum job size, a write-ahead log on a mount we choose, a drain switch), gearmand, and a
throwaway RabbitMQ user and vhost on the shared broker (removed again at the end)."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import Env, free_port, run
from servers import _wait_port

VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
RABBIT_USER = "blind82"
RABBIT_LIMITED = "blind82ro"
RABBIT_VHOST = "blind82"
RABBIT_PW = "b82-right-password"


@dataclass
class Beanstalk:
    """A private beanstalkd; `drain()` sends SIGUSR1, after which it refuses new jobs."""

    port: int
    proc: subprocess.Popen[bytes]

    def drain(self) -> None:
        self.proc.send_signal(signal.SIGUSR1)
        time.sleep(0.2)


def private_beanstalkd(env: Env, *args: str) -> Beanstalk:
    port = free_port()
    proc = subprocess.Popen(["beanstalkd", "-l", "127.0.0.1", "-p", str(port), *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    env._closers.append(lambda: proc.wait(timeout=10))
    env._closers.append(lambda: proc.poll() is None and proc.terminate())
    _wait_port(port)
    return Beanstalk(port, proc)


def private_gearmand(env: Env, *args: str) -> int:
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-gear-"))
    port = free_port()
    proc = subprocess.Popen(["gearmand", "-L", "127.0.0.1", "-p", str(port), "--log-file", str(root / "gearmand.log"),
                             "--pid-file", str(root / "gearmand.pid"), *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    env._closers.append(lambda: proc.wait(timeout=10))
    env._closers.append(lambda: proc.poll() is None and proc.terminate())
    _wait_port(port)
    return port


def rabbitmqctl(*args: str) -> None:
    run(["rabbitmqctl", "-q", *args], timeout=60)


def rabbit_setup(env: Env) -> None:
    """User `blind82` may use vhost `blind82` (at most two queues); `blind82ro` may only read on `/`."""
    rabbitmqctl("add_vhost", RABBIT_VHOST)
    rabbitmqctl("add_user", RABBIT_USER, RABBIT_PW)
    rabbitmqctl("add_user", RABBIT_LIMITED, RABBIT_PW)
    rabbitmqctl("set_permissions", "-p", RABBIT_VHOST, RABBIT_USER, ".*", ".*", ".*")
    rabbitmqctl("set_permissions", "-p", "/", RABBIT_LIMITED, "^$", "^$", ".*")
    rabbitmqctl("set_vhost_limits", "-p", RABBIT_VHOST, '{"max-queues": 2}')

    def teardown() -> None:
        with contextlib.suppress(Exception):
            rabbitmqctl("delete_user", RABBIT_USER)
            rabbitmqctl("delete_user", RABBIT_LIMITED)
            rabbitmqctl("delete_vhost", RABBIT_VHOST)

    env._closers.append(teardown)


#: The module the procrastinate CLI loads (`--app=billing82.app`); its DSN comes from BILLING82_DSN.
PROCRASTINATE_MODULE = '''import os

import procrastinate

app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=os.environ["BILLING82_DSN"], min_size=1,
                                                                     max_size=2, timeout=10))


@app.task(name="send_invoice", queue="billing")
def send_invoice(invoice_id: int) -> None:
    print(f"invoice {invoice_id} sent")
'''


def procrastinate_app(dsn: str) -> tuple[Any, Any, Any]:
    """A procrastinate app (task `send_invoice`) over a pool that connects on demand, so a refused connection is
    the exception's own cause instead of a pool retrying for half a minute."""
    import procrastinate
    import psycopg_pool

    app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector())

    @app.task(name="send_invoice", queue="billing")
    def send_invoice(invoice_id: int) -> None:
        print(f"invoice {invoice_id} sent")

    pool = psycopg_pool.NullConnectionPool(dsn, open=True, timeout=5)
    return app, send_invoice, pool


__all__ = ["PROCRASTINATE_MODULE", "RABBIT_LIMITED", "RABBIT_PW", "RABBIT_USER", "RABBIT_VHOST", "VENV_BIN",
           "Beanstalk", "private_beanstalkd", "private_gearmand", "procrastinate_app", "rabbit_setup", "rabbitmqctl"]
