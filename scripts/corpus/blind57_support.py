"""Helpers of batch 57: private etcd, ZooKeeper and memcached servers on free loopback ports, each with its data,
config and log in the batch's temporary directory (never the system services), stopped with the batch."""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import time
from pathlib import Path

from common import Env, free_port

ZK_JAR = "/usr/share/java/zookeeper.jar"
ZK_MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"


def quiet_kazoo() -> None:
    """kazoo logs its reconnect attempts; the batch prints nothing but its record count."""
    log = logging.getLogger("kazoo")
    log.addHandler(logging.NullHandler())
    log.propagate = False


def wait_port(port: int, seconds: float = 20) -> bool:
    """True once something accepts TCP connections on 127.0.0.1:port."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
        time.sleep(0.1)
    return False


def _spawn(env: Env, argv: list[str], log_name: str) -> subprocess.Popen[bytes]:
    log = (env.tmp / log_name).open("wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=env.tmp)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()

    env._closers.append(stop)
    return proc


def etcd_argv(data_dir: Path | str, client: int, peer: int, name: str = "b57", cluster: str = "") -> list[str]:
    """An etcd command line for one private member (client and peer URLs on 127.0.0.1)."""
    return ["etcd", "--name", name, "--data-dir", str(data_dir),
            "--listen-client-urls", f"http://127.0.0.1:{client}", "--advertise-client-urls", f"http://127.0.0.1:{client}",
            "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-cluster", cluster or f"{name}=http://127.0.0.1:{peer}"]


def start_etcd(env: Env, tag: str, *flags: str, peers: int = 1) -> int:
    """A private etcd member; with ``peers`` > 1 its cluster names members that never start (no leader).
    Returns the client port."""
    client, peer = free_port(), free_port()
    cluster = ",".join([f"{tag}=http://127.0.0.1:{peer}"] +
                       [f"{tag}x{i}=http://127.0.0.1:{free_port()}" for i in range(1, peers)])
    _spawn(env, [*etcd_argv(env.tmp / f"etcd-{tag}", client, peer, tag, cluster), *flags], f"etcd-{tag}.log")
    if not wait_port(client):
        raise RuntimeError(f"etcd {tag} did not start")
    time.sleep(0.5 if peers == 1 else 0.2)
    return client


def zk_config(data_dir: Path | str, port: int, extra: str = "") -> str:
    return (f"tickTime=500\ninitLimit=4\nsyncLimit=2\ndataDir={data_dir}\nclientPort={port}\n"
            f"clientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\n{extra}")


def zk_argv(config: Path, *props: str) -> list[str]:
    return ["java", *props, "-cp", ZK_JAR, ZK_MAIN, str(config)]


def start_zookeeper(env: Env, tag: str, quorum: bool = False) -> int:
    """A private standalone ZooKeeper (hard quotas enforced), or with ``quorum`` one member of a three-server
    ensemble whose other members never start. Returns the client port."""
    port = free_port()
    data = env.tmp / f"zk-{tag}"
    data.mkdir()
    extra = ""
    if quorum:
        (data / "myid").write_text("1\n")
        extra = "".join(f"server.{i}=127.0.0.1:{free_port()}:{free_port()}\n" for i in (1, 2, 3))
    config = env.tmp / f"zk-{tag}.cfg"
    config.write_text(zk_config(data, port, extra))
    _spawn(env, zk_argv(config, "-Dzookeeper.enforceQuota=true", "-Xmx256m"), f"zk-{tag}.log")
    if not wait_port(port, 30):
        raise RuntimeError(f"zookeeper {tag} did not start")
    return port


def start_memcached(env: Env, tag: str, *flags: str) -> int:
    """A private memcached on a free loopback port (TCP only). Returns the port."""
    port = free_port()
    _spawn(env, ["memcached", "-U", "0", "-l", "127.0.0.1", "-p", str(port), "-u", "root", *flags],
           f"memcached-{tag}.log")
    if not wait_port(port):
        raise RuntimeError(f"memcached {tag} did not start")
    return port


__all__ = ["ZKCLI", "etcd_argv", "quiet_kazoo", "start_etcd", "start_memcached", "start_zookeeper", "wait_port",
           "zk_argv", "zk_config"]
