"""Seventh batch of blind provokers, written after batch 6 had been scored and folded into dev: websockets,
psutil, Pillow, ruamel.yaml, cbor2, email-validator, PyJWT, idna, croniter, Pygments-free stdlib corners,
more CLI tools, Node.js, Go, Java and git. Scored once, blind; everything talks to 127.0.0.1 only."""

from __future__ import annotations

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

BLIND7_SOURCES = frozenset({"websockets", "psutil", "pillow", "ruamel.yaml", "cbor2", "email-validator", "pyjwt",
                            "idna", "croniter", "py-extra5", "node-extra5", "go-extra5", "java-extra5",
                            "git-extra4", "shell-extra4"})
_GIT_ENV = git_env("blind7")


def _py_cases(env: Env) -> list[tuple[str, str, str, Callable[[], Any]]]:
    def ws(url: str) -> Callable[[], None]:
        def fn() -> None:
            from websockets.sync.client import connect

            with connect(url, open_timeout=3):
                pass

        return fn

    def psutil_missing() -> None:
        import psutil

        psutil.Process(2_000_000_000)

    def pillow_bad() -> None:
        import io

        from PIL import Image

        Image.open(io.BytesIO(b"this is not an image at all"))

    def pillow_missing() -> None:
        from PIL import Image

        Image.open("/srv/blind7/logo.png")

    def ruamel_bad() -> None:
        from ruamel.yaml import YAML

        YAML(typ="safe").load("items:\n  - a\n b: [1, 2\n")

    def cbor_bad() -> None:
        import cbor2

        cbor2.loads(b"\x9f\x01\x02")

    def email_bad() -> None:
        import email_validator

        email_validator.validate_email("not-an-address@", check_deliverability=False)

    def jwt_expired() -> None:
        import time

        import jwt

        token = jwt.encode({"sub": "u1", "exp": int(time.time()) - 60}, "k" * 32, algorithm="HS256")
        jwt.decode(token, "k" * 32, algorithms=["HS256"])

    def jwt_wrong_key() -> None:
        import jwt

        token = jwt.encode({"sub": "u1"}, "a" * 32, algorithm="HS256")
        jwt.decode(token, "b" * 32, algorithms=["HS256"])

    def jwt_garbage() -> None:
        import jwt

        jwt.decode("not.a.jwt", "k" * 32, algorithms=["HS256"])

    def idna_bad() -> None:
        import idna

        idna.encode("bad_label..example")

    def croniter_bad() -> None:
        import croniter

        croniter.croniter("61 * * * *")

    def format_code() -> None:
        "{:d}".format("seven")

    def struct_bad() -> None:
        import struct

        struct.pack("i", "seven")

    def open_mode() -> None:
        open("/etc/hostname", "rz")  # noqa: SIM115

    def selectors_closed() -> None:
        import socket

        s = socket.create_connection(("127.0.0.1", env.reset_port), timeout=2)
        s.sendall(b"hello\r\n")
        s.recv(10)
        s.recv(10)

    return [
        ("ws_refused", "network", "websockets", ws(f"ws://127.0.0.1:{env.closed_port}/feed")),
        ("ws_http_503", "service", "websockets", ws(f"ws://127.0.0.1:{env.http_port}/status/503")),
        ("ws_http_401", "auth", "websockets", ws(f"ws://127.0.0.1:{env.http_port}/status/401")),
        ("ws_http_429", "resource", "websockets", ws(f"ws://127.0.0.1:{env.http_port}/status/429")),
        ("ws_hang_timeout", "network", "websockets", ws(f"ws://127.0.0.1:{env.hang_port}/feed")),
        ("psutil_no_process", "unknown", "psutil", psutil_missing),
        ("pillow_not_image", "validation", "pillow", pillow_bad),
        ("pillow_missing_file", "filesystem", "pillow", pillow_missing),
        ("ruamel_bad", "validation", "ruamel.yaml", ruamel_bad),
        ("cbor_truncated", "validation", "cbor2", cbor_bad),
        ("email_invalid", "validation", "email-validator", email_bad),
        ("jwt_expired", "auth", "pyjwt", jwt_expired),
        ("jwt_wrong_key", "auth", "pyjwt", jwt_wrong_key),
        ("jwt_garbage", "validation", "pyjwt", jwt_garbage),
        ("idna_bad", "validation", "idna", idna_bad),
        ("croniter_bad", "validation", "croniter", croniter_bad),
        ("format_code", "programming", "py-extra5", format_code),
        ("struct_bad", "programming", "py-extra5", struct_bad),
        ("open_bad_mode", "programming", "py-extra5", open_mode),
        ("socket_reset_read", "network", "py-extra5", selectors_closed),
    ]


NODE: list[tuple[str, str, str]] = [
    ("node_socket_refused", "network",
     "require('net').createConnection(CLOSED, '127.0.0.1').on('error', e => { throw e })"),
    ("node_fetch_500", "service",
     "const r = await fetch('HTTPURL/status/500'); if (!r.ok) throw new Error(`upstream failed with ${r.status}`)"),
    ("node_mkdir_exists", "filesystem", "require('fs').mkdirSync('/tmp')"),
    ("node_array_reduce_empty", "programming", "[].reduce((a, b) => a + b)"),
    ("node_url_bad", "validation", "new URL('http://exa mple.com:99999')"),
]

GO: dict[str, tuple[str, str]] = {
    "hang_deadline": ("network", 'c, err := net.Dial("tcp", "127.0.0.1:HANG"); fail(err); '
                                 'c.SetReadDeadline(time.Now().Add(300 * time.Millisecond)); '
                                 'b := make([]byte, 10); _, err = c.Read(b); fail(err)'),
    "parse_float": ("validation", '_, err := strconv.ParseFloat("1.2.3", 64); fail(err)'),
    "chmod_missing": ("filesystem", 'err := os.Chmod("/srv/blind7/run.sh", 0755); fail(err)'),
    "status_429": ("resource", 'r, err := http.Get("http://127.0.0.1:HTTP/status/429"); fail(err); '
                               'if r.StatusCode >= 400 { log.Fatalf("api call failed: %s", r.Status) }'),
}

JAVA: dict[str, tuple[str, str]] = {
    "unknown_host": ("network", 'new java.net.Socket("queue.recoup-corpus.invalid", 5672);'),
    "bad_enum": ("validation", 'java.time.DayOfWeek.valueOf("FUNDAY");'),
    "list_of_null": ("programming", 'java.util.List.of("a", null);'),
    "delete_missing": ("filesystem", 'java.nio.file.Files.delete(java.nio.file.Path.of("/srv/blind7/x.lock"));'),
}


def _git(env: Env) -> list[tuple[str, list[str]]]:
    return [
        ("git_clean_refuses", ["clean"]),
        ("git_show_ref_missing", ["show-ref", "--verify", "refs/heads/release-blind7"]),
        ("git_revert_nothing", ["revert", "--continue"]),
        ("git_reset_too_far", ["reset", "--soft", "HEAD~5"]),
        ("git_rm_missing", ["rm", "notes-blind7.txt"]),
    ]


SHELL: list[tuple[str, str, str]] = [
    ("shell_mosquitto_topic", "validation", "mosquitto_pub -h 127.0.0.1 -t 'sensors/#' -m 1"),
    ("shell_sleep_bad", "validation", "sleep forever-ish"),
    ("shell_truncate_bad", "validation", "truncate -s lots BLINDTMP/f"),
    ("shell_expr_bad", "validation", "expr 3 + three"),
    ("shell_mktemp_missing", "filesystem", "mktemp -d /srv/blind7/missing/tmp.XXXX"),
    ("shell_cmp_missing", "filesystem", "cmp /etc/hostname /srv/blind7/other"),
    ("shell_symlink_loop", "filesystem", "cd BLINDTMP && ln -sf loop-a loop-b && ln -sf loop-b loop-a && cat loop-a"),
    ("shell_python_index", "programming", "python3 -c 'import sys; print(sys.argv[3])'"),
    ("shell_node_undefined", "programming", "node -e 'config.load()'"),
    ("shell_openssl_pkcs12_pass", "auth",
     "cd BLINDTMP && openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -days 1 -subj /CN=x "
     "2>/dev/null && openssl pkcs12 -export -in c.pem -inkey k.pem -out b.p12 -passout pass:right && "
     "openssl pkcs12 -in b.p12 -passin pass:wrong -nokeys"),
    ("shell_psql_no_host", "network", "psql -h db.recoup-corpus.invalid -U postgres -c 'select 1'"),
    ("shell_redis_cli_closed", "network", "redis-cli -h 127.0.0.1 -p CLOSED ping"),
    ("shell_gunzip_truncated", "validation",
     "cd BLINDTMP && seq 1 100000 | gzip > t.gz && head -c 2000 t.gz > cut.gz && gzip -t cut.gz"),
    ("shell_dd_enospc", "resource", "dd if=/dev/zero of=/dev/full bs=1k count=1"),
    ("shell_ulimit_node", "resource",
     "ulimit -v 400000; node -e 'const a = []; while (true) a.push(new Array(1e6).fill(1))'"),
]


def blind7_records(env: Env) -> list[Record]:
    out: list[Record] = python_case_records(_py_cases(env))
    for name, category, script in NODE:
        flags = ["--input-type=module"] if "await" in script else []
        script = script.replace("HTTPURL", env.http).replace("CLOSED", str(env.closed_port))
        text = failure_text(run(["node", *flags, "-e", script], cwd=env.tmp))
        out.append(record(text, category, "node-extra5", "stderr", name))
    out.extend(go_records(env, {k: (c, b.replace("HTTP", str(env.http_port))) for k, (c, b) in GO.items()},
                          "go-extra5"))
    out.extend(java_records(env, JAVA, "java-extra5"))
    repo = env.tmp / "blind7-repo"
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], cwd=repo, env=_GIT_ENV)
    run(["git", "commit", "-q", "--allow-empty", "-m", "one"], cwd=repo, env=_GIT_ENV)
    out.extend(git_failure_records(_git(env), repo, "git-extra4", _GIT_ENV))
    scratch = env.tmp / "blind7-scratch"
    scratch.mkdir()
    out.extend(shell_failure_records(SHELL, env.tmp, "shell-extra4",
                                     prepare=lambda s: s.replace("CLOSED", str(env.closed_port))
                                     .replace("BLINDTMP", str(scratch))))
    return out


if __name__ == "__main__":
    write_batch(blind7_records)


__all__ = ["BLIND7_SOURCES", "blind7_records"]
