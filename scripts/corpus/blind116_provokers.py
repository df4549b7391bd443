"""Hundred-and-sixteenth batch of blind provokers: PHP libraries from Debian (/usr/share/php), new to the corpus,
run by small scripts of a PHP application tree (blind116_support) whose uncaught exceptions PHP prints to
stderr. Guzzle and Symfony HttpClient against a fake JSON API on 127.0.0.1 (401, 403, 422, 429, 500, 502, 503), a
closed port, a resetting peer and a silent one; Predis against private Redis servers (a wrong or missing password,
maxclients taken, maxmemory full, a replica whose master is down, a busy Lua script, a closed port, a read
timeout); php-amqplib against the shared RabbitMQ (a wrong password, a vhost without permission, a missing vhost,
a vhost admitting no connection, a vhost queue limit, a closed port); Doctrine DBAL against a private PostgreSQL
(wrong password, unknown database, no free slot, a standby, constraint violations, SQL errors in code, a closed
port) and a private MariaDB (access denied, too many connections, a lock wait timeout); Monolog's StreamHandler on
a path under a file, a read-only mount, a root-only directory (as `nobody`) and a full tmpfs, and an unknown level
name from the environment; Symfony YAML parsing broken configuration files (validation) and missing or unreadable
ones; Twig templates with syntax errors or undefined variables (programming), a missing template directory and a
read-only cache; Symfony Process running git, tar and pg_dump that fail for a repository state, a full disk and a
refused port, and a missing working directory; a Symfony Console application given bad arguments and one whose
command has a type bug; PHPUnit tests that reveal bugs in the code under test, and a missing bootstrap file."""

from __future__ import annotations

import subprocess
from pathlib import Path

from blind116_support import STRICT, PhpCase, command_records, php_app, php_records, write_files
from common import Env, Record, git_env, write_batch

BLIND116_SOURCES = frozenset({"guzzle116", "symfony-httpclient116", "predis116", "amqplib116", "dbal116",
                              "monolog116", "symfony-yaml116", "twig116", "symfony-process116", "symfony-console116",
                              "phpunit116"})

# --------------------------------------------------------------------------- Guzzle

GUZZLE = """use GuzzleHttp\\Client;

$client = new Client([
    'base_uri' => getenv('BILLING_API_URL') ?: '%API%',
    'timeout' => 5,
    'headers' => ['Accept' => 'application/json', 'Authorization' => 'Bearer ' . (getenv('BILLING_API_TOKEN') ?:
        'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzeW5jLXdvcmtlciJ9.Qm9ndXM')],
]);
"""

GUZZLE_CASES: list[PhpCase] = [
    ("guzzle_401", "auth", "401 Unauthorized", "bin/sync-open-invoices.php", GUZZLE
     + "$response = $client->get('/api/v2/invoices', ['query' => ['status' => 'open', 'page' => 1]]);\n"),
    ("guzzle_403", "auth", "403 Forbidden", "bin/provision-tenant.php", GUZZLE
     + "$response = $client->post('/api/v2/admin/tenants', ['json' => ['slug' => 'northwind-eu', 'plan' => "
     "'enterprise']]);\n"),
    ("guzzle_429", "resource", "429 Too Many Requests", "src/Geo/backfill-coordinates.php", GUZZLE
     + "foreach (['Rue de Rivoli 12, Paris', 'Kurfuerstendamm 21, Berlin'] as $address) {\n"
     "    $geo = json_decode((string) $client->get('/api/v2/geocode', ['query' => ['q' => $address]])->getBody(), "
     "true);\n}\n"),
    ("guzzle_503", "service", "503 Service Unavailable", "bin/capture-payments.php", GUZZLE
     + "$response = $client->post('/api/v2/payments/capture', ['json' => ['payment_intent' => 'pi_3Q8b116', "
     "'amount' => 4900, 'currency' => 'eur']]);\n"),
    ("guzzle_502", "service", "502 Bad Gateway", "bin/smoke-checkout.php", GUZZLE
     + "$response = $client->get('/checkout/session', ['query' => ['cart' => 'c-88213']]);\n"),
    ("guzzle_422", "validation", "422 Unprocessable", "bin/import-customers.php", GUZZLE
     + "$response = $client->post('/api/v2/customers', ['json' => ['name' => 'Lena Hoffmann', 'email' => "
     "'lena.hoffmann@northwind']]);\n"),
    ("guzzle_refused", "network", "Couldn't connect|refused|Failed to connect", "bin/sync-open-invoices.php",
     GUZZLE.replace("%API%", "http://127.0.0.1:%CLOSED%")
     + "$response = $client->get('/api/v2/invoices', ['query' => ['status' => 'open']]);\n"),
    ("guzzle_timeout", "network", "timed out", "bin/fetch-exchange-rates.php",
     GUZZLE.replace("%API%", "http://127.0.0.1:%HANG%").replace("'timeout' => 5", "'timeout' => 2")
     + "$rates = json_decode((string) $client->get('/v1/rates/EUR')->getBody(), true);\n"),
    ("guzzle_reset", "network", "reset|Recv failure", "bin/sync-open-invoices.php",
     GUZZLE.replace("%API%", "http://127.0.0.1:%RESET%")
     + "$response = $client->get('/api/v2/invoices', ['query' => ['status' => 'open']]);\n"),
]

# --------------------------------------------------------------------------- Symfony HttpClient

SF_HTTP = """use Symfony\\Component\\HttpClient\\HttpClient;

$carrier = HttpClient::createForBaseUri('%API%', [
    'auth_basic' => ['northwind', getenv('CARRIER_API_KEY') ?: 'ck_live_7f2a9c'],
    'timeout' => 5,
    'headers' => ['User-Agent' => 'northwind-portal/3.8'],
]);
"""

SF_HTTP_CASES: list[PhpCase] = [
    ("sfhttp_401", "auth", "HTTP/1.1 401", "src/Shipping/book-shipment.php", SF_HTTP
     + "$shipment = $carrier->request('POST', '/api/v1/shipments', ['json' => ['order' => 'SO-20931', "
     "'weight_kg' => 2.4]])->toArray();\n"),
    ("sfhttp_403", "auth", "HTTP/1.1 403", "src/Shipping/update-warehouse.php", SF_HTTP
     + "$carrier->request('PUT', '/api/v1/warehouses/berlin-2', ['json' => ['cutoff' => '16:00']])->toArray();\n"),
    ("sfhttp_429", "resource", "HTTP/1.1 429", "src/Shipping/print-labels.php", SF_HTTP
     + "foreach (['SO-20931', 'SO-20932', 'SO-20933'] as $order) {\n"
     "    $label = $carrier->request('POST', '/api/v1/labels', ['json' => ['order' => $order]])->toArray();\n}\n"),
    ("sfhttp_503", "service", "HTTP/1.1 503", "src/Shipping/refresh-tracking.php", SF_HTTP
     + "$events = $carrier->request('GET', '/api/v1/tracking/JD014600006281')->toArray();\n"),
    ("sfhttp_500", "service", "HTTP/1.1 500", "src/Shipping/quote-rates.php", SF_HTTP
     + "$rates = $carrier->request('GET', '/api/v1/rates', ['query' => ['from' => 'DE', 'to' => 'FR']])"
     "->toArray();\n"),
    ("sfhttp_refused", "network", "Couldn't connect|refused|Failed to connect", "src/Shipping/quote-rates.php",
     SF_HTTP.replace("%API%", "http://127.0.0.1:%CLOSED%")
     + "$rates = $carrier->request('GET', '/api/v1/rates', ['query' => ['from' => 'DE']])->toArray();\n"),
    ("sfhttp_timeout", "network", "timeout|timed out", "src/Shipping/refresh-tracking.php",
     SF_HTTP.replace("%API%", "http://127.0.0.1:%HANG%").replace("'timeout' => 5", "'timeout' => 2")
     + "$events = $carrier->request('GET', '/api/v1/tracking/JD014600006281')->toArray();\n"),
]

# --------------------------------------------------------------------------- Predis


def _predis(port: str, extra: str = "") -> str:
    return (f"$redis = new Predis\\Client(['scheme' => 'tcp', 'host' => '127.0.0.1', 'port' => {port}{extra}], "
            "['prefix' => 'portal:']);\n")


PREDIS_CASES: list[PhpCase] = [
    ("predis_wrong_password", "auth", "WRONGPASS|invalid password|invalid username", "src/Cache/warm-sessions.php",
     _predis("%REDIS_AUTH%", ", 'password' => getenv('REDIS_PASSWORD') ?: 'c4che-115-prod'")
     + "$session = $redis->get('session:9f1c2e7a');\n"),
    ("predis_noauth", "auth", "NOAUTH", "src/Cache/warm-sessions.php", _predis("%REDIS_AUTH%")
     + "$redis->setex('session:9f1c2e7a', 7200, serialize(['user_id' => 4411]));\n"),
    ("predis_refused", "network", "refused", "src/Cache/warm-sessions.php", _predis("%CLOSED%")
     + "$session = $redis->get('session:9f1c2e7a');\n"),
    ("predis_read_timeout", "network", "reading line|timed out", "bin/queue-stats.php",
     _predis("%HANG%", ", 'read_write_timeout' => 2") + "$depth = $redis->llen('queues:invoices');\n"),
    ("predis_maxclients", "resource", "max number of clients", "bin/queue-stats.php", _predis("%REDIS_CROWDED%")
     + "$depth = $redis->llen('queues:invoices');\n"),
    ("predis_oom", "resource", "OOM", "src/Cache/warm-catalog.php", _predis("%REDIS_FULL%")
     + "foreach (range(1, 50) as $page) {\n"
     "    $redis->set('catalog:html:' . $page, str_repeat('<li>product</li>', 4096));\n}\n"),
    ("predis_masterdown", "service", "MASTERDOWN", "src/Cache/warm-sessions.php", _predis("%REDIS_REPLICA%")
     + "$session = $redis->get('session:9f1c2e7a');\n"),
    ("predis_busy", "service", "BUSY", "bin/queue-stats.php", _predis("%REDIS_BUSY%")
     + "$depth = $redis->llen('queues:invoices');\n"),
]

# --------------------------------------------------------------------------- php-amqplib


def _amqp(port: str = "5672", user: str = "%RABBIT_USER%", password: str = "getenv('AMQP_PASSWORD') ?: "
          "'%RABBIT_PASSWORD%'", vhost: str = "%VHOST%") -> str:
    return ("use PhpAmqpLib\\Connection\\AMQPStreamConnection;\n\n"
            f"$connection = new AMQPStreamConnection('127.0.0.1', {port}, '{user}', {password}, '{vhost}');\n"
            "$channel = $connection->channel();\n")


AMQP_CASES: list[PhpCase] = [
    ("amqp_wrong_password", "auth", "ACCESS_REFUSED", "bin/consume-invoice-events.php",
     _amqp(password="'amqp-Wk3e-115'") + "$channel->queue_declare('invoices.issued', false, true, false, false);\n"),
    ("amqp_vhost_no_permission", "auth", "access to vhost|NOT_ALLOWED", "bin/consume-ledger-events.php",
     _amqp(vhost="%LOCKED_VHOST%") + "$channel->queue_declare('ledger.postings', false, true, false, false);\n"),
    ("amqp_vhost_missing", "auth", "NOT_ALLOWED|not found", "bin/consume-payroll-events.php",
     _amqp(vhost="payroll116") + "$channel->queue_declare('payroll.runs', false, true, false, false);\n"),
    ("amqp_connection_limit", "resource", "connection limit", "bin/publish-report-jobs.php",
     _amqp(vhost="%CAPPED_VHOST%") + "$channel->queue_declare('reports.monthly', false, true, false, false);\n"),
    ("amqp_queue_limit", "resource", "queue limit", "bin/setup-topology.php", _amqp()
     + "foreach (['invoices.issued', 'invoices.paid', 'invoices.overdue', 'invoices.voided'] as $queue) {\n"
     "    $channel->queue_declare($queue, false, true, false, false);\n}\n"),
    ("amqp_refused", "network", "refused", "bin/consume-invoice-events.php", _amqp(port="%CLOSED%")
     + "$channel->queue_declare('invoices.issued', false, true, false, false);\n"),
]

# --------------------------------------------------------------------------- Doctrine DBAL


def _dbal(params: str) -> str:
    return ("use Doctrine\\DBAL\\DriverManager;\n\n"
            f"$conn = DriverManager::getConnection([{params}]);\n")


PG = ("'driver' => 'pdo_pgsql', 'host' => '127.0.0.1', 'port' => %PG%, 'dbname' => 'billing', 'user' => 'app', "
      "'password' => getenv('DB_PASSWORD') ?: '%PG_PASSWORD%'")
MY = ("'driver' => 'pdo_mysql', 'host' => '127.0.0.1', 'port' => %MY%, 'dbname' => 'portal', 'user' => 'portal', "
      "'password' => getenv('DB_PASSWORD') ?: '%MY_PASSWORD%'")

DBAL_CASES: list[PhpCase] = [
    ("dbal_pg_wrong_password", "auth", "password authentication failed", "bin/renew-subscriptions.php",
     _dbal(PG.replace("'%PG_PASSWORD%'", "'billing-2025!'").replace("getenv('DB_PASSWORD') ?: ", ""))
     + "$due = $conn->fetchAllAssociative('SELECT id FROM subscriptions WHERE renews_on <= CURRENT_DATE');\n"),
    ("dbal_pg_unknown_database", "validation", 'database "billing_prod" does not exist', "bin/renew-subscriptions.php",
     _dbal(PG.replace("'billing'", "'billing_prod'"))
     + "$due = $conn->fetchAllAssociative('SELECT id FROM subscriptions WHERE renews_on <= CURRENT_DATE');\n"),
    ("dbal_pg_too_many_clients", "resource", "too many clients|connection slots", "bin/parallel-renewals.php",
     "use Doctrine\\DBAL\\DriverManager;\n\n$pool = [];\nforeach (range(1, 8) as $worker) {\n"
     f"    $conn = DriverManager::getConnection([{PG}]);\n    $conn->executeQuery('SELECT 1');\n"
     "    $pool[] = $conn;\n}\n"),
    ("dbal_pg_standby", "service", "not accepting connections|starting up|standby", "bin/renew-subscriptions.php",
     _dbal(PG.replace("%PG%", "%PG_STANDBY%").replace("'user' => 'app'", "'user' => 'postgres'"))
     + "$due = $conn->fetchAllAssociative('SELECT 1');\n"),
    ("dbal_pg_refused", "network", "refused", "bin/renew-subscriptions.php", _dbal(PG.replace("%PG%", "%CLOSED%"))
     + "$due = $conn->fetchAllAssociative('SELECT id FROM subscriptions');\n"),
    ("dbal_pg_unique", "validation", "UniqueConstraintViolation", "src/Billing/subscribe.php", _dbal(PG)
     + "$conn->insert('subscriptions', ['customer_email' => 'ops@northwind.example', 'plan' => 'business']);\n"),
    ("dbal_pg_not_null", "validation", "NotNullConstraintViolation", "src/Billing/subscribe.php", _dbal(PG)
     + "$conn->insert('subscriptions', ['customer_email' => 'it@contoso.example', 'plan' => null]);\n"),
    ("dbal_pg_syntax", "programming", "SyntaxErrorException", "src/Billing/due-report.php", _dbal(PG)
     + "$rows = $conn->fetchAllAssociative('SELECT plan, count(*) FROM subscriptions GROUP plan ORDER BY 2 DESC');\n"),
    ("dbal_pg_missing_table", "programming", "TableNotFoundException", "src/Billing/due-report.php", _dbal(PG)
     + "$rows = $conn->fetchAllAssociative('SELECT * FROM subscription_renewals WHERE status = ?', ['failed']);\n"),
    ("dbal_my_access_denied", "auth", "Access denied", "src/Accounts/balance-sync.php",
     _dbal(MY.replace("'%MY_PASSWORD%'", "'portal-db-115'").replace("getenv('DB_PASSWORD') ?: ", ""))
     + "$total = $conn->fetchOne('SELECT SUM(balance) FROM accounts');\n"),
    ("dbal_my_too_many", "resource", "Too many connections", "bin/parallel-balance-sync.php",
     "use Doctrine\\DBAL\\DriverManager;\n\n$pool = [];\nforeach (range(1, 16) as $worker) {\n"
     f"    $conn = DriverManager::getConnection([{MY}]);\n    $conn->executeQuery('SELECT 1');\n"
     "    $pool[] = $conn;\n}\n"),
    ("dbal_my_lock_wait", "resource", "Lock wait timeout", "src/Accounts/transfer.php",
     "use Doctrine\\DBAL\\DriverManager;\n\n"
     f"$a = DriverManager::getConnection([{MY}]);\n$b = DriverManager::getConnection([{MY}]);\n"
     "$a->beginTransaction();\n$a->executeStatement('UPDATE accounts SET balance = balance - 50 WHERE id = 1');\n"
     "$b->executeStatement('SET SESSION innodb_lock_wait_timeout = 1');\n$b->beginTransaction();\n"
     "$b->executeStatement('UPDATE accounts SET balance = balance + 50 WHERE id = 1');\n"),
]

# --------------------------------------------------------------------------- Monolog

MONOLOG = """use Monolog\\Handler\\StreamHandler;
use Monolog\\Logger;

$log = new Logger('billing-worker');
$log->pushHandler(new StreamHandler(%PATH%, Logger::INFO));
$log->info('Invoice batch exported', ['batch' => '2026-11-29', 'invoices' => 412]);
"""


def _monolog(path: str) -> str:
    return MONOLOG.replace("%PATH%", path)


MONOLOG_CASES: list[PhpCase] = [
    ("monolog_not_a_directory", "filesystem", "Not a directory|could not be created", "bin/export-invoices.php",
     _monolog("__DIR__ . '/../storage/framework/logs/billing-worker.log'")),
    ("monolog_read_only", "filesystem", "Read-only file system", "bin/export-invoices.php",
     _monolog("getenv('LOG_PATH') ?: '%RO%/logs/billing-worker.log'")),
    ("monolog_permission", "filesystem", "append mode: Failed to open stream: Permission denied",
     "bin/export-invoices.php",
     _monolog("__DIR__ . '/../storage/logs/billing-worker.log'")),
    ("monolog_full_disk", "resource", "No space left", "bin/export-invoices.php",
     STRICT + _monolog("getenv('LOG_PATH') ?: '%FULL%/billing-worker.log'").replace(
         "$log->info('Invoice batch exported', ['batch' => '2026-11-29', 'invoices' => 412]);",
         "foreach (range(1, 412) as $n) {\n    $log->info('Invoice exported', ['invoice' => sprintf('INV-2026-%05d', "
         "$n), 'pdf' => str_repeat('a', 200)]);\n}")),
    ("monolog_bad_level", "validation", "is not defined", "bin/export-invoices.php",
     "use Monolog\\Handler\\StreamHandler;\nuse Monolog\\Logger;\n\nputenv('LOG_LEVEL=verbose');\n"
     "$log = new Logger('billing-worker');\n$log->pushHandler(new StreamHandler('php://stderr', "
     "Logger::toMonologLevel(getenv('LOG_LEVEL') ?: 'info')));\n"),
]

# --------------------------------------------------------------------------- Symfony YAML

YAML = "use Symfony\\Component\\Yaml\\Yaml;\n\n$config = Yaml::parseFile(__DIR__ . '/../config/%s');\n"

YAML_FILES = {
    "config/packages/messenger.yaml": "framework:\n    messenger:\n        transports:\n            async:\n"
                                      "                dsn: '%env(MESSENGER_TRANSPORT_DSN)%'\n"
                                      "              retry_strategy:\n                max_retries: 3\n",
    "config/packages/doctrine.yaml": "doctrine:\n    dbal:\n        url: '%env(DATABASE_URL)%'\n"
                                     "        server_version: '15'\n    orm:\n        auto_mapping: true\n"
                                     "    dbal:\n        charset: utf8\n",
    "config/packages/mailer.yaml": "framework:\n    mailer:\n\tdsn: '%env(MAILER_DSN)%'\n",
    "config/packages/security.yaml": "security:\n    password_hashers:\n        App\\Entity\\User: 'auto'\n",
}

YAML_CASES: list[PhpCase] = [
    ("yaml_indentation", "validation", "Unable to parse|Indentation", "bin/check-config.php",
     YAML % "packages/messenger.yaml"),
    ("yaml_duplicate_key", "validation", "Duplicate key", "bin/check-config.php", YAML % "packages/doctrine.yaml"),
    ("yaml_tabs", "validation", "tabs", "bin/check-config.php", YAML % "packages/mailer.yaml"),
    ("yaml_missing", "filesystem", 'cache.yaml" does not exist', "bin/check-config.php", YAML % "packages/cache.yaml"),
    ("yaml_unreadable", "filesystem", "cannot be read", "bin/check-config.php", YAML % "packages/security.yaml"),
]

# --------------------------------------------------------------------------- Twig

TWIG = """use Twig\\Environment;
use Twig\\Loader\\FilesystemLoader;

$twig = new Environment(new FilesystemLoader(%DIR%), ['strict_variables' => true, 'cache' => %CACHE%]);
$html = $twig->render('%TEMPLATE%', %CONTEXT%);
"""

TWIG_FILES = {
    "templates/emails/receipt.html.twig": "<h1>Receipt {{ invoice.number }}</h1>\n<ul>\n"
                                          "{% for line in invoice.lines %}\n  <li>{{ line.label }}</li>\n"
                                          "{% if line.discount %}\n  <li>discount {{ line.discount }}</li>\n"
                                          "{% endfor %}\n</ul>\n",
    "templates/emails/dunning.html.twig": "<p>Dear {{ customer.name }},</p>\n"
                                          "<p>{{ invoice.amount|money('EUR') }} is overdue since "
                                          "{{ invoice.due|date('d.m.Y') }}.</p>\n",
    "templates/emails/welcome.html.twig": "<p>Welcome {{ user.firstName }}!</p>\n"
                                          "<p>Your workspace: {{ workspace_url }}</p>\n",
    "templates/emails/renewal.html.twig": "<p>Your {{ subscription.plan.name }} plan renews on "
                                          "{{ subscription.renewsOn }}.</p>\n",
}


TEMPLATES = "dirname(__DIR__, 2) . '/templates'"


def _twig(template: str, context: str, directory: str = TEMPLATES, cache: str = "false") -> str:
    return (TWIG.replace("%DIR%", directory).replace("%CACHE%", cache).replace("%TEMPLATE%", template)
            .replace("%CONTEXT%", context))


TWIG_CASES: list[PhpCase] = [
    ("twig_unclosed_if", "programming", "Twig\\Error\\SyntaxError", "src/Mail/send-receipt.php",
     _twig("emails/receipt.html.twig", "['invoice' => ['number' => 'INV-2026-00412', 'lines' => []]]")),
    ("twig_unknown_filter", "programming", 'Unknown "money" filter', "src/Mail/send-dunning.php",
     _twig("emails/dunning.html.twig", "['customer' => ['name' => 'Contoso'], 'invoice' => ['amount' => 1200]]")),
    ("twig_undefined_variable", "programming", 'Variable "workspace_url" does not exist', "src/Mail/send-welcome.php",
     _twig("emails/welcome.html.twig", "['user' => ['firstName' => 'Lena']]")),
    ("twig_null_attribute", "programming", "null variable|Impossible to access", "src/Mail/send-renewal.php",
     _twig("emails/renewal.html.twig", "['subscription' => ['plan' => null, 'renewsOn' => '2026-12-01']]")),
    ("twig_missing_directory", "filesystem", "northwind-dark/templates\" directory does not exist",
     "src/Mail/send-welcome.php",
     _twig("emails/welcome.html.twig", "[]", "dirname(__DIR__, 2) . '/themes/northwind-dark/templates'")),
    ("twig_read_only_cache", "filesystem", "cache directory|Read-only", "src/Mail/send-welcome.php",
     _twig("emails/welcome.html.twig", "['user' => ['firstName' => 'Lena'], 'workspace_url' => 'https://x']",
           cache="'%RO%/twig-cache/prod'")),
]

# --------------------------------------------------------------------------- Symfony Process

PROCESS = "use Symfony\\Component\\Process\\Process;\n\n"

PROCESS_CASES: list[PhpCase] = [
    ("process_missing_cwd", "filesystem", "cwd", "deploy/activate-release.php", PROCESS
     + "$process = new Process(['php', 'bin/console', 'cache:warmup'], '/srv/northwind/releases/20261129T2210');\n"
     "$process->mustRun();\n"),
    ("process_git_not_repo", "git", "not a git repository", "deploy/update-checkout.php", PROCESS
     + "$process = new Process(['git', 'pull', '--ff-only', 'origin', 'main'], __DIR__ . '/../storage');\n"
     "$process->mustRun();\n"),
    ("process_git_local_changes", "git", "would be overwritten", "deploy/update-checkout.php", PROCESS
     + "$process = new Process(['git', 'checkout', 'release/3.9'], __DIR__ . '/checkout');\n$process->mustRun();\n"),
    ("process_tar_full_disk", "resource", "No space left", "deploy/archive-release.php", PROCESS
     + "$process = new Process(['tar', '-czf', '%FULL%/release-3.8.tar.gz', '-C', '/usr/share/php', 'Symfony', "
     "'Doctrine']);\n$process->mustRun();\n"),
    ("process_pg_dump_refused", "network", "refused", "deploy/backup-database.php", PROCESS
     + "$process = new Process(['pg_dump', '-h', '127.0.0.1', '-p', '%CLOSED%', '-U', 'app', '-Fc', '-f', "
     "'/tmp/billing-predeploy.dump', 'billing']);\n$process->setTimeout(60);\n$process->mustRun();\n"),
]

# --------------------------------------------------------------------------- Symfony Console

CONSOLE = """<?php

require __DIR__ . '/../vendor/autoload.php';
require __DIR__ . '/../src/Command/ExportInvoicesCommand.php';

use App\\Command\\ExportInvoicesCommand;
use Symfony\\Component\\Console\\Application;

$application = new Application('northwind-portal', '3.8.2');
$application->add(new ExportInvoicesCommand());
$application->run();
"""

EXPORT_COMMAND = """<?php

declare(strict_types=1);

namespace App\\Command;

use Symfony\\Component\\Console\\Command\\Command;
use Symfony\\Component\\Console\\Input\\InputArgument;
use Symfony\\Component\\Console\\Input\\InputInterface;
use Symfony\\Component\\Console\\Input\\InputOption;
use Symfony\\Component\\Console\\Output\\OutputInterface;

final class ExportInvoicesCommand extends Command
{
    protected static $defaultName = 'invoices:export';

    protected function configure(): void
    {
        $this->addArgument('month', InputArgument::REQUIRED, 'Month to export, YYYY-MM')
            ->addOption('format', 'f', InputOption::VALUE_REQUIRED, 'csv or json', 'csv')
            ->addOption('batch-size', null, InputOption::VALUE_REQUIRED, 'Invoices per file', '500');
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        $files = $this->chunk(412, $input->getOption('batch-size'));
        $output->writeln(sprintf('Exported %d files', $files));
        return Command::SUCCESS;
    }

    private function chunk(int $total, int $size): int
    {
        return intdiv($total + $size - 1, $size);
    }
}
"""

CONSOLE_CASES: list[tuple[str, str, str, list[str]]] = [
    ("console_unknown_option", "validation", '"--dry" option does not exist',
     ["php", "bin/console", "invoices:export", "2026-11", "--dry"]),
    ("console_missing_argument", "validation", "Not enough arguments", ["php", "bin/console", "invoices:export"]),
    ("console_unknown_command", "validation", "is not defined",
     ["php", "bin/console", "invoice:exprot", "2026-11"]),
    ("console_type_bug", "programming", "must be of type int|TypeError",
     ["php", "bin/console", "invoices:export", "2026-11", "--batch-size=250"]),
]

# --------------------------------------------------------------------------- PHPUnit

TOTALS = """<?php

declare(strict_types=1);

namespace App\\Billing;

final class InvoiceTotals
{
    /** @param list<array{qty: int, unit_cents: int, vat: string}> $lines */
    public static function gross(array $lines): int
    {
        $sum = 0;
        foreach ($lines as $line) {
            $net = $line['qty'] * $line['unit_cents'];
            $sum += $net + self::vat($net, $line['vat']);
        }
        return $sum;
    }

    private static function vat(int $net, float $rate): int
    {
        return (int) round($net * $rate);
    }

    public static function perSeat(int $cents, array $seats): int
    {
        return intdiv($cents, count(array_filter($seats)));
    }
}
"""

TOTALS_TEST = """<?php

namespace App\\Tests\\Billing;

require_once __DIR__ . '/../src/Billing/InvoiceTotals.php';

use App\\Billing\\InvoiceTotals;
use PHPUnit\\Framework\\TestCase;

final class InvoiceTotalsTest extends TestCase
{
    public function testGrossAddsVat(): void
    {
        $lines = [['qty' => 2, 'unit_cents' => 1000, 'vat' => '19%'], ['qty' => 1, 'unit_cents' => 500, 'vat' => '7%']];
        self::assertSame(2915, InvoiceTotals::gross($lines));
    }
}
"""

SEATS_TEST = """<?php

namespace App\\Tests\\Billing;

require_once __DIR__ . '/../src/Billing/InvoiceTotals.php';

use App\\Billing\\InvoiceTotals;
use PHPUnit\\Framework\\TestCase;

final class SeatPricingTest extends TestCase
{
    public function testPerSeatPrice(): void
    {
        self::assertSame(1000, InvoiceTotals::perSeat(3000, ['ana' => true, 'ben' => true, 'cleo' => true]));
    }

    public function testPerSeatRoundsDown(): void
    {
        self::assertSame(333, InvoiceTotals::perSeatRounded(1000, ['ana' => true, 'ben' => true, 'cleo' => true]));
    }
}
"""

PHPUNIT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<phpunit bootstrap="tests/bootstrap.php" colors="false">
    <testsuites>
        <testsuite name="billing">
            <directory>tests</directory>
        </testsuite>
    </testsuites>
</phpunit>
"""

PHPUNIT_CASES: list[tuple[str, str, str, list[str]]] = [
    ("phpunit_type_error", "programming", "TypeError",
     ["phpunit", "--no-configuration", "tests/InvoiceTotalsTest.php"]),
    ("phpunit_undefined_method", "programming", "undefined method",
     ["phpunit", "--no-configuration", "tests/SeatPricingTest.php"]),
    ("phpunit_missing_bootstrap", "filesystem", "Cannot open file",
     ["phpunit", "--configuration", "phpunit.xml.dist"]),
]


def _git_checkout(app: Path) -> None:
    """deploy/checkout: a repository on main with an uncommitted change to a file that release/3.9 changes too."""
    repo = app / "deploy" / "checkout"
    repo.mkdir(parents=True)
    genv = git_env("116")

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, env={**genv, "PATH": "/usr/bin:/bin"}, check=True,
                       capture_output=True)

    git("init", "-q", "-b", "main")
    (repo / ".env.production").write_text("APP_ENV=prod\nAPP_DEBUG=0\n")
    git("add", ".")
    git("commit", "-q", "-m", "release 3.8")
    git("checkout", "-q", "-b", "release/3.9")
    (repo / ".env.production").write_text("APP_ENV=prod\nAPP_DEBUG=0\nTRUSTED_PROXIES=10.0.0.0/8\n")
    git("commit", "-q", "-am", "release 3.9: trusted proxies")
    git("checkout", "-q", "main")
    (repo / ".env.production").write_text("APP_ENV=prod\nAPP_DEBUG=1\n")


def _prepare_tree(app: Path, values: dict[str, str]) -> None:
    write_files(app, {**YAML_FILES, **TWIG_FILES, "bin/console": CONSOLE,
                      "src/Command/ExportInvoicesCommand.php": EXPORT_COMMAND,
                      "src/Billing/InvoiceTotals.php": TOTALS, "tests/InvoiceTotalsTest.php": TOTALS_TEST,
                      "tests/SeatPricingTest.php": SEATS_TEST, "phpunit.xml.dist": PHPUNIT_XML}, values)
    (app / "config" / "packages" / "security.yaml").chmod(0o600)
    (app / "storage" / "framework").write_text("")  # a stray file where the framework's directory belongs
    _git_checkout(app)


def blind116_records(env: Env) -> list[Record]:
    app, values = php_app(env)
    _prepare_tree(app, values)
    out: list[Record] = []
    out += php_records(GUZZLE_CASES, "guzzle116", app, values)
    out += php_records(SF_HTTP_CASES, "symfony-httpclient116", app, values)
    out += php_records(PREDIS_CASES, "predis116", app, values)
    out += php_records(AMQP_CASES, "amqplib116", app, values)
    out += php_records(DBAL_CASES, "dbal116", app, values)
    out += php_records(MONOLOG_CASES, "monolog116", app, values, as_nobody=frozenset({"monolog_permission"}))
    out += php_records(YAML_CASES, "symfony-yaml116", app, values, as_nobody=frozenset({"yaml_unreadable"}))
    out += php_records(TWIG_CASES, "twig116", app, values)
    out += php_records(PROCESS_CASES, "symfony-process116", app, values)
    out += command_records(CONSOLE_CASES, "symfony-console116", app, values)
    out += command_records(PHPUNIT_CASES, "phpunit116", app, values)
    return out


if __name__ == "__main__":
    write_batch(blind116_records)


__all__ = ["BLIND116_SOURCES", "blind116_records"]
