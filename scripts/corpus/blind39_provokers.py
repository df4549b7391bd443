"""Thirty-ninth batch of blind provokers: Java programs failing through the libraries Debian packages for them (no
Maven Central), so the records carry the libraries' own wording, not java.* alone (that is java-extra*). PostgreSQL
JDBC against the shared server (constraint violations, a table privilege, a lock timeout, a terminated backend,
ResultSet misuse) and a private cluster (wrong password, no free slots, a standby, a full tablespace on tmpfs);
MariaDB Connector/J (access denied, duplicate and over-long values, a lock wait timeout, a private server out of
connections, a LOCAL INFILE that is not there); Apache HttpClient 5 (classic and fluent) and 4 handing 4xx/5xx to
their response handlers and meeting closed, resetting, silent and hanging ports; Jackson, Gson, SnakeYAML and
Commons CSV parse errors (validation) beside mapping misuse (programming) and unreadable or unwritable files; JSch
refused, timed out and refused a password by a private sshd. Uncaught exception prints of `java` are the records.
Only 127.0.0.1."""

from __future__ import annotations

import pwd
import shutil

from blind39_support import JavaCase, java_library_records, private_sshd, shared_db_fixtures
from common import Env, Record, write_batch
from servers import mount_tmpfs, private_mariadb, private_postgres

BLIND39_SOURCES = frozenset({"pgjdbc39", "mariadb-jdbc39", "httpclient39", "httpclient-fluent39", "httpclient4-39",
                             "jackson39", "gson39", "snakeyaml39", "commons-csv39", "jsch39"})

_PRIVATE_PG = "jdbc:postgresql://127.0.0.1:@PGPRIV@/postgres?user="

PGJDBC: list[JavaCase] = [
    ("pg_refused", "network", "pgjdbc39", "refused",
     'DriverManager.getConnection("jdbc:postgresql://127.0.0.1:@CLOSED@/orders?user=app&connectTimeout=3");'),
    ("pg_read_timeout", "network", "pgjdbc39", "timed out|timeout",
     'DriverManager.getConnection("jdbc:postgresql://127.0.0.1:@HANG@/orders?user=app&connectTimeout=2'
     '&socketTimeout=1");'),
    ("pg_reset", "network", "pgjdbc39", "reset",
     'DriverManager.getConnection("jdbc:postgresql://127.0.0.1:@RESET@/orders?user=app&connectTimeout=3");'),
    ("pg_unique", "validation", "pgjdbc39", "duplicate key",
     'try (Connection c = pg()) { sql(c, "CREATE TEMP TABLE customers (id serial, email text UNIQUE)"); '
     'PreparedStatement p = c.prepareStatement("INSERT INTO customers (email) VALUES (?)"); '
     'p.setString(1, "ada@example.org"); p.executeUpdate(); p.setString(1, "ada@example.org"); p.executeUpdate(); }'),
    ("pg_not_null", "validation", "pgjdbc39", "null value",
     'try (Connection c = pg()) { sql(c, "CREATE TEMP TABLE invoices (id int, total numeric NOT NULL)"); '
     'PreparedStatement p = c.prepareStatement("INSERT INTO invoices (id, total) VALUES (?, ?)"); '
     'p.setInt(1, 7); p.setNull(2, java.sql.Types.NUMERIC); p.executeUpdate(); }'),
    ("pg_permission", "auth", "pgjdbc39", "permission denied",
     'try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/test?user=b39_reader")) { '
     'sql(c, "SELECT employee, amount FROM b39_payroll"); }'),
    ("pg_lock_timeout", "resource", "pgjdbc39", "lock timeout",
     'try (Connection holder = pg(); Connection worker = pg()) { holder.setAutoCommit(false); '
     'sql(holder, "LOCK TABLE b39_jobs IN ACCESS EXCLUSIVE MODE"); sql(worker, "SET lock_timeout = \'500ms\'"); '
     'sql(worker, "UPDATE b39_jobs SET state = \'running\' WHERE id = 1"); }'),
    ("pg_terminated", "service", "pgjdbc39", "administrator command",
     'try (Connection c = pg(); Connection admin = pg()) { int pid; '
     'try (ResultSet r = c.createStatement().executeQuery("SELECT pg_backend_pid()")) { r.next(); pid = r.getInt(1); } '
     'sql(admin, "SELECT pg_terminate_backend(" + pid + ")"); Thread.sleep(300); '
     'sql(c, "SELECT count(*) FROM b39_jobs"); }'),
    ("pg_column_index", "programming", "pgjdbc39", "out of range",
     'try (Connection c = pg(); ResultSet r = c.createStatement().executeQuery('
     '"SELECT id, state FROM b39_jobs")) { r.next(); System.out.println(r.getString(3)); }'),
    ("pg_not_positioned", "programming", "pgjdbc39", "next",
     'try (Connection c = pg(); ResultSet r = c.createStatement().executeQuery('
     '"SELECT count(*) FROM b39_jobs")) { System.out.println(r.getLong(1)); }'),
    ("pg_undefined_column", "programming", "pgjdbc39", "does not exist",
     'try (Connection c = pg()) { sql(c, "SELECT id, satte FROM b39_jobs WHERE id = 1"); }'),
    ("pg_missing_parameter", "programming", "pgjdbc39", "No value specified",
     'try (Connection c = pg()) { PreparedStatement p = c.prepareStatement('
     '"UPDATE b39_jobs SET state = ? WHERE id = ?"); p.setString(1, "done"); p.executeUpdate(); }'),
]

#: run one after another: they share the private cluster (and the last one fills every slot of it)
PGJDBC_PRIVATE: list[JavaCase] = [
    ("pg_password", "auth", "pgjdbc39", "password authentication failed",
     f'DriverManager.getConnection("{_PRIVATE_PG}app&password=wrong-password");'),
    ("pg_standby", "service", "pgjdbc39", "not accepting|starting up|standby",
     'DriverManager.getConnection("jdbc:postgresql://127.0.0.1:@PGSTANDBY@/postgres?user=postgres");'),
    ("pg_tablespace_full", "resource", "pgjdbc39", "No space left",
     f'try (Connection c = DriverManager.getConnection("{_PRIVATE_PG}postgres")) {{ '
     'sql(c, "CREATE TABLESPACE small_disk LOCATION \'@DISK@\'"); '
     'sql(c, "CREATE TABLE events (payload text) TABLESPACE small_disk"); '
     'sql(c, "INSERT INTO events SELECT md5(g::text) || repeat(\'x\', 500) FROM generate_series(1, 200000) g"); }'),
    ("pg_too_many_clients", "resource", "pgjdbc39", "too many clients",
     'List<Connection> held = new ArrayList<>(); for (int i = 0; i < 12; i++) '
     f'held.add(DriverManager.getConnection("{_PRIVATE_PG}postgres"));'),
    ("my_too_many", "resource", "mariadb-jdbc39", "Too many connections",
     'List<Connection> held = new ArrayList<>(); for (int i = 0; i < 12; i++) '
     'held.add(DriverManager.getConnection("jdbc:mariadb://127.0.0.1:@MYPRIV@/mysql?user=root"));'),
]

MARIADB: list[JavaCase] = [
    ("my_refused", "network", "mariadb-jdbc39", "refused",
     'DriverManager.getConnection("jdbc:mariadb://127.0.0.1:@CLOSED@/shop?user=app&connectTimeout=2000");'),
    ("my_read_timeout", "network", "mariadb-jdbc39", "timed out|timeout",
     'DriverManager.getConnection("jdbc:mariadb://127.0.0.1:@HANG@/shop?user=app&connectTimeout=2000'
     '&socketTimeout=1000");'),
    ("my_access_denied", "auth", "mariadb-jdbc39", "Access denied",
     'my("b39_app&password=wrong-password");'),
    ("my_select_denied", "auth", "mariadb-jdbc39", "denied",
     'try (Connection c = my("b39_app&password=right-password")) { sql(c, "SELECT token FROM b39_secret"); }'),
    ("my_duplicate", "validation", "mariadb-jdbc39", "Duplicate entry",
     'try (Connection c = my("root")) { sql(c, "CREATE TEMPORARY TABLE skus (code VARCHAR(8) PRIMARY KEY)"); '
     'PreparedStatement p = c.prepareStatement("INSERT INTO skus VALUES (?)"); p.setString(1, "SKU-42"); '
     'p.executeUpdate(); p.executeUpdate(); }'),
    ("my_too_long", "validation", "mariadb-jdbc39", "too long",
     'try (Connection c = my("root")) { sql(c, "CREATE TEMPORARY TABLE countries (iso CHAR(2) NOT NULL)"); '
     'PreparedStatement p = c.prepareStatement("INSERT INTO countries VALUES (?)"); p.setString(1, "Germany"); '
     'p.executeUpdate(); }'),
    ("my_lock_wait", "resource", "mariadb-jdbc39", "Lock wait timeout",
     'try (Connection holder = my("root"); Connection worker = my("root")) { holder.setAutoCommit(false); '
     'sql(holder, "SELECT qty FROM b39_stock WHERE id = 1 FOR UPDATE"); '
     'sql(worker, "SET SESSION innodb_lock_wait_timeout = 1"); '
     'sql(worker, "UPDATE b39_stock SET qty = qty - 1 WHERE id = 1"); }'),
    ("my_unknown_column", "programming", "mariadb-jdbc39", "Unknown column",
     'try (Connection c = my("root")) { sql(c, "SELECT id, quantity FROM b39_stock"); }'),
    ("my_infile_missing", "filesystem", "mariadb-jdbc39", "No such file",
     'try (Connection c = my("root&allowLocalInfile=true")) { sql(c, "LOAD DATA LOCAL INFILE '
     '\'@TMP@/exports/stock.csv\' INTO TABLE b39_stock FIELDS TERMINATED BY \',\'"); }'),
]

HTTP: list[JavaCase] = [
    ("hc5_401", "auth", "httpclient39", "401", "hc5(url(401));"),
    ("hc5_429", "resource", "httpclient39", "429", "hc5(url(429));"),
    ("hc5_500", "service", "httpclient39", "500", "hc5(url(500));"),
    ("hc5_refused", "network", "httpclient39", "refused", 'hc5("http://127.0.0.1:@CLOSED@/api/v1/jobs");'),
    ("hc5_read_timeout", "network", "httpclient39", "timed out|timeout",
     "RequestConfig rc = RequestConfig.custom().setResponseTimeout(Timeout.ofMilliseconds(800)).build(); "
     "try (CloseableHttpClient c = HttpClients.custom().setDefaultRequestConfig(rc).disableAutomaticRetries().build()) "
     '{ c.execute(new HttpGet("http://127.0.0.1:@HANG@/api/v1/jobs"), new BasicHttpClientResponseHandler()); }'),
    ("hc5_reset", "network", "httpclient39", "reset", 'hc5("http://127.0.0.1:@RESET@/api/v1/jobs");'),
    ("hc5_no_response", "network", "httpclient39", "respond", 'hc5("http://127.0.0.1:@EMPTY@/api/v1/jobs");'),
    ("hc5_upload_missing", "filesystem", "httpclient39", "No such file",
     'HttpPost p = new HttpPost("http://127.0.0.1:@HTTP@/ok"); p.setEntity(new FileEntity('
     'new File("@TMP@/build/app-1.4.2.tar.gz"), ContentType.APPLICATION_OCTET_STREAM)); '
     "try (CloseableHttpClient c = HttpClients.custom().disableAutomaticRetries().build()) "
     "{ c.execute(p, new BasicHttpClientResponseHandler()); }"),
    ("hc5_closed_client", "programming", "httpclient39", "shut down",
     "CloseableHttpClient c = HttpClients.createDefault(); c.close(); "
     'c.execute(new HttpGet("http://127.0.0.1:@HTTP@/ok"), new BasicHttpClientResponseHandler());'),
    ("fluent_403", "auth", "httpclient-fluent39", "403", "fluent(url(403));"),
    ("fluent_502", "service", "httpclient-fluent39", "502", "fluent(url(502));"),
    ("fluent_400", "validation", "httpclient-fluent39", "400", "fluent(url(400));"),
    ("hc4_503", "service", "httpclient4-39", "503", "hc4(url(503));"),
    ("hc4_422", "validation", "httpclient4-39", "422", "hc4(url(422));"),
    ("hc4_refused", "network", "httpclient4-39", "refused", 'hc4("http://127.0.0.1:@CLOSED@/health");'),
    ("hc4_no_host", "programming", "httpclient4-39", "Target host", 'hc4("/api/v1/jobs");'),
]

DATA: list[JavaCase] = [
    ("jackson_trailing_comma", "validation", "jackson39", "Unexpected character",
     'new ObjectMapper().readTree("{\\"image\\": \\"app:1.4\\", \\"replicas\\": 3,}");'),
    ("jackson_truncated", "validation", "jackson39", "end-of-input",
     'new ObjectMapper().readTree("{\\"hosts\\": [\\"a\\", \\"b\\"");'),
    ("jackson_invalid_format", "validation", "jackson39", "Cannot deserialize",
     'new ObjectMapper().readValue("{\\"image\\": \\"app\\", \\"replicas\\": \\"three\\"}", Deploy.class);'),
    ("jackson_unknown_field", "validation", "jackson39", "Unrecognized field",
     'new ObjectMapper().readValue("{\\"image\\": \\"app\\", \\"replica\\": 3}", Deploy.class);'),
    ("jackson_no_creator", "programming", "jackson39", "Cannot construct instance",
     'new ObjectMapper().readValue("{\\"url\\": \\"http://x\\"}", Endpoint.class);'),
    ("jackson_no_serializer", "programming", "jackson39", "No serializer found",
     "System.out.println(new ObjectMapper().writeValueAsString(new Opaque()));"),
    ("jackson_missing_file", "filesystem", "jackson39", "No such file",
     'new ObjectMapper().readTree(new File("@TMP@/config/deploy.json"));'),
    ("jackson_read_only", "filesystem", "jackson39", "Read-only",
     'new ObjectMapper().writeValue(new File("@RODIR@/deploy.json"), Map.of("replicas", 3));'),
    ("gson_truncated", "validation", "gson39", "End of input|EOF",
     'new Gson().fromJson("{\\"image\\": \\"app\\", \\"replicas\\": 3", Deploy.class);'),
    ("gson_number", "validation", "gson39", "three",
     'new Gson().fromJson("{\\"image\\": \\"app\\", \\"replicas\\": \\"three\\"}", Deploy.class);'),
    ("gson_expected_object", "validation", "gson39", "BEGIN_OBJECT",
     'new Gson().fromJson("[\\"app\\", 3]", Deploy.class);'),
    ("gson_duplicate_field", "programming", "gson39", "multiple JSON fields",
     "System.out.println(new Gson().toJson(new Child()));"),
    ("gson_inaccessible", "programming", "gson39", "accessible",
     "System.out.println(new Gson().toJson(java.time.Duration.ofSeconds(30)));"),
    ("yaml_indent", "validation", "snakeyaml39", "expected|while parsing",
     'new Yaml().load("deploy:\\n  image: app\\n replicas: 3\\n");'),
    ("yaml_tab", "validation", "snakeyaml39", "cannot start any token",
     'new Yaml().load("deploy:\\n\\timage: app\\n");'),
    ("yaml_unclosed_quote", "validation", "snakeyaml39", "end of stream",
     'new Yaml().load("name: \\"app\\nreplicas: 3\\n");'),
    ("yaml_bean_type", "validation", "snakeyaml39", "Cannot create property",
     'new Yaml().loadAs("image: app\\nreplicas: three\\n", Deploy.class);'),
    ("yaml_no_ctor", "programming", "snakeyaml39", "NoSuchMethod|construct",
     'new Yaml().loadAs("image: app\\n", NoCtor.class);'),
    ("csv_quote", "validation", "commons-csv39", "invalid char",
     'CSVParser.parse("id,name\\n1,\\"Ada\\"x\\n", CSVFormat.DEFAULT).getRecords();'),
    ("csv_eof_quote", "validation", "commons-csv39", "EOF",
     'CSVParser.parse("id,name\\n1,\\"Ada\\n2,Grace\\n", CSVFormat.DEFAULT).getRecords();'),
    ("csv_duplicate_header", "validation", "commons-csv39", "duplicate",
     'CSVParser.parse("id,email,id\\n1,a@example.org,2\\n", CSVFormat.DEFAULT.builder().setHeader()'
     ".setSkipHeaderRecord(true).setAllowDuplicateHeaderNames(false).build()).getRecords();"),
    ("csv_missing_file", "filesystem", "commons-csv39", "NoSuchFile|No such file",
     'CSVParser.parse(Path.of("@TMP@/imports/customers.csv"), StandardCharsets.UTF_8, CSVFormat.DEFAULT)'
     ".getRecords();"),
    ("csv_no_header", "programming", "commons-csv39", "header mapping",
     'System.out.println(CSVParser.parse("1,Ada\\n", CSVFormat.DEFAULT).getRecords().get(0).get("name"));'),
    ("jsch_refused", "network", "jsch39", "refused",
     'Session s = ssh(@CLOSED@); s.setPassword("deploy"); s.connect(3000);'),
    ("jsch_timeout", "network", "jsch39", "timed out|timeout",
     'Session s = ssh(@HANG@); s.setPassword("deploy"); s.connect(1000);'),
    ("jsch_auth_fail", "auth", "jsch39", "Auth fail",
     'Session s = ssh(@SSH@); s.setPassword("wrong-password"); s.connect(5000);'),
    ("jsch_identity_missing", "filesystem", "jsch39", "No such file",
     'new JSch().addIdentity("@TMP@/keys/deploy_ed25519");'),
    ("jsch_session_down", "programming", "jsch39", "session is down",
     'Session s = ssh(@SSH@); s.openChannel("sftp").connect();'),
]


def blind39_records(env: Env) -> list[Record]:
    if not (shutil.which("java") and shutil.which("javac")):
        return []
    postgres = pwd.getpwnam("postgres")
    env.tmp.chmod(0o711)  # the private cluster's postgres user must reach its tablespace on the tmpfs below
    disk = mount_tmpfs(env, "disk39", f"size=512k,mode=0700,uid={postgres.pw_uid},gid={postgres.pw_gid}")
    values = {
        "HTTP": str(env.http_port), "CLOSED": str(env.closed_port), "HANG": str(env.hang_port),
        "RESET": str(env.reset_port), "EMPTY": str(env.empty_port), "TMP": str(env.tmp),
        "RODIR": str(mount_tmpfs(env, "ro39", "size=64k,ro")), "DISK": str(disk),
        "PGPRIV": str(private_postgres(env, max_connections=4, reserved=1).port),
        "PGSTANDBY": str(private_postgres(env, standby=True).port),
        "MYPRIV": str(private_mariadb(env, max_connections=2)[0]), "SSH": str(private_sshd(env)),
    }
    cases = [*HTTP, *DATA]
    if shared_db_fixtures(env):
        cases = [*PGJDBC, *MARIADB, *cases]
    return java_library_records(env, cases, PGJDBC_PRIVATE, values)


if __name__ == "__main__":
    write_batch(blind39_records)


__all__ = ["BLIND39_SOURCES", "blind39_records"]
