"""Fifty-ninth batch of blind provokers: Java build tools and an application server (Maven is already in the corpus).
Apache Ant 1.10 (javac errors, a missing source dir, property file, file to copy and executable, a malformed
build.xml, an XML config that does not parse, a corrupt zip, a typo'd main class, a bad integer option, a jar into
a read-only tmpfs, a copy into a full one, <get> of an artifact answering 401/403/503 or from a closed port, JUnit
tests failing on a refused connection, a read timeout, a 503, a 429, a wrong PostgreSQL password and an assertion),
Debian's Gradle 4.4 offline with a private user home (compile errors, a build script that does not compile or sets
an unknown property, a missing zip, properties file and executable, a JSON config that does not parse, copies into
a full and a read-only tmpfs, downloads answering 401/403 or refused, tests failing on a refused connection, a 503
and an assertion), and private Tomcat 10 instances (own CATALINA_BASE, free loopback port; the WARNING/SEVERE
records of their logs): a missing servlet or listener class, a JDBC driver not installed, a web.xml, context.xml or
server.xml that does not parse, a docBase that does not exist, a startup listener whose JNDI DataSource meets a
closed PostgreSQL port or a wrong password on a private cluster, whose config fetch answers 503 or 401, or whose
cache write fills a tmpfs. The label is the cause we provoked. Only 127.0.0.1."""

from __future__ import annotations

import concurrent.futures
import shutil
from collections.abc import Callable
from pathlib import Path

from blind59_support import (
    FAST_JVM,
    JUNIT_JARS,
    PG_JAR,
    SERVLET_API,
    compile_java,
    run_tomcat,
    stop_gradle_daemons,
    tomcat_base,
    webapp,
    write_tree,
)
from checked import ToolCase, has_token, problem, tool_records
from common import Env, Record, record, write_batch
from servers import mount_tmpfs, private_postgres

BLIND59_SOURCES = frozenset({"ant59", "gradle59", "tomcat59"})
_JUNIT_PATH = ":".join(map(str, JUNIT_JARS))

# --------------------------------------------------------------------------- shared Java sources

_CLIENT = """package b59;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URL;

public final class InventoryClient {
    private InventoryClient() {}

    public static byte[] fetch(String url) throws IOException {
        HttpURLConnection conn = (HttpURLConnection) new URL(url).openConnection();
        conn.setConnectTimeout(2000);
        conn.setReadTimeout(1500);
        try (InputStream in = conn.getInputStream()) {
            return in.readAllBytes();
        }
    }

    public static int handshake(String host, int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 2000);
            socket.setSoTimeout(1500);
            socket.getOutputStream().write("HELLO inventory/1\\r\\n".getBytes());
            return socket.getInputStream().read();
        }
    }

    public static int totalUnits(int[] lots) {
        int total = 0;
        for (int i = 1; i < lots.length; i++) {
            total += lots[i];
        }
        return total;
    }
}
"""


def _test_class(name: str, body: str, imports: str = "") -> str:
    return (f"package b59;\n\nimport static org.junit.Assert.assertEquals;\n\nimport org.junit.Test;\n{imports}\n"
            f"public class {name} {{\n    @Test\n    public void {body}\n}}\n")


def _tests(env: Env, pg_port: int) -> dict[str, str]:
    """Test classes by name; each fails for one provoked cause."""
    return {
        "StockRefusedTest": _test_class("StockRefusedTest", "reservesStock() throws Exception {\n        "
                                        f"assertEquals(1, InventoryClient.handshake(\"127.0.0.1\", {env.closed_port}))"
                                        ";\n    }"),
        "StockTimeoutTest": _test_class("StockTimeoutTest", "readsStockLevel() throws Exception {\n        "
                                        f"assertEquals(1, InventoryClient.handshake(\"127.0.0.1\", {env.hang_port}))"
                                        ";\n    }"),
        "CatalogUnavailableTest": _test_class("CatalogUnavailableTest", "loadsCatalog() throws Exception {\n        "
                                              f"InventoryClient.fetch(\"{env.url(503)}\");\n    }}"),
        "CatalogThrottledTest": _test_class("CatalogThrottledTest", "loadsCatalogPage() throws Exception {\n        "
                                            f"InventoryClient.fetch(\"{env.url(429)}?page=2\");\n    }}"),
        "TotalsTest": _test_class("TotalsTest", "sumsAllLots() {\n        assertEquals(12, InventoryClient.totalUnits("
                                  "new int[] {5, 4, 3}));\n    }"),
        "LedgerDbTest": _test_class("LedgerDbTest", "opensLedger() throws Exception {\n        try (Connection c = "
                                    f"DriverManager.getConnection(\"jdbc:postgresql://127.0.0.1:{pg_port}/postgres\", "
                                    "\"app\", \"stale-password\")) {\n            assertEquals(true, c.isValid(2));\n"
                                    "        }\n    }",
                                    "import java.sql.Connection;\nimport java.sql.DriverManager;\n"),
    }


# --------------------------------------------------------------------------- Ant

_ANT_BUILD = """<?xml version="1.0" encoding="UTF-8"?>
<project name="inventory" default="test" basedir=".">
  <property name="build" location="build"/>
  <property name="deploy.env" value="prod"/>
  <path id="test.path">
    <pathelement location="${build}/classes"/>
    <pathelement location="${build}/test-classes"/>
    <pathelement path="JUNIT:PGJAR"/>
  </path>
  <target name="compile">
    <mkdir dir="${build}/classes"/>
    <javac srcdir="${src.dir}" destdir="${build}/classes" includeantruntime="false" release="17"/>
  </target>
  <target name="compile-tests" depends="compile">
    <mkdir dir="${build}/test-classes"/>
    <javac srcdir="test" destdir="${build}/test-classes" includeantruntime="false" release="17"
           classpathref="test.path"/>
  </target>
  <target name="test" depends="compile-tests">
    <junit haltonfailure="true" printsummary="yes" fork="yes">
      <classpath refid="test.path"/>
      <formatter type="plain" usefile="false"/>
      <test name="${test.class}"/>
    </junit>
  </target>
  <target name="package" depends="compile">
    <copy file="conf/app.properties" todir="${build}/classes"/>
    <jar destfile="${dist.dir}/inventory.jar" basedir="${build}/classes"/>
  </target>
  <target name="load-env">
    <loadproperties srcfile="deploy/${deploy.env}.properties"/>
  </target>
  <target name="migrate">
    <exec executable="/opt/inventory-b59/bin/dbmigrate" failonerror="true">
      <arg value="--target=${deploy.env}"/>
    </exec>
  </target>
  <target name="stage">
    <copy file="assets/catalog-snapshot.bin" todir="${stage.dir}"/>
  </target>
  <target name="check-config">
    <xmlvalidate file="conf/beans.xml" lenient="true"/>
  </target>
  <target name="unpack">
    <unzip src="downloads/frontend-bundle.zip" dest="${build}/web"/>
  </target>
  <target name="fetch">
    <mkdir dir="downloads"/>
    <get src="${artifact.url}" dest="downloads/inventory-agent.tar.gz" retries="1"/>
  </target>
  <target name="run" depends="compile">
    <java classname="${main.class}" fork="true" failonerror="true" classpath="${build}/classes">
      <sysproperty key="inventory.workers" value="${workers}"/>
    </java>
  </target>
</project>
"""

_MAIN = """package b59;

public final class Main {
    private Main() {}

    public static void main(String[] args) {
        int workers = Integer.parseInt(System.getProperty("inventory.workers"));
        System.out.println("starting " + workers + " workers");
    }
}
"""

_BAD_TYPES = """package b59;

public final class Reorder {
    private Reorder() {}

    public static int threshold(String sku) {
        int level = sku.length() > 4 ? "high" : 3;
        return level;
    }
}
"""

_BAD_SYMBOL = """package b59;

public final class Reorder {
    private Reorder() {}

    public static int threshold(String sku) {
        return InventoryClient.reorderLevel(sku);
    }
}
"""


def _ant_project(root: Path, env: Env, pg_port: int) -> Path:
    build = _ANT_BUILD.replace("JUNIT", _JUNIT_PATH).replace("PGJAR", str(PG_JAR))
    files = {"build.xml": build, "src/b59/InventoryClient.java": _CLIENT, "src/b59/Main.java": _MAIN,
             "conf/beans.xml": "<?xml version=\"1.0\"?>\n<beans>\n  <bean id=\"stock\" class=\"b59.Stock\">\n"
                               "    <property name=\"ttl\" value=\"30\">\n</beans>\n",
             "downloads/frontend-bundle.zip": "<html><body>Moved</body></html>\n",
             "bad-types/b59/Reorder.java": _BAD_TYPES, "bad-symbol/b59/Reorder.java": _BAD_SYMBOL}
    files.update({f"test/b59/{name}.java": text for name, text in _tests(env, pg_port).items()})
    write_tree(root, files)
    (root / "assets").mkdir()
    (root / "assets" / "catalog-snapshot.bin").write_bytes(bytes(range(256)) * 2400)
    return root


def ant_cases(env: Env, project: Path, broken: Path, disk: Path, ro: Path) -> list[ToolCase]:
    ant = f"cd {project} && ANT_OPTS='{FAST_JVM}' ant -noinput -Dsrc.dir=src"

    def junit(name: str, category: str, token: str, test: str) -> ToolCase:
        return (name, category, token, f"{ant} -Dtest.class=b59.{test} test 2>&1")

    def get(name: str, category: str, token: str, url: str) -> ToolCase:
        return (name, category, token, f"{ant} -Dartifact.url={url} fetch 2>&1")

    return [
        ("ant_javac_incompatible_types", "programming", "incompatible types",
         f"cd {project} && ant -noinput -Dsrc.dir=bad-types -Dbuild={project}/build-bad1 compile 2>&1"),
        ("ant_javac_cannot_find_symbol", "programming", "cannot find symbol",
         f"cd {project} && ant -noinput -Dsrc.dir=src:bad-symbol -Dbuild={project}/build-bad2 compile 2>&1"),
        ("ant_srcdir_missing", "filesystem", "does not exist",
         f"cd {project} && ant -noinput -Dsrc.dir=src/main/java -Dbuild={project}/build-none compile 2>&1"),
        ("ant_copy_file_missing", "filesystem", "Could not find|not exist",
         f"{ant} -Ddist.dir={project}/dist package 2>&1"),
        ("ant_loadproperties_missing", "filesystem", "does not exist|not found", f"{ant} load-env 2>&1"),
        ("ant_exec_missing", "filesystem", "No such file", f"{ant} migrate 2>&1"),
        ("ant_jar_read_only", "filesystem", "Read-only",
         f"mkdir -p {project}/conf && touch {project}/conf/app.properties && {ant} -Ddist.dir={ro} package 2>&1; "
         f"status=$?; rm -f {project}/conf/app.properties; exit $status"),
        ("ant_copy_disk_full", "resource", "No space left", f"{ant} -Dstage.dir={disk} stage 2>&1"),
        ("ant_build_xml_malformed", "validation", "end-tag|must be terminated|delimiter",
         f"cd {broken} && ant -noinput 2>&1"),
        ("ant_xmlvalidate_config", "validation", "not a valid|must be terminated|matching end-tag",
         f"{ant} check-config 2>&1"),
        ("ant_unzip_corrupt", "validation", "corrupt|not a ZIP|central directory", f"{ant} unpack 2>&1"),
        ("ant_java_class_typo", "programming", "ClassNotFoundException|Could not find or load",
         f"{ant} -Dmain.class=b59.Mian -Dworkers=4 run 2>&1"),
        ("ant_java_bad_integer", "validation", "NumberFormatException",
         f"{ant} -Dmain.class=b59.Main -Dworkers=four run 2>&1"),
        junit("ant_junit_refused", "network", "refused", "StockRefusedTest"),
        junit("ant_junit_read_timeout", "network", "timed out", "StockTimeoutTest"),
        junit("ant_junit_503", "service", "503", "CatalogUnavailableTest"),
        junit("ant_junit_429", "resource", "429", "CatalogThrottledTest"),
        junit("ant_junit_assertion", "programming", "expected", "TotalsTest"),
        junit("ant_junit_pg_password", "auth", "password authentication failed", "LedgerDbTest"),
        get("ant_get_401", "auth", "401|Authorization", env.url(401)),
        get("ant_get_403", "auth", "403", env.url(403)),
        get("ant_get_503", "service", "503", env.url(503)),
        get("ant_get_refused", "network", "refused", f"http://127.0.0.1:{env.closed_port}/agent.tar.gz"),
    ]


# --------------------------------------------------------------------------- Gradle

_GRADLE_JAVA = """apply plugin: 'java'

sourceCompatibility = '17'
targetCompatibility = '17'
"""

_GRADLE_TESTS = _GRADLE_JAVA + """
dependencies {
    testCompile files(JUNIT)
}

test {
    testLogging {
        events 'failed'
        exceptionFormat 'full'
    }
}
"""

_GRADLE_TASKS = """apply plugin: 'base'

task unpackRelease(type: Copy) {
    from zipTree('downloads/release-2.4.1.zip')
    into "$buildDir/release"
}

task migrate(type: Exec) {
    commandLine '/opt/inventory-b59/bin/dbmigrate', '--target=prod'
}

task stageSnapshot(type: Copy) {
    from 'assets/catalog-snapshot.bin'
    into project.findProperty('stageDir') ?: "$buildDir/stage"
}

task fetchAgent {
    doLast {
        def target = file("$buildDir/inventory-agent.tar.gz")
        target.parentFile.mkdirs()
        new URL(project.property('agentUrl')).withInputStream { input -> target.bytes = input.bytes }
    }
}

task serviceMap {
    doLast {
        def services = new groovy.json.JsonSlurper().parse(file('config/services.json'))
        println "services: ${services.keySet()}"
    }
}

task deployEnv {
    doLast {
        def props = new Properties()
        file("deploy/${project.findProperty('env') ?: 'prod'}.properties").withInputStream { props.load(it) }
        println props
    }
}
"""


def _gradle_projects(root: Path, env: Env) -> dict[str, Path]:
    tests = _tests(env, 0)
    junit = ", ".join(f"'{jar}'" for jar in JUNIT_JARS)
    projects = {
        "types": {"build.gradle": _GRADLE_JAVA, "src/main/java/b59/InventoryClient.java": _CLIENT,
                  "src/main/java/b59/Reorder.java": _BAD_TYPES},
        "symbol": {"build.gradle": _GRADLE_JAVA, "src/main/java/b59/InventoryClient.java": _CLIENT,
                   "src/main/java/b59/Reorder.java": _BAD_SYMBOL},
        "syntax": {"build.gradle": _GRADLE_JAVA + "\njar {\n    manifest {\n        attributes 'Main-Class': "
                                                   "'b59.Main'\n    \n}\n",
                   "src/main/java/b59/Main.java": _MAIN},
        "property": {"build.gradle": _GRADLE_JAVA + "\ncompileJava.options.encodng = 'UTF-8'\n",
                     "src/main/java/b59/Main.java": _MAIN},
        "tests": {"build.gradle": _GRADLE_TESTS.replace("JUNIT", junit),
                  "src/main/java/b59/InventoryClient.java": _CLIENT,
                  **{f"src/test/java/b59/{n}.java": tests[n] for n in ("StockRefusedTest", "CatalogUnavailableTest",
                                                                        "TotalsTest")}},
        "tasks": {"build.gradle": _GRADLE_TASKS, "config/services.json":
                  '{\n  "inventory": {"url": "http://inventory:8080"},\n  "pricing": {"url": "http://pricing:8080"'
                  ',\n}\n'},
    }
    out: dict[str, Path] = {}
    for name, files in projects.items():
        out[name] = write_tree(root / f"gradle-{name}", {"settings.gradle": f"rootProject.name = 'b59-{name}'\n",
                                                         **files})
    (out["tasks"] / "assets").mkdir()
    (out["tasks"] / "assets" / "catalog-snapshot.bin").write_bytes(bytes(range(256)) * 2400)
    return out


def gradle_cases(env: Env, projects: dict[str, Path], home: Path, disk: Path, ro: Path) -> list[ToolCase]:
    def gradle(project: str, args: str) -> str:
        return f"gradle --offline --console=plain -g {home} -p {projects[project]} {args} 2>&1"

    return [
        ("gradle_compile_incompatible_types", "programming", "incompatible types", gradle("types", "compileJava")),
        ("gradle_compile_cannot_find_symbol", "programming", "cannot find symbol", gradle("symbol", "compileJava")),
        ("gradle_build_script_syntax", "programming", "Could not compile", gradle("syntax", "jar")),
        ("gradle_build_script_unknown_property", "programming", "encodng", gradle("property", "compileJava")),
        ("gradle_test_refused", "network", "refused", gradle("tests", "test --tests b59.StockRefusedTest")),
        ("gradle_test_503", "service", "503", gradle("tests", "test --tests b59.CatalogUnavailableTest")),
        ("gradle_test_assertion", "programming", "expected", gradle("tests", "test --tests b59.TotalsTest")),
        ("gradle_unzip_missing_archive", "filesystem", "does not exist", gradle("tasks", "unpackRelease")),
        ("gradle_exec_missing", "filesystem", "starting process|No such file", gradle("tasks", "migrate")),
        ("gradle_properties_missing", "filesystem", "No such file", gradle("tasks", "deployEnv -Penv=staging")),
        ("gradle_copy_disk_full", "resource", "No space left",
         gradle("tasks", f"stageSnapshot -PstageDir={disk} --stacktrace")),
        ("gradle_copy_read_only", "filesystem", "Read-only",
         gradle("tasks", f"stageSnapshot -PstageDir={ro} --stacktrace")),
        ("gradle_json_config", "validation", "JsonException|expecting", gradle("tasks", "serviceMap")),
        ("gradle_fetch_401", "auth", "401", gradle("tasks", f"fetchAgent -PagentUrl={env.url(401)}")),
        ("gradle_fetch_403", "auth", "403", gradle("tasks", f"fetchAgent -PagentUrl={env.url(403)}")),
        ("gradle_fetch_refused", "network", "refused",
         gradle("tasks", f"fetchAgent -PagentUrl=http://127.0.0.1:{env.closed_port}/agent.tar.gz")),
    ]


# --------------------------------------------------------------------------- Tomcat

_LISTENER = """package b59.web;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import javax.naming.InitialContext;
import javax.sql.DataSource;

public class StartupChecks implements ServletContextListener {
    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext ctx = event.getServletContext();
        try {
            String datasource = ctx.getInitParameter("datasource");
            if (datasource != null) {
                DataSource ds = (DataSource) new InitialContext().lookup("java:comp/env/" + datasource);
                try (Connection conn = ds.getConnection()) {
                    conn.isValid(2);
                }
            }
            String configUrl = ctx.getInitParameter("config.url");
            if (configUrl != null) {
                HttpURLConnection conn = (HttpURLConnection) new URL(configUrl).openConnection();
                conn.setConnectTimeout(2000);
                conn.setReadTimeout(3000);
                try (InputStream in = conn.getInputStream()) {
                    ctx.setAttribute("config", in.readAllBytes());
                }
            }
            String cacheDir = ctx.getInitParameter("cache.dir");
            if (cacheDir != null) {
                Files.write(Path.of(cacheDir, "catalog.bin"), new byte[600_000]);
            }
        } catch (Exception e) {
            throw new IllegalStateException("Application startup check failed", e);
        }
    }
}
"""


def _web_xml(body: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="https://jakarta.ee/xml/ns/'
            'jakartaee https://jakarta.ee/xml/ns/jakartaee/web-app_6_0.xsd" version="6.0">\n'
            f"  <display-name>inventory</display-name>\n{body}</web-app>\n")


def _checks(**params: str) -> str:
    lines = "".join(f"  <context-param>\n    <param-name>{k.replace('_', '.')}</param-name>\n    <param-value>{v}"
                    "</param-value>\n  </context-param>\n" for k, v in params.items())
    return lines + "  <listener>\n    <listener-class>b59.web.StartupChecks</listener-class>\n  </listener>\n"


def _datasource(driver: str, url: str, password: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Context>\n  <Resource name="jdbc/inventory" auth="Container" '
            f'type="javax.sql.DataSource"\n            driverClassName="{driver}" url="{url}"\n            '
            f'username="app" password="{password}" maxTotal="4" maxWaitMillis="3000"/>\n</Context>\n')


#: name, category, token
_TOMCAT: list[tuple[str, str, str]] = [
    ("tomcat_servlet_class_missing", "programming", "ClassNotFoundException"),
    ("tomcat_listener_class_missing", "programming", "ClassNotFoundException"),
    ("tomcat_jdbc_driver_missing", "programming", "Cannot load JDBC driver|ClassNotFoundException"),
    ("tomcat_web_xml_malformed", "validation", "end-tag|Parse error"),
    ("tomcat_context_xml_malformed", "validation", "must be followed|Parse"),
    ("tomcat_server_xml_malformed", "validation", "end-tag|Parse"),
    ("tomcat_docbase_missing", "filesystem", "not valid|does not exist"),
    ("tomcat_datasource_refused", "network", "refused"),
    ("tomcat_datasource_password", "auth", "password authentication failed"),
    ("tomcat_config_fetch_503", "service", "503"),
    ("tomcat_config_fetch_401", "auth", "401"),
    ("tomcat_cache_disk_full", "resource", "No space left"),
]


def _tomcat_setup(name: str, base: Path, env: Env, classes: Path, pg_port: int, disk: Path) -> None:
    """Put the one fault of case `name` into the instance at `base`."""
    pg = "org.postgresql.Driver"
    if name == "tomcat_servlet_class_missing":
        webapp(base, "billing", _web_xml("  <servlet>\n    <servlet-name>invoice</servlet-name>\n    <servlet-class>"
                                         "com.example.billing.InvoiceServlet</servlet-class>\n    <load-on-startup>1"
                                         "</load-on-startup>\n  </servlet>\n"))
    elif name == "tomcat_listener_class_missing":
        webapp(base, "audit", _web_xml("  <listener>\n    <listener-class>com.example.audit.AuditTrailListener"
                                       "</listener-class>\n  </listener>\n"))
    elif name == "tomcat_jdbc_driver_missing":
        webapp(base, "inventory", _web_xml(_checks(datasource="jdbc/inventory")),
               _datasource("org.mariadb.jdbc.Driver", "jdbc:mariadb://127.0.0.1:3306/test", "x"), classes)
    elif name == "tomcat_web_xml_malformed":
        webapp(base, "inventory", _web_xml("  <servlet>\n    <servlet-name>default-b59\n  </servlet>\n"))
    elif name == "tomcat_context_xml_malformed":
        webapp(base, "inventory", _web_xml(""), '<?xml version="1.0" encoding="UTF-8"?>\n<Context>\n  <Resource '
               'name="jdbc/inventory" auth="Container" type="javax.sql.DataSource"\n</Context>\n')
    elif name == "tomcat_server_xml_malformed":
        server = base / "conf" / "server.xml"
        server.write_text(server.read_text().replace("</Service>", "</Servce>"))
    elif name == "tomcat_docbase_missing":
        descriptor = base / "conf" / "Catalina" / "localhost" / "reports.xml"
        descriptor.parent.mkdir(parents=True, exist_ok=True)
        descriptor.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<Context docBase="{env.tmp}/srv/'
                              'reports-b59"/>\n')
    elif name in ("tomcat_datasource_refused", "tomcat_datasource_password"):
        shutil.copy(PG_JAR, base / "lib" / "postgresql.jar")
        port = env.closed_port if name == "tomcat_datasource_refused" else pg_port
        webapp(base, "inventory", _web_xml(_checks(datasource="jdbc/inventory")),
               _datasource(pg, f"jdbc:postgresql://127.0.0.1:{port}/postgres", "stale-password"), classes)
    elif name in ("tomcat_config_fetch_503", "tomcat_config_fetch_401"):
        status = 503 if name.endswith("503") else 401
        webapp(base, "inventory", _web_xml(_checks(config_url=f"{env.url(status)}?app=inventory")), None, classes)
    elif name == "tomcat_cache_disk_full":
        webapp(base, "inventory", _web_xml(_checks(cache_dir=str(disk))), None, classes)


def tomcat_records(env: Env, root: Path, classes: Path, pg_port: int, disk: Path) -> list[Record]:
    def one(case: tuple[str, str, str]) -> Record | None:
        name, category, token = case
        base = tomcat_base(root, name)
        _tomcat_setup(name, base, env, classes, pg_port, disk)
        try:
            text = run_tomcat(base)
        except Exception as harness:  # a hung or missing server is the harness's problem
            problem(name, type(harness).__name__)
            return None
        if not text:
            problem(name, "no failure logged")
            return None
        return record(text, category, "tomcat59", "stderr", name) if has_token(name, text, token) else None

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return [r for r in pool.map(one, _TOMCAT) if r is not None]


# --------------------------------------------------------------------------- the batch

def blind59_records(env: Env) -> list[Record]:
    root = env.tmp / "b59"
    root.mkdir()
    pg = private_postgres(env)
    disks = {name: mount_tmpfs(env, f"disk59-{name}", "size=256k") for name in ("ant", "gradle", "tomcat")}
    ro = mount_tmpfs(env, "ro59", "size=64k,ro")
    project = _ant_project(root / "ant-inventory", env, pg.port)
    broken = write_tree(root / "ant-broken", {"build.xml": _ANT_BUILD.split("<target name=\"package\"")[0]
                                              .replace("</junit>", "</junit")})
    gradle_home = root / "gradle-home"
    env._closers.append(lambda: stop_gradle_daemons(gradle_home))
    projects = _gradle_projects(root, env)
    classes = root / "webapp-classes"
    compile_java({"b59/web/StartupChecks.java": _LISTENER}, classes, [SERVLET_API])

    jobs: list[Callable[[], list[Record]]] = [
        lambda: tool_records(gradle_cases(env, projects, gradle_home, disks["gradle"], ro), "gradle59", root,
                             timeout=120),
        lambda: tool_records(ant_cases(env, project, broken, disks["ant"], ro), "ant59", root, timeout=60),
        lambda: tomcat_records(env, root, classes, pg.port, disks["tomcat"]),
    ]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = [pool.submit(job) for job in jobs]
        return [rec for future in results for rec in future.result()]


if __name__ == "__main__":
    write_batch(blind59_records)


__all__ = ["BLIND59_SOURCES", "ant_cases", "blind59_records", "gradle_cases", "tomcat_records"]
