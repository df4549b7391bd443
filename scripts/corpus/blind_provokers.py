"""A second batch of provokers: tools and stdlib modules the first rules were not written for.

They were added as held-out sources after the first rules were finished and evaluated once, blind
(66% on this batch: see the report); then they were moved to dev and the rules generalised from them:
wget, ssh, openssl, the sqlite3 CLI, perl, unzip, jq, npm, pip, make, rsync, gpg, stdlib modules not used
elsewhere (smtplib, ftplib, asyncio streams, zipfile, gzip, pickle, configparser, xml, plistlib, tarfile,
shlex, decimal), and a TLS server with a self-signed certificate.
"""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import decimal
import ftplib
import gzip
import http.server
import io
import json
import pickle
import plistlib
import shlex
import shutil
import smtplib
import socket
import sqlite3
import ssl
import subprocess
import sys
import tarfile
import threading
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from typing import Any

from common import Env, Record, exception_records, failure_text, record, run

BLIND_SOURCES = frozenset({"wget", "ssh", "openssl", "sqlite3-cli", "perl", "unzip", "jq", "npm", "pip", "make",
                           "rsync", "gpg", "stdlib-extra", "tls-selfsigned"})


PIP = [sys.executable, "-m", "pip", "--isolated"]


def _tls_server(env: Env) -> int:
    """An HTTPS server on 127.0.0.1 with a freshly generated self-signed certificate."""
    d = env.tmp / "tls"
    d.mkdir(exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "k.pem"),
                    "-out", str(d / "c.pem"), "-subj", "/CN=localhost", "-days", "1"],
                   check=True, capture_output=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(d / "c.pem", d / "k.pem")
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.handle_error = lambda *a: None  # type: ignore[method-assign]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.shutdown)
    port: int = server.server_address[1]
    return port


def _tool(argv: list[str], env: Env, **kw: Any) -> str:
    return failure_text(run(argv, cwd=env.tmp, timeout=60, **kw))


def tool_cases(env: Env) -> list[tuple[str, str, str, Callable[[], str]]]:
    """(name, source, category, fn) for each tool failure; fn returns the tool's failure text."""
    closed, hang, http_url = env.closed_port, env.hang_port, env.http
    tls = _tls_server(env)
    t = env.tmp
    (t / "garbage.bin").write_bytes(b"this is plain text, not an archive\n" * 20)
    (t / "bad.mk").write_text("all:\n    echo spaces-not-tab\n")
    (t / "fail.mk").write_text("all:\n\tfalse\n")
    (t / "pkg").mkdir(exist_ok=True)
    cases: list[tuple[str, str, str, Callable[[], str]]] = [
        ("wget_refused", "wget", "network", lambda: _tool(["wget", "-q", "-O-", "--tries=1",
                                                           f"http://127.0.0.1:{closed}/x"], env)),
        ("wget_dns", "wget", "network", lambda: _tool(["wget", "-O-", "--tries=1", "http://files.blind.invalid/"],
                                                      env)),
        ("wget_timeout", "wget", "network", lambda: _tool(["wget", "-O-", "--tries=1", "-T", "1",
                                                           f"http://127.0.0.1:{hang}/"], env)),
        ("wget_selfsigned", "tls-selfsigned", "network", lambda: _tool(["wget", "-O-", "--tries=1",
                                                                        f"https://127.0.0.1:{tls}/"], env)),
        ("curl_selfsigned", "tls-selfsigned", "network", lambda: _tool(["curl", "-sS", f"https://127.0.0.1:{tls}/"],
                                                                       env)),
        ("wget_write_missing_dir", "wget", "filesystem",
         lambda: _tool(["wget", "-q", "-O", str(t / "no" / "dir" / "f"), f"{http_url}/status/200"], env)),
        ("ssh_refused", "ssh", "network", lambda: _tool(["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3",
                                                         "-p", str(closed), "deploy@127.0.0.1", "true"], env)),
        ("ssh_dns", "ssh", "network", lambda: _tool(["ssh", "-o", "BatchMode=yes", "deploy@bastion.blind.invalid",
                                                     "true"], env)),
        ("ssh_not_ssh_server", "ssh", "network",
         lambda: _tool(["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3", "-p", str(env.empty_port),
                        "deploy@127.0.0.1", "true"], env)),
        ("openssl_plain_server", "openssl", "network",
         lambda: _tool(["openssl", "s_client", "-connect", f"127.0.0.1:{env.http_port}"], env, input="")),
        ("openssl_refused", "openssl", "network",
         lambda: _tool(["openssl", "s_client", "-connect", f"127.0.0.1:{closed}"], env, input="")),
        ("openssl_bad_cert_file", "openssl", "validation",
         lambda: _tool(["openssl", "x509", "-noout", "-in", str(t / "garbage.bin")], env)),
        ("openssl_missing_file", "openssl", "filesystem",
         lambda: _tool(["openssl", "x509", "-noout", "-in", str(t / "missing.pem")], env)),
        ("sqlite_cli_syntax", "sqlite3-cli", "programming", lambda: _tool(["sqlite3", ":memory:", "SELEC 1"], env)),
        ("sqlite_cli_no_table", "sqlite3-cli", "programming",
         lambda: _tool(["sqlite3", ":memory:", "SELECT * FROM orders"], env)),
        ("sqlite_cli_not_db", "sqlite3-cli", "filesystem",
         lambda: _tool(["sqlite3", str(t / "garbage.bin"), "SELECT 1"], env)),
        ("sqlite_cli_unique", "sqlite3-cli", "validation",
         lambda: _tool(["sqlite3", ":memory:", "CREATE TABLE u(e TEXT UNIQUE); INSERT INTO u VALUES('a'); "
                                               "INSERT INTO u VALUES('a');"], env)),
        ("sqlite_cli_locked", "sqlite3-cli", "resource", lambda: _sqlite_locked_cli(env)),
        ("perl_div_zero", "perl", "programming", lambda: _tool(["perl", "-e", "my $z = 0; print 1/$z"], env)),
        ("perl_missing_module", "perl", "programming", lambda: _tool(["perl", "-e", "use Blind::Missing::Mod;"],
                                                                     env)),
        ("perl_strict", "perl", "programming", lambda: _tool(["perl", "-e", "use strict; $total = 1;"], env)),
        ("perl_json", "perl", "validation", lambda: _tool(["perl", "-MJSON::PP", "-e", "decode_json('{bad')"], env)),
        ("perl_open_missing", "perl", "filesystem",
         lambda: _tool(["perl", "-e", "open(my $f, '<', '/etc/blind/missing.conf') or die \"open: $!\""], env)),
        ("perl_connect_refused", "perl", "network",
         lambda: _tool(["perl", "-MIO::Socket::INET", "-e",
                        f"IO::Socket::INET->new(PeerAddr => '127.0.0.1:{closed}') or die \"connect: $@\""], env)),
        ("unzip_not_zip", "unzip", "validation", lambda: _tool(["unzip", "-t", str(t / "garbage.bin")], env)),
        ("unzip_missing", "unzip", "filesystem", lambda: _tool(["unzip", str(t / "missing.zip")], env)),
        ("jq_bad_json", "jq", "validation", lambda: _tool(["jq", "."], env, input="{bad json")),
        ("jq_missing_file", "jq", "filesystem", lambda: _tool(["jq", ".", str(t / "missing.json")], env)),
        ("jq_bad_filter", "jq", "programming", lambda: _tool(["jq", ".a | (("], env, input="{}")),
        ("npm_refused", "npm", "network",
         lambda: _tool(["npm", "view", "left-pad", "--registry", f"http://127.0.0.1:{closed}/",
                        "--fetch-retries=0", "--fetch-timeout=3000"], env)),
        ("npm_503", "npm", "service",
         lambda: _tool(["npm", "view", "left-pad", "--registry", f"{http_url}/status/503/", "--fetch-retries=0"],
                       env)),
        ("npm_401", "npm", "auth",
         lambda: _tool(["npm", "view", "left-pad", "--registry", f"{http_url}/status/401/", "--fetch-retries=0"],
                       env)),
        ("npm_no_package_json", "npm", "filesystem", lambda: _tool(["npm", "run", "build"], env)),
        ("pip_refused", "pip", "network",
         lambda: _tool([*PIP, "download", "--no-deps", "-d", str(t / "dl"), "--retries", "1",
                        "--timeout", "2", "--index-url", f"http://127.0.0.1:{closed}/simple", "blindpkg"], env)),
        ("pip_503", "pip", "service",
         lambda: _tool([*PIP, "download", "--no-deps", "-d", str(t / "dl"), "--retries", "1",
                        "--index-url", f"{http_url}/status/503/simple", "blindpkg"], env)),
        ("pip_missing_requirements", "pip", "filesystem",
         lambda: _tool([sys.executable, "-m", "pip", "install", "-r", str(t / "missing-requirements.txt")], env)),
        ("pip_invalid_requirement", "pip", "validation",
         lambda: _tool([sys.executable, "-m", "pip", "install", "--dry-run", "blind pkg ==="], env)),
        ("make_missing_file", "make", "filesystem", lambda: _tool(["make", "-f", str(t / "missing.mk")], env)),
        ("make_missing_separator", "make", "programming", lambda: _tool(["make", "-f", str(t / "bad.mk")], env)),
        ("make_recipe_failed", "make", "unknown", lambda: _tool(["make", "-f", str(t / "fail.mk")], env)),
        ("rsync_missing_source", "rsync", "filesystem",
         lambda: _tool(["rsync", "-a", "/blind/missing/dir/", str(t / "rs")], env)),
        ("rsync_refused", "rsync", "network",
         lambda: _tool(["rsync", f"rsync://127.0.0.1:{closed}/module/", str(t / "rs2")], env)),
        ("gpg_not_openpgp", "gpg", "validation",
         lambda: _tool(["gpg", "--batch", "--homedir", str(t / "gnupg"), "--decrypt", str(t / "garbage.bin")],
                       env)),
    ]
    (t / "gnupg").mkdir(exist_ok=True, mode=0o700)
    return cases


def _sqlite_locked_cli(env: Env) -> str:
    path = env.tmp / "blind-locked.db"
    holder = sqlite3.connect(path)
    holder.execute("CREATE TABLE IF NOT EXISTS t (x)")
    holder.commit()
    holder.execute("BEGIN EXCLUSIVE")
    try:
        return _tool(["sqlite3", str(path), "INSERT INTO t VALUES (1);"], env)
    finally:
        holder.rollback()
        holder.close()


def _raise(fn: Callable[[], Any]) -> BaseException:
    try:
        fn()
    except BaseException as exc:  # the real exception, whatever it is
        return exc
    raise RuntimeError("no failure")


def stdlib_cases(env: Env) -> list[tuple[str, str, Callable[[], Any]]]:
    """(name, category, fn) for stdlib failures not used by the development corpus."""
    closed, hang, t = env.closed_port, env.hang_port, env.tmp

    async def open_refused() -> None:
        await asyncio.open_connection("127.0.0.1", closed)

    async def read_hang() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", hang)
        try:
            await asyncio.wait_for(reader.read(10), 0.2)
        finally:
            writer.close()

    def ftp_timeout() -> None:
        ftplib.FTP().connect("127.0.0.1", hang, timeout=0.3)

    def tls_verify() -> None:
        port = _tls_server(env)
        with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
            ssl.create_default_context().wrap_socket(raw, server_hostname="localhost")

    def bad_tar() -> None:
        with tarfile.open(fileobj=io.BytesIO(b"not a tar archive" * 50)):
            pass

    return [
        ("smtplib_refused", "network", lambda: smtplib.SMTP("127.0.0.1", closed, timeout=2)),
        ("asyncio_refused", "network", lambda: asyncio.run(open_refused())),
        ("asyncio_read_timeout", "network", lambda: asyncio.run(read_hang())),
        ("ftplib_timeout", "network", ftp_timeout),
        ("ssl_self_signed", "network", tls_verify),
        ("zipfile_bad", "validation", lambda: zipfile.ZipFile(io.BytesIO(b"not a zip" * 30))),
        ("gzip_bad", "validation", lambda: gzip.decompress(b"not gzip data at all")),
        ("pickle_bad", "validation", lambda: pickle.loads(b"this is not a pickle")),
        ("configparser_no_section", "validation",
         lambda: configparser.ConfigParser().read_string("key = value\n[ok]\n")),
        ("xml_mismatched", "validation", lambda: ET.fromstring("<order><id>1</order>")),
        ("plist_bad", "validation", lambda: plistlib.loads(b"not a plist")),
        ("tarfile_bad", "validation", bad_tar),
        ("shlex_unterminated", "validation", lambda: shlex.split('deploy --name "unterminated')),
        ("decimal_bad", "validation", lambda: decimal.Decimal("12,5.0x")),
        ("json_dumps_object", "programming", lambda: json.dumps({"when": object()})),
        ("list_pop_empty", "programming", lambda: [].pop()),
        ("shutil_rmtree_missing", "filesystem", lambda: shutil.rmtree(t / "blind-missing-dir")),
        ("chdir_not_dir", "filesystem", lambda: contextlib.chdir("/etc/hostname").__enter__()),
    ]


def blind_records(env: Env) -> list[Record]:
    out: list[Record] = []
    for name, source, category, fn in tool_cases(env):
        if not shutil.which({"sqlite3-cli": "sqlite3", "tls-selfsigned": "curl"}.get(source, source)) \
                and source not in ("pip",):
            continue
        try:
            text = fn()
        except Exception as harness:
            print(f"problem: {name}: {type(harness).__name__}", file=sys.stderr)
            continue
        if text:
            out.append(record(text, category, source, "stderr", name))
    for name, category, fn in stdlib_cases(env):
        try:
            exc = _raise(fn)
        except RuntimeError:
            print(f"problem: {name}: no failure", file=sys.stderr)
            continue
        out.extend(exception_records(exc, category, "stdlib-extra", name))
    return out


__all__ = ["BLIND_SOURCES", "blind_records"]
