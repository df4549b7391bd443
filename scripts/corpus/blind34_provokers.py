"""Thirty-fourth batch of blind provokers: the PHP runtime, new to the corpus. Small PHP scripts (run with the
`php` CLI, uncaught errors printed to stderr as `PHP Fatal error:` and warnings as `PHP Warning:`) fail the
way PHP services, workers and deploy scripts do: ext-curl and the http stream wrapper against local servers
answering 400/401/403/429/500/502/503/504, closed, resetting, half-answering and silent ports, a self-signed
TLS server, plain HTTP spoken to as TLS and `.invalid` hosts; PDO (pgsql, mysql) and ext-pgsql against the
shared PostgreSQL and MariaDB (privileges, constraints, lock timeouts and a deadlock, an unknown database, bad
SQL) and private servers (a password-protected role, a standby, a MariaDB and a PostgreSQL with few
connection slots); phpredis against private servers (requirepass, a replica whose master is down, maxmemory)
and the shared one (WRONGTYPE); the language's own errors (TypeError, DivisionByZeroError, ArgumentCountError,
ValueError, undefined functions, methods and classes, a method call on null, a parse error), parsers of bad
input (json_decode with JSON_THROW_ON_ERROR, DateTimeImmutable, DateTimeZone, SimpleXML, parse_ini_file),
memory_limit and max_execution_time, and files on missing, unwritable (as `nobody`), read-only and full paths
(tmpfs mounts). Only 127.0.0.1."""

from __future__ import annotations

import shutil

from blind34_support import CURL_FETCH, STRICT, PhpCase, php_records, shared_db_fixtures
from checked import problem
from cloudapi import cloud_api
from common import Env, Record, write_batch
from servers import client_cert_server, mount_tmpfs, private_mariadb, private_postgres, private_redis

BLIND34_SOURCES = frozenset({"php-curl34", "php-stream34", "php-pdo34", "php-redis34", "php34", "php-fs34"})

CURL: list[PhpCase] = [
    ("curl_refused", "network", "connect", CURL_FETCH + "$health = fetch('http://127.0.0.1:%CLOSED%/api/health');\n"),
    ("curl_reset", "network", "reset", CURL_FETCH + "$orders = json_decode(fetch('http://127.0.0.1:%RESET%/v2/orders"
     "?since=2026-11-01'), true);\n"),
    ("curl_timeout", "network", "timed out|timeout", CURL_FETCH + "$rates = fetch('http://127.0.0.1:%HANG%/fx/rates', "
     "[CURLOPT_TIMEOUT => 1]);\n"),
    ("curl_unknown_host", "network", "resolve", CURL_FETCH + "$invoice = fetch('http://billing.internal.invalid/v1/"
     "invoices/INV-2291');\n"),
    ("curl_self_signed", "network", "certificate|SSL", CURL_FETCH + "$status = fetch('https://127.0.0.1:%TLS%/v1/"
     "status');\n"),
    ("curl_tls_to_plain_http", "network", "SSL|TLS", CURL_FETCH + "$ok = fetch('https://127.0.0.1:%HTTPPORT%/ok');\n"),
    ("curl_partial_body", "network", "transfer closed|remaining", CURL_FETCH + "$export = fetch('http://127.0.0.1:"
     "%CLOSE%/exports/latest.csv');\n"),
    ("curl_fail_503", "service", "503", CURL_FETCH + "$buckets = fetch('%API%/gcp503/storage/v1/b?project=acme', "
     "[CURLOPT_FAILONERROR => true]);\n"),
    ("curl_fail_502", "service", "502", CURL_FETCH + "$page = fetch('%API%/nginx502/checkout', "
     "[CURLOPT_FAILONERROR => true]);\n"),
    ("curl_fail_429", "resource", "429", CURL_FETCH + "$sheet = fetch('%API%/gcp429/v4/spreadsheets/abc/values/A1', "
     "[CURLOPT_FAILONERROR => true]);\n"),
    ("curl_fail_401", "auth", "401", CURL_FETCH + "$repo = fetch('%API%/gh401/repos/acme/deploy', "
     "[CURLOPT_FAILONERROR => true, CURLOPT_HTTPHEADER => ['Authorization: token ghp_b34expired']]);\n"),
    ("curl_cron_403", "auth", "403", "$ch = curl_init('%API%/k8s403/api/v1/namespaces/default/pods');\n"
     "curl_setopt_array($ch, [CURLOPT_RETURNTRANSFER => true, CURLOPT_FAILONERROR => true]);\n"
     "if (curl_exec($ch) === false) {\n    fwrite(STDERR, 'cleanup-pods: ' . curl_error($ch) . PHP_EOL);\n"
     "    exit(1);\n}\n"),
]

STREAM: list[PhpCase] = [
    ("fgc_refused", "network", "refused", STRICT + "$config = json_decode(file_get_contents('http://127.0.0.1:%CLOSED%"
     "/v1/kv/app/config'), true);\n"),
    ("fgc_self_signed", "network", "certificate|SSL", "$status = file_get_contents('https://127.0.0.1:%TLS%/healthz');"
     "\nif ($status === false) {\n    exit(1);\n}\n"),
    ("stream_client_unknown_host", "network", "getaddrinfo|resolve|Name or service", STRICT + "$socket = "
     "stream_socket_client('tcp://queue.internal.invalid:5672', $errno, $errstr, 3);\n"),
    ("fgc_500", "service", "500", "$report = file_get_contents('%API%/plain500/reports/daily');\n"
     "if ($report === false) {\n    exit(1);\n}\n"),
    ("fgc_504", "service", "504", STRICT + "$quote = file_get_contents('%HTTP%/status/504');\n"),
    ("fgc_429", "resource", "429", STRICT + "$ctx = stream_context_create(['http' => ['method' => 'POST', 'header' => "
     "\"Content-Type: application/json\\r\\n\", 'content' => '{\"model\": \"m\"}']]);\n"
     "$answer = file_get_contents('%HTTP%/status/429', false, $ctx);\n"),
    ("fgc_403", "auth", "403", "$object = file_get_contents('%API%/s3denied/backups/db-2026-11-28.sql.gz');\n"
     "if ($object === false) {\n    exit(1);\n}\n"),
    ("fgc_400", "validation", "400", STRICT + "$ctx = stream_context_create(['http' => ['method' => 'POST', "
     "'header' => \"Content-Type: application/x-www-form-urlencoded\\r\\n\", "
     "'content' => 'amount=ten&currency=usd']]);\n"
     "$charge = file_get_contents('%API%/stripe400/v1/charges', false, $ctx);\n"),
]

_PG = "pgsql:host=127.0.0.1;port=5432;dbname=test"
_MY = "mysql:host=127.0.0.1;port=3306;dbname=test"

PDO: list[PhpCase] = [
    ("pdo_pg_refused", "network", "refused", "$db = new PDO('pgsql:host=127.0.0.1;port=%CLOSED%;dbname=app', 'app', "
     "'secret');\n"),
    ("pdo_pg_wrong_password", "auth", "password authentication failed", "$db = new PDO('pgsql:host=127.0.0.1;"
     "port=%PGPRIV%;dbname=postgres', 'app', 'wrong-password');\n"),
    ("pdo_pg_permission", "auth", "permission denied|42501", f"$db = new PDO('{_PG}', 'b34_reader');\n"
     "$rows = $db->query('SELECT employee, amount FROM b34_payroll')->fetchAll();\n"),
    ("pdo_pg_unique", "validation", "23505|duplicate key", f"$db = new PDO('{_PG}', 'postgres');\n"
     "$stmt = $db->prepare('INSERT INTO b34_jobs (id, state, idempotency_key) VALUES (?, ?, ?)');\n"
     "$stmt->execute([3, 'queued', 'k-1']);\n"),
    ("pdo_pg_invalid_integer", "validation", "22P02|invalid input syntax", f"$db = new PDO('{_PG}', 'postgres', null, "
     "[PDO::ATTR_EMULATE_PREPARES => false]);\n$stmt = $db->prepare('SELECT state FROM b34_jobs WHERE id = ?');\n"
     "$stmt->execute(['12abc']);\n"),
    ("pdo_pg_syntax", "programming", "syntax error|42601", f"$db = new PDO('{_PG}', 'postgres');\n"
     "$db->query('SELECT id, state, FROM b34_jobs ORDER BY id');\n"),
    ("pdo_pg_undefined_column", "programming", "42703|does not exist", f"$db = new PDO('{_PG}', 'postgres');\n"
     "$db->query('SELECT id, status FROM b34_jobs WHERE id = 1');\n"),
    ("pdo_pg_lock_timeout", "resource", "lock timeout|55P03", f"$a = new PDO('{_PG}', 'postgres');\n"
     f"$b = new PDO('{_PG}', 'postgres');\n$a->beginTransaction();\n"
     "$a->exec(\"UPDATE b34_jobs SET state = 'running' WHERE id = 1\");\n"
     "$b->exec(\"SET lock_timeout = '300ms'\");\n"
     "$b->exec(\"UPDATE b34_jobs SET state = 'cancelled' WHERE id = 1\");\n"),
    ("pg_deadlock", "resource", "deadlock", STRICT + "$dsn = 'host=127.0.0.1 port=5432 dbname=test user=postgres';\n"
     "$a = pg_connect($dsn, PGSQL_CONNECT_FORCE_NEW);\n$b = pg_connect($dsn, PGSQL_CONNECT_FORCE_NEW);\n"
     "pg_query($a, \"SET deadlock_timeout = '5s'\");\npg_query($b, \"SET deadlock_timeout = '100ms'\");\n"
     "pg_query($a, 'BEGIN');\npg_query($a, \"UPDATE b34_jobs SET state = 'a' WHERE id = 1\");\n"
     "pg_query($b, 'BEGIN');\npg_query($b, \"UPDATE b34_jobs SET state = 'b' WHERE id = 2\");\n"
     "pg_send_query($a, \"UPDATE b34_jobs SET state = 'a' WHERE id = 2\");\nusleep(200000);\n"
     "pg_query($b, \"UPDATE b34_jobs SET state = 'b' WHERE id = 1\");\n"),
    ("pdo_pg_too_many_clients", "resource", "too many|slots", "$pool = [];\nfor ($i = 0; $i < 10; $i++) {\n"
     "    $pool[] = new PDO('pgsql:host=127.0.0.1;port=%PGPRIV%;dbname=postgres', 'app', 'right-password');\n}\n"),
    ("pdo_pg_standby", "service", "starting up|not yet accepting|hot standby|recovery", "$db = new PDO('pgsql:"
     "host=127.0.0.1;port=%PGSTANDBY%;dbname=postgres', 'postgres');\n"),
    ("pdo_my_wrong_password", "auth", "Access denied", f"$db = new PDO('{_MY}', 'b34_app', 'wrong-password');\n"),
    ("pdo_my_command_denied", "auth", "denied", f"$db = new PDO('{_MY}', 'b34_app', 'right-password');\n"
     "$db->exec(\"UPDATE b34_accounts SET balance = 0 WHERE id = 1\");\n"),
    ("pdo_my_unknown_database", "validation", "Unknown database", "$db = new PDO('mysql:host=127.0.0.1;port=3306;"
     "dbname=b34_analytics', 'root', '');\n"),
    ("pdo_my_duplicate", "validation", "Duplicate entry", f"$db = new PDO('{_MY}', 'root', '');\n"
     "$db->prepare('INSERT INTO b34_accounts (id, email, balance) VALUES (?, ?, ?)')"
     "->execute([3, 'ops@example.org', 0]);\n"),
    ("pdo_my_too_long", "validation", "too long|22001", f"$db = new PDO('{_MY}', 'root', '');\n"
     "$db->prepare('INSERT INTO b34_accounts (id, email, balance) VALUES (?, ?, ?)')"
     "->execute([4, str_repeat('finance-team', 4) . '@example.org', 0]);\n"),
    ("pdo_my_unknown_column", "programming", "Unknown column|42S22", f"$db = new PDO('{_MY}', 'root', '');\n"
     "$db->query('SELECT id, email, created_at FROM b34_accounts ORDER BY created_at');\n"),
    ("pdo_my_lock_wait", "resource", "Lock wait timeout", f"$a = new PDO('{_MY}', 'root', '');\n"
     f"$b = new PDO('{_MY}', 'root', '');\n$a->beginTransaction();\n"
     "$a->exec('UPDATE b34_accounts SET balance = balance - 10 WHERE id = 1');\n"
     "$b->exec('SET SESSION innodb_lock_wait_timeout = 1');\n"
     "$b->exec('UPDATE b34_accounts SET balance = balance + 10 WHERE id = 1');\n"),
    ("pdo_my_too_many", "resource", "Too many connections", "$pool = [];\nfor ($i = 0; $i < 40; $i++) {\n"
     "    $pool[] = new PDO('mysql:host=127.0.0.1;port=%MYPRIV%;dbname=mysql', 'root', '');\n}\n"),
]

REDIS: list[PhpCase] = [
    ("redis_read_timeout", "network", "read error|timed out", "$redis = new Redis();\n"
     "$redis->connect('127.0.0.1', %HANG%, 1.0, null, 0, 1.0);\n$session = $redis->get('session:8f2c');\n"),
    ("redis_noauth", "auth", "NOAUTH", "$redis = new Redis();\n$redis->connect('127.0.0.1', %REDISAUTH%);\n"
     "$redis->incr('jobs:processed');\n"),
    ("redis_wrong_password", "auth", "WRONGPASS|invalid", "$redis = new Redis();\n"
     "$redis->connect('127.0.0.1', %REDISAUTH%);\n$redis->auth('not-the-password');\n"),
    ("redis_wrongtype", "programming", "WRONGTYPE", "$redis = new Redis();\n$redis->connect('127.0.0.1', 6379);\n"
     "$redis->set('b34:queue:mail', 'paused');\ntry {\n"
     "    if ($redis->lPush('b34:queue:mail', json_encode(['to' => 'ops@example.org'])) === false) {\n"
     "        throw new RuntimeException('enqueue failed: ' . $redis->getLastError());\n    }\n} finally {\n"
     "    $redis->del('b34:queue:mail');\n}\n"),
    ("redis_masterdown", "service", "MASTERDOWN", "$redis = new Redis();\n"
     "$redis->connect('127.0.0.1', %REDISREPLICA%);\n$value = $redis->get('feature:checkout-v2');\n"
     "if ($value === false && $redis->getLastError() !== null) {\n"
     "    fwrite(STDERR, 'redis: ' . $redis->getLastError() . PHP_EOL);\n    exit(1);\n}\n"),
    ("redis_oom", "resource", "OOM|maxmemory", "$redis = new Redis();\n$redis->connect('127.0.0.1', %REDISOOM%);\n"
     "$blob = str_repeat('x', 64 * 1024);\nfor ($i = 0; $i < 200; $i++) {\n"
     "    if ($redis->set(\"cache:page:$i\", $blob) === false) {\n"
     "        throw new RedisException($redis->getLastError());\n    }\n}\n"),
]

CORE: list[PhpCase] = [
    ("intdiv_zero", "programming", "DivisionByZeroError", "function perWorker(int $jobs, int $workers): int\n{\n"
     "    return intdiv($jobs, $workers);\n}\n$workers = [];\necho perWorker(120, count($workers));\n"),
    ("strict_types_int", "programming", "TypeError", "declare(strict_types=1);\n\n"
     "function scale(string $deployment, int $replicas): void\n{\n}\n\nscale('api', getenv('HOME'));\n"),
    ("undefined_function", "programming", "undefined function", "$slug = str_slugify('Quarterly Report');\n"),
    ("undefined_method", "programming", "undefined method", "final class Mailer\n{\n"
     "    public function send(string $to): void\n    {\n    }\n}\n(new Mailer())->queue('ops@example.org');\n"),
    ("argument_count", "programming", "ArgumentCountError", "function notify(string $channel, string $text): void\n{\n}"
     "\nnotify('#deploys');\n"),
    ("array_combine_value_error", "programming", "ValueError", "$headers = ['id', 'email', 'plan'];\n"
     "$row = array_combine($headers, ['17', 'a@example.org']);\n"),
    ("member_on_null", "programming", "on null", "function findUser(int $id): ?object\n{\n    return null;\n}\n"
     "echo findUser(42)->email();\n"),
    ("class_not_found", "programming", "not found", "use App\\Jobs\\SyncInvoices;\n\n"
     "$job = new SyncInvoices('2026-11');\n"),
    ("parse_error", "programming", "Parse error|syntax error", "$config = [\n    'retries' => 3\n"
     "    'timeout' => 10,\n];\n"),
    ("json_throw_syntax", "validation", "JsonException", "$event = json_decode('{\"id\": 17, \"type\": \"push\",}', "
     "true, 512, JSON_THROW_ON_ERROR);\n"),
    ("datetime_bad_input", "validation", "Failed to parse", "$due = new DateTimeImmutable('2026-13-45 25:00');\n"),
    ("timezone_bad_input", "validation", "Unknown or bad timezone", "$tz = new DateTimeZone('Europe/Atlantis');\n"),
    ("simplexml_broken", "validation", "XML", "$feed = new SimpleXMLElement('<rss><channel><title>News</channel>"
     "</rss>');\n"),
    ("parse_ini_broken", "validation", "syntax error", "file_put_contents(__DIR__ . '/b34-app.ini', \"[database]\\n"
     "host = 127.0.0.1\\npassword = a=b(c)\\n\");\n$ini = parse_ini_file(__DIR__ . '/b34-app.ini', true);\n"
     "if ($ini === false) {\n    exit(1);\n}\n"),
    ("memory_limit", "resource", "Allowed memory size", "ini_set('memory_limit', '16M');\n$rows = [];\n"
     "for ($i = 0; ; $i++) {\n    $rows[] = str_repeat('r', 1024) . $i;\n}\n"),
    ("max_execution_time", "resource", "Maximum execution time", "set_time_limit(1);\n$digest = '';\nwhile (true) {\n"
     "    $digest = hash('sha256', $digest . random_bytes(32));\n}\n"),
]

FS: list[PhpCase] = [
    ("fopen_missing_dir", "filesystem", "No such file", "$log = fopen(__DIR__ . '/var/log/worker.log', 'a');\n"
     "if ($log === false) {\n    exit(1);\n}\n"),
    ("fgc_missing_config", "filesystem", "No such file", STRICT + "$config = json_decode(file_get_contents("
     "__DIR__ . '/config/services.json'), true);\n"),
    ("spl_file_missing", "filesystem", "No such file", "$csv = new SplFileObject(__DIR__ . '/imports/2026-11.csv');\n"),
    ("mkdir_exists", "filesystem", "File exists", STRICT + "mkdir(__DIR__);\n"),
    ("rmdir_not_empty", "filesystem", "not empty", STRICT + "rmdir(dirname(__DIR__));\n"),
    ("fpc_read_only", "filesystem", "Read-only", STRICT + "file_put_contents('%RODIR%/routes.php', "
     "'<?php return [];');\n"),
    ("fpc_permission", "filesystem", "Permission denied", STRICT + "file_put_contents('%TMP%/releases/current', "
     "'2026.11.29');\n"),
    ("fpc_disk_full", "resource", "disk space|No space", "$written = file_put_contents('%DISK%/dump.sql', "
     "str_repeat(\"INSERT INTO t VALUES (1);\\n\", 40000));\nif ($written === false) {\n    exit(1);\n}\n"),
    ("fwrite_disk_full", "resource", "No space|errno=28", STRICT + "$fh = fopen('%DISK%/export.ndjson', 'w');\n"
     "for ($i = 0; $i < 20000; $i++) {\n    fwrite($fh, json_encode(['id' => $i, 'pad' => str_repeat('p', 64)]) . "
     "\"\\n\");\n}\nfflush($fh);\nfclose($fh);\n"),
]
_AS_NOBODY = frozenset({"fpc_permission"})


def blind34_records(env: Env) -> list[Record]:
    if shutil.which("php") is None:
        problem("php", "php CLI missing, batch skipped")
        return []
    api = cloud_api(env)
    shared_db_fixtures(env)
    pg = private_postgres(env, max_connections=3, reserved=0)
    standby = private_postgres(env, standby=True)
    my_port, _ = private_mariadb(env, max_connections=2)
    values = {
        "API": api, "HTTP": env.http, "HTTPPORT": str(env.http_port), "CLOSED": str(env.closed_port),
        "RESET": str(env.reset_port), "CLOSE": str(env.close_port), "EMPTY": str(env.empty_port),
        "HANG": str(env.hang_port), "TLS": str(client_cert_server(env).port), "PGPRIV": str(pg.port),
        "PGSTANDBY": str(standby.port), "MYPRIV": str(my_port), "TMP": str(env.tmp),
        "REDISAUTH": str(private_redis(env, "--requirepass", "b34-right-password")),
        "REDISREPLICA": str(private_redis(env, "--replicaof", "127.0.0.1", str(env.closed_port),
                                          "--replica-serve-stale-data", "no")),
        "REDISOOM": str(private_redis(env, "--maxmemory", "2mb", "--maxmemory-policy", "noeviction")),
        "DISK": str(mount_tmpfs(env, "disk34", "size=256k")),
        "RODIR": str(mount_tmpfs(env, "ro34", "size=64k,ro")),
    }
    out: list[Record] = []
    for source, cases in (("php-curl34", CURL), ("php-stream34", STREAM), ("php-pdo34", PDO),
                          ("php-redis34", REDIS), ("php34", CORE)):
        out += php_records(cases, source, env.tmp / source, values)
    out += php_records(FS, "php-fs34", env.tmp / "php-fs34" / "app", values, as_nobody=_AS_NOBODY)
    return out


if __name__ == "__main__":
    write_batch(blind34_records)


__all__ = ["BLIND34_SOURCES", "blind34_records"]
