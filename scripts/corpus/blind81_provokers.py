"""Eighty-first batch of blind provokers: JVM languages other than Java, Groovy and Clojure, and JDK tools not seen
before, each run from its own file as a CI job runs it (Debian's packages on the JDK 17). Kotlin (kotlinc 1.3): `!!`
on a null, an uninitialised lateinit property, TODO(), a bad `as` cast, unbounded recursion, toInt() / UUID / a date
/ XML on bad input, readText() of a missing file and of a directory, writes into a full and a read-only tmpfs,
URL.readText() against local servers answering 401/429/500, a closed port, a reset and a server that never answers,
JDBC to PostgreSQL (a wrong password on a private cluster, a missing table and a closed port), a heap too small for
the job and too many open files under `ulimit -n`; kotlinc's own errors (an unresolved reference, a type mismatch,
an unsafe call on a nullable, a source that is not there). Scala (scalac 2.11): MatchError, None.get, head of an
empty list, a missing map key, a failed assert, XML on bad input, Source.fromFile of a missing file,
Files.createDirectory over an existing one, Source.fromURL against 403/502/503, a closed port and an empty reply,
JDBC (too many clients on a private cluster, a unique violation), a small heap; scalac's errors. Jython 2.7: Java
and Python exceptions of the script (a NameError, a missing Java package), json and Integer.parseInt on bad input,
FileReader of a missing file, urllib2 against 401/500/a closed port, zxJDBC (a wrong password, a missing table).
jshell scripts (a null, a missing file, a refused connection, a snippet that does not compile); jarsigner (a wrong
store password, a missing or corrupt keystore, a timestamp authority that refuses the connection or answers
500/401); jdeps on a corrupt jar; jcmd heap dumps into a read-only mount and over an existing file. The label is the
cause we provoked. Only 127.0.0.1."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from blind64_support import FAST_JVM, PG_JAR, JvmCase, filler, jvm_script_records
from blind81_support import (
    CompileCase,
    ProgCase,
    compile_error_records,
    kotlin_program_records,
    scala_program_records,
)
from checked import ToolCase, problem, tool_records
from common import Env, Record, write_batch
from servers import mount_tmpfs, private_postgres

BLIND81_SOURCES = frozenset({"kotlin81", "kotlinc81", "scala81", "scalac81", "jython81", "jshell81", "jarsigner81",
                             "jdeps81", "jcmd81"})

_PG = "jdbc:postgresql://127.0.0.1:5432/test"
_PRIV = "jdbc:postgresql://127.0.0.1:@PRIVPG@/postgres"
_KURL = "import java.net.URL\n\nfun main() {\n    val body = URL(\"@HTTP@/status/@STATUS@\").readText()\n" \
        "    println(body)\n}\n"

# --------------------------------------------------------------------------- Kotlin

KOTLIN: list[ProgCase] = [
    ("null_bang", "programming", "NullPointerException",
     "fun main() {\n    val params: Map<String, String?> = mapOf(\"branch\" to null)\n"
     "    val slug = params[\"branch\"]!!.replace('/', '-')\n    println(slug)\n}\n", "", ""),
    ("lateinit_unset", "programming", "UninitializedPropertyAccessException|has not been initialized",
     "class Deployer {\n    lateinit var registry: String\n    fun imageFor(app: String) = \"$registry/$app:latest\"\n"
     "}\n\nfun main() {\n    println(Deployer().imageFor(\"web\"))\n}\n", "", ""),
    ("todo_stub", "programming", "NotImplementedError",
     "fun rollback(release: String): Boolean = TODO(\"rollback of $release\")\n\n"
     "fun main() {\n    println(rollback(\"v2.3.1\"))\n}\n", "", ""),
    ("bad_cast", "programming", "ClassCastException",
     "fun main() {\n    val settings: Map<String, Any> = mapOf(\"retries\" to \"3\")\n"
     "    val retries = settings[\"retries\"] as Int\n    println(retries + 1)\n}\n", "", ""),
    ("deep_recursion", "programming", "StackOverflowError",
     "fun depth(node: Int): Int = 1 + depth(node + 1)\n\nfun main() {\n    println(depth(0))\n}\n", "", ""),
    ("to_int_bad", "validation", "NumberFormatException",
     "fun main() {\n    val timeout = \"30s\"\n    println(timeout.toInt() * 1000)\n}\n", "", ""),
    ("uuid_bad", "validation", "NumberFormatException|IllegalArgumentException|UUID",
     "import java.util.UUID\n\nfun main() {\n    println(UUID.fromString(\"build-81-not-a-uuid\"))\n}\n", "", ""),
    ("date_bad", "validation", "DateTimeParseException",
     "import java.time.LocalDate\n\nfun main() {\n    println(LocalDate.parse(\"2026-02-30T\"))\n}\n", "", ""),
    ("xml_bad", "validation", "SAXParseException",
     "import javax.xml.parsers.DocumentBuilderFactory\n\nfun main() {\n"
     "    val pom = \"<project><version>1.0</project>\".byteInputStream()\n"
     "    val doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom)\n"
     "    println(doc.documentElement.tagName)\n}\n", "", ""),
    ("read_missing", "filesystem", "FileNotFoundException|No such file",
     "import java.io.File\n\nfun main() {\n    println(File(\"@TMP@/release/VERSION\").readText().trim())\n}\n",
     "", ""),
    ("read_directory", "filesystem", "Is a directory",
     "import java.io.File\n\nfun main() {\n    println(File(\"@TMP@\").readText())\n}\n", "", ""),
    ("write_full_disk", "resource", "No space left",
     "import java.io.File\n\nfun main() {\n    File(\"@DISK@/artifact.bin\").writeBytes(ByteArray(1 shl 20))\n}\n", "",
     ""),
    ("write_read_only", "filesystem", "Read-only",
     "import java.io.File\n\nfun main() {\n    File(\"@RO@/build-info.json\").writeText(\"{\\\"build\\\": 81}\")\n}\n",
     "", ""),
    ("http_401", "auth", "401", _KURL.replace("@STATUS@", "401"), "", ""),
    ("http_429", "resource", "429", _KURL.replace("@STATUS@", "429"), "", ""),
    ("http_500", "service", "500", _KURL.replace("@STATUS@", "500"), "", ""),
    ("socket_refused", "network", "ConnectException|refused",
     "import java.net.Socket\n\nfun main() {\n    Socket(\"127.0.0.1\", @CLOSED@).use { println(it.isConnected) }\n}\n",
     "", ""),
    ("socket_reset", "network", "reset|SocketException",
     "import java.net.Socket\n\nfun main() {\n    Socket(\"127.0.0.1\", @RESET@).use { s ->\n"
     "        s.getOutputStream().write(\"PING\\r\\n\".toByteArray())\n"
     "        println(s.getInputStream().bufferedReader().readLine())\n    }\n}\n", "", ""),
    ("read_timeout", "network", "SocketTimeoutException|timed out",
     "import java.net.URL\n\nfun main() {\n    val conn = URL(\"http://127.0.0.1:@HANG@/api/status\").openConnection()\n"
     "    conn.connectTimeout = 2000\n    conn.readTimeout = 1500\n"
     "    println(conn.getInputStream().bufferedReader().readText())\n}\n", "", ""),
    ("jdbc_wrong_password", "auth", "password authentication failed",
     f"import java.sql.DriverManager\n\nfun main() {{\n    val conn = DriverManager.getConnection(\"{_PRIV}\", "
     "\"app\", \"wrong-password\")\n    println(conn.isValid(1))\n    conn.close()\n}\n", "", ""),
    ("jdbc_missing_table", "programming", "does not exist",
     f"import java.sql.DriverManager\n\nfun main() {{\n    val conn = DriverManager.getConnection(\"{_PG}\", "
     "\"postgres\", \"\")\n    val rs = conn.createStatement().executeQuery(\"SELECT count(*) FROM b81_deployments\")\n"
     "    rs.next()\n    println(rs.getLong(1))\n    conn.close()\n}\n", "", ""),
    ("jdbc_refused", "network", "Connection refused|ConnectException",
     "import java.sql.DriverManager\n\nfun main() {\n    val conn = DriverManager.getConnection("
     "\"jdbc:postgresql://127.0.0.1:@CLOSED@/test\", \"postgres\", \"\")\n    println(conn.isValid(1))\n}\n",
     "", ""),
    ("heap_exhausted", "resource", "OutOfMemoryError",
     "fun main() {\n    val chunks = ArrayList<ByteArray>()\n    while (true) chunks.add(ByteArray(4 shl 20))\n}\n",
     "-Xmx48m", ""),
    ("too_many_open_files", "resource", "Too many open files",
     "import java.io.File\nimport java.io.FileInputStream\n\nfun main() {\n    val log = File(\"@TMP@/app81.log\")\n"
     "    log.writeText(\"started\\n\")\n    val open = ArrayList<FileInputStream>()\n"
     "    repeat(4096) { open.add(FileInputStream(log)) }\n    println(open.size)\n}\n", "", "ulimit -n 128;"),
]

KOTLINC: list[CompileCase] = [
    ("unresolved_reference", "programming", "unresolved reference",
     "fun main() {\n    val tag = releaseTag(\"1.4.2\")\n    println(tag)\n}\n"),
    ("type_mismatch", "programming", "type mismatch",
     "fun retries(config: Map<String, String>): Int = config[\"retries\"] ?: \"3\"\n\n"
     "fun main() {\n    println(retries(emptyMap()))\n}\n"),
    ("unsafe_nullable_call", "programming", "only safe|non-null asserted",
     "fun main() {\n    val branch: String? = System.getenv(\"CI_BRANCH\")\n    println(branch.length)\n}\n"),
]

# --------------------------------------------------------------------------- Scala

_SURL = "import scala.io.Source\nprintln(Source.fromURL(\"@HTTP@/status/@STATUS@\").mkString)"

SCALA: list[ProgCase] = [
    ("match_error", "programming", "MatchError",
     "val tier: Any = 42L\nval replicas = tier match {\n  case \"small\" => 1\n  case \"large\" => 4\n"
     "  case n: Int => n\n}"
     "\nprintln(replicas)", "", ""),
    ("none_get", "programming", "NoSuchElementException|None.get",
     "val env = Map(\"region\" -> \"eu-west-1\")\nval bucket: Option[String] = env.get(\"bucket\")\n"
     "println(\"s3://\" + bucket.get)", "", ""),
    ("head_of_empty", "programming", "NoSuchElementException|head of empty",
     "val ready = List(\"db\" -> false, \"cache\" -> false).filter(_._2)\nprintln(ready.head._1)", "", ""),
    ("map_key_missing", "programming", "NoSuchElementException|key not found",
     "val owners = Map(\"web\" -> \"team-a\", \"api\" -> \"team-b\")\nprintln(owners(\"billing\"))", "", ""),
    ("assert_failed", "programming", "AssertionError|assertion failed",
     "val shards = Seq(3, 3, 2)\nassert(shards.distinct.size == 1, s\"uneven shards: $shards\")", "", ""),
    ("xml_bad", "validation", "SAXParseException",
     "val pom = scala.xml.XML.loadString(\"<project><version>2.11</project>\")\nprintln(pom \\\\ \"version\")", "",
     ""),
    ("source_missing", "filesystem", "FileNotFoundException|No such file",
     "import scala.io.Source\nprintln(Source.fromFile(\"@TMP@/conf/application.conf\").mkString)", "", ""),
    ("create_dir_exists", "filesystem", "FileAlreadyExistsException",
     "import java.nio.file.{Files, Paths}\nFiles.createDirectory(Paths.get(\"@TMP@\"))", "", ""),
    ("url_403", "auth", "403", _SURL.replace("@STATUS@", "403"), "", ""),
    ("url_502", "service", "502", _SURL.replace("@STATUS@", "502"), "", ""),
    ("url_503", "service", "503", _SURL.replace("@STATUS@", "503"), "", ""),
    ("url_refused", "network", "ConnectException|refused",
     "import scala.io.Source\nprintln(Source.fromURL(\"http://127.0.0.1:@CLOSED@/health\").mkString)", "", ""),
    ("url_empty_reply", "network", "Unexpected end|SocketException",
     "import scala.io.Source\nprintln(Source.fromURL(\"http://127.0.0.1:@EMPTY@/health\").mkString)", "", ""),
    ("jdbc_too_many_clients", "resource", "remaining connection slots|too many clients",
     f"import java.sql.DriverManager\nval conns = (1 to 5).map(_ => DriverManager.getConnection(\"{_PRIV}\", \"app\", "
     "\"right-password\"))\nprintln(conns.size)", "", ""),
    ("jdbc_unique_violation", "validation", "duplicate key|23505",
     f"import java.sql.DriverManager\nval c = DriverManager.getConnection(\"{_PG}\", \"postgres\", \"\")\n"
     "val st = c.createStatement()\nst.execute(\"CREATE TEMP TABLE b81_release (tag text PRIMARY KEY)\")\n"
     "Seq(\"v2.11.0\", \"v2.11.0\").foreach(t => st.executeUpdate(s\"INSERT INTO b81_release VALUES ('$t')\"))",
     "", ""),
    ("heap_exhausted", "resource", "OutOfMemoryError",
     "val buf = scala.collection.mutable.ArrayBuffer.empty[Array[Byte]]\nwhile (true) buf += new Array[Byte](4 << 20)",
     "-Xmx48m", ""),
]

SCALAC: list[CompileCase] = [
    ("type_mismatch", "programming", "type mismatch",
     "object Retries {\n  def main(args: Array[String]): Unit = {\n"
     "    val retries: Int = sys.env.getOrElse(\"RETRIES\", \"3\")\n    println(retries)\n  }\n}\n"),
    ("not_found_value", "programming", "not found",
     "object Release {\n  def main(args: Array[String]): Unit = {\n    println(releaseTag(\"2.11\"))\n  }\n}\n"),
]

# --------------------------------------------------------------------------- Jython, jshell

JYTHON: list[JvmCase] = [
    ("name_error", "programming", "NameError",
     "def deploy(env):\n    print 'deploying %s to %s' % (artifact, env)\n\ndeploy('prod')\n", ""),
    ("java_import_missing", "programming", "ImportError",
     "from org.example.ci import Notifier\n\nNotifier().send('build 81 done')\n", ""),
    ("json_bad", "validation", "ValueError",
     "import json\n\ncfg = json.loads('{\"image\": \"app:1.2\", \"replicas\": ')\nprint cfg['image']\n", ""),
    ("parse_int_bad", "validation", "NumberFormatException",
     "from java.lang import Integer\n\nprint Integer.parseInt('30s') * 1000\n", ""),
    ("file_reader_missing", "filesystem", "FileNotFoundException|No such file",
     "from java.io import FileReader, BufferedReader\n\n"
     "print BufferedReader(FileReader('@TMP@/deploy/targets.txt')).readLine()\n", ""),
    ("urllib2_401", "auth", "401", "import urllib2\n\nprint urllib2.urlopen('@HTTP@/status/401').read()\n", ""),
    ("urllib2_500", "service", "500", "import urllib2\n\nprint urllib2.urlopen('@HTTP@/status/500').read()\n", ""),
    ("urllib2_refused", "network", "refused",
     "import urllib2\n\nprint urllib2.urlopen('http://127.0.0.1:@CLOSED@/api/health', timeout=5).read()\n", ""),
    ("zxjdbc_wrong_password", "auth", "password authentication failed",
     "from com.ziclix.python.sql import zxJDBC\n\n"
     f"db = zxJDBC.connect('{_PRIV}', 'app', 'wrong-password', 'org.postgresql.Driver')\nprint db\n", ""),
    ("zxjdbc_missing_table", "programming", "does not exist",
     "from com.ziclix.python.sql import zxJDBC\n\n"
     f"db = zxJDBC.connect('{_PG}', 'postgres', '', 'org.postgresql.Driver')\ncur = db.cursor()\n"
     "cur.execute('SELECT name FROM b81_pipelines')\nprint cur.fetchall()\n", ""),
]

JSHELL: list[JvmCase] = [
    ("null_pointer", "programming", "NullPointerException",
     "String branch = System.getenv(\"B81_UNSET_BRANCH\");\nSystem.out.println(branch.replace('/', '-'));\n/exit 1\n",
     ""),
    ("read_missing", "filesystem", "NoSuchFileException",
     "import java.nio.file.*;\nSystem.out.println(Files.readString(Path.of(\"@TMP@/release/CHANGELOG.md\")));\n"
     "/exit 1\n", ""),
    ("http_refused", "network", "ConnectException",
     "import java.net.http.*;\nimport java.net.URI;\nvar client = HttpClient.newHttpClient();\n"
     "var resp = client.send(HttpRequest.newBuilder(URI.create(\"http://127.0.0.1:@CLOSED@/health\")).build(), "
     "HttpResponse.BodyHandlers.ofString());\nSystem.out.println(resp.body());\n/exit 1\n", ""),
    ("incompatible_types", "programming", "incompatible types",
     "int retries = System.getProperty(\"user.name\");\nSystem.out.println(retries);\n/exit 1\n", ""),
]

# --------------------------------------------------------------------------- jarsigner, jdeps, jcmd

_SIGN = "jarsigner -keystore @KS@ -storepass right-pass"

JARSIGNER: list[ToolCase] = [
    ("wrong_store_password", "auth", "password was incorrect",
     "jarsigner -keystore @KS@ -storepass wrong-pass @JAR@ release81"),
    ("keystore_missing", "filesystem", "FileNotFoundException|No such file|does not exist",
     "jarsigner -keystore @TMP@/keys/release81.p12 -storepass right-pass @JAR@ release81"),
    ("keystore_corrupt", "validation", "keystore|format|DerInputStream",
     "jarsigner -keystore @BADKS@ -storepass right-pass @JAR@ release81"),
    ("tsa_refused", "network", "ConnectException|refused",
     f"{_SIGN} -tsa http://127.0.0.1:@CLOSED@/tsa @JAR@ release81"),
    ("tsa_500", "service", "500", f"{_SIGN} -tsa @HTTP@/status/500 @JAR@ release81"),
    ("tsa_401", "auth", "401", f"{_SIGN} -tsa @HTTP@/status/401 @JAR@ release81"),
]

JDEPS: list[ToolCase] = [
    ("corrupt_jar", "validation", "ZipException|zip END header", "jdeps @TMP@/tools/plugin81.jar"),
]

#: jcmd exits 0 whatever the diagnostic command did: the job checks the report as a CI step does
_DUMP = "jcmd @PID@ GC.heap_dump {0} | tee @TMP@/jcmd81.out; grep -q 'Heap dump file created' @TMP@/jcmd81.out"

JCMD: list[ToolCase] = [
    ("heap_dump_read_only", "filesystem", "Read-only", _DUMP.format("@RO@/heap81.hprof")),
    ("heap_dump_exists", "filesystem", "File exists", _DUMP.format("@TMP@/app81.log")),
]


def _named(prefix: str, cases: Sequence[tuple[Any, ...]]) -> list[Any]:
    """The cases with their provoker names prefixed by the language or tool (each name is distinct in the batch)."""
    return [(f"{prefix}_{case[0]}", *case[1:]) for case in cases]


def _jvm_tool_fixtures(env: Env, jar: Path) -> dict[str, object]:
    """A keystore with key `release81`, a copy of the Kotlin jar to sign, a corrupt keystore and a corrupt jar."""
    tools = env.tmp / "tools"
    tools.mkdir(exist_ok=True)
    ks = tools / "signing81.p12"
    subprocess.run(["keytool", "-genkeypair", "-alias", "release81", "-keyalg", "RSA", "-keystore", str(ks),
                    "-storepass", "right-pass", "-dname", "CN=release81", "-validity", "2"], check=True,
                   capture_output=True)
    target = tools / "app81.jar"
    target.write_bytes(jar.read_bytes() if jar.exists() else b"")
    bad_ks = tools / "corrupt81.p12"
    bad_ks.write_bytes(b"\x30\x82\x01\x00 this is not a PKCS12 store" * 4)
    (tools / "plugin81.jar").write_bytes(b"PK\x03\x04 truncated upload of plugin81.jar\n")
    return {"KS": ks, "BADKS": bad_ks, "JAR": target}


def _live_jvm(env: Env, jar: Path) -> int | None:
    """A JVM that waits (the Kotlin sleeper of the batch jar): the target of jcmd; stopped with `env`."""
    proc = subprocess.Popen(["java", "-cp", str(jar), "b81.sleeper.SleeperKt"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)

    def stop() -> None:
        proc.kill()
        proc.wait(timeout=30)

    env._closers.append(stop)
    for _ in range(100):
        if subprocess.run(["jcmd", str(proc.pid), "VM.uptime"], capture_output=True).returncode == 0:
            return proc.pid
        time.sleep(0.2)
    problem("jcmd", "target JVM did not come up")
    return None


def blind81_records(env: Env) -> list[Record]:
    disk = mount_tmpfs(env, "disk81", "size=128k")
    subprocess.run(["bash", "-c", f"head -c 200000 /dev/zero > {disk}/filler"], check=False, capture_output=True)
    ro = mount_tmpfs(env, "ro81", "size=64k,ro")
    pg = private_postgres(env, max_connections=4, reserved=1)
    (env.tmp / "app81.log").write_text("started\n")
    values: dict[str, object] = {"HTTP": env.http, "CLOSED": env.closed_port, "RESET": env.reset_port,
                                 "EMPTY": env.empty_port, "HANG": env.hang_port, "TMP": env.tmp, "DISK": disk,
                                 "RO": ro, "PRIVPG": pg.port}
    fill = filler(values)
    kotlin_dir = env.tmp / "kotlin"
    # the sleeper is built with the cases only as the JVM that jcmd attaches to
    out = kotlin_program_records(_named("kotlin", KOTLIN), "kotlin81", kotlin_dir, fill,
                                 {"sleeper": "fun main() {\n    Thread.sleep(600_000)\n}\n"})
    out += compile_error_records(_named("kotlinc", KOTLINC), "kotlinc81", env.tmp / "kotlinc", "kotlin")
    out += tool_records([("kotlinc_source_missing", "filesystem", "not found|no such file",
                          ["kotlinc", str(env.tmp / "src" / "Main81.kt"), "-d", str(env.tmp / "kout")])],
                        "kotlinc81", env.tmp, timeout=120)
    out += scala_program_records(_named("scala", SCALA), "scala81", env.tmp / "scala", fill)
    out += compile_error_records(_named("scalac", SCALAC), "scalac81", env.tmp / "scalac", "scala")
    out += tool_records([("scalac_source_missing", "filesystem", "could not be found|not found|no such file",
                          ["scalac", "-d", str(env.tmp), str(env.tmp / "src" / "Main81.scala")])],
                        "scalac81", env.tmp, timeout=120)
    jython = ["java", "-cp", f"/usr/share/java/jython.jar:{PG_JAR}", "org.python.util.jython"]
    out += jvm_script_records(_named("jython", JYTHON), "jython81", env.tmp / "jython", jython, ".py", fill, 2)
    prefs = f"-J-Djava.util.prefs.userRoot={env.tmp / 'prefs'}"
    out += jvm_script_records(_named("jshell", JSHELL), "jshell81", env.tmp / "jshell", ["jshell", prefs, *[
        f"-J{o}" for o in FAST_JVM.split()]], ".jsh", fill, 2)
    jar = kotlin_dir / "app81.jar"
    values.update(_jvm_tool_fixtures(env, jar))
    out += tool_records(_named("jarsigner", JARSIGNER), "jarsigner81", env.tmp, filler(values))
    out += tool_records(_named("jdeps", JDEPS), "jdeps81", env.tmp, filler(values))
    pid = _live_jvm(env, jar) if jar.exists() else None
    if pid is not None:
        values["PID"] = pid
        out += tool_records(_named("jcmd", JCMD), "jcmd81", env.tmp, filler(values))
    return out


if __name__ == "__main__":
    write_batch(blind81_records)


__all__ = ["BLIND81_SOURCES", "blind81_records"]
