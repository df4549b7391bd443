"""Twenty-sixth batch of blind provokers, written after batch 25 had been scored (no change since: rules as
generalised from batches 18-22, the shipped model trained on batches 1-24); generated and scored once, blind,
and NOT trained on, like batch 25, so that the two together measure the shipped classifier on texts it never
saw. A mix of every category from wordings not yet in the corpus: connect timeouts of psycopg and ftplib,
resets seen by pg8000 and websockets, urllib3 retries on 502, a git commit on a full disk, PostgreSQL slots
and database limits through psycopg and psql, joserfc JWE with the wrong key, SQLAlchemy over psycopg with a
wrong password, http.client on 403, stdlib, Node.js, Java and git errors. Only 127.0.0.1."""

from __future__ import annotations

import time

from checked import PyCase, ToolCase, has_token, python_records, tool_records
from common import Env, Record, git_env, run, write_batch
from runtime_provokers import java_records
from servers import mount_tmpfs, private_postgres

BLIND26_SOURCES = frozenset({"py-extra23", "pg-private5", "joserfc4", "node-extra24", "java-extra24",
                             "shell-extra23", "git-extra23"})
_PW = "right-password"
_GIT_ENV = git_env("blind26")


def _py_cases(env: Env, pg_port: int) -> list[PyCase]:
    import psycopg

    def hang_pg() -> None:
        psycopg.connect(host="127.0.0.1", port=env.hang_port, user="postgres", dbname="test", connect_timeout=1)

    def hang_ftp() -> None:
        import ftplib

        ftplib.FTP().connect("127.0.0.1", env.hang_port, timeout=0.5)

    def reset_pg8000() -> None:
        import pg8000.native

        pg8000.native.Connection("postgres", host="127.0.0.1", port=env.reset_port, timeout=3)

    def reset_ws() -> None:
        from websockets.sync.client import connect

        connect(f"ws://127.0.0.1:{env.reset_port}/events", open_timeout=3)

    def retry_502() -> None:
        import urllib3

        urllib3.PoolManager().request("GET", env.url(502),
                                      retries=urllib3.Retry(total=1, status_forcelist=[502], backoff_factor=0))

    def reserved_slots() -> None:
        held = [psycopg.connect(host="127.0.0.1", port=pg_port, user="app", password=_PW, dbname="postgres")
                for _ in range(3)]
        try:
            psycopg.connect(host="127.0.0.1", port=pg_port, user="app", password=_PW, dbname="postgres",
                            connect_timeout=3)
        finally:
            for conn in held:
                conn.close()

    def jwe_wrong_key() -> None:
        from joserfc import jwe
        from joserfc.jwk import OctKey

        right, wrong = OctKey.generate_key(128), OctKey.generate_key(128)
        token = jwe.encrypt_compact({"alg": "A128KW", "enc": "A128GCM"}, b"session", right)
        jwe.decrypt_compact(token, wrong)

    def sa_wrong_password() -> None:
        import sqlalchemy

        engine = sqlalchemy.create_engine(f"postgresql+psycopg://app:wrong-password@127.0.0.1:{pg_port}/postgres")
        try:
            with engine.connect():
                pass
        finally:
            engine.dispose()

    def http_client_403() -> None:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", env.http_port, timeout=3)
        conn.request("GET", "/status/403")
        resp = conn.getresponse()
        if resp.status != 200:
            raise PermissionError(f"GET /status/403 answered {resp.status} {resp.reason}")

    def sniff_empty() -> None:
        import csv

        csv.Sniffer().sniff("")

    def cookie_file() -> None:
        import http.cookiejar

        path = env.tmp / "cookies.txt"
        path.write_text("this is not a cookie file\n")
        http.cookiejar.MozillaCookieJar(str(path)).load()

    def signature_of_int() -> None:
        import inspect

        inspect.signature(1)  # type: ignore[arg-type]

    def missing_binary() -> None:
        import subprocess

        subprocess.run(["/opt/blind26/bin/migrate", "--up"], check=True)

    return [
        ("psycopg_connect_timeout", "network", "py-extra23", "OperationalError", hang_pg),
        ("ftplib_connect_timeout", "network", "py-extra23", "TimeoutError|OSError", hang_ftp),
        ("pg8000_reset", "network", "py-extra23", "InterfaceError", reset_pg8000),
        ("websockets_reset", "network", "py-extra23", "OSError|InvalidMessage|ConnectionClosed|InvalidHandshake",
         reset_ws),
        ("urllib3_retry_502", "service", "py-extra23", "MaxRetryError", retry_502),
        ("psycopg_reserved_slots", "resource", "pg-private5", "OperationalError", reserved_slots),
        ("jwe_wrong_key", "auth", "joserfc4", "JoseError", jwe_wrong_key),
        ("sqlalchemy_psycopg_wrong_password", "auth", "pg-private5", "OperationalError", sa_wrong_password),
        ("http_client_403", "auth", "py-extra23", "PermissionError", http_client_403),
        ("csv_sniff_empty", "validation", "py-extra23", "Error", sniff_empty),
        ("cookiejar_bad", "validation", "py-extra23", "LoadError", cookie_file),
        ("signature_of_int", "programming", "py-extra23", "TypeError", signature_of_int),
        ("missing_binary", "filesystem", "py-extra23", "FileNotFoundError", missing_binary),
    ]


NODE: list[ToolCase] = [
    ("node_json_single_quotes", "validation", "SyntaxError", "JSON.parse(\"{'retries': 3}\")"),
    ("node_const_assign", "programming", "TypeError", "const limit = 3; limit = 4;"),
    ("node_unlink_missing", "filesystem", "ENOENT", "require('fs').unlinkSync('/srv/blind26/pid')"),
    ("node_fetch_refused", "network", "ECONNREFUSED|fetch failed", "await fetch('http://127.0.0.1:CLOSED/health')"),
]

JAVA: dict[str, tuple[str, str]] = {
    "httpclient_500": ("service", 'var c = java.net.http.HttpClient.newHttpClient(); var r = c.send(java.net.http.'
                                  'HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:HTTP/status/500"))'
                                  '.build(), java.net.http.HttpResponse.BodyHandlers.ofString()); '
                                  'if (r.statusCode() >= 500) throw new IllegalStateException("backend error " '
                                  '+ r.statusCode());'),
    "parse_long": ("validation", 'Long.parseLong("9223372036854775808");'),
    "null_unbox": ("programming", 'Integer timeout = null; int t = timeout;'),
}
_JAVA_EXPECTED = {"httpclient_500": "500", "parse_long": "NumberFormatException", "null_unbox": "NullPointer"}

SHELL: list[ToolCase] = [
    ("shell_git_commit_disk_full", "resource", "No space left|unable to",
     "cd DISKDIR/repo && head -c 400000 /dev/urandom > blob.bin && git add blob.bin && "
     "git -c user.name=C -c user.email=c@example.org commit -q -m blob"),
    ("shell_psql_database_limit", "resource", "too many connections",
     "PGPASSWORD=right-password psql -h 127.0.0.1 -p PGPORT -U app -d capped -c 'select 1'"),
    ("shell_psql_wrong_database", "validation", "does not exist",
     "psql -h 127.0.0.1 -p PGPORT -U postgres -d nope_blind26 -c 'select 1'"),
    ("shell_curl_429_retry", "resource", "429", "curl -sS -f --retry 1 --retry-delay 0 HTTPURL/status/429"),
]

GIT: list[ToolCase] = [
    ("git_merge_abort_none", "git", "MERGE_HEAD|merge", ["git", "merge", "--abort"]),
    ("git_checkout_unknown_file", "git", "nope-blind26", ["git", "checkout", "--", "nope-blind26.txt"]),
]


def blind26_records(env: Env) -> list[Record]:
    pg = private_postgres(env, max_connections=4, reserved=1)
    for sql in ("CREATE DATABASE capped CONNECTION LIMIT 0", "GRANT ALL ON DATABASE capped TO app"):
        run(["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", "postgres", "-c", sql])
    disk = mount_tmpfs(env, "disk26", "size=512k")
    run(["bash", "-c", f"git init -q {disk}/repo && head -c 300000 /dev/zero > {disk}/filler"])

    def fill(text: str) -> str:
        return (text.replace("HTTPURL", env.http).replace("DISKDIR", str(disk)).replace("PGPORT", str(pg.port))
                .replace("CLOSED", str(env.closed_port)))

    out = python_records(_py_cases(env, pg.port))
    time.sleep(0.2)
    node: list[ToolCase] = [(n, c, t, ["node", *(["--input-type=module"] if "await" in s else []), "-e", fill(s)])
                            for n, c, t, s in NODE]
    out += tool_records(node, "node-extra24", env.tmp)
    for rec in java_records(env, JAVA, "java-extra24"):
        if has_token(rec["provoker"], rec["text"], _JAVA_EXPECTED[rec["provoker"].removeprefix("java-extra24_")]):
            out.append(rec)
    out += tool_records(SHELL, "shell-extra23", env.tmp, fill)
    repo = env.tmp / "blind26-repo"
    repo.mkdir()
    run(["bash", "-c", "git init -q -b main && echo a > a.txt && git add a.txt && git commit -q -m one"], cwd=repo,
        env=_GIT_ENV)
    out += tool_records(GIT, "git-extra23", repo)
    return out


if __name__ == "__main__":
    write_batch(blind26_records)


__all__ = ["BLIND26_SOURCES", "blind26_records"]
