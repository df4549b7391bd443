"""Tenth batch of blind provokers, written after batches 6-9 had been folded into dev and the rules
generalised from them; scored once, blind, then folded into dev: pint, Babel,
phonenumbers, asyncssh, ldap3, pyOpenSSL, construct, pyasn1, dnspython, a gRPC server's
statuses, stdlib corners, more CLI tools, Node.js, Go, Java and git. Everything talks to 127.0.0.1 only."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from common import (
    Env,
    Record,
    failure_text,
    git_env,
    git_failure_records,
    python_case_records,
    record,
    run,
    shell_failure_records,
    write_batch,
)
from runtime_provokers import go_records, java_records

BLIND10_SOURCES = frozenset({"pint", "babel", "phonenumbers", "asyncssh", "ldap3", "pyopenssl",
                             "construct", "pyasn1", "dnspython", "grpcio-server", "py-extra8", "node-extra8",
                             "go-extra8", "java-extra8", "git-extra7", "shell-extra7"})
_GIT_ENV = git_env("blind10")


def _grpc_status(code_name: str, detail: str) -> Callable[[], None]:
    def fn() -> None:
        from concurrent import futures

        import grpc

        def handler(request: bytes, context: Any) -> bytes:
            context.abort(getattr(grpc.StatusCode, code_name), detail)
            return b""

        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
            "inventory.Inventory", {"Reserve": grpc.unary_unary_rpc_method_handler(handler)}),))
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        try:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                channel.unary_unary("/inventory.Inventory/Reserve")(b"", timeout=3)
        finally:
            server.stop(None)

    return fn


def _py_cases(env: Env) -> list[tuple[str, str, str, Callable[[], Any]]]:
    def pint_bad() -> None:
        import pint

        pint.UnitRegistry()("3 furlongz")

    def babel_bad() -> None:
        import babel

        babel.Locale.parse("xx_ZZ")

    def phone_bad() -> None:
        import phonenumbers

        phonenumbers.parse("call me maybe", "US")

    def ssh_connect(port: int) -> Callable[[], None]:
        def fn() -> None:
            import asyncio

            import asyncssh

            async def go() -> None:
                await asyncssh.connect("127.0.0.1", port=port, known_hosts=None, login_timeout=2,
                                       connect_timeout=2)

            asyncio.run(go())

        return fn

    def ldap_refused() -> None:
        import ldap3

        server = ldap3.Server("127.0.0.1", port=env.closed_port, connect_timeout=1)
        ldap3.Connection(server, user="cn=admin", password="x", auto_bind=True)

    def openssl_bad() -> None:
        from OpenSSL import crypto

        crypto.load_certificate(crypto.FILETYPE_PEM, b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")

    def construct_short() -> None:
        import construct

        construct.Int32ub.parse(b"\x00\x01")

    def asn1_bad() -> None:
        from pyasn1.codec.der import decoder

        decoder.decode(b"\x30\x85\xff")

    def dns_no_server() -> None:
        import dns.resolver

        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = env.closed_port
        resolver.resolve("api.recoup-corpus.invalid", "A", lifetime=1.5)

    def dns_bad_name() -> None:
        import dns.name

        dns.name.from_text("api..example.org")

    def hmac_str_key() -> None:
        import hmac

        hmac.new("secret", b"msg", "sha256")  # type: ignore[arg-type]

    def thread_limit() -> None:
        import subprocess

        code = ("import resource, threading, time; resource.setrlimit(resource.RLIMIT_AS, (150 << 20, 150 << 20)); "
                "[threading.Thread(target=time.sleep, args=(3,), daemon=True).start() for _ in range(2000)]")
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no output")

    return [
        ("pint_unknown_unit", "validation", "pint", pint_bad),
        ("babel_unknown_locale", "validation", "babel", babel_bad),
        ("phone_bad", "validation", "phonenumbers", phone_bad),
        ("asyncssh_refused", "network", "asyncssh", ssh_connect(env.closed_port)),
        ("asyncssh_not_ssh", "network", "asyncssh", ssh_connect(env.empty_port)),
        ("ldap_refused", "network", "ldap3", ldap_refused),
        ("pyopenssl_bad_cert", "validation", "pyopenssl", openssl_bad),
        ("construct_short", "validation", "construct", construct_short),
        ("asn1_bad", "validation", "pyasn1", asn1_bad),
        ("dns_no_nameserver", "network", "dnspython", dns_no_server),
        ("dns_bad_name", "validation", "dnspython", dns_bad_name),
        ("grpc_unavailable", "service", "grpcio-server", _grpc_status("UNAVAILABLE", "backend warming up")),
        ("grpc_internal", "service", "grpcio-server", _grpc_status("INTERNAL", "stock ledger crashed")),
        ("grpc_unauthenticated", "auth", "grpcio-server", _grpc_status("UNAUTHENTICATED", "missing bearer")),
        ("grpc_permission", "auth", "grpcio-server", _grpc_status("PERMISSION_DENIED", "role viewer")),
        ("grpc_exhausted", "resource", "grpcio-server", _grpc_status("RESOURCE_EXHAUSTED", "reservation quota")),
        ("grpc_invalid_argument", "validation", "grpcio-server", _grpc_status("INVALID_ARGUMENT", "sku empty")),
        ("hmac_str_key", "programming", "py-extra8", hmac_str_key),
        ("thread_limit", "resource", "py-extra8", thread_limit),
    ]


NODE: list[tuple[str, str, str]] = [
    ("node_currency_missing", "programming", "new Intl.NumberFormat('en', { style: 'currency' })"),
    ("node_unknown_encoding", "programming", "Buffer.from('abc', 'utf-9')"),
    ("node_link_missing_dir", "filesystem", "require('fs').linkSync('/etc/hostname', '/srv/blind10/missing/h')"),
    ("node_fetch_502", "service",
     "const r = await fetch('HTTPURL/status/502'); if (!r.ok) throw new Error(`Request failed with status code "
     "${r.status}`)"),
]

GO: dict[str, tuple[str, str]] = {
    "unknown_port": ("validation", '_, err := net.ResolveTCPAddr("tcp", "127.0.0.1:htttp"); fail(err)'),
    "truncate_missing": ("filesystem", 'err := os.Truncate("/srv/blind10/app.log", 0); fail(err)'),
    "unquote_bad": ("validation", '_, err := strconv.Unquote("\\"unterminated"); fail(err)'),
    "status_413": ("validation", 'r, err := http.Post("http://127.0.0.1:HTTP/status/413", "text/plain", nil); '
                                 'fail(err); if r.StatusCode >= 400 { log.Fatalf("upload rejected: %s", r.Status) }'),
    "status_407": ("auth", 'r, err := http.Get("http://127.0.0.1:HTTP/status/407"); fail(err); '
                           'if r.StatusCode >= 400 { log.Fatalf("fetch: %s", r.Status) }'),
}

JAVA: dict[str, tuple[str, str]] = {
    "currency": ("validation", 'java.util.Currency.getInstance("XYZ");'),
    "port_range": ("validation", 'new java.net.InetSocketAddress("127.0.0.1", 70000);'),
    "no_method": ("programming", 'try { "x".getClass().getMethod("frobnicate"); } '
                                 'catch (NoSuchMethodException e) { throw new RuntimeException(e); }'),
    "move_missing": ("filesystem", 'try { java.nio.file.Files.move(java.nio.file.Path.of("/srv/blind10/a"), '
                                   'java.nio.file.Path.of("/tmp/blind10-b")); } '
                                   'catch (java.io.IOException e) { throw new java.io.UncheckedIOException(e); }'),
}


def _git(env: Env) -> list[tuple[str, list[str]]]:
    return [
        ("git_delete_current_branch", ["branch", "-D", "main"]),
        ("git_tag_bad_ref", ["tag", "-a", "v1-blind10", "-m", "x", "HEAD~9"]),
        ("git_symbolic_ref_detached", ["symbolic-ref", "HEAD"]),
        ("git_rev_parse_verify", ["rev-parse", "--verify", "release-blind10"]),
        ("git_describe_exact", ["describe", "--exact-match"]),
    ]


SHELL: list[tuple[str, str, str]] = [
    ("shell_openssl_bad_digest", "validation", "openssl dgst -sha999 /etc/hostname"),
    ("shell_base32_bad", "validation", "echo '!!!!' | base32 -d"),
    ("shell_cut_field_zero", "validation", "cut -f0 /etc/hostname"),
    ("shell_du_missing", "filesystem", "du -sh /srv/blind10/cache"),
    ("shell_pg_dump_closed", "network", "pg_dump -h 127.0.0.1 -p CLOSED -U postgres test"),
    ("shell_mysqladmin_closed", "network", "mariadb-admin -h 127.0.0.1 -P CLOSED -u root ping"),
    ("shell_pg_restore_bad", "validation", "pg_restore -l /etc/hostname"),
    ("shell_mosquitto_sub_closed", "network", "mosquitto_sub -h 127.0.0.1 -p CLOSED -t t -C 1"),
    ("shell_gofmt_syntax", "programming",
     "printf 'package main\\nfunc main( {\\n' > BLINDTMP/x.go && gofmt BLINDTMP/x.go"),
    ("shell_node_low_memory", "resource", "ulimit -v 60000; node -e 'console.log(1)'"),
]


def blind10_records(env: Env) -> list[Record]:
    out: list[Record] = python_case_records(_py_cases(env))
    for name, category, script in NODE:
        flags = ["--input-type=module"] if "await" in script else []
        text = failure_text(run(["node", *flags, "-e", script.replace("HTTPURL", env.http)], cwd=env.tmp))
        out.append(record(text, category, "node-extra8", "stderr", name))
    out.extend(go_records(env, {k: (c, b.replace("HTTP", str(env.http_port))) for k, (c, b) in GO.items()},
                          "go-extra8"))
    out.extend(java_records(env, JAVA, "java-extra8"))
    repo = env.tmp / "blind10-repo"
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], cwd=repo, env=_GIT_ENV)
    run(["git", "commit", "-q", "--allow-empty", "-m", "one"], cwd=repo, env=_GIT_ENV)

    def set_up(name: str) -> None:
        if name == "git_symbolic_ref_detached":
            run(["git", "checkout", "-q", "--detach"], cwd=repo, env=_GIT_ENV)

    out.extend(git_failure_records(_git(env), repo, "git-extra7", _GIT_ENV, before=set_up))
    scratch = env.tmp / "blind10-scratch"
    scratch.mkdir()
    out.extend(shell_failure_records(SHELL, env.tmp, "shell-extra7",
                                     prepare=lambda s: s.replace("CLOSED", str(env.closed_port))
                                     .replace("BLINDTMP", str(scratch))))
    return out


if __name__ == "__main__":
    write_batch(blind10_records)


__all__ = ["BLIND10_SOURCES", "blind10_records"]
