"""Twenty-third batch of blind provokers, written after batch 22 had been scored, its misses read (recursion limits,
frozen objects, executor rejections), the rules generalised and the model retrained on batches 1-22; generated
and scored once, blind, before anyone read its texts. Half resource/auth/service (pg_dump and psql against full
disks, limits and denied tables, per-hour MariaDB limits, a Redis client cap seen by redis-cli, plain
http.client and Java/Node.js code that prints only a status line, a Java Authenticator whose credentials are
refused until it gives up, inode-starved tar), half every other category (stdlib, Node.js, Java, wget, git).
Only 127.0.0.1."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable

from checked import PyCase, ToolCase, has_token, python_records, tool_records
from common import Env, Record, git_env, run, write_batch
from runtime_provokers import java_records
from servers import mount_tmpfs, private_postgres, private_redis

BLIND23_SOURCES = frozenset({"http-client", "pg8000-3", "py-extra20", "node-extra21", "java-extra21",
                             "shell-extra20", "git-extra20"})
_PW = "right-password"
_GIT_ENV = git_env("blind23")


def _py_cases(env: Env) -> list[PyCase]:
    import pg8000.native

    run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c",
         "DO $$BEGIN CREATE ROLE blind23_capped LOGIN CONNECTION LIMIT 0; "
         "EXCEPTION WHEN duplicate_object THEN NULL; END$$"])

    def status(code: int) -> Callable[[], None]:
        def fn() -> None:
            import http.client

            conn = http.client.HTTPConnection("127.0.0.1", env.http_port, timeout=3)
            conn.request("GET", f"/status/{code}")
            resp = conn.getresponse()
            if resp.status >= 400:
                raise RuntimeError(f"{resp.status} {resp.reason}")
        return fn

    def empty_popitem() -> None:
        import collections

        collections.OrderedDict().popitem()

    def no_loop() -> None:
        import asyncio

        asyncio.get_running_loop()

    def host_bits() -> None:
        import ipaddress

        ipaddress.ip_network("10.0.0.1/24")

    def fraction_bad() -> None:
        import fractions

        fractions.Fraction("three quarters")

    def makedirs_file() -> None:
        import os

        (env.tmp / "afile").write_text("x")
        os.makedirs(env.tmp / "afile" / "sub")

    def move_missing_dir() -> None:
        import shutil

        (env.tmp / "tomove.txt").write_text("x")
        shutil.move(str(env.tmp / "tomove.txt"), "/srv/blind23/missing/dir/")

    def refused_v6() -> None:
        import urllib.request

        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
            port = s.getsockname()[1]
        urllib.request.urlopen(f"http://[::1]:{port}/", timeout=3)

    return [
        ("http_client_429", "resource", "http-client", "RuntimeError", status(429)),
        ("http_client_503", "service", "http-client", "RuntimeError", status(503)),
        ("http_client_401", "auth", "http-client", "RuntimeError", status(401)),
        ("pg8000_role_limit", "resource", "pg8000-3", "DatabaseError",
         lambda: pg8000.native.Connection("blind23_capped", host="127.0.0.1", database="test", timeout=3)),
        ("ordered_popitem", "programming", "py-extra20", "KeyError", empty_popitem),
        ("no_running_loop", "programming", "py-extra20", "RuntimeError", no_loop),
        ("ip_host_bits", "validation", "py-extra20", "ValueError", host_bits),
        ("fraction_bad", "validation", "py-extra20", "ValueError", fraction_bad),
        ("makedirs_file", "filesystem", "py-extra20", "NotADirectoryError|FileExistsError", makedirs_file),
        ("move_missing_dir", "filesystem", "py-extra20", "FileNotFoundError", move_missing_dir),
        ("urllib_refused_v6", "network", "py-extra20", "URLError", refused_v6),
    ]


NODE: list[ToolCase] = [
    ("node_http_500_message", "service", "500",
     "require('http').get('HTTPURL/status/500', (res) => { if (res.statusCode !== 200) "
     "throw new Error(`${res.statusCode} ${res.statusMessage}`); })"),
    ("node_buffer_range", "programming", "ERR_OUT_OF_RANGE|RangeError", "Buffer.from('x').readUInt32BE(0)"),
    ("node_assert", "programming", "AssertionError", "require('assert').strictEqual(1, 2)"),
    ("node_invalid_date", "validation", "RangeError", "new Date('next tuesday-ish').toISOString()"),
]

JAVA: dict[str, tuple[str, str]] = {
    "authenticator_refused": ("auth", 'java.net.Authenticator.setDefault(new java.net.Authenticator() { '
                                      'protected java.net.PasswordAuthentication getPasswordAuthentication() { '
                                      'return new java.net.PasswordAuthentication("app", "wrong".toCharArray()); } }); '
                                      'new java.net.URL("http://127.0.0.1:HTTP/status/401").openStream();'),
    "httpclient_504": ("service", 'var c = java.net.http.HttpClient.newHttpClient(); var r = c.send(java.net.http.'
                                  'HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:HTTP/status/504"))'
                                  '.build(), java.net.http.HttpResponse.BodyHandlers.ofString()); '
                                  'if (r.statusCode() != 200) throw new RuntimeException("upstream returned " '
                                  '+ r.statusCode());'),
    "httpclient_429": ("resource", 'var c = java.net.http.HttpClient.newHttpClient(); var r = c.send(java.net.http.'
                                   'HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:HTTP/status/429"))'
                                   '.build(), java.net.http.HttpResponse.BodyHandlers.ofString()); '
                                   'if (r.statusCode() != 200) throw new RuntimeException("call failed, status " '
                                   '+ r.statusCode() + ", retry after " + r.headers().firstValue("Retry-After")'
                                   '.orElse("?") + " s");'),
    "enum_bad": ("validation", 'java.time.DayOfWeek.valueOf("FUNDAY");'),
    "base64_bad": ("validation", 'java.util.Base64.getDecoder().decode("@@not-base64@@");'),
    "array_store": ("programming", 'Object[] o = new Integer[1]; o[0] = "s";'),
}
_JAVA_EXPECTED = {"authenticator_refused": "Exception", "httpclient_504": "504", "httpclient_429": "429",
                  "enum_bad": "IllegalArgumentException", "base64_bad": "IllegalArgumentException",
                  "array_store": "ArrayStoreException"}

SHELL: list[ToolCase] = [
    ("shell_psql_temp_file_limit", "resource", "temp_file_limit",
     "psql -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -c \"set temp_file_limit = '64kB'; "
     "set work_mem = '64kB'; select g from generate_series(1, 300000) g order by md5(g::text)\""),
    ("shell_pg_dump_disk_full", "resource", "No space left|could not write",
     "pg_dump -h 127.0.0.1 -U postgres -d test -f FULLDIR/dump.sql"),
    ("shell_pg_dump_wrong_password", "auth", "password authentication failed",
     "PGPASSWORD=wrong-password pg_dump -h 127.0.0.1 -p PGPORT -U app -d postgres -f /dev/null"),
    ("shell_pg_dump_table_denied", "auth", "permission denied",
     "psql -h 127.0.0.1 -U postgres -d test -c 'create table if not exists blind23_secret (x int)' >/dev/null && "
     "pg_dump -h 127.0.0.1 -U blind22_reader -d test -t blind23_secret -f /dev/null"),
    ("shell_mariadb_connections_per_hour", "resource", "max_connections_per_hour",
     "mariadb -h 127.0.0.1 -u root -e \"CREATE USER IF NOT EXISTS 'blind23h'@'%' IDENTIFIED BY 'right-password' "
     "WITH MAX_CONNECTIONS_PER_HOUR 1; CREATE USER IF NOT EXISTS 'blind23h'@'localhost' IDENTIFIED BY "
     "'right-password' WITH MAX_CONNECTIONS_PER_HOUR 1\" && for i in 1 2 3; do mariadb -h 127.0.0.1 -u blind23h "
     "-pright-password -e 'select 1' >/dev/null || exit 1; done"),
    ("shell_redis_cli_maxclients", "resource", "max number of clients",
     "PYEXE -c \"import redis, subprocess; held = redis.Redis(port=CAPPORT); held.ping(); "
     "p = subprocess.run(['redis-cli', '-e', '-p', 'CAPPORT', 'ping'], capture_output=True, text=True); "
     "print(p.stdout + p.stderr); raise SystemExit(p.returncode or 1)\""),
    ("shell_tar_no_inodes", "resource", "No space left",
     "mkdir -p many && for i in $(seq 1 30); do echo $i > many/f$i; done && tar -cf many.tar many && "
     "tar -xf many.tar -C INODEDIR"),
    ("shell_wget_reset", "network", "reset|Read error|failed",
     "wget -nv --tries=1 http://127.0.0.1:RESET/ -O /dev/null"),
]

GIT: list[ToolCase] = [
    ("git_bisect_not_started", "git", "bisect", ["git", "bisect", "bad"]),
    ("git_push_bad_refspec", "git", "nope-blind23", ["git", "push", "origin", "nope-blind23"]),
    ("git_tag_delete_missing", "git", "nope-blind23", ["git", "tag", "-d", "nope-blind23"]),
]


def blind23_records(env: Env) -> list[Record]:
    cap_port = private_redis(env, "--maxclients", "1")
    pg = private_postgres(env, max_connections=10)
    full = mount_tmpfs(env, "full23", "size=256k")
    run(["bash", "-c", f"head -c 1000000 /dev/zero > {full}/filler"])
    inodes = mount_tmpfs(env, "inodes23", "nr_inodes=8")

    def fill(text: str) -> str:
        return (text.replace("HTTPURL", env.http).replace("FULLDIR", str(full)).replace("INODEDIR", str(inodes))
                .replace("PGPORT", str(pg.port)).replace("CAPPORT", str(cap_port)).replace("PYEXE", sys.executable)
                .replace("RESET", str(env.reset_port)))

    out = python_records(_py_cases(env))
    out += tool_records([(n, c, t, ["node", "-e", fill(s)]) for n, c, t, s in NODE], "node-extra21", env.tmp)
    for rec in java_records(env, JAVA, "java-extra21"):
        if has_token(rec["provoker"], rec["text"], _JAVA_EXPECTED[rec["provoker"].removeprefix("java-extra21_")]):
            out.append(rec)
    out += tool_records(SHELL, "shell-extra20", env.tmp, fill)
    repo = env.tmp / "blind23-repo"
    repo.mkdir()
    run(["bash", "-c", "git init -q -b main && echo a > a.txt && git add a.txt && git commit -q -m one && "
                       f"git init -q --bare {env.tmp}/blind23-origin.git && "
                       f"git remote add origin {env.tmp}/blind23-origin.git"], cwd=repo, env=_GIT_ENV)
    out += tool_records(GIT, "git-extra20", repo)
    return out


if __name__ == "__main__":
    write_batch(blind23_records)


__all__ = ["BLIND23_SOURCES", "blind23_records"]
