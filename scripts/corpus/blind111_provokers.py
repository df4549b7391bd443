"""Hundred-and-eleventh batch of blind provokers: JVM libraries from Debian's Java packages, each program compiled
with javac against the jars of /usr/share/java and started with `java -cp` (blind111_support). OkHttp 3 calls
answered 401/403/429/503 by the local status server, a refused port, a reset, a half-sent body, a server that
never answers, a self-signed certificate, a body read twice and a GET with a body; HikariCP pools on private
PostgreSQL clusters (a wrong password, a refused port, a pool exhausted by its own callers, too many clients,
a standby that refuses connections, a JDBC URL the driver does not accept, a closed data source, an SQL syntax
error, a unique violation); H2 (a wrong password, a file locked by another process, a missing database with
IFEXISTS, a full and a read-only tmpfs, a garbled file, a refused TCP server, a syntax error, a unique
violation); Log4j 2 (a malformed configuration, an unknown pattern converter, a file appender on a read-only
mount and on a full disk, a socket appender to a refused port, an HTTP appender answered 401 and 503); Guava
(checkNotNull, ImmutableMap, getOnlyElement, HostAndPort on bad input, Files on a missing file and a full
disk, a LoadingCache whose loader reads a missing file, a ListenableFuture to a refused port); Commons Compress
(garbled gzip and zip, a truncated tar, extraction onto a full and a read-only tmpfs, a missing archive, an entry
longer than its header, unclosed entries); Commons IO (a missing file, URLs answered 401/503, a refused port, a
read timeout, a full disk, a heap too small, a file-descriptor limit, a move onto an existing file); Commons CLI
(a missing required option, an unknown option, a non-number, an illegal option name); Jetty 9
as an embedded server (servlets that fail with a NullPointerException, an IllegalStateException, a refused
upstream and a missing file). The label is the cause we provoked. Only 127.0.0.1."""

from __future__ import annotations

from blind111_support import Fixtures, compile_programs, prepare
from checked import ToolCase, tool_records
from common import Env, Record, write_batch

BLIND111_SOURCES = frozenset({"okhttp111", "hikaricp111", "h2db111", "log4j111", "guava111", "commonscompress111",
                              "commonsio111", "commonscli111", "jetty111"})

# --------------------------------------------------------------------------- OkHttp

_OKHTTP = """import java.io.IOException;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

class @CLS@ {
    private static final OkHttpClient CLIENT = new OkHttpClient.Builder()
            .connectTimeout(3, TimeUnit.SECONDS)
            .readTimeout(2, TimeUnit.SECONDS)
            .build();

    static String fetch(String url) throws IOException {
        Request request = new Request.Builder()
                .url(url)
                .header("Accept", "application/json")
                .header("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.c2hpcG1lbnQtc3luYw.x1")
                .build();
        try (Response response = CLIENT.newCall(request).execute()) {
            if (!response.isSuccessful()) {
                throw new IOException("Unexpected code " + response);
            }
            return response.body().string();
        }
    }

    public static void main(String[] args) throws IOException {
        System.out.println(fetch("@URL@"));
    }
}
"""


def _okhttp(cls: str, url: str) -> str:
    return _OKHTTP.replace("@CLS@", cls).replace("@URL@", url)


OKHTTP_SOURCES = {
    "ShipmentSync": _okhttp("ShipmentSync", "@HTTP@/status/401?carrier=dhl&since=2026-11-28T00:00:00Z"),
    "TenantDirectory": _okhttp("TenantDirectory", "@HTTP@/status/403?tenant=acme-eu"),
    "RatesClient": _okhttp("RatesClient", "@HTTP@/status/429?base=EUR"),
    "CatalogFeed": _okhttp("CatalogFeed", "@HTTP@/status/503?feed=catalog-full"),
    "PricingGateway": _okhttp("PricingGateway", "http://127.0.0.1:@CLOSED@/v2/prices?sku=SKU-88412"),
    "StockWebhook": _okhttp("StockWebhook", "http://127.0.0.1:@RESET@/hooks/stock"),
    "InvoicePdfFetcher": _okhttp("InvoicePdfFetcher", "http://127.0.0.1:@CLOSE@/invoices/INV-2026-11-0042.pdf"),
    "GeoLookup": _okhttp("GeoLookup", "http://127.0.0.1:@HANG@/geo/v1/lookup?ip=10.20.30.40"),
    "VaultClient": _okhttp("VaultClient", "https://127.0.0.1:@TLS@/v1/secret/data/payments"),
    "HealthProbe": """import java.io.IOException;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

class HealthProbe {
    public static void main(String[] args) throws IOException {
        OkHttpClient client = new OkHttpClient();
        Request request = new Request.Builder().url("@HTTP@/ok?probe=readiness").build();
        try (Response response = client.newCall(request).execute()) {
            String body = response.body().string();
            System.out.println("status=" + response.code() + " bytes=" + body.length());
            System.out.println("payload=" + response.body().string());
        }
    }
}
""",
    "SearchQuery": """import java.io.IOException;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

class SearchQuery {
    private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");

    public static void main(String[] args) throws IOException {
        OkHttpClient client = new OkHttpClient();
        RequestBody body = RequestBody.create(JSON, "{\\"query\\": {\\"match\\": {\\"sku\\": \\"SKU-88412\\"}}}");
        Request request = new Request.Builder().url("@HTTP@/ok/products/_search").method("GET", body).build();
        try (Response response = client.newCall(request).execute()) {
            System.out.println(response.body().string());
        }
    }
}
""",
}

OKHTTP: list[ToolCase] = [
    ("okhttp_401", "auth", "code=401", "@JAVA@ ShipmentSync"),
    ("okhttp_403", "auth", "code=403", "@JAVA@ TenantDirectory"),
    ("okhttp_429", "resource", "code=429", "@JAVA@ RatesClient"),
    ("okhttp_503", "service", "code=503", "@JAVA@ CatalogFeed"),
    ("okhttp_refused", "network", "Failed to connect|ConnectException", "@JAVA@ PricingGateway"),
    ("okhttp_reset", "network", "reset|unexpected end of stream", "@JAVA@ StockWebhook"),
    ("okhttp_half_body", "network", "unexpected end|EOFException|ProtocolException", "@JAVA@ InvoicePdfFetcher"),
    ("okhttp_read_timeout", "network", "timeout|timed out", "@JAVA@ GeoLookup"),
    ("okhttp_self_signed", "network", "PKIX|SSLHandshakeException|certificate", "@JAVA@ VaultClient"),
    ("okhttp_body_read_twice", "programming", "IllegalStateException|closed", "@JAVA@ HealthProbe"),
    ("okhttp_get_with_body", "programming", "must not have a request body", "@JAVA@ SearchQuery"),
]

# --------------------------------------------------------------------------- HikariCP on PostgreSQL

_HIKARI_HEAD = """import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

"""


def _pool(port: str, user: str = "app", password: str = "right-password", extra: str = "") -> str:
    return (f'        HikariConfig cfg = new HikariConfig();\n'
            f'        cfg.setJdbcUrl("jdbc:postgresql://127.0.0.1:{port}/postgres?ApplicationName=orders-service");\n'
            f'        cfg.setUsername("{user}");\n        cfg.setPassword("{password}");\n'
            f'        cfg.setPoolName("orders-pool");\n        cfg.setConnectionTimeout(2000);\n{extra}')


HIKARI_SOURCES = {
    "OrdersRepository": _HIKARI_HEAD + "class OrdersRepository {\n    public static void main(String[] args) throws "
    "SQLException {\n" + _pool("@PG@", password="orders-2025!") + """\
        try (HikariDataSource ds = new HikariDataSource(cfg);
             Connection conn = ds.getConnection()) {
            System.out.println(conn.isValid(1));
        }
    }
}
""",
    "OrdersRefused": _HIKARI_HEAD + "class OrdersRefused {\n    public static void main(String[] args) throws "
    "SQLException {\n" + _pool("@CLOSED@") + """        try (HikariDataSource ds = new HikariDataSource(cfg);
             Connection conn = ds.getConnection()) {
            System.out.println(conn.isValid(1));
        }
    }
}
""",
    "ReportBatch": _HIKARI_HEAD + "class ReportBatch {\n    public static void main(String[] args) throws "
    "Exception {\n" + _pool("@PG@", extra="        cfg.setMaximumPoolSize(3);\n") + """\
        HikariDataSource ds = new HikariDataSource(cfg);
        List<Connection> busy = new ArrayList<>();
        for (int region = 0; region < 4; region++) {
            Connection conn = ds.getConnection();
            conn.setAutoCommit(false);
            busy.add(conn);
            System.out.println("region " + region + " export started");
        }
    }
}
""",
    "ShardRouter": _HIKARI_HEAD + "class ShardRouter {\n    public static void main(String[] args) throws "
    "Exception {\n" + _pool("@PGSMALL@", extra="        cfg.setMaximumPoolSize(3);\n        cfg.setMinimumIdle(3);\n")
    + """        HikariDataSource primary = new HikariDataSource(cfg);
        for (int i = 0; i < 50 && primary.getHikariPoolMXBean().getTotalConnections() < 3; i++) {
            Thread.sleep(100);
        }
        HikariConfig replica = new HikariConfig();
        replica.setJdbcUrl("jdbc:postgresql://127.0.0.1:@PGSMALL@/postgres?ApplicationName=orders-reports");
        replica.setUsername("app");
        replica.setPassword("right-password");
        replica.setPoolName("reports-pool");
        try (HikariDataSource reports = new HikariDataSource(replica)) {
            System.out.println(reports.getConnection().isValid(1));
        }
    }
}
""",
    "FailoverCheck": _HIKARI_HEAD + "class FailoverCheck {\n    public static void main(String[] args) throws "
    "SQLException {\n" + _pool("@PGSTANDBY@") + """        try (HikariDataSource ds = new HikariDataSource(cfg);
             Connection conn = ds.getConnection()) {
            System.out.println(conn.isValid(1));
        }
    }
}
""",
    "LegacyImport": _HIKARI_HEAD + """class LegacyImport {
    public static void main(String[] args) throws SQLException {
        HikariConfig cfg = new HikariConfig();
        cfg.setDriverClassName("org.postgresql.Driver");
        cfg.setJdbcUrl("jdbc:postgres://127.0.0.1:@PG@/legacy_orders");
        cfg.setUsername("app");
        cfg.setPassword("right-password");
        try (HikariDataSource ds = new HikariDataSource(cfg)) {
            System.out.println(ds.getConnection().isValid(1));
        }
    }
}
""",
    "NightlyCleanup": _HIKARI_HEAD + "class NightlyCleanup {\n    static HikariDataSource ds;\n\n"
    "    static int purge(String table) throws SQLException {\n"
    "        try (Connection conn = ds.getConnection(); Statement st = conn.createStatement()) {\n"
    "            return st.executeUpdate(\"DELETE FROM \" + table\n"
    "                    + \" WHERE created_at < now() - interval '90 days'\");\n"
    "        }\n    }\n\n    public static void main(String[] args) throws SQLException {\n" + _pool("@PG@")
    + """        ds = new HikariDataSource(cfg);
        try (Connection conn = ds.getConnection(); Statement st = conn.createStatement()) {
            st.execute("SELECT 1");
        }
        ds.close();
        System.out.println("purged " + purge("session_log"));
    }
}
""",
    "OrderTotals": _HIKARI_HEAD + "class OrderTotals {\n    public static void main(String[] args) throws "
    "SQLException {\n" + _pool("@PG@") + """        try (HikariDataSource ds = new HikariDataSource(cfg);
             Connection conn = ds.getConnection();
             PreparedStatement ps = conn.prepareStatement(
                 "SELECT customer_id, sum(total) FROM orders WHERE placed_at >= ? GROUP customer_id")) {
            ps.setObject(1, java.time.LocalDate.of(2026, 11, 1));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    System.out.println(rs.getLong(1) + " " + rs.getBigDecimal(2));
                }
            }
        }
    }
}
""",
    "CouponImport": _HIKARI_HEAD + "class CouponImport {\n    public static void main(String[] args) throws "
    "SQLException {\n" + _pool("@PG@") + """        try (HikariDataSource ds = new HikariDataSource(cfg);
             Connection conn = ds.getConnection()) {
            try (Statement st = conn.createStatement()) {
                st.execute("CREATE TEMP TABLE coupons (code text PRIMARY KEY, percent int NOT NULL)");
            }
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO coupons (code, percent) VALUES (?, ?)")) {
                for (String code : new String[] {"BLACKFRIDAY26", "WELCOME10", "BLACKFRIDAY26"}) {
                    ps.setString(1, code);
                    ps.setInt(2, 15);
                    ps.executeUpdate();
                }
            }
        }
    }
}
""",
}

HIKARI: list[ToolCase] = [
    ("hikari_wrong_password", "auth", "password authentication failed", "@JAVA@ OrdersRepository"),
    ("hikari_refused", "network", "refused", "@JAVA@ OrdersRefused"),
    ("hikari_pool_exhausted", "resource", "Connection is not available", "@JAVA@ ReportBatch"),
    ("hikari_too_many_clients", "resource", "too many clients|remaining connection slots", "@JAVA@ ShardRouter"),
    ("hikari_standby", "service", "not accepting connections|starting up|Hot standby", "@JAVA@ FailoverCheck"),
    ("hikari_bad_jdbc_url", "validation", "claims to not accept", "@JAVA@ LegacyImport"),
    ("hikari_closed_datasource", "programming", "has been closed", "@JAVA@ NightlyCleanup"),
    ("hikari_sql_syntax", "programming", "syntax error", "@JAVA@ OrderTotals"),
    ("hikari_unique_violation", "validation", "duplicate key", "@JAVA@ CouponImport"),
]

# --------------------------------------------------------------------------- H2

_H2_HEAD = """import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

"""

H2_SOURCES = {
    "LedgerService": _H2_HEAD + """class LedgerService {
    public static void main(String[] args) throws SQLException {
        String url = "jdbc:h2:@ROOT@/h2/auth/ledger";
        try (Connection conn = DriverManager.getConnection(url, "ledger", "L3dger-2026");
             Statement st = conn.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS entries (id BIGINT PRIMARY KEY, amount DECIMAL(12,2))");
        }
        try (Connection conn = DriverManager.getConnection(url, "ledger", "L3dger-2025");
             Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM entries")) {
            rs.next();
            System.out.println("entries: " + rs.getLong(1));
        }
    }
}
""",
    "InventoryHolder": _H2_HEAD + """class InventoryHolder {
    public static void main(String[] args) throws Exception {
        try (Connection conn = DriverManager.getConnection("jdbc:h2:@ROOT@/h2/lock/inventory", "sa", "")) {
            conn.createStatement().execute("CREATE TABLE IF NOT EXISTS stock (sku VARCHAR(32) PRIMARY KEY, qty INT)");
            System.out.println("ready");
            Thread.sleep(25000);
        }
    }
}
""",
    "InventoryReport": _H2_HEAD + """class InventoryReport {
    public static void main(String[] args) throws SQLException {
        try (Connection conn = DriverManager.getConnection("jdbc:h2:@ROOT@/h2/lock/inventory", "sa", "");
             ResultSet rs = conn.createStatement().executeQuery("SELECT sku, qty FROM stock WHERE qty < 5")) {
            while (rs.next()) {
                System.out.println(rs.getString(1) + " " + rs.getInt(2));
            }
        }
    }
}
""",
    "LedgerArchive": _H2_HEAD + """class LedgerArchive {
    public static void main(String[] args) throws SQLException {
        String url = "jdbc:h2:@ROOT@/srv/ledger/ledger-2026;IFEXISTS=TRUE";
        try (Connection conn = DriverManager.getConnection(url, "sa", "")) {
            System.out.println(conn.getMetaData().getDatabaseProductVersion());
        }
    }
}
""",
    "MetricsStore": _H2_HEAD + """class MetricsStore {
    public static void main(String[] args) throws SQLException {
        try (Connection conn = DriverManager.getConnection("jdbc:h2:@FULL@/metrics", "sa", "");
             Statement st = conn.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS samples (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                    + "host VARCHAR(64), payload VARCHAR(100000))");
            java.util.Random rnd = new java.util.Random(111);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 20000; i++) {
                sb.append((char) ('a' + rnd.nextInt(26)));
            }
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO samples (host, payload) VALUES (?, ?)")) {
                for (int i = 0; i < 2000; i++) {
                    ps.setString(1, "web-" + (i % 12));
                    ps.setString(2, sb.reverse().toString() + i);
                    ps.executeUpdate();
                }
            }
        }
    }
}
""",
    "SessionCache": _H2_HEAD + """class SessionCache {
    public static void main(String[] args) throws SQLException {
        try (Connection conn = DriverManager.getConnection("jdbc:h2:@RO@/restore/sessions", "sa", "");
             Statement st = conn.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS sessions (id UUID PRIMARY KEY, user_id BIGINT)");
        }
    }
}
""",
    "LedgerRecovery": _H2_HEAD + """class LedgerRecovery {
    public static void main(String[] args) throws SQLException {
        try (Connection conn = DriverManager.getConnection("jdbc:h2:@ROOT@/h2/corrupt/ledger", "sa", "");
             ResultSet rs = conn.createStatement().executeQuery("SELECT count(*) FROM entries")) {
            rs.next();
            System.out.println(rs.getLong(1));
        }
    }
}
""",
    "LedgerRemote": _H2_HEAD + """class LedgerRemote {
    public static void main(String[] args) throws SQLException {
        try (Connection conn = DriverManager.getConnection("jdbc:h2:tcp://127.0.0.1:@CLOSED@/~/ledger", "sa", "")) {
            System.out.println(conn.isValid(2));
        }
    }
}
""",
    "MonthlyStatement": _H2_HEAD + """class MonthlyStatement {
    public static void main(String[] args) throws SQLException {
        try (Connection conn = DriverManager.getConnection("jdbc:h2:mem:statements", "sa", "");
             Statement st = conn.createStatement()) {
            st.execute("CREATE TABLE entries (id BIGINT PRIMARY KEY, account VARCHAR(20), amount DECIMAL(12,2))");
            try (ResultSet rs = st.executeQuery(
                    "SELECT account, SUM(amount) total FROM entries GROUP BY account ORDER total DESC")) {
                while (rs.next()) {
                    System.out.println(rs.getString(1));
                }
            }
        }
    }
}
""",
    "AccountImport": _H2_HEAD + """class AccountImport {
    public static void main(String[] args) throws SQLException {
        try (Connection conn = DriverManager.getConnection("jdbc:h2:mem:accounts", "sa", "");
             Statement st = conn.createStatement()) {
            st.execute("CREATE TABLE accounts (iban VARCHAR(34) PRIMARY KEY, holder VARCHAR(80))");
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO accounts VALUES (?, ?)")) {
                String[][] rows = {{"DE89370400440532013000", "Muster GmbH"}, {"FR1420041010050500013M02606", "Dupont"},
                                   {"DE89370400440532013000", "Muster GmbH & Co. KG"}};
                for (String[] row : rows) {
                    ps.setString(1, row[0]);
                    ps.setString(2, row[1]);
                    ps.executeUpdate();
                }
            }
        }
    }
}
""",
}

H2: list[ToolCase] = [
    ("h2_wrong_password", "auth", "Wrong user name or password", "@JAVA@ LedgerService"),
    ("h2_file_locked", "resource", "already in use|locked",
     "@JAVA@ InventoryHolder > @ROOT@/h2-holder.log 2>&1 &\nholder=$!\n"
     "for i in $(seq 1 100); do grep -q ready @ROOT@/h2-holder.log 2>/dev/null && break; sleep 0.1; done\n"
     "@JAVA@ InventoryReport\nrc=$?\nkill $holder\nexit $rc"),
    ("h2_ifexists_missing", "filesystem", "not found", "@JAVA@ LedgerArchive"),
    ("h2_disk_full", "resource", "No space left", "@JAVA@ MetricsStore"),
    ("h2_read_only_mount", "filesystem", "Read-only|read only", "@JAVA@ SessionCache"),
    ("h2_corrupt_file", "validation", "corrupt", "@JAVA@ LedgerRecovery"),
    ("h2_tcp_refused", "network", "refused", "@JAVA@ LedgerRemote"),
    ("h2_sql_syntax", "programming", "Syntax error", "@JAVA@ MonthlyStatement"),
    ("h2_unique_violation", "validation", "Unique index or primary key violation", "@JAVA@ AccountImport"),
]

# --------------------------------------------------------------------------- Log4j 2

LOG4J_SOURCES = {
    "PaymentAudit": """import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.core.LoggerContext;

class PaymentAudit {
    private static final Logger LOG = LogManager.getLogger(PaymentAudit.class);

    public static void main(String[] args) {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        if (!ctx.getConfiguration().getAppenders().containsKey("audit")) {
            System.exit(78);
        }
        for (int i = 0; i < 3000; i++) {
            LOG.info("settled payment pay_{} for merchant {} amount {} EUR", 880000 + i, "m_4411", 129.90);
        }
    }
}
""",
}


def _log4j(config: str) -> str:
    return f"@JAVA@ -Dlog4j2.configurationFile=@ROOT@/etc/log4j2-{config}.xml PaymentAudit"


LOG4J: list[ToolCase] = [
    ("log4j_malformed_xml", "validation", "must be terminated|Error parsing|XML", _log4j("malformed")),
    ("log4j_unknown_converter", "validation", "Unrecognized format specifier|Unrecognized conversion",
     _log4j("pattern") + " && exit 78"),
    ("log4j_file_read_only", "filesystem", "Read-only file system", _log4j("readonly")),
    ("log4j_file_disk_full", "resource", "No space left", _log4j("full")),
    ("log4j_socket_refused", "network", "refused|socket not available", _log4j("socket")),
    ("log4j_http_401", "auth", "401 Unauthorized", _log4j("http401")),
    ("log4j_http_503", "service", "503 Service Unavailable", _log4j("http503")),
]

# --------------------------------------------------------------------------- Guava

GUAVA_SOURCES = {
    "CheckoutService": """import static com.google.common.base.Preconditions.checkNotNull;

import java.util.HashMap;
import java.util.Map;

class CheckoutService {
    private final Map<String, String> carts = new HashMap<>();

    String checkout(String cartId, String paymentToken) {
        checkNotNull(paymentToken, "paymentToken for cart %s", cartId);
        return carts.getOrDefault(cartId, "empty");
    }

    public static void main(String[] args) {
        Map<String, String> session = new HashMap<>();
        session.put("cartId", "cart-7f3a91");
        System.out.println(new CheckoutService().checkout(session.get("cartId"), session.get("paymentToken")));
    }
}
""",
    "FeatureFlags": """import com.google.common.collect.ImmutableMap;

class FeatureFlags {
    static final ImmutableMap<String, Boolean> DEFAULTS = ImmutableMap.<String, Boolean>builder()
            .put("checkout.v2", true)
            .put("search.typo-tolerance", false)
            .put("checkout.v2", false)
            .build();

    public static void main(String[] args) {
        System.out.println(DEFAULTS);
    }
}
""",
    "PrimaryLookup": """import com.google.common.collect.Iterables;
import java.util.List;

class PrimaryLookup {
    record Node(String host, String role) { }

    public static void main(String[] args) {
        List<Node> nodes = List.of(new Node("pg-1.internal", "primary"), new Node("pg-2.internal", "replica"),
                new Node("pg-3.internal", "primary"));
        Node primary = Iterables.getOnlyElement(nodes.stream().filter(n -> n.role().equals("primary")).toList());
        System.out.println(primary.host());
    }
}
""",
    "UpstreamConfig": """import com.google.common.net.HostAndPort;
import java.util.Properties;

class UpstreamConfig {
    public static void main(String[] args) {
        Properties props = new Properties();
        props.setProperty("upstream.redis", "cache-eu-1.internal:63 79");
        HostAndPort hp = HostAndPort.fromString(props.getProperty("upstream.redis")).withDefaultPort(6379);
        System.out.println(hp.getHost() + " " + hp.getPort());
    }
}
""",
    "TemplateLoader": """import com.google.common.io.Files;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

class TemplateLoader {
    public static void main(String[] args) throws IOException {
        File template = new File("@ROOT@/templates/email/order-shipped.html");
        System.out.println(Files.asCharSource(template, StandardCharsets.UTF_8).read().length());
    }
}
""",
    "ThumbnailWriter": """import com.google.common.io.Files;
import java.io.File;
import java.io.IOException;

class ThumbnailWriter {
    public static void main(String[] args) throws IOException {
        byte[] image = new byte[512 * 1024];
        new java.util.Random(11).nextBytes(image);
        Files.write(image, new File("@FULL@/thumb-SKU-88412-800x800.webp"));
    }
}
""",
    "TenantSettings": """import com.google.common.cache.CacheBuilder;
import com.google.common.cache.CacheLoader;
import com.google.common.cache.LoadingCache;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;

class TenantSettings {
    static final LoadingCache<String, String> SETTINGS = CacheBuilder.newBuilder()
            .maximumSize(500)
            .expireAfterWrite(10, TimeUnit.MINUTES)
            .build(new CacheLoader<String, String>() {
                @Override
                public String load(String tenant) throws Exception {
                    return Files.readString(Paths.get("@ROOT@/tenants", tenant, "settings.json"),
                            StandardCharsets.UTF_8);
                }
            });

    public static void main(String[] args) {
        System.out.println(SETTINGS.getUnchecked("acme-eu"));
    }
}
""",
    "WarehousePing": """import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.ListeningExecutorService;
import com.google.common.util.concurrent.MoreExecutors;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.Executors;

class WarehousePing {
    public static void main(String[] args) throws Exception {
        ListeningExecutorService pool = MoreExecutors.listeningDecorator(Executors.newFixedThreadPool(2));
        try {
            ListenableFuture<Integer> reply = pool.submit(() -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", @CLOSED@), 2000);
                    s.getOutputStream().write("PING warehouse-eu-2\\r\\n".getBytes());
                    InputStream in = s.getInputStream();
                    return in.read();
                }
            });
            System.out.println(reply.get());
        } finally {
            pool.shutdownNow();
        }
    }
}
""",
}

GUAVA: list[ToolCase] = [
    ("guava_check_not_null", "programming", "NullPointerException", "@JAVA@ CheckoutService"),
    ("guava_immutable_map_duplicate", "programming", "Multiple entries with same key", "@JAVA@ FeatureFlags"),
    ("guava_get_only_element", "programming", "expected one element", "@JAVA@ PrimaryLookup"),
    ("guava_host_and_port", "validation", "port", "@JAVA@ UpstreamConfig"),
    ("guava_files_missing", "filesystem", "FileNotFoundException|No such file", "@JAVA@ TemplateLoader"),
    ("guava_files_disk_full", "resource", "No space left", "@JAVA@ ThumbnailWriter"),
    ("guava_cache_loader_missing_file", "filesystem", "NoSuchFileException", "@JAVA@ TenantSettings"),
    ("guava_future_refused", "network", "ConnectException|refused", "@JAVA@ WarehousePing"),
]

# --------------------------------------------------------------------------- Commons Compress

COMPRESS_SOURCES = {
    "ReleaseUnpacker": """import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.utils.IOUtils;

class ReleaseUnpacker {
    static InputStream open(Path archive) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(archive));
        return archive.toString().endsWith(".gz") ? new GzipCompressorInputStream(in) : in;
    }

    public static void main(String[] args) throws IOException {
        Path archive = Paths.get(args[0]);
        Path dest = Paths.get(args[1]);
        try (TarArchiveInputStream tar = new TarArchiveInputStream(open(archive))) {
            TarArchiveEntry entry;
            int files = 0;
            while ((entry = tar.getNextTarEntry()) != null) {
                Path out = dest.resolve(entry.getName()).normalize();
                if (entry.isDirectory()) {
                    Files.createDirectories(out);
                    continue;
                }
                Files.createDirectories(out.getParent());
                try (OutputStream o = Files.newOutputStream(out)) {
                    IOUtils.copy(tar, o);
                }
                files++;
            }
            System.out.println("unpacked " + files + " files into " + dest);
        }
    }
}
""",
    "InvoiceBundle": """import java.io.File;
import java.io.IOException;
import java.util.Collections;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;

class InvoiceBundle {
    public static void main(String[] args) throws IOException {
        try (ZipFile zip = new ZipFile(new File("@ROOT@/releases/invoices-november.zip"))) {
            for (ZipArchiveEntry e : Collections.list(zip.getEntries())) {
                System.out.println(e.getName() + " " + e.getSize());
            }
        }
    }
}
""",
    "LogBundler": """import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

class LogBundler {
    public static void main(String[] args) throws IOException {
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(
                Files.newOutputStream(Paths.get("@ROOT@/releases/logs-2026-11-29.tar")))) {
            byte[] log = ("2026-11-29T08:15:02Z INFO  checkout completed order=1000001\\n").repeat(40)
                    .getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry entry = new TarArchiveEntry("web-1/checkout.log");
            entry.setSize(1024);
            tar.putArchiveEntry(entry);
            tar.write(log);
            tar.closeArchiveEntry();
        }
    }
}
""",
    "ConfigSnapshot": """import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;

class ConfigSnapshot {
    public static void main(String[] args) throws IOException {
        ZipArchiveOutputStream zip = new ZipArchiveOutputStream(
                Files.newOutputStream(Paths.get("@ROOT@/releases/config-snapshot.zip")));
        for (String name : new String[] {"application.yml", "logback.xml"}) {
            zip.putArchiveEntry(new ZipArchiveEntry("config/" + name));
            zip.write(("# " + name + "\\n").getBytes(StandardCharsets.UTF_8));
        }
        zip.finish();
        zip.close();
    }
}
""",
}

_UNPACK = "@JAVA@ ReleaseUnpacker"
COMPRESS: list[ToolCase] = [
    ("compress_gzip_garbage", "validation", "not in the .gz format",
     f"{_UNPACK} @ROOT@/releases/site-2026.12.tar.gz @ROOT@/www/site-2026.12"),
    ("compress_tar_truncated", "validation", "truncated|EOF|Truncated",
     f"{_UNPACK} @ROOT@/releases/backup-2026-11-29.tar @ROOT@/restore/2026-11-29"),
    ("compress_zip_garbage", "validation", "central directory|corrupt|signature|Central", "@JAVA@ InvoiceBundle"),
    ("compress_extract_disk_full", "resource", "No space left",
     f"{_UNPACK} @ROOT@/releases/site-2026.11.tar.gz @FULL@/www"),
    ("compress_extract_read_only", "filesystem", "Read-only file system",
     f"{_UNPACK} @ROOT@/releases/site-2026.11.tar.gz @RO@/restore/www"),
    ("compress_archive_missing", "filesystem", "NoSuchFileException",
     f"{_UNPACK} @ROOT@/releases/site-2026.10.tar.gz @ROOT@/www/site-2026.10"),
    ("compress_entry_size_exceeded", "programming", "exceeds size in header", "@JAVA@ LogBundler"),
    ("compress_unclosed_entries", "programming", "unclosed entries", "@JAVA@ ConfigSnapshot"),
]

# --------------------------------------------------------------------------- Commons IO

COMMONSIO_SOURCES = {
    "ExportPublisher": """import java.io.File;
import java.io.IOException;
import org.apache.commons.io.FileUtils;

class ExportPublisher {
    public static void main(String[] args) throws IOException {
        File export = new File("@ROOT@/exports/orders-2026-12.csv");
        FileUtils.copyFile(export, new File("@ROOT@/outbox/sftp/orders-2026-12.csv"));
    }
}
""",
    "FxRatesDownload": """import java.io.File;
import java.io.IOException;
import java.net.URL;
import org.apache.commons.io.FileUtils;

class FxRatesDownload {
    public static void main(String[] args) throws IOException {
        FileUtils.copyURLToFile(new URL(args[0]), new File("@ROOT@/cache/fx-rates-2026-11-29.json"), 2000, 2000);
    }
}
""",
    "ReportWriter": """import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.commons.io.FileUtils;

class ReportWriter {
    public static void main(String[] args) throws IOException {
        StringBuilder csv = new StringBuilder("sku,units,revenue\\n");
        for (int i = 0; i < 20000; i++) {
            csv.append("SKU-").append(80000 + i).append(',').append(i % 97).append(',').append(i * 3.5).append('\\n');
        }
        FileUtils.writeStringToFile(new File("@FULL@/reports/sales-2026-11.csv"), csv.toString(),
                StandardCharsets.UTF_8);
    }
}
""",
    "OrdersDigest": """import java.io.File;
import java.io.IOException;
import org.apache.commons.io.FileUtils;

class OrdersDigest {
    public static void main(String[] args) throws IOException {
        byte[] export = FileUtils.readFileToByteArray(new File("@ROOT@/exports/orders-2026-11.csv"));
        System.out.println(export.length);
    }
}
""",
    "MailSpool": """import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.commons.io.FileUtils;

class MailSpool {
    public static void main(String[] args) throws IOException {
        Collection<File> messages = FileUtils.listFiles(new File("@ROOT@/spool"), new String[] {"eml"}, false);
        List<InputStream> open = new ArrayList<>();
        for (File message : messages) {
            open.add(FileUtils.openInputStream(message));
        }
        System.out.println("queued " + open.size() + " messages");
    }
}
""",
    "ExportRotate": """import java.io.File;
import java.io.IOException;
import org.apache.commons.io.FileUtils;

class ExportRotate {
    public static void main(String[] args) throws IOException {
        FileUtils.moveFile(new File("@ROOT@/exports/orders-2026-10.csv"),
                new File("@ROOT@/exports/archive/orders-2026-10.csv"));
    }
}
""",
}

COMMONSIO: list[ToolCase] = [
    ("commonsio_copy_missing", "filesystem", "does not exist|FileNotFoundException|NoSuchFile",
     "@JAVA@ ExportPublisher"),
    ("commonsio_url_401", "auth", "response code: 401", "@JAVA@ FxRatesDownload '@HTTP@/status/401?base=EUR'"),
    ("commonsio_url_503", "service", "response code: 503", "@JAVA@ FxRatesDownload '@HTTP@/status/503?base=EUR'"),
    ("commonsio_url_refused", "network", "refused", "@JAVA@ FxRatesDownload 'http://127.0.0.1:@CLOSED@/rates/EUR'"),
    ("commonsio_url_timeout", "network", "timed out|SocketTimeoutException",
     "@JAVA@ FxRatesDownload 'http://127.0.0.1:@HANG@/rates/EUR'"),
    ("commonsio_disk_full", "resource", "No space left", "@JAVA@ ReportWriter"),
    ("commonsio_heap", "resource", "OutOfMemoryError", "@JAVA@ -Xmx32m OrdersDigest"),
    ("commonsio_fd_limit", "resource", "Too many open files", "prlimit --nofile=160:160 @JAVA@ MailSpool"),
    ("commonsio_move_exists", "filesystem", "exists", "@JAVA@ ExportRotate"),
]

# --------------------------------------------------------------------------- Commons CLI

COMMONSCLI_SOURCES = {
    "DeployTool": """import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.CommandLineParser;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

class DeployTool {
    public static void main(String[] args) throws ParseException {
        Options options = new Options();
        options.addOption(Option.builder("e").longOpt("env").hasArg().required().desc("target environment").build());
        options.addOption(Option.builder("t").longOpt("tag").hasArg().required().desc("image tag").build());
        options.addOption(Option.builder("r").longOpt("replicas").hasArg().type(Number.class).build());
        options.addOption(Option.builder().longOpt("dry-run").build());
        CommandLineParser parser = new DefaultParser();
        CommandLine cmd = parser.parse(options, args);
        Number replicas = (Number) cmd.getParsedOptionValue("replicas");
        System.out.println("deploying " + cmd.getOptionValue("tag") + " to " + cmd.getOptionValue("env")
                + " x" + replicas);
    }
}
""",
    "BackupTool": """import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

class BackupTool {
    public static void main(String[] args) throws ParseException {
        Options options = new Options();
        options.addOption(Option.builder("d").longOpt("database").hasArg().build());
        options.addOption(Option.builder("retention days").hasArg().desc("days to keep").build());
        CommandLine cmd = new DefaultParser().parse(options, args);
        System.out.println(cmd.getOptionValue("database"));
    }
}
""",
}

COMMONSCLI: list[ToolCase] = [
    ("cli_missing_required", "validation", "Missing required option", "@JAVA@ DeployTool --tag 2026.11.29-1"),
    ("cli_unrecognized", "validation", "Unrecognized option",
     "@JAVA@ DeployTool --env prod --tag 2026.11.29-1 --canary"),
    ("cli_not_a_number", "validation", "ParseException|For input string|number",
     "@JAVA@ DeployTool --env prod --tag 2026.11.29-1 --replicas three"),
    ("cli_illegal_option_name", "programming", "IllegalArgumentException", "@JAVA@ BackupTool -d orders"),
]

# --------------------------------------------------------------------------- Jetty

_JETTY_HEAD = """import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.URL;
import java.util.HashMap;
import java.util.Map;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.ServletContextHandler;

"""

_JETTY_MAIN = """    public static void main(String[] args) throws Exception {
        Server server = new Server(new InetSocketAddress("127.0.0.1", 0));
        ServletContextHandler ctx = new ServletContextHandler();
        ctx.setContextPath("/");
        ctx.addServlet(@SERVLET@.class, "@PATH@");
        server.setHandler(ctx);
        server.start();
        int port = ((ServerConnector) server.getConnectors()[0]).getLocalPort();
        HttpURLConnection conn = (HttpURLConnection) new URL("http://127.0.0.1:" + port + "@QUERY@").openConnection();
        int status = conn.getResponseCode();
        server.stop();
        if (status != 200) {
            System.exit(1);
        }
    }
}
"""

JETTY_SOURCES = {
    "InventoryApi": _JETTY_HEAD + """class InventoryApi {
    public static class StockServlet extends HttpServlet {
        private final Map<String, Integer> onHand = new HashMap<>(Map.of("SKU-10001", 14, "SKU-10002", 0));

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            int qty = onHand.get(req.getParameter("sku"));
            resp.setContentType("application/json");
            resp.getWriter().printf("{\\"sku\\": \\"%s\\", \\"qty\\": %d}%n", req.getParameter("sku"), qty);
        }
    }

""" + _JETTY_MAIN.replace("@SERVLET@", "StockServlet").replace("@PATH@", "/api/stock")
    .replace("@QUERY@", "/api/stock?sku=SKU-88412"),
    "ExportApi": _JETTY_HEAD + """class ExportApi {
    public static class CsvServlet extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            resp.setContentType("text/csv");
            resp.getOutputStream().write("order_id,total\\n".getBytes());
            resp.getWriter().println("1000001,129.90");
        }
    }

""" + _JETTY_MAIN.replace("@SERVLET@", "CsvServlet").replace("@PATH@", "/export/orders.csv")
    .replace("@QUERY@", "/export/orders.csv?month=2026-11"),
    "QuoteApi": _JETTY_HEAD + """class QuoteApi {
    public static class QuoteServlet extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            URL upstream = new URL("http://127.0.0.1:@CLOSED@/internal/rates?currency=" + req.getParameter("currency"));
            HttpURLConnection conn = (HttpURLConnection) upstream.openConnection();
            conn.setConnectTimeout(2000);
            resp.setContentType("application/json");
            conn.getInputStream().transferTo(resp.getOutputStream());
        }
    }

""" + _JETTY_MAIN.replace("@SERVLET@", "QuoteServlet").replace("@PATH@", "/api/quote")
    .replace("@QUERY@", "/api/quote?currency=CHF"),
    "LegalPages": _JETTY_HEAD + """class LegalPages {
    public static class TermsServlet extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            java.nio.file.Path page = java.nio.file.Paths.get("@ROOT@/srv/www/legal", req.getParameter("lang"),
                    "terms.html");
            resp.setContentType("text/html");
            resp.getOutputStream().write(java.nio.file.Files.readAllBytes(page));
        }
    }

""" + _JETTY_MAIN.replace("@SERVLET@", "TermsServlet").replace("@PATH@", "/legal/terms")
    .replace("@QUERY@", "/legal/terms?lang=de"),
}

JETTY: list[ToolCase] = [
    ("jetty_servlet_npe", "programming", "NullPointerException", "@JAVA@ InventoryApi"),
    ("jetty_writer_after_stream", "programming", "IllegalStateException", "@JAVA@ ExportApi"),
    ("jetty_upstream_refused", "network", "ConnectException|refused", "@JAVA@ QuoteApi"),
    ("jetty_page_missing", "filesystem", "NoSuchFileException", "@JAVA@ LegalPages"),
]

SOURCES = {**OKHTTP_SOURCES, **HIKARI_SOURCES, **H2_SOURCES, **LOG4J_SOURCES, **GUAVA_SOURCES, **COMPRESS_SOURCES,
           **COMMONSIO_SOURCES, **COMMONSCLI_SOURCES, **JETTY_SOURCES}
GROUPS: list[tuple[str, list[ToolCase]]] = [
    ("okhttp111", OKHTTP), ("hikaricp111", HIKARI), ("h2db111", H2), ("log4j111", LOG4J), ("guava111", GUAVA),
    ("commonscompress111", COMPRESS), ("commonsio111", COMMONSIO), ("commonscli111", COMMONSCLI),
    ("jetty111", JETTY),
]


def _filler(env: Env, fx: Fixtures, java: str) -> dict[str, str]:
    return {"JAVA": java, "HTTP": env.http, "CLOSED": str(env.closed_port), "RESET": str(env.reset_port),
            "CLOSE": str(env.close_port), "HANG": str(env.hang_port), "TLS": str(fx.tls_port),
            "PG": str(fx.pg_port), "PGSMALL": str(fx.pg_small_port), "PGSTANDBY": str(fx.pg_standby_port),
            "ROOT": str(fx.root), "FULL": str(fx.full), "RO": str(fx.ro)}


def blind111_records(env: Env) -> list[Record]:
    fx = prepare(env)
    values = _filler(env, fx, "")

    def fill_source(text: str) -> str:
        for key, value in values.items():
            text = text.replace(f"@{key}@", value)
        return text

    java = compile_programs(fx.root / "java", SOURCES, fill_source)
    if java is None:
        return []
    values = _filler(env, fx, java)
    out: list[Record] = []
    for source, cases in GROUPS:
        out += tool_records(cases, source, fx.root, fill_source, timeout=90)
    return out


if __name__ == "__main__":
    write_batch(blind111_records)


__all__ = ["BLIND111_SOURCES", "blind111_records"]
