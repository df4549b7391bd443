"""Harness of batch 34: run small PHP scripts and set up (and take down) the fixtures they fail against.

A PHP case is a script body (the `<?php` line is added) with `%NAME%` placeholders for the local servers; it is
written to a file of the batch directory and run with the `php` CLI, whose uncaught errors and warnings go to
stderr as `PHP Fatal error:` / `PHP Warning:` lines (Debian's CLI logs errors to stderr). A case may run as
the unprivileged `nobody` user (for a real EACCES: the batch directory is root's and mode 0700). The shared
PostgreSQL and MariaDB get `b34_*` tables and roles, dropped again at the end of the batch."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from checked import problem, tool_records
from common import Env, Record, run

#: name, category, expected output token (`A|B`), script body
PhpCase = tuple[str, str, str, str]

#: Frameworks (Laravel, Symfony) turn every warning into an ErrorException; some cases run under this.
STRICT = """set_error_handler(static function (int $severity, string $message, string $file, int $line): bool {
    throw new ErrorException($message, 0, $severity, $file, $line);
});
"""

#: A fetch helper as a small service client would write it: curl, then the library's own error text.
CURL_FETCH = """function fetch(string $url, array $options = []): string
{
    $ch = curl_init($url);
    curl_setopt_array($ch, $options + [
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_CONNECTTIMEOUT => 3,
        CURLOPT_TIMEOUT => 5,
        CURLOPT_HTTPHEADER => ['Accept: application/json'],
    ]);
    $body = curl_exec($ch);
    if ($body === false) {
        throw new RuntimeException(curl_error($ch), curl_errno($ch));
    }
    curl_close($ch);
    return $body;
}
"""

PG_SETUP = """DROP TABLE IF EXISTS b34_payroll, b34_jobs;
CREATE TABLE b34_payroll (employee text, amount int);
CREATE TABLE b34_jobs (id int PRIMARY KEY, state text NOT NULL, idempotency_key text UNIQUE);
INSERT INTO b34_jobs VALUES (1, 'queued', 'k-1'), (2, 'queued', 'k-2');
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'b34_reader') THEN
CREATE ROLE b34_reader LOGIN; END IF; END $$;
"""
PG_TEARDOWN = "DROP TABLE IF EXISTS b34_payroll, b34_jobs; DROP ROLE IF EXISTS b34_reader;"

MY_SETUP = """DROP TABLE IF EXISTS b34_accounts;
CREATE TABLE b34_accounts (id int PRIMARY KEY, email varchar(32) NOT NULL UNIQUE, balance int NOT NULL)
  ENGINE=InnoDB;
INSERT INTO b34_accounts VALUES (1, 'ops@example.org', 100), (2, 'billing@example.org', 200);
DROP USER IF EXISTS 'b34_app'@'%';
CREATE USER 'b34_app'@'%' IDENTIFIED BY 'right-password';
GRANT SELECT ON test.b34_accounts TO 'b34_app'@'%';
"""
MY_TEARDOWN = "DROP TABLE IF EXISTS b34_accounts; DROP USER IF EXISTS 'b34_app'@'%';"


def _psql(sql: str) -> str:
    proc = run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
    return proc.stderr.strip() if proc.returncode else ""


def _mariadb(sql: str) -> str:
    proc = run(["mariadb", "-h", "127.0.0.1", "-u", "root", "test", "-e", sql])
    return proc.stderr.strip() if proc.returncode else ""


def shared_db_fixtures(env: Env) -> bool:
    """Create the batch's tables and roles on the shared PostgreSQL and MariaDB; drop them with the batch."""
    def teardown() -> None:
        _psql(PG_TEARDOWN)
        _mariadb(MY_TEARDOWN)

    env._closers.append(teardown)
    failed = [what for what, err in (("postgres", _psql(PG_SETUP)), ("mariadb", _mariadb(MY_SETUP))) if err]
    for what in failed:
        problem(f"{what}_fixtures", "setup failed, its cases will fail the cause check")
    return not failed


def php_records(cases: Iterable[PhpCase], source: str, directory: Path, values: Mapping[str, str],
                as_nobody: frozenset[str] = frozenset()) -> list[Record]:
    """Write each case to `<name>.php` in `directory` and record what php printed when it failed with the
    token; cases named in `as_nobody` run as the `nobody` user from a copy of the script in /tmp."""

    def fill(code: str) -> str:
        for key, value in values.items():
            code = code.replace(f"%{key}%", value)
        return code

    directory.mkdir(parents=True, exist_ok=True)
    out: list[Record] = []
    for name, category, token, body in cases:
        script = directory / f"{name}.php"
        script.write_text("<?php\n" + fill(body))
        if name not in as_nobody:
            out += tool_records([(name, category, token, ["php", str(script)])], source, directory, timeout=30)
            continue
        public = Path("/tmp") / f"recoup-b34-{name}.php"
        shutil.copy(script, public)
        public.chmod(0o644)
        try:
            out += tool_records([(name, category, token, ["runuser", "-u", "nobody", "--", "php", str(public)])],
                                source, Path("/tmp"), timeout=30)
        finally:
            public.unlink(missing_ok=True)
    return out


__all__ = ["CURL_FETCH", "STRICT", "PhpCase", "php_records", "shared_db_fixtures"]
