"""Helpers of batch 39: one Java program whose modes each provoke one failure through a library from Debian's
packages (PostgreSQL JDBC, MariaDB Connector/J, Apache HttpClient 4 and 5, Jackson, Gson, SnakeYAML, Commons CSV,
JSch), a private sshd for JSch to be refused by, and the shared-database fixtures the JDBC modes need."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from checked import has_token, problem
from common import Env, Record, free_port, record, run

JARS = ("postgresql", "mariadb-java-client", "httpclient5", "httpclient5-fluent", "httpcore5", "httpcore5-h2",
        "httpclient", "httpcore", "commons-logging", "commons-codec", "jackson-databind", "jackson-core",
        "jackson-annotations", "gson", "snakeyaml", "commons-csv", "jsch", "slf4j-api", "slf4j-nop")
CLASSPATH = ":".join(f"/usr/share/java/{jar}.jar" for jar in JARS)

#: name, category, source, expected output token (`A|B`), Java statements of the mode's method
JavaCase = tuple[str, str, str, str, str]

_PRELUDE = """\
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.gson.Gson;
import org.yaml.snakeyaml.Yaml;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.Session;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.BasicHttpClientResponseHandler;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.FileEntity;
import org.apache.hc.core5.util.Timeout;

public class Main {
    public static class Deploy { public String image; public int replicas; }
    public static class Endpoint {
        private final String url;
        public Endpoint(String url) { this.url = url; }
        public String getUrl() { return url; }
    }
    static class Opaque { private int secret = 1; }
    static class Base { String name = "base"; }
    static class Child extends Base { String name = "child"; }
    public static class NoCtor { public String image; public NoCtor(String image) { this.image = image; } }

    static Connection pg() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
    }
    static Connection my(String user) throws SQLException {
        return DriverManager.getConnection("jdbc:mariadb://127.0.0.1:3306/test?user=" + user);
    }
    static void sql(Connection c, String q) throws SQLException {
        try (Statement s = c.createStatement()) { s.execute(q); }
    }
    static String url(int status) { return "http://127.0.0.1:@HTTP@/status/" + status; }
    static void hc5(String u) throws Exception {
        try (CloseableHttpClient c = HttpClients.custom().disableAutomaticRetries().build()) {
            c.execute(new HttpGet(u), new BasicHttpClientResponseHandler());
        }
    }
    static void hc4(String u) throws Exception {
        try (org.apache.http.impl.client.CloseableHttpClient c =
                 org.apache.http.impl.client.HttpClientBuilder.create().disableAutomaticRetries().build()) {
            c.execute(new org.apache.http.client.methods.HttpGet(u),
                      new org.apache.http.impl.client.BasicResponseHandler());
        }
    }
    static void fluent(String u) throws Exception {
        org.apache.hc.client5.http.fluent.Request.get(u).execute().returnContent();
    }
    static Session ssh(int port) throws Exception {
        Session s = new JSch().getSession("deploy", "127.0.0.1", port);
        s.setConfig("StrictHostKeyChecking", "no");
        return s;
    }
"""


def java_source(cases: Iterable[JavaCase]) -> str:
    """The program: one static method per mode and a `main` that calls the one named by its argument."""
    methods = "".join(f"    static void m_{name}() throws Exception {{\n        {body}\n    }}\n"
                      for name, _, _, _, body in cases)
    dispatch = "".join(f'            case "{name}": m_{name}(); break;\n' for name, _, _, _, _ in cases)
    return (f"{_PRELUDE}{methods}    public static void main(String[] a) throws Exception {{\n"
            f"        switch (a[0]) {{\n{dispatch}        }}\n    }}\n}}\n")


def java_library_records(env: Env, cases: list[JavaCase], serial: list[JavaCase], values: Mapping[str, str]
                         ) -> list[Record]:
    """Compile every mode once, run the independent ones four at a time and the `serial` ones (they share one
    private server) one after another; each uncaught exception print carrying its token is a record."""
    every = [*cases, *serial]
    folder = env.tmp / "java39"
    folder.mkdir()
    source = java_source(every)
    for key, value in values.items():
        source = source.replace(f"@{key}@", value)
    (folder / "Main.java").write_text(source)
    proc = run(["javac", "-nowarn", "-cp", CLASSPATH, "Main.java"], cwd=folder, timeout=120)
    if proc.returncode:
        problem("javac", "compilation failed, java cases skipped")
        print(proc.stderr[-3000:], flush=True)
        return []
    classpath = f".:{CLASSPATH}"

    def one(case: JavaCase) -> Record | None:
        name, category, src, token, _ = case
        try:
            done = run(["java", "-Xss1m", "-cp", classpath, "Main", name], cwd=folder, timeout=40)
        except subprocess.TimeoutExpired:
            problem(name, "timeout")
            return None
        text = "\n".join(done.stderr.strip().splitlines()[:70]) if done.returncode else ""
        if not text:
            problem(name, "no failure")
            return None
        return record(text, category, src, "traceback", name) if has_token(name, text, token) else None

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, cases))
    results += [one(case) for case in serial]
    return [r for r in results if r is not None]


def private_sshd(env: Env) -> int:
    """An sshd on a free 127.0.0.1 port with an ECDSA host key that takes passwords (and knows none of ours)."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-sshd-"))
    port = free_port()
    subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-b", "256", "-N", "", "-f", str(root / "hostkey")], check=True,
                   capture_output=True)
    (root / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {root / 'hostkey'}\nPidFile {root / 'pid'}\nUsePAM no\n"
        "PasswordAuthentication yes\nKbdInteractiveAuthentication no\nStrictModes no\nPermitRootLogin no\n")
    # sshd's privilege-separation chroot; other sshd instances may use it at the same time, so it is created when
    # missing and left in place (an empty directory the openssh-server package itself normally creates at boot)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(root / "sshd_config")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop() -> None:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)

    env._closers.append(stop)
    for _ in range(100):  # until it listens
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            break
        time.sleep(0.05)
    return port


def _psql(sql: str) -> subprocess.CompletedProcess[str]:
    return run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-v", "ON_ERROR_STOP=1", "-c", sql])


def _mariadb(sql: str) -> subprocess.CompletedProcess[str]:
    return run(["mariadb", "-h", "127.0.0.1", "-u", "root", "test", "-e", sql])


def shared_db_fixtures(env: Env) -> bool:
    """Tables and roles (all named b39_*) on the shared PostgreSQL and MariaDB, dropped with the batch."""
    pg_down = ("DROP TABLE IF EXISTS b39_payroll, b39_jobs; "
               "DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'b39_reader') THEN "
               "DROP ROLE b39_reader; END IF; END $$")
    my_down = ("DROP USER IF EXISTS 'b39_app'@'%'; DROP USER IF EXISTS 'b39_app'@'localhost'; "
               "DROP TABLE IF EXISTS b39_public, b39_secret, b39_stock")

    def teardown() -> None:
        _psql(pg_down)
        _mariadb(my_down)

    env._closers.append(teardown)
    pg = _psql(f"{pg_down}; CREATE ROLE b39_reader LOGIN; CREATE TABLE b39_payroll (employee text, amount int); "
               "CREATE TABLE b39_jobs (id int PRIMARY KEY, state text); INSERT INTO b39_jobs VALUES (1, 'queued')")
    grants = "".join(f"CREATE USER 'b39_app'@'{host}' IDENTIFIED BY 'right-password'; "
                     f"GRANT SELECT ON test.b39_public TO 'b39_app'@'{host}'; " for host in ("%", "localhost"))
    my = _mariadb(f"{my_down}; CREATE TABLE b39_public (id int); CREATE TABLE b39_secret (id int, token text); "
                  "CREATE TABLE b39_stock (id int PRIMARY KEY, qty int) ENGINE=InnoDB; "
                  f"INSERT INTO b39_stock VALUES (1, 10); {grants}")
    for name, proc in (("postgres fixtures", pg), ("mariadb fixtures", my)):
        if proc.returncode:
            problem(name, proc.stderr.strip()[:200])
            return False
    return True


__all__ = ["CLASSPATH", "JavaCase", "java_library_records", "java_source", "private_sshd", "shared_db_fixtures"]
