"""Forty-seventh batch of blind provokers: Python clients of infrastructure not yet in the corpus, as services,
deploy scripts and pipelines meet them. Celery against a private redis-server (a broker at a closed port, a broker
whose requirepass refuses us, a task argument JSON cannot encode, tasks failing inside a real solo-pool worker on a
missing file, a closed port, a bad number and a None config, and the celery CLI), kafka-python and
cassandra-driver at a closed port, Fabric against a private sshd on a loopback port (a key it does not authorize,
a closed port, remote commands failing on a missing file or directory, a full tmpfs, invalid JSON and a
NameError), pyzmq (REQ state machine, a receive timeout with no REP peer, an ipc path in a missing directory, the
context's socket limit, a non-JSON frame), python-socketio (a closed port, 401 and 503 answers, an emit before
connecting) and grpclib (a closed port, a server answering UNAVAILABLE, INTERNAL, UNAUTHENTICATED,
RESOURCE_EXHAUSTED and INVALID_ARGUMENT, a dict passed as the request). Only 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from blind44_support import SshServer, start_sshd
from blind47_support import (
    TokenCase,
    grpclib_call,
    quiet_loggers,
    start_celery_worker,
    start_grpclib_server,
    token_records,
)
from checked import ToolCase, tool_records
from common import Env, Record, write_batch
from servers import mount_tmpfs, private_redis

BLIND47_SOURCES = frozenset({"celery47", "celery-cli47", "kafka47", "cassandra47", "fabric47", "zmq47",
                             "socketio47", "grpclib47"})
_SECRET = "b47-broker-secret"


def _celery_app(url: str) -> Any:
    from celery import Celery

    app = Celery("release47", broker=url)
    app.conf.update(broker_connection_retry=False, broker_connection_max_retries=0,
                    broker_transport_options={"max_retries": 0}, task_serializer="json")
    return app


def celery_cases(env: Env, locked_port: int, pipeline: Any) -> list[TokenCase]:
    def broker_closed() -> None:
        _celery_app(f"redis://127.0.0.1:{env.closed_port}/0").send_task("release47.publish", args=["1.4.2"])

    def broker_wrong_password() -> None:
        _celery_app(f"redis://:not-the-secret@127.0.0.1:{locked_port}/0").send_task("release47.publish",
                                                                                     args=["1.4.2"])

    def encode_error() -> None:
        import datetime

        class Release:
            version = "1.4.2"
            built = datetime.datetime(2026, 11, 29)

        _celery_app(f"redis://:{_SECRET}@127.0.0.1:{locked_port}/0").send_task("release47.publish",
                                                                                 args=[Release()])

    def worker(task: str, *args: Any) -> Any:
        return getattr(pipeline, task).delay(*args).get(timeout=20)

    return [
        ("celery_broker_refused", "network", "celery47", "OperationalError", "refused", broker_closed),
        ("celery_broker_wrong_password", "auth", "celery47", "OperationalError", "password|auth",
         broker_wrong_password),
        ("celery_encode_error", "programming", "celery47", "EncodeError", "serializable", encode_error),
        ("celery_worker_missing_file", "filesystem", "celery47", "FileNotFoundError", "No such file",
         lambda: worker("load_manifest", str(env.tmp / "releases47" / "manifest.yaml"))),
        ("celery_worker_refused", "network", "celery47", "ConnectionRefusedError", "refused",
         lambda: worker("warm_cache", env.closed_port)),
        ("celery_worker_bad_number", "validation", "celery47", "ValueError", "invalid literal",
         lambda: worker("import_row", {"sku": "A-47", "qty": "12 units"})),
        ("celery_worker_none_config", "programming", "celery47", "AttributeError", "NoneType",
         lambda: worker("tag_image", {"name": "web"})),
    ]


def celery_cli_cases(env: Env, locked_port: int) -> list[ToolCase]:
    celery = str(Path(__import__("sys").executable).with_name("celery"))
    return [
        ("celery_cli_app_missing", "programming", "not found|No module", f"{celery} -A deploy47_tasks worker"),
        ("celery_cli_ping_refused", "network", "refused", f"{celery} -b redis://127.0.0.1:{env.closed_port}/0 "
         "inspect ping"),
        ("celery_cli_call_wrong_password", "auth", "password|auth", f"{celery} -b "
         f"redis://:not-the-secret@127.0.0.1:{locked_port}/0 call release47.publish --args='[\"1.4.2\"]'"),
        ("celery_cli_args_not_json", "validation", "Invalid value", f"{celery} -b "
         f"redis://:{_SECRET}@127.0.0.1:{locked_port}/0 call release47.publish --args='[1.4.2'"),
    ]


def queue_db_cases(env: Env) -> list[TokenCase]:
    def kafka_producer() -> None:
        from kafka import KafkaProducer

        KafkaProducer(bootstrap_servers=f"127.0.0.1:{env.closed_port}", bootstrap_timeout_ms=2000)

    def kafka_bad_config() -> None:
        from kafka import KafkaConsumer

        KafkaConsumer("orders", bootstrap_servers=f"127.0.0.1:{env.closed_port}", group="billing-etl",
                      auto_offset_reset="earliest")

    def cassandra_closed() -> None:
        from cassandra.cluster import Cluster

        cluster = Cluster(["127.0.0.1"], port=env.closed_port, connect_timeout=2, protocol_version=5)
        try:
            cluster.connect("inventory")
        finally:
            cluster.shutdown()

    return [
        ("kafka_producer_no_broker", "network", "kafka47", "KafkaTimeoutError|NoBrokersAvailable", "", kafka_producer),
        ("kafka_consumer_unknown_config", "programming", "kafka47", "KafkaConfigurationError|AssertionError",
         "group", kafka_bad_config),
        ("cassandra_refused", "network", "cassandra47", "NoHostAvailable", "refused", cassandra_closed),
    ]


def fabric_cases(env: Env, ssh: SshServer) -> list[TokenCase]:
    from fabric import Connection

    full = mount_tmpfs(env, "full47", "size=64k")
    work = env.tmp / "work47"
    work.mkdir()
    (work / "bundle.tar").write_bytes(b"\0" * 300_000)
    (work / "settings.json").write_text('{"replicas": 3, "image": "registry.local/app:1.4",}\n')
    (work / "migrate.py").write_text("import sys\n\n\ndef main():\n    return run_migrations(sys.argv[1:])\n\n\n"
                                     "main()\n")

    def conn(key: Path | None = None, port: int | None = None) -> Any:
        return Connection("127.0.0.1", user="root", port=port or ssh.port, connect_timeout=3,
                          connect_kwargs={"key_filename": str(key or ssh.good_key), "look_for_keys": False,
                                          "allow_agent": False})

    def remote(command: str, key: Path | None = None, port: int | None = None) -> None:
        with conn(key, port) as c:
            c.run(command, hide=True)

    def in_missing_dir() -> None:
        with conn() as c, c.cd("/srv/app47/current"):
            c.run("git pull --ff-only", hide=True)

    return [
        ("fabric_key_not_authorized", "auth", "fabric47", "AuthenticationException", "",
         lambda: remote("systemctl reload app47", key=ssh.bad_key)),
        ("fabric_port_closed", "network", "fabric47", "NoValidConnectionsError", "",
         lambda: remote("uptime", port=env.closed_port)),
        ("fabric_remote_file_missing", "filesystem", "fabric47", "UnexpectedExit", "No such file",
         lambda: remote("cat /srv/app47/current/REVISION")),
        ("fabric_cd_missing_dir", "filesystem", "fabric47", "UnexpectedExit", "No such file", in_missing_dir),
        ("fabric_remote_disk_full", "resource", "fabric47", "UnexpectedExit", "No space left",
         lambda: remote(f"cp {work}/bundle.tar {full}/bundle.tar")),
        ("fabric_remote_json_invalid", "validation", "fabric47", "UnexpectedExit", "JSONDecodeError",
         lambda: remote(f"/usr/bin/python3 -c 'import json, sys; json.load(open(sys.argv[1]))' {work}/settings.json")),
        ("fabric_remote_name_error", "programming", "fabric47", "UnexpectedExit", "NameError",
         lambda: remote(f"/usr/bin/python3 {work}/migrate.py --to 47")),
    ]


def zmq_cases(env: Env) -> list[TokenCase]:
    import zmq

    ctx = zmq.Context()
    env._closers.append(lambda: ctx.destroy(linger=0))

    def req_send_twice() -> None:
        sock = ctx.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(f"tcp://127.0.0.1:{env.closed_port}")
        sock.send(b"render 1")
        try:
            sock.send(b"render 2")
        finally:
            sock.close()

    def req_no_reply() -> None:
        sock = ctx.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RCVTIMEO, 1000)
        sock.connect(f"tcp://127.0.0.1:{env.closed_port}")
        sock.send(b"status?")
        try:
            sock.recv()
        finally:
            sock.close()

    def ipc_missing_dir() -> None:
        sock = ctx.socket(zmq.PULL)
        try:
            sock.bind(f"ipc://{env.tmp}/run47/missing/collector.sock")
        finally:
            sock.close(linger=0)

    def socket_limit() -> None:
        small = zmq.Context()
        small.set(zmq.MAX_SOCKETS, 2)
        try:
            [small.socket(zmq.PUSH) for _ in range(4)]
        finally:
            small.destroy(linger=0)

    def frame_not_json() -> None:
        a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
        a.bind("inproc://b47-events")
        b.connect("inproc://b47-events")
        a.send(b"status=ok;queue=12")
        try:
            b.recv_json()
        finally:
            a.close(linger=0)
            b.close(linger=0)

    return [
        ("zmq_req_send_twice", "programming", "zmq47", "ZMQError", "current state", req_send_twice),
        ("zmq_req_recv_timeout", "network", "zmq47", "Again", "", req_no_reply),
        ("zmq_ipc_missing_dir", "filesystem", "zmq47", "ZMQError", "No such file", ipc_missing_dir),
        ("zmq_context_socket_limit", "resource", "zmq47", "ZMQError", "Too many", socket_limit),
        ("zmq_recv_json_invalid", "validation", "zmq47", "JSONDecodeError", "", frame_not_json),
    ]


def socketio_cases(env: Env) -> list[TokenCase]:
    import socketio

    def connect(url: str, path: str = "socket.io") -> None:
        client = socketio.Client(reconnection=False)
        try:
            client.connect(url, socketio_path=path, wait_timeout=3, transports=["polling"])
        finally:
            client.disconnect()

    def emit_unconnected() -> None:
        socketio.Client(reconnection=False).emit("deploy", {"version": "1.4.2"})

    return [
        ("socketio_refused", "network", "socketio47", "ConnectionError", "refused",
         lambda: connect(f"http://127.0.0.1:{env.closed_port}")),
        ("socketio_401", "auth", "socketio47", "ConnectionError", "401", lambda: connect(env.http, "status/401")),
        ("socketio_503", "service", "socketio47", "ConnectionError", "503", lambda: connect(env.http, "status/503")),
        ("socketio_emit_unconnected", "programming", "socketio47", "BadNamespaceError", "", emit_unconnected),
    ]


def grpclib_cases(env: Env, port: int) -> list[TokenCase]:
    return [
        ("grpclib_refused", "network", "grpclib47", "ConnectionRefusedError", "",
         lambda: grpclib_call(env.closed_port, "web")),
        ("grpclib_unavailable", "service", "grpclib47", "GRPCError", "UNAVAILABLE",
         lambda: grpclib_call(port, "unavailable")),
        ("grpclib_internal", "service", "grpclib47", "GRPCError", "INTERNAL", lambda: grpclib_call(port, "internal")),
        ("grpclib_unauthenticated", "auth", "grpclib47", "GRPCError", "UNAUTHENTICATED",
         lambda: grpclib_call(port, "unauthenticated")),
        ("grpclib_resource_exhausted", "resource", "grpclib47", "GRPCError", "RESOURCE_EXHAUSTED",
         lambda: grpclib_call(port, "exhausted")),
        ("grpclib_invalid_argument", "validation", "grpclib47", "GRPCError", "INVALID_ARGUMENT",
         lambda: grpclib_call(port, "invalid")),
        ("grpclib_dict_request", "programming", "grpclib47", "TypeError|AttributeError", "",
         lambda: grpclib_call(port, "", message={"value": "web", "replicas": 3})),
    ]


def blind47_records(env: Env) -> list[Record]:
    quiet_loggers("paramiko", "kafka", "cassandra", "celery", "kombu", "socketio", "engineio", "grpclib")
    pipeline_port = private_redis(env)
    locked_port = private_redis(env, "--requirepass", _SECRET)
    pipeline = start_celery_worker(env, f"redis://127.0.0.1:{pipeline_port}/0")
    out = token_records(celery_cases(env, locked_port, pipeline))
    out += tool_records(celery_cli_cases(env, locked_port), "celery-cli47", env.tmp, timeout=30)
    out += token_records(queue_db_cases(env))
    out += token_records(fabric_cases(env, start_sshd(env)))
    out += token_records(zmq_cases(env))
    out += token_records(socketio_cases(env))
    out += token_records(grpclib_cases(env, start_grpclib_server(env)))
    return out


if __name__ == "__main__":
    write_batch(blind47_records)


__all__ = ["BLIND47_SOURCES", "blind47_records"]
