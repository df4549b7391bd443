"""Forty-sixth batch of blind provokers: Perl libraries and Lua, runtimes new to the corpus. Small Perl and Lua
programs of the kind deploy scripts, cron jobs and data pipelines run die for real, and what the interpreter
printed is recorded: Perl DBI through DBD::Pg against the local PostgreSQL and a private cluster (refused,
wrong password, table privilege, unique violation, lock timeout, every connection slot taken, an unknown
column) and through DBD::mysql / DBD::MariaDB against the local MariaDB and a private server (wrong password,
SELECT denied, duplicate entry, data too long, lock wait timeout, too many connections, refused, unknown
column); LWP::UserAgent against local servers answering 401/403/422/429/500/502/503 (dying with the status
line, as apps do), a closed port, a port that never answers, a `.invalid` host and a self-signed HTTPS server;
JSON, YAML::XS and Time::Piece parsing of bad input; open/mkdir/close failures with `$!` and autodie
(missing file, a file `nobody` cannot read, an existing directory, a read-only and a full tmpfs, the open-file
limit); strict-mode defects (unknown method, undefined reference, undeclared variable, division by zero,
missing module, undefined subroutine, method on undef); the Redis module against a closed port and a private
Redis (password required, wrong key type, memory limit). Lua 5.4: runtime errors of the script itself
(index/call/arithmetic/concatenation/comparison on the wrong value, endless recursion, a missing module),
cjson and utf8 decoding of bad input, io.open and write failures, the memory and open-file limits, LuaSocket
refused / timeout / `.invalid` and socket.http answers 401/403/500/503. Only 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path

from blind46_support import ScriptCase, scratch_dir, script_records
from cloudapi import cloud_api
from common import Env, Record, run, write_batch
from servers import full_backlog_port as backlog_port
from servers import mount_tmpfs, private_mariadb, private_postgres, private_redis, self_signed_https

BLIND46_SOURCES = frozenset({"perl-dbi46", "perl-lwp46", "perl46", "lua46"})

_PG = "dbi:Pg:dbname=test;host=127.0.0.1;port=5432"
_MY = "DBI:mysql:database=test;host=127.0.0.1;port=3306"
_REDIS_PASSWORD = "s3cret-b46"

_PG_SETUP = """DROP TABLE IF EXISTS b46_jobs, b46_ledger;
CREATE TABLE b46_jobs (id int PRIMARY KEY, state text);
INSERT INTO b46_jobs VALUES (1, 'queued');
CREATE TABLE b46_ledger (id int, amount numeric);
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'b46_reader') THEN CREATE ROLE b46_reader LOGIN;
END IF; END $$;
"""
_PG_CLEANUP = "DROP TABLE IF EXISTS b46_jobs, b46_ledger; DROP ROLE IF EXISTS b46_reader;"
_MY_SETUP = """DROP TABLE IF EXISTS test.b46_stock, test.b46_salaries, test.b46_public;
CREATE TABLE test.b46_stock (sku VARCHAR(16) PRIMARY KEY, qty INT) ENGINE=InnoDB;
INSERT INTO test.b46_stock VALUES ('A-100', 5);
CREATE TABLE test.b46_salaries (id INT, amount INT);
CREATE TABLE test.b46_public (id INT);
DROP USER IF EXISTS 'b46_app'@'%';
DROP USER IF EXISTS 'b46_app'@'localhost';
CREATE USER 'b46_app'@'%' IDENTIFIED BY 'right-password';
CREATE USER 'b46_app'@'localhost' IDENTIFIED BY 'right-password';
GRANT SELECT ON test.b46_public TO 'b46_app'@'%';
GRANT SELECT ON test.b46_public TO 'b46_app'@'localhost';
"""
_MY_CLEANUP = ("DROP TABLE IF EXISTS test.b46_stock, test.b46_salaries, test.b46_public; "
               "DROP USER IF EXISTS 'b46_app'@'%'; DROP USER IF EXISTS 'b46_app'@'localhost';")


def _dbi(name: str, category: str, token: str, body: str) -> ScriptCase:
    return ScriptCase(name, category, "perl-dbi46", token, "perl", "use strict;\nuse warnings;\nuse DBI;\n\n" + body)


DBI_CASES = [
    _dbi("pg_refused", "network", "Connection refused", """\
my $dbh = DBI->connect("dbi:Pg:dbname=orders;host=127.0.0.1;port=__CLOSED__",
    "orders_app", "orders-pass", { RaiseError => 1, PrintError => 0 });
my $rows = $dbh->selectall_arrayref("SELECT id FROM orders WHERE state = 'pending'");
print scalar(@$rows), " pending orders\\n";
"""),
    _dbi("pg_wrong_password", "auth", "password authentication failed", """\
my %cfg = (user => "app", password => "wrong-password");
my $dbh = DBI->connect("dbi:Pg:dbname=postgres;host=127.0.0.1;port=__PGPRIV__",
    $cfg{user}, $cfg{password}, { RaiseError => 1, PrintError => 0, AutoCommit => 1 });
$dbh->do("SELECT 1");
"""),
    _dbi("pg_table_permission", "auth", "permission denied", """my $dbh = DBI->connect("__PG__", "b46_reader", "",
    { RaiseError => 1, PrintError => 0 });
my ($total) = $dbh->selectrow_array("SELECT sum(amount) FROM b46_ledger");
print "ledger total: $total\\n";
"""),
    _dbi("pg_unique_violation", "validation", "duplicate key", """my $dbh = DBI->connect("__PG__", "postgres", "",
    { RaiseError => 1, PrintError => 0 });
$dbh->do("CREATE TEMP TABLE customers (email text PRIMARY KEY, name text)");
my $sth = $dbh->prepare("INSERT INTO customers (email, name) VALUES (?, ?)");
for my $row (["ana\\@example.org", "Ana"], ["bo\\@example.org", "Bo"], ["ana\\@example.org", "Ana B."]) {
    $sth->execute(@$row);
}
"""),
    _dbi("pg_lock_timeout", "resource", "lock timeout", """my %attr = (RaiseError => 1, PrintError => 0);
my $worker = DBI->connect("__PG__", "postgres", "", { %attr, AutoCommit => 0 });
$worker->selectall_arrayref("SELECT * FROM b46_jobs WHERE id = 1 FOR UPDATE");
my $api = DBI->connect("__PG__", "postgres", "", \\%attr);
$api->do("SET lock_timeout = '1s'");
$api->do("UPDATE b46_jobs SET state = 'cancelled' WHERE id = 1");
"""),
    _dbi("pg_too_many_clients", "resource", "too many clients|connection slots", """my @pool;
for my $i (1 .. 12) {
    push @pool, DBI->connect("dbi:Pg:dbname=postgres;host=127.0.0.1;port=__PGPRIV__", "postgres", "",
        { RaiseError => 1, PrintError => 0 });
}
print scalar(@pool), " connections open\\n";
"""),
    _dbi("pg_undefined_column", "programming", "does not exist", """my $dbh = DBI->connect("__PG__", "postgres", "",
    { RaiseError => 1, PrintError => 0 });
$dbh->do("CREATE TEMP TABLE releases (id serial, tag text, created_at timestamptz DEFAULT now())");
my $rows = $dbh->selectall_arrayref("SELECT tag, created FROM releases ORDER BY created DESC LIMIT 5");
"""),
    _dbi("mysql_wrong_password", "auth", "Access denied", """\
my $dbh = DBI->connect("__MY__", "b46_app", "not-the-password",
    { RaiseError => 1, PrintError => 0 });
"""),
    _dbi("mysql_select_denied", "auth", "command denied", """\
my $dbh = DBI->connect("__MY__", "b46_app", "right-password",
    { RaiseError => 1, PrintError => 0 });
my $rows = $dbh->selectall_arrayref("SELECT id, amount FROM b46_salaries");
"""),
    _dbi("mysql_duplicate_entry", "validation", "Duplicate entry", """my $dbh = DBI->connect("__MY__", "root", "",
    { RaiseError => 1, PrintError => 0 });
$dbh->do("CREATE TEMPORARY TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, login VARCHAR(32) UNIQUE)");
my $sth = $dbh->prepare("INSERT INTO users (login) VALUES (?)");
$sth->execute($_) for qw(alice bob alice);
"""),
    _dbi("mysql_data_too_long", "validation", "Data too long", """my $dbh = DBI->connect("__MY__", "root", "",
    { RaiseError => 1, PrintError => 0 });
$dbh->do("CREATE TEMPORARY TABLE sku (code VARCHAR(8) NOT NULL) ENGINE=InnoDB");
$dbh->do("INSERT INTO sku (code) VALUES (?)", undef, "WIDGET-2026-BLUE-XL");
"""),
    _dbi("mysql_lock_wait", "resource", "Lock wait timeout", """my %attr = (RaiseError => 1, PrintError => 0);
my $holder = DBI->connect("__MY__", "root", "", { %attr, AutoCommit => 0 });
$holder->selectall_arrayref("SELECT qty FROM b46_stock WHERE sku = 'A-100' FOR UPDATE");
my $dbh = DBI->connect("__MY__", "root", "", \\%attr);
$dbh->do("SET SESSION innodb_lock_wait_timeout = 1");
$dbh->do("UPDATE b46_stock SET qty = qty - 1 WHERE sku = 'A-100'");
"""),
    _dbi("mysql_too_many_connections", "resource", "Too many connections", """my @handles;
for (1 .. 24) {
    push @handles, DBI->connect("DBI:mysql:host=127.0.0.1;port=__MYPRIV__", "root", "",
        { RaiseError => 1, PrintError => 0 });
}
"""),
    _dbi("mysql_refused", "network", "Can't connect|refused", """\
my $dbh = DBI->connect("DBI:mysql:database=inventory;host=127.0.0.1;port=__CLOSED__",
    "inventory", "inv-pass", { RaiseError => 1, PrintError => 0 });
"""),
    _dbi("mariadb_unknown_column", "programming", "Unknown column", """\
my $dbh = DBI->connect("DBI:MariaDB:database=test;host=127.0.0.1;port=3306",
    "root", "", { RaiseError => 1, PrintError => 0 });
$dbh->do("CREATE TEMPORARY TABLE events (id INT, kind VARCHAR(16), at DATETIME)");
my $sth = $dbh->prepare("SELECT kind, COUNT(*) FROM events WHERE occurred_at > NOW() - INTERVAL 1 DAY GROUP BY kind");
$sth->execute;
"""),
]

_LWP_GET = """use strict;
use warnings;
use LWP::UserAgent;

my $url = "__URL__";
my $ua = LWP::UserAgent->new(timeout => 2, agent => "deploy-bot/1.4");
my $res = $ua->get($url, "Accept" => "application/json");
die "GET $url: " . $res->status_line . "\\n" unless $res->is_success;
print $res->decoded_content;
"""
_LWP_BODY = """use strict;
use warnings;
use LWP::UserAgent;
use JSON;

my $ua = LWP::UserAgent->new(timeout => 3);
my $res = $ua->post("__URL__", "Content-Type" => "application/json",
    Content => encode_json({ limit => "ten", model => "default" }));
die $res->status_line . ": " . $res->decoded_content . "\\n" unless $res->is_success;
"""


def _lwp(name: str, category: str, token: str, url: str, body: bool = False) -> ScriptCase:
    script = (_LWP_BODY if body else _LWP_GET).replace("__URL__", url)
    return ScriptCase(name, category, "perl-lwp46", token, "perl", script)


LWP_CASES = [
    _lwp("lwp_401", "auth", "401 Unauthorized", "__HTTP__/status/401"),
    _lwp("lwp_403_body", "auth", "403 Forbidden", "__API__/gcp403/v1/projects/ci/secrets", body=True),
    _lwp("lwp_422_body", "validation", "422 Unprocessable", "__API__/fastapi422/items", body=True),
    _lwp("lwp_429_body", "resource", "429 Too Many", "__API__/openai429/v1/chat/completions", body=True),
    _lwp("lwp_500", "service", "500 Internal Server Error", "__HTTP__/status/500"),
    _lwp("lwp_502_body", "service", "502 Bad Gateway", "__API__/nginx502/healthz", body=True),
    _lwp("lwp_503", "service", "503 Service Unavailable", "__HTTP__/status/503"),
    _lwp("lwp_refused", "network", "Connection refused", "http://127.0.0.1:__CLOSED__/api/v2/artifacts"),
    _lwp("lwp_read_timeout", "network", "read timeout", "http://127.0.0.1:__HANG__/metrics"),
    _lwp("lwp_invalid_host", "network", "not known|name resolution", "http://artifacts.build.invalid/index.json"),
    _lwp("lwp_self_signed", "network", "certificate verify failed|verify failed", "https://127.0.0.1:__TLS__/v1/status"),
]


def _perl(name: str, category: str, token: str, body: str, **opts: int | bool) -> ScriptCase:
    return ScriptCase(name, category, "perl46", token, "perl", "use strict;\nuse warnings;\n" + body, **opts)  # type: ignore[arg-type]


PERL_CASES = [
    _perl("json_trailing_comma", "validation", "offset|expected", """use JSON;

my $raw = '{"service": "billing", "replicas": 3,}';
my $manifest = decode_json($raw);
print "$manifest->{service}\\n";
"""),
    _perl("yaml_bad_indent", "validation", "Load Error", """use YAML::XS qw(Load);

my $doc = "services:\\n  web:\\n    image: nginx:1.27\\n   ports: [80, 443\\n";
my $cfg = Load($doc);
"""),
    _perl("time_piece_bad_date", "validation", "Error parsing time", """use Time::Piece;

my $since = Time::Piece->strptime("2026-13-45 25:00", "%Y-%m-%d %H:%M");
print $since->epoch, "\\n";
"""),
    _perl("open_missing_config", "filesystem", "No such file", """my $path = "/etc/deploy-b46/pipeline.conf";
open(my $fh, "<", $path) or die "Cannot open $path: $!\\n";
my @lines = <$fh>;
"""),
    _perl("open_denied_nobody", "filesystem", "Permission denied", """use autodie;

open(my $fh, "<", "__SCRATCH__/secrets/deploy.env");
while (my $line = <$fh>) { print $line }
""", nobody=True),
    _perl("mkdir_exists", "filesystem", "File exists", """use autodie;

my $release_dir = "__SCRATCH__/releases";
mkdir $release_dir, 0755;
"""),
    _perl("write_read_only", "filesystem", "Read-only", """use autodie;

open(my $out, ">", "__RODIR__/build-info.json");
print {$out} "{}\\n";
"""),
    _perl("write_disk_full", "resource", "No space left", """use autodie;

open(my $out, ">", "__DISK__/dump-b46.sql");
print {$out} "INSERT INTO events VALUES (" . join(",", 1 .. 40) . ");\\n" for 1 .. 20000;
close($out);
"""),
    _perl("open_file_limit", "resource", "Too many open files", """use autodie;

my @logs;
for my $i (1 .. 64) {
    open(my $fh, ">", "__SCRATCH__/fd-$i.log");
    push @logs, $fh;
}
""", max_files=16),
    _perl("strict_unknown_method", "programming", "Can't locate object method", """package Deploy::Client;
sub new { my ($class, %args) = @_; return bless {%args}, $class }
sub fetch { return [] }

package main;
my $client = Deploy::Client->new(endpoint => "http://127.0.0.1/");
my $jobs = $client->fetch_all(status => "pending");
"""),
    _perl("strict_undef_arrayref", "programming", "Can't use an undefined value", """\
my $config = { name => "billing", replicas => 3 };
my @hosts = @{ $config->{hosts} };
print "deploying to @hosts\\n";
"""),
    _perl("strict_global_symbol", "programming", "Global symbol", """my $max_retries = 3;
for my $attempt (1 .. $max_retries) {
    print "attempt $attempt of $max_retrys\\n";
}
"""),
    _perl("strict_division_by_zero", "programming", "division by zero", """my @durations = ();
my $total = 0;
$total += $_ for @durations;
printf "average build time: %.1fs\\n", $total / scalar(@durations);
"""),
    _perl("missing_module", "programming", "Can't locate Net/Deploy/Agent.pm", """use Net::Deploy::Agent;

Net::Deploy::Agent->new->run;
"""),
    _perl("undefined_subroutine", "programming", "Undefined subroutine", """\
sub notify { my ($msg) = @_; print "$msg\\n" }

notify("release started");
notify_slack("#deploys", "release finished");
"""),
    _perl("method_on_undef", "programming", "on an undefined value", """\
my %handlers = (start => sub { print "start\\n" });
my $logger;
$handlers{start}->();
$logger->info("started");
"""),
    _perl("redis_refused", "network", "refused|Could not connect", """use Redis;

my $redis = Redis->new(server => "127.0.0.1:__CLOSED__", reconnect => 0, cnx_timeout => 2);
$redis->lpush("jobs:deploy", '{"release":"2026.11.29"}');
"""),
    _perl("redis_noauth", "auth", "NOAUTH|Authentication required", """use Redis;

my $redis = Redis->new(server => "127.0.0.1:__REDIS__", reconnect => 0);
my $n = $redis->llen("jobs:deploy");
print "$n jobs queued\\n";
"""),
    _perl("redis_wrong_type", "programming", "WRONGTYPE", """use Redis;

my $redis = Redis->new(server => "127.0.0.1:__REDIS__", password => "__REDISPW__", reconnect => 0);
$redis->set("b46:builds", "42");
$redis->rpush("b46:builds", "build-43");
"""),
    _perl("redis_oom", "resource", "OOM command not allowed|maxmemory", """use Redis;

my $redis = Redis->new(server => "127.0.0.1:__REDIS__", password => "__REDISPW__", reconnect => 0);
my $blob = "x" x 65536;
$redis->set("b46:cache:$_", $blob) for 1 .. 200;
"""),
]


def _lua(name: str, category: str, token: str, script: str, **opts: int | bool) -> ScriptCase:
    return ScriptCase(name, category, "lua46", token, "lua", script, **opts)  # type: ignore[arg-type]


_LUA_HTTP = """local http = require("socket.http")
local ltn12 = require("ltn12")

local function fetch(url)
  local chunks = {}
  local ok, code, _, status = http.request{ url = url, sink = ltn12.sink.table(chunks) }
  if not ok then error(code) end
  if code ~= 200 then error(("GET %s: %s"):format(url, status)) end
  return table.concat(chunks)
end

print(fetch("__URL__"))
"""

LUA_CASES = [
    _lua("lua_index_nil", "programming", "attempt to index a nil value", """\
local config = { database = { host = "127.0.0.1" } }

local function replica_host(cfg)
  return cfg.database.replica.host
end

print(replica_host(config))
"""),
    _lua("lua_call_nil", "programming", "attempt to call a nil value", """local function build(target)
  print("building " .. target)
  publish_artifact(target .. ".tar.gz")
end

build("billing")
"""),
    _lua("lua_arith_string", "programming", "attempt to", """\
local deploy = { name = "billing", started = os.date("%Y-%m-%d %H:%M") }

local function age_seconds(d)
  return os.time() - d.started
end

print(age_seconds(deploy))
"""),
    _lua("lua_concat_nil", "programming", "attempt to concatenate", """local release = { name = "billing" }

local function tag(r)
  return r.name .. "-" .. r.version
end

print(tag(release))
"""),
    _lua("lua_compare_nil", "programming", "attempt to compare", """local limits = { cpu = 4 }

local function over_limit(usage)
  return usage.memory > limits.memory
end

print(over_limit({ cpu = 2, memory = 512 }))
"""),
    _lua("lua_stack_overflow", "programming", "stack overflow", """local function resolve(deps, name)
  local out = {}
  for _, dep in ipairs(deps[name] or {}) do
    for _, d in ipairs(resolve(deps, dep)) do out[#out + 1] = d end
  end
  out[#out + 1] = name
  return out
end

print(#resolve({ api = { "auth" }, auth = { "api" } }, "api"))
"""),
    _lua("lua_require_missing", "programming", "module 'resty.deploy_agent' not found", """\
local deploy = require("resty.deploy_agent")

deploy.run({ target = "prod" })
"""),
    _lua("lua_cjson_trailing", "validation", "Expected", """local cjson = require("cjson")

local manifest = cjson.decode('{"service": "billing", "replicas": 3,}')
print(manifest.service)
"""),
    _lua("lua_cjson_html", "validation", "Expected", """local cjson = require("cjson")

local body = "<html><body><h1>Welcome</h1></body></html>"
local payload = cjson.decode(body)
print(payload.status)
"""),
    _lua("lua_utf8_invalid", "validation", "invalid UTF-8 code", """local name = "caf\\xE9-r\\xE9sum\\xE9.csv"

local codes = { utf8.codepoint(name, 1, -1) }
print(#codes)
"""),
    _lua("lua_open_missing", "filesystem", "No such file", """local path = "/etc/deploy-b46/agent.conf"
local f = assert(io.open(path, "r"))
print(f:read("a"))
"""),
    _lua("lua_open_denied", "filesystem", "Permission denied", """\
local f, err = io.open("__SCRATCH__/secrets/deploy.env", "r")
if not f then error(err) end
print(f:read("l"))
""", nobody=True),
    _lua("lua_open_directory", "filesystem", "Is a directory", """\
local out = assert(io.open("__SCRATCH__/releases", "w"))
out:write("done\\n")
out:close()
"""),
    _lua("lua_disk_full", "resource", "No space left", """local out = assert(io.open("__DISK__/export-b46.csv", "w"))
out:setvbuf("no")
local row = string.rep("2026-11-29,billing,42.00\\n", 400)
for _ = 1, 2000 do
  assert(out:write(row))
end
out:close()
"""),
    _lua("lua_out_of_memory", "resource", "not enough memory", """local rows = {}
for i = 1, 10000000 do
  rows[i] = string.rep("x", 64) .. i
end
print(#rows)
""", max_memory=96 * 1024 * 1024),
    _lua("lua_open_file_limit", "resource", "Too many open files", """local handles = {}
for i = 1, 64 do
  handles[i] = assert(io.open(("__SCRATCH__/lua-fd-%d.log"):format(i), "w"))
end
""", max_files=16),
    _lua("lua_socket_refused", "network", "refused", """local socket = require("socket")

local conn = assert(socket.connect("127.0.0.1", __CLOSED__))
conn:send("PING\\r\\n")
"""),
    _lua("lua_socket_timeout", "network", "timeout", """local socket = require("socket")

local tcp = socket.tcp()
tcp:settimeout(1)
assert(tcp:connect("127.0.0.1", __BACKLOG__))
tcp:send("INFO\\r\\n")
print(assert(tcp:receive("*l")))
"""),
    _lua("lua_socket_receive_timeout", "network", "timeout", """local socket = require("socket")

local tcp = assert(socket.connect("127.0.0.1", __HANG__))
tcp:settimeout(1)
tcp:send("GET /health HTTP/1.0\\r\\n\\r\\n")
local line = assert(tcp:receive("*l"))
print(line)
"""),
    _lua("lua_socket_invalid_host", "network", "not known|name resolution", """local socket = require("socket")

local conn = assert(socket.connect("cache.build.invalid", 6379))
conn:send("PING\\r\\n")
"""),
    _lua("lua_http_401", "auth", "401 Unauthorized", _LUA_HTTP.replace("__URL__", "__HTTP__/status/401")),
    _lua("lua_http_403", "auth", "403 Forbidden", _LUA_HTTP.replace("__URL__", "__API__/k8s403/api/v1/pods")),
    _lua("lua_http_500", "service", "500 Internal Server Error",
         _LUA_HTTP.replace("__URL__", "__API__/plain500/v1/jobs")),
    _lua("lua_http_503", "service", "503 Service Unavailable", _LUA_HTTP.replace("__URL__", "__HTTP__/status/503")),
]


def _sql(argv: list[str], sql: str) -> None:
    proc = run([*argv], input=sql)
    if proc.returncode:
        raise RuntimeError(f"setup failed: {proc.stderr.strip()[:200]}")


def blind46_records(env: Env) -> list[Record]:
    api = cloud_api(env)
    scratch = scratch_dir(env)
    secrets = scratch / "secrets"
    secrets.mkdir()
    os.chmod(secrets, 0o755)
    (secrets / "deploy.env").write_text("DEPLOY_TOKEN=b46\n")
    os.chmod(secrets / "deploy.env", 0o600)
    (scratch / "releases").mkdir()
    disk = mount_tmpfs(env, "disk46", "size=256k")
    ro = mount_tmpfs(env, "ro46", "size=64k,ro")
    pg = private_postgres(env, max_connections=4)
    my_port, _ = private_mariadb(env, max_connections=3)
    redis_port = private_redis(env, "--requirepass", _REDIS_PASSWORD, "--maxmemory", "2mb")
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q", "-v", "ON_ERROR_STOP=1"]
    mysql = ["mariadb", "-h", "127.0.0.1", "-u", "root", "test"]
    _sql(psql, _PG_SETUP)
    _sql(mysql, _MY_SETUP)
    values = {"__PG__": _PG, "__MY__": _MY, "__CLOSED__": str(env.closed_port), "__HANG__": str(env.hang_port),
              "__HTTP__": env.http, "__API__": api, "__TLS__": str(self_signed_https(env)),
              "__BACKLOG__": str(backlog_port(env)), "__DISK__": str(disk), "__RODIR__": str(ro),
              "__PGPRIV__": str(pg.port), "__MYPRIV__": str(my_port), "__REDIS__": str(redis_port),
              "__REDISPW__": _REDIS_PASSWORD, "__SCRATCH__": str(scratch)}

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace(key, value)
        return text

    try:
        return script_records([*DBI_CASES, *LWP_CASES, *PERL_CASES, *LUA_CASES], scratch, fill)
    finally:
        run(psql, input=_PG_CLEANUP)
        run(mysql, input=_MY_CLEANUP)
        for leftover in Path(scratch).glob("*fd-*.log"):
            leftover.unlink()


if __name__ == "__main__":
    write_batch(blind46_records)


__all__ = ["BLIND46_SOURCES", "blind46_records"]
