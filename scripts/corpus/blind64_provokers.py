"""Sixty-fourth batch of blind provokers: Groovy (the language of Jenkins pipelines and Gradle scripts; Debian's
Groovy 2.4 on the JDK) and Clojure on the JVM, each script run from its own file as a CI step runs it. Groovy: a
missing property or method, a script that does not compile or imports a class that is not there, a failed power
assert, a null receiver, a bad cast, an index out of range, JsonSlurper / XmlSlurper / toInteger / a date format on
bad input, `new URL(...).text` against local servers answering 401/403/429/500/502/503, a closed port, a reset, an
empty reply and a server that never answers, File.text of a missing file or a directory, a missing executable, a
script file that does not exist, writes into a full and a read-only tmpfs, a heap too small for the job, and
groovy.sql.Sql with Debian's PostgreSQL JDBC driver: a wrong password and too many clients on a private cluster, a
closed port, and a unique violation, a not-null violation and a division by zero on the shared server. Clojure:
reader and compiler syntax errors, an unresolved symbol, a namespace not on the classpath, NullPointerException,
ClassCastException, ArityException, slurp of a missing file and of local URLs answering 401/403/429/500/503 or a
closed port, spit into a full and a read-only tmpfs, Integer/parseInt, EDN and a date on bad input, and JDBC to
PostgreSQL (a wrong password on a private cluster, a unique violation on the shared one). The label is the cause
we provoked. Only 127.0.0.1."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

from blind64_support import PG_JAR, JvmCase, clojure_command, cpu_count, filler, jvm_script_records
from checked import problem
from common import Env, Record, write_batch
from servers import mount_tmpfs, private_postgres

BLIND64_SOURCES = frozenset({"groovy64", "clojure64"})

#: where clojure.main (1.10+) writes the full report of an uncaught error
_REPORTS = Path("/tmp/clojure-*.edn")
_PG = "jdbc:postgresql://127.0.0.1:5432/test"
_SQL = "import groovy.sql.Sql\n"

GROOVY: list[JvmCase] = [
    ("missing_property", "programming", "MissingPropertyException",
     "def stages = ['build', 'test']\nstages.each { println \"stage ${it} of build ${buildNumber}\" }\n", ""),
    ("missing_method", "programming", "MissingMethodException",
     "def artifacts = ['app.jar', 'app.war']\nartifacts.pushAll('app.zip')\n", ""),
    ("compile_error", "programming", "MultipleCompilationErrorsException|unexpected",
     "def deploy(String env {\n  println \"deploying to ${env}\"\n}\ndeploy('prod')\n", ""),
    ("unresolved_import", "programming", "unable to resolve class",
     "import org.example.ci.PipelineHelper\n\nnew PipelineHelper().notify('done')\n", ""),
    ("power_assert", "programming", "Assertion failed|PowerAssertionError",
     "def replicas = [web: 2, worker: 1]\nassert replicas.values().sum() == 4\n", ""),
    ("null_receiver", "programming", "NullPointerException|null object",
     "def params = [branch: null]\nprintln params.branch.replaceAll('/', '-')\n", ""),
    ("bad_cast", "programming", "GroovyCastException|Cannot cast",
     "def config = [retries: [count: 3]]\nInteger retries = config.retries\nprintln retries\n", ""),
    ("index_out_of_range", "programming", "IndexOutOfBounds",
     "def nodes = ['agent-1', 'agent-2']\nprintln nodes.get(2)\n", ""),
    ("json_slurper_bad", "validation", "JsonException|expecting",
     "import groovy.json.JsonSlurper\n\ndef cfg = new JsonSlurper().parseText('{\"image\": \"app:1.2\", "
     "\"replicas\": [3, 4')\nprintln cfg.image\n", ""),
    ("xml_slurper_bad", "validation", "SAXParseException|must be terminated",
     "def pom = new XmlSlurper().parseText('<project><version>1.0</project>')\nprintln pom.version\n", ""),
    ("to_integer_bad", "validation", "NumberFormatException",
     "def timeout = '30s'\nprintln timeout.toInteger() * 1000\n", ""),
    ("date_parse_bad", "validation", "ParseException|Unparseable",
     "def d = new java.text.SimpleDateFormat('yyyy-MM-dd').parse('next tuesday')\nprintln d\n", ""),
    ("url_401", "auth", "401", "println new URL('@HTTP@/status/401').text\n", ""),
    ("url_403", "auth", "403", "println new URL('@HTTP@/status/403').text\n", ""),
    ("url_429", "resource", "429", "println new URL('@HTTP@/status/429').text\n", ""),
    ("url_500", "service", "500", "println new URL('@HTTP@/status/500').text\n", ""),
    ("url_502", "service", "502", "println new URL('@HTTP@/status/502').text\n", ""),
    ("url_503", "service", "503", "println new URL('@HTTP@/status/503').text\n", ""),
    ("url_refused", "network", "ConnectException|refused",
     "println new URL('http://127.0.0.1:@CLOSED@/api/json').text\n", ""),
    ("url_reset", "network", "reset|SocketException", "println new URL('http://127.0.0.1:@RESET@/health').text\n",
     ""),
    ("url_empty_reply", "network", "Unexpected end|SocketException",
     "println new URL('http://127.0.0.1:@EMPTY@/health').text\n", ""),
    ("url_read_timeout", "network", "timed out|SocketTimeoutException",
     "def conn = new URL('http://127.0.0.1:@HANG@/job/build/api/json').openConnection()\n"
     "conn.connectTimeout = 2000\nconn.readTimeout = 1500\nprintln conn.inputStream.text\n", ""),
    ("file_missing", "filesystem", "FileNotFoundException|No such file",
     "def version = new File('@TMP@/release/VERSION').text.trim()\nprintln version\n", ""),
    ("file_is_directory", "filesystem", "Is a directory|FileNotFoundException",
     "println new File('@TMP@').text\n", ""),
    ("exec_missing", "filesystem", "Cannot run program|No such file",
     "def p = 'deployctl-b64 --env prod'.execute()\np.waitFor()\n", ""),
    ("write_full_disk", "resource", "No space left",
     "new File('@DISK@/artifact.bin').bytes = new byte[1 << 20]\n", ""),
    ("write_read_only", "filesystem", "Read-only",
     "new File('@RO@/build-info.json').text = '{\"build\": 64}'\n", ""),
    ("heap_exhausted", "resource", "OutOfMemoryError",
     "def chunks = []\nwhile (true) { chunks << new byte[4 << 20] }\n", "-Xmx48m"),
    ("sql_wrong_password", "auth", "password authentication failed",
     _SQL + "def sql = Sql.newInstance('jdbc:postgresql://127.0.0.1:@PRIVPG@/postgres', 'app', 'wrong-password',"
     " 'org.postgresql.Driver')\nsql.eachRow('SELECT 1') { println it }\n", ""),
    ("sql_too_many_clients", "resource", "remaining connection slots|too many clients",
     _SQL + "def conns = []\n4.times { conns << Sql.newInstance('jdbc:postgresql://127.0.0.1:@PRIVPG@/postgres', "
     "'app', 'right-password', 'org.postgresql.Driver') }\n", ""),
    ("sql_refused", "network", "Connection refused|ConnectException",
     _SQL + "def sql = Sql.newInstance('jdbc:postgresql://127.0.0.1:@CLOSED@/test', 'postgres', '', "
     "'org.postgresql.Driver')\n", ""),
    ("sql_unique_violation", "validation", "duplicate key|23505",
     _SQL + f"def sql = Sql.newInstance('{_PG}', 'postgres', '', 'org.postgresql.Driver')\n"
     "sql.execute('CREATE TEMP TABLE b64_release (tag text PRIMARY KEY)')\n"
     "['v1.4.0', 'v1.4.0'].each { sql.executeInsert('INSERT INTO b64_release VALUES (?)', [it]) }\n", ""),
    ("sql_not_null", "validation", "not-null|null value",
     _SQL + f"def sql = Sql.newInstance('{_PG}', 'postgres', '', 'org.postgresql.Driver')\n"
     "sql.execute('CREATE TEMP TABLE b64_build (id int, commit_sha text NOT NULL)')\n"
     "sql.executeInsert('INSERT INTO b64_build VALUES (?, ?)', [64, null])\n", ""),
    ("sql_division", "programming", "division by zero",
     _SQL + f"def sql = Sql.newInstance('{_PG}', 'postgres', '', 'org.postgresql.Driver')\n"
     "println sql.firstRow('SELECT count(*) FILTER (WHERE ok) * 100 / count(*) AS pct FROM "
     "(SELECT true AS ok WHERE false) t')\n", ""),
]

CLOJURE: list[JvmCase] = [
    ("reader_eof", "programming", "EOF|Syntax error",
     "(ns deploy)\n(defn tag [version]\n  (str \"v\" version)\n\n(println (tag \"1.2\"))\n", ""),
    ("unresolved_symbol", "programming", "Unable to resolve symbol|Syntax error",
     "(ns deploy)\n(println (release-tag \"1.2\"))\n", ""),
    ("missing_namespace", "programming", "Could not locate|FileNotFoundException",
     "(ns deploy (:require [clj-http.client :as http]))\n(println (http/get \"http://127.0.0.1/\"))\n", ""),
    ("null_pointer", "programming", "NullPointerException",
     "(def config {:branch nil})\n(println (.toUpperCase (:branch config)))\n", ""),
    ("class_cast", "programming", "ClassCastException",
     "(def replicas {:web \"2\" :worker 1})\n(println (reduce + (vals replicas)))\n", ""),
    ("arity", "programming", "ArityException|Wrong number of args",
     "(defn notify [channel message] (println channel message))\n(notify \"#deploys\")\n", ""),
    ("slurp_missing", "filesystem", "FileNotFoundException|No such file",
     "(println (slurp \"@TMP@/config/app.edn\"))\n", ""),
    ("parse_int_bad", "validation", "NumberFormatException",
     "(println (* 1000 (Integer/parseInt \"30s\")))\n", ""),
    ("edn_bad", "validation", "even number of forms|RuntimeException|EOF",
     "(require '[clojure.edn :as edn])\n(println (edn/read-string \"{:image \\\"app:1.2\\\" :replicas}\"))\n", ""),
    ("date_bad", "validation", "DateTime",
     "(println (java.time.LocalDate/parse \"2026-13-45\"))\n", ""),
    ("slurp_401", "auth", "401", "(println (slurp \"@HTTP@/status/401\"))\n", ""),
    ("slurp_403", "auth", "403", "(println (slurp \"@HTTP@/status/403\"))\n", ""),
    ("slurp_429", "resource", "429", "(println (slurp \"@HTTP@/status/429\"))\n", ""),
    ("slurp_500", "service", "500", "(println (slurp \"@HTTP@/status/500\"))\n", ""),
    ("slurp_503", "service", "503", "(println (slurp \"@HTTP@/status/503\"))\n", ""),
    ("slurp_refused", "network", "ConnectException|refused",
     "(println (slurp \"http://127.0.0.1:@CLOSED@/api/health\"))\n", ""),
    ("slurp_reset", "network", "reset|SocketException",
     "(println (slurp \"http://127.0.0.1:@RESET@/api/health\"))\n", ""),
    ("spit_full_disk", "resource", "No space left",
     "(spit \"@DISK@/report.txt\" (apply str (repeat 1048576 \\x)))\n", ""),
    ("spit_read_only", "filesystem", "Read-only",
     "(spit \"@RO@/report.txt\" \"done\")\n", ""),
    ("jdbc_wrong_password", "auth", "password authentication failed",
     "(import '[java.sql DriverManager])\n(with-open [c (DriverManager/getConnection "
     "\"jdbc:postgresql://127.0.0.1:@PRIVPG@/postgres\" \"app\" \"wrong-password\")]\n  (println c))\n", ""),
    ("jdbc_unique_violation", "validation", "duplicate key|23505",
     "(import '[java.sql DriverManager])\n"
     f"(with-open [c (DriverManager/getConnection \"{_PG}\" \"postgres\" \"\")]\n"
     "  (with-open [s (.createStatement c)]\n"
     "    (.execute s \"CREATE TEMP TABLE b64_job (name text PRIMARY KEY)\")\n"
     "    (.executeUpdate s \"INSERT INTO b64_job VALUES ('nightly')\")\n"
     "    (.executeUpdate s \"INSERT INTO b64_job VALUES ('nightly')\")))\n", ""),
]


def blind64_records(env: Env) -> list[Record]:
    disk = mount_tmpfs(env, "disk64", "size=128k")
    subprocess.run(["bash", "-c", f"head -c 200000 /dev/zero > {disk}/filler"], check=False, capture_output=True)
    ro = mount_tmpfs(env, "ro64", "size=64k,ro")
    pg = private_postgres(env, max_connections=4, reserved=1)
    fill = filler({"HTTP": env.http, "CLOSED": env.closed_port, "RESET": env.reset_port, "EMPTY": env.empty_port,
                   "HANG": env.hang_port, "TMP": env.tmp, "DISK": disk, "RO": ro, "PRIVPG": pg.port})
    workers = cpu_count()
    out = jvm_script_records(GROOVY, "groovy64", env.tmp / "groovy", ["groovy", "-cp", str(PG_JAR)], ".groovy",
                             fill, workers)
    missing = env.tmp / "groovy" / "Jenkinsfile_b64.groovy"
    out += jvm_script_records([("script_file_missing", "filesystem", "FileNotFoundException|No such file|not found",
                                "", "")], "groovy64", env.tmp / "groovy-missing", ["groovy", str(missing)],
                              "", fill, 1)
    launcher = clojure_command()
    if launcher is None:
        problem("clojure", "not installed, clojure cases skipped")
        return out
    before = set(_REPORTS.parent.glob(_REPORTS.name))
    try:
        out += jvm_script_records(CLOJURE, "clojure64", env.tmp / "clojure", launcher, ".clj", fill, workers)
    finally:  # clojure.main writes each error's full report to /tmp/clojure-N.edn: remove the ones of our scripts
        for report in set(_REPORTS.parent.glob(_REPORTS.name)) - before:
            with contextlib.suppress(OSError):
                if str(env.tmp) in report.read_text(errors="replace"):
                    report.unlink()
    return out


if __name__ == "__main__":
    write_batch(blind64_records)


__all__ = ["BLIND64_SOURCES", "blind64_records"]
