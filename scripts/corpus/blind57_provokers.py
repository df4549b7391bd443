"""Fifty-seventh batch of blind provokers: coordination and cache services as the services that depend on them meet
their failures. Private etcd members (a small --max-request-bytes and --quota-backend-bytes, one with auth enabled
and a read-only role, one whose cluster never gets a leader) are called through etcdctl, the etcd3gw client and
httpx on etcd's HTTP/JSON gateway: wrong password, no user, missing permission, a request too large, the backend
quota exhausted, a closed port, bad JSON for the gateway, a snapshot into a missing directory; etcd itself refuses
bad flags and a read-only data directory. A private ZooKeeper (hard quotas enforced) is used through kazoo and
zkCli.sh: digest ACL refusals, a count quota exceeded, a closed port, client misuse; ZooKeeper refuses a bad config
and a read-only data directory, and a member without quorum answers that it is not serving. Private memcached
servers (a tiny -M cache, one with -Y authentication) are fed through pylibmc, the libmemcached tools and the text
protocol over nc: objects too large, out of memory, a bad data chunk, failed and missing authentication, closed
ports; memcached refuses bad options. Only 127.0.0.1."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from blind57_support import (
    ZKCLI,
    etcd_argv,
    quiet_kazoo,
    start_etcd,
    start_memcached,
    start_zookeeper,
    zk_argv,
    zk_config,
)
from checked import PyCase, ToolCase, problem, python_records, tool_records
from common import Env, Record, free_port, run, write_batch
from servers import mount_tmpfs

BLIND57_SOURCES = frozenset({"etcd57", "zookeeper57", "memcached57"})


class CauseMissing(Exception):
    """Raised instead of the real error when its evidence of the provoked cause is missing (the case is dropped)."""


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _detail(fn: Callable[[], Any], token: str) -> Callable[[], None]:
    """Run fn; re-raise its etcd3gw error only when the server's detail names the provoked cause."""

    def call() -> None:
        try:
            fn()
        except Exception as exc:
            detail = str(getattr(exc, "detail_text", "") or "")
            if token.lower() not in detail.lower():
                raise CauseMissing(token) from None
            raise

    return call


# --------------------------------------------------------------------------- etcd


def _etcd_gateway_cases(kv: int, secure: int, closed: int) -> tuple[list[PyCase], list[PyCase]]:
    """Cases before and after the backend quota is exhausted."""
    import etcd3gw
    import httpx

    client = etcd3gw.client(host="127.0.0.1", port=kv, timeout=5)

    def too_large() -> None:
        client.put("/deploy/b57/manifest", "m" * 6000)

    def fill_quota() -> None:
        for i in range(400):
            client.put(f"/cache/b57/chunk-{i:04d}", "c" * 3000)

    def refused() -> None:
        etcd3gw.client(host="127.0.0.1", port=closed, timeout=3).get("/config/b57/feature-flags")

    def bytes_in_json() -> None:
        httpx.post(f"http://127.0.0.1:{kv}/v3/kv/put", json={"key": b"/deploy/b57/manifest", "value": b"v1"},
                   timeout=5)

    def gateway_call(path: str, body: dict[str, Any], token: str, headers: dict[str, str] | None = None) -> None:
        resp = httpx.post(f"http://127.0.0.1:{secure}{path}", json=body, headers=headers or {}, timeout=5)
        if token.lower() not in resp.text.lower():
            raise CauseMissing(token)
        resp.raise_for_status()

    def wrong_password() -> None:
        gateway_call("/v3/auth/authenticate", {"name": "ci", "password": "ci-b57-wrong"}, "authentication failed")

    def permission_denied() -> None:
        auth = httpx.post(f"http://127.0.0.1:{secure}/v3/auth/authenticate",
                          json={"name": "ci", "password": "ci-b57"}, timeout=5).json()
        gateway_call("/v3/kv/put", {"key": _b64("/app/b57/release"), "value": _b64("v2.4.1")}, "permission denied",
                     {"Authorization": auth["token"]})

    def no_token() -> None:
        gateway_call("/v3/kv/range", {"key": _b64("/app/b57/release")}, "user name is empty")

    def bad_base64() -> None:
        gateway_call("/v3/kv/put", {"key": "/app/b57/release", "value": "v2.4.1"}, "base64")

    before: list[PyCase] = [
        ("etcd3gw_request_too_large", "validation", "etcd57", "Etcd3Exception",
         _detail(too_large, "request is too large")),
        ("etcd3gw_refused", "network", "etcd57", "ConnectionFailedError", refused),
        ("etcd_gateway_bytes_in_json", "programming", "etcd57", "TypeError", bytes_in_json),
        ("etcd_gateway_wrong_password", "auth", "etcd57", "HTTPStatusError", wrong_password),
        ("etcd_gateway_permission_denied", "auth", "etcd57", "HTTPStatusError", permission_denied),
        ("etcd_gateway_no_token", "auth", "etcd57", "HTTPStatusError", no_token),
        ("etcd_gateway_bad_base64", "validation", "etcd57", "HTTPStatusError", bad_base64),
    ]
    after: list[PyCase] = [
        ("etcd3gw_space_exceeded", "resource", "etcd57", "Etcd3Exception", _detail(fill_quota, "space exceeded")),
    ]
    return before, after


def _etcd_setup_auth(port: int) -> None:
    ctl = ["etcdctl", "--endpoints", f"127.0.0.1:{port}"]
    for args in (["user", "add", "root:root-b57"], ["user", "grant-role", "root", "root"], ["role", "add", "reader"],
                 ["role", "grant-permission", "reader", "read", "/app/", "--prefix=true"], ["user", "add", "ci:ci-b57"],
                 ["user", "grant-role", "ci", "reader"], ["auth", "enable"]):
        run([*ctl, *args], timeout=20)


def _etcdctl_cases(kv: int, secure: int, leaderless: int, closed: int) -> tuple[list[ToolCase], list[ToolCase]]:
    kv_ctl = f"etcdctl --endpoints 127.0.0.1:{kv} --dial-timeout=3s --command-timeout=5s"
    sec_ctl = f"etcdctl --endpoints 127.0.0.1:{secure} --dial-timeout=3s --command-timeout=5s"
    before: list[ToolCase] = [
        ("etcdctl_wrong_password", "auth", "authentication failed",
         f"{sec_ctl} --user ci:hunter2 get /app/b57/release"),
        ("etcdctl_permission_denied", "auth", "permission denied",
         f"{sec_ctl} --user ci:ci-b57 put /app/b57/release v2.4.1"),
        ("etcdctl_no_user", "auth", "user name is empty", f"{sec_ctl} get /app/b57/release"),
        ("etcdctl_request_too_large", "validation", "too large",
         f"{kv_ctl} put /deploy/b57/bundle \"$(head -c 6000 /dev/zero | tr '\\0' b)\""),
        ("etcdctl_closed_port", "network", "deadline|refused",
         f"etcdctl --endpoints 127.0.0.1:{closed} --dial-timeout=2s get /config/b57/leader"),
        ("etcdctl_snapshot_missing_dir", "filesystem", "no such file",
         f"{kv_ctl} snapshot save /var/backups/etcd-b57/missing/snapshot.db"),
        ("etcdctl_no_leader_health", "service", "unhealthy",
         f"etcdctl --endpoints 127.0.0.1:{leaderless} --dial-timeout=2s --command-timeout=3s endpoint health"),
    ]
    after: list[ToolCase] = [
        ("etcdctl_space_exceeded", "resource", "space exceeded", f"{kv_ctl} put /cache/b57/more value-b57"),
    ]
    return before, after


def _etcd_server_cases(env: Env) -> list[ToolCase]:
    ro = mount_tmpfs(env, "ro57", "size=64k,ro")

    def argv(tag: str, data: str) -> list[str]:
        return etcd_argv(data, free_port(), free_port(), f"bad{tag}")

    bad_url = argv("url", str(env.tmp / "etcd-badurl"))
    bad_url[bad_url.index("--listen-client-urls") + 1] = f"127.0.0.1:{free_port()}"
    return [
        ("etcd_bad_quota_flag", "validation", "invalid",
         [*argv("quota", str(env.tmp / "etcd-badquota")), "--quota-backend-bytes=8GiB"]),
        ("etcd_read_only_data_dir", "filesystem", "read-only", argv("ro", str(ro / "member-data"))),
        ("etcd_listen_url_no_scheme", "validation", "url", bad_url),
    ]


# --------------------------------------------------------------------------- ZooKeeper


def _zk_setup(port: int) -> None:
    from kazoo.client import KazooClient
    from kazoo.security import make_digest_acl

    zk = KazooClient(hosts=f"127.0.0.1:{port}")
    zk.start(timeout=10)
    try:
        zk.add_auth("digest", "deployer:s3cret-b57")
        zk.ensure_path("/services/b57")
        zk.create("/services/b57/db-credentials", b"{}", acl=[make_digest_acl("deployer", "s3cret-b57", all=True)])
        zk.create("/locks-b57")
    finally:
        zk.stop()
        zk.close()
    run([ZKCLI, "-server", f"127.0.0.1:{port}", "setquota", "-N", "2", "/locks-b57"], timeout=30)
    run([ZKCLI, "-server", f"127.0.0.1:{port}", "create", "/locks-b57/worker-1"], timeout=30)


def _kazoo_cases(port: int, closed: int) -> list[PyCase]:
    from kazoo.client import KazooClient

    def with_client(body: Callable[[Any], Any], auth: str = "") -> Callable[[], None]:
        def call() -> None:
            zk = KazooClient(hosts=f"127.0.0.1:{port}")
            zk.start(timeout=10)
            try:
                if auth:
                    zk.add_auth("digest", auth)
                body(zk)
            finally:
                zk.stop()
                zk.close()

        return call

    def refused() -> None:
        zk = KazooClient(hosts=f"127.0.0.1:{closed}", timeout=2)
        try:
            zk.start(timeout=3)
        finally:
            zk.stop()
            zk.close()

    return [
        ("kazoo_wrong_digest", "auth", "zookeeper57", "NoAuthError",
         with_client(lambda zk: zk.get("/services/b57/db-credentials"), "deployer:not-the-secret")),
        ("kazoo_no_credentials", "auth", "zookeeper57", "NoAuthError",
         with_client(lambda zk: zk.set("/services/b57/db-credentials", b'{"user": "app"}'))),
        ("kazoo_quota_exceeded", "resource", "zookeeper57", "QuotaExceededError",
         with_client(lambda zk: zk.create("/locks-b57/worker-2", b"", ephemeral=True))),
        ("kazoo_closed_port", "network", "zookeeper57", "KazooTimeoutError|TimeoutError", refused),
        ("kazoo_str_value", "programming", "zookeeper57", "TypeError",
         with_client(lambda zk: zk.create("/services/b57/leader", "worker-7"))),
    ]


def _zk_tool_cases(env: Env, port: int, not_serving: int) -> list[ToolCase]:
    cli = f"{ZKCLI} -server 127.0.0.1:{port}"
    bad = env.tmp / "zk-bad.cfg"
    bad.write_text(zk_config(env.tmp / "zk-bad", free_port()).replace("tickTime=500", "tickTime=500ms"))
    ro = mount_tmpfs(env, "zkro57", "size=64k,ro")
    read_only = env.tmp / "zk-ro.cfg"
    read_only.write_text(zk_config(ro / "zookeeper", free_port()))
    return [
        ("zkcli_insufficient_permission", "auth", "insufficient permission|NoAuth",
         f"{cli} get /services/b57/db-credentials"),
        ("zkcli_quota_exceeded", "resource", "quota", f"{cli} create /locks-b57/worker-3"),
        ("zookeeper_bad_ticktime", "validation", "NumberFormat|invalid", zk_argv(bad)),
        ("zookeeper_read_only_datadir", "filesystem", "datadir|read-only", zk_argv(read_only)),
        ("zookeeper_not_serving", "service", "not currently serving",
         f"resp=$(echo srvr | nc -q1 127.0.0.1 {not_serving}); echo \"$resp\" >&2; "
         "case \"$resp\" in *Mode:*) exit 0;; esac; exit 1"),
    ]


# --------------------------------------------------------------------------- memcached


def _pylibmc_cases(tiny: int, closed: int) -> list[PyCase]:
    import pylibmc

    def too_big() -> None:
        pylibmc.Client([f"127.0.0.1:{tiny}"]).set("render:b57:report", b"r" * 1_500_000)

    def out_of_memory() -> None:
        client = pylibmc.Client([f"127.0.0.1:{tiny}"])
        try:
            for i in range(300):
                client.set(f"session:b57:{i}", b"s" * 70_000)
        except pylibmc.Error as exc:
            if "error 48" not in str(exc):
                raise CauseMissing("error 48") from None
            raise

    def refused() -> None:
        pylibmc.Client([f"127.0.0.1:{closed}"]).get("user:b57:42")

    def unpicklable() -> None:
        pylibmc.Client([f"127.0.0.1:{tiny}"]).set("callback:b57", lambda order: order)

    return [
        ("pylibmc_too_big", "validation", "memcached57", "TooBig", too_big),
        ("pylibmc_out_of_memory", "resource", "memcached57", "Error", out_of_memory),
        ("pylibmc_refused", "network", "memcached57", "ConnectionError", refused),
        ("pylibmc_unpicklable", "programming", "memcached57", "PicklingError|AttributeError|TypeError", unpicklable),
    ]


def _send(port: int, payload: str) -> str:
    """bash: send a text-protocol payload (printf format) with nc, print the reply, fail unless it is STORED."""
    return (f"resp=$({payload} | nc -q1 127.0.0.1 {port}); echo \"$resp\" >&2; "
            "case \"$resp\" in STORED*) exit 0;; esac; exit 1")


def _memcached_tool_cases(env: Env, tiny: int, locked: int, closed: int) -> list[ToolCase]:
    big = env.tmp / "report-b57.bin"
    big.write_bytes(b"r" * 1_500_000)
    session = env.tmp / "session-b57.bin"
    session.write_bytes(b"s" * 70_000)
    servers = f"--servers=127.0.0.1:{tiny}"
    return [
        ("nc_object_too_large", "validation", "too large",
         _send(tiny, f"{{ printf 'set render:b57 0 0 1500000\\r\\n'; cat {big}; printf '\\r\\n'; }}")),
        ("nc_out_of_memory", "resource", "out of memory",
         _send(tiny, f"{{ printf 'set session:b57:nc 0 0 70000\\r\\n'; cat {session}; printf '\\r\\n'; }}")),
        ("nc_bad_data_chunk", "validation", "bad data chunk",
         _send(tiny, "printf 'set feature:b57 0 0 4\\r\\nenabled\\r\\n'")),
        ("nc_auth_failure", "auth", "authentication failure",
         _send(locked, "printf 'set auth 0 0 17\\r\\ndeployer hunter2!\\r\\n'")),
        ("nc_unauthenticated", "auth", "unauthenticated", _send(locked, "printf 'get feature:b57\\r\\n'")),
        ("nc_closed_port", "network", "refused",
         f"printf 'stats\\r\\n' | nc -v -q1 127.0.0.1 {closed} >/dev/null"),
        ("memccp_too_big", "validation", "big|large", ["memccp", servers, str(big)]),
        ("memccp_out_of_memory", "resource", "memory|allocate", ["memccp", servers, str(session)]),
        ("memccp_missing_file", "filesystem", "no such file", ["memccp", servers, str(env.tmp / "dist/app-b57.js")]),
        ("memcstat_closed_port", "network", "refused|failure|connect", ["memcstat", f"--servers=127.0.0.1:{closed}"]),
        ("memcached_item_size_vs_chunk", "validation", "item_size_max|larger",
         ["memcached", "-U", "0", "-l", "127.0.0.1", "-p", str(free_port()), "-u", "root", "-I", "1k"]),
        ("memcached_bad_memory_limit", "validation", "memory|number|invalid",
         ["memcached", "-U", "0", "-l", "127.0.0.1", "-p", str(free_port()), "-u", "root", "-m", "lots"]),
    ]


# --------------------------------------------------------------------------- the batch


def blind57_records(env: Env) -> list[Record]:
    quiet_kazoo()
    out: list[Record] = []
    closed = env.closed_port
    try:
        kv = start_etcd(env, "kv57", "--max-request-bytes", "4096", "--quota-backend-bytes", "400000")
        secure = start_etcd(env, "sec57")
        leaderless = start_etcd(env, "nolead57", peers=3)
        _etcd_setup_auth(secure)
    except (RuntimeError, OSError) as harness:
        problem("etcd", f"private etcd not started ({type(harness).__name__}), etcd cases skipped")
    else:
        py_before, py_after = _etcd_gateway_cases(kv, secure, closed)
        ctl_before, ctl_after = _etcdctl_cases(kv, secure, leaderless, closed)
        out += python_records(py_before)
        out += tool_records(ctl_before, "etcd57", env.tmp, timeout=30)
        out += python_records(py_after)
        out += tool_records(ctl_after, "etcd57", env.tmp, timeout=30)
        out += tool_records(_etcd_server_cases(env), "etcd57", env.tmp, timeout=30)

    try:
        zk = start_zookeeper(env, "main57")
        not_serving = start_zookeeper(env, "quorum57", quorum=True)
        _zk_setup(zk)
    except Exception as harness:  # a server or its setup failing is the harness's problem
        problem("zookeeper", f"private ZooKeeper not ready ({type(harness).__name__}), ZooKeeper cases skipped")
    else:
        out += python_records(_kazoo_cases(zk, closed))
        out += tool_records(_zk_tool_cases(env, zk, not_serving), "zookeeper57", env.tmp, timeout=45)

    try:
        tiny = start_memcached(env, "tiny57", "-m", "2", "-M")
        auth_file = env.tmp / "memcached-auth57.txt"
        auth_file.write_text("deployer:s3cret-b57\n")
        locked = start_memcached(env, "auth57", "-Y", str(auth_file))
    except (RuntimeError, OSError) as harness:
        problem("memcached", f"private memcached not started ({type(harness).__name__}), memcached cases skipped")
    else:
        out += python_records(_pylibmc_cases(tiny, closed))
        out += tool_records(_memcached_tool_cases(env, tiny, locked, closed), "memcached57", env.tmp, timeout=30)
    return out


if __name__ == "__main__":
    write_batch(blind57_records)


__all__ = ["BLIND57_SOURCES", "blind57_records"]
