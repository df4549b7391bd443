"""Hundred-and-thirty-second batch of blind provokers: database migration tools and database CLIs not seen before,
each failing for a cause provoked here (blind132_support) against private PostgreSQL and MariaDB servers. alembic
through its command API and its CLI (a syntax error or a missing import in env.py, an unknown revision, two heads,
a refused port, a wrong password, a standby cluster, all connection slots taken, a migration using a missing table
or a wrong argument type, a unique constraint the existing rows break, a missing script directory, a revision
written onto a full or read-only tmpfs, an unparsable URL or unknown dialect); dbmate, knex's migrate CLI,
sequelize-cli and the typeorm migration CLI (npm, refused/wrong password/standby/too many clients, failing SQL
in a migration, a missing migrations folder or config file, malformed JSON, an unknown driver or dialect); isql
(unixODBC) against DSNs of a private odbc.ini; mycli, litecli and pgcli run non-interactively."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

from blind132_support import NODE132, VENV132, Dbs, alembic_project, pg_url, prepare_dbs, revision
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch

BLIND132_SOURCES = frozenset({"alembic132", "alembic-cli132", "dbmate132", "knex-cli132", "sequelize-cli132",
                              "typeorm-cli132", "isql132", "mycli132", "litecli132", "pgcli132"})

#: what a cluster started as a standby with hot standby off answers
STANDBY = "starting up|not yet accepting|not accepting connections|Hot standby mode"
ALEMBIC = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "alembic")

BROKEN_ENV_PY = '''"""alembic environment of the billing service"""
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)
target_metadata = None


def run_migrations_online():
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                     poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
'''

IMPORT_ENV_PY = '''"""alembic environment of the billing service"""
from alembic import context
from sqlalchemy import engine_from_config, pool

from billing_service.models.base import Base

config = context.config
target_metadata = Base.metadata
'''


def _alembic_projects(env: Env, d: Dbs) -> dict[str, Path]:
    good = pg_url(d.pg)
    first = revision("3c1e9a7b52d4", None, 'op.create_table("invoices", sa.Column("id", sa.Integer, primary_key=True))')
    return {
        "syntax": alembic_project(env, "syntax", good, env_py=BROKEN_ENV_PY),
        "import": alembic_project(env, "import", good, env_py=IMPORT_ENV_PY),
        "plain": alembic_project(env, "plain", good, revisions={"3c1e9a7b52d4_invoices.py": first}),
        "heads": alembic_project(env, "heads", good, revisions={
            "3c1e9a7b52d4_invoices.py": first,
            "8d0f2b6e41a9_ledger.py": revision("8d0f2b6e41a9", None,
                                               'op.create_table("ledger", sa.Column("id", sa.Integer))'),
        }),
        "refused": alembic_project(env, "refused", pg_url(env.closed_port), revisions={"a.py": first}),
        "password": alembic_project(env, "password", pg_url(d.pg, "hunter2-rotated"), revisions={"a.py": first}),
        "replica": alembic_project(env, "replica", pg_url(d.standby), revisions={"a.py": first}),
        "busy": alembic_project(env, "busy", pg_url(d.busy), revisions={"a.py": first}),
        "missing_table": alembic_project(env, "missing_table", good, revisions={
            "5b7e1d0c9f3a_paid_at.py": revision("5b7e1d0c9f3a", None,
                                                'op.add_column("payments", sa.Column("paid_at", sa.DateTime()))'),
        }),
        "wrong_arg": alembic_project(env, "wrong_arg", good, revisions={
            "9e8d7c6b5a43_region.py": revision("9e8d7c6b5a43", None, 'op.add_column("customers", "region")'),
        }),
        "unique": alembic_project(env, "unique", good, revisions={
            "2f4a6c8e0b1d_unique_email.py": revision(
                "2f4a6c8e0b1d", None, 'op.create_unique_constraint("uq_customers_email", "customers", ["email"])'),
        }),
        "no_dir": alembic_project(env, "no_dir", good),
        "full": alembic_project(env, "full", good, ini_extra=f"version_locations = {d.full / 'versions'}"),
        "full_cli": alembic_project(env, "full_cli", good,
                                    ini_extra=f"version_locations = {d.full / 'versions-cli'}"),
        "ro": alembic_project(env, "ro", good, ini_extra=f"version_locations = {d.ro / 'versions'}"),
        "bad_url": alembic_project(env, "bad_url", "postgresql+psycopg//app:right-password@db-primary:5432/billing"),
        "dialect": alembic_project(env, "dialect", "postgress://app:right-password@127.0.0.1:5432/billing"),
    }


def _alembic_cases(env: Env, d: Dbs, p: dict[str, Path]) -> list[PyCase]:
    from alembic import command
    from alembic.config import Config

    def cfg(name: str) -> Config:
        return Config(str(p[name]))

    def up(name: str, target: str = "head") -> Any:
        return lambda: command.upgrade(cfg(name), target)

    def new_revision(name: str) -> Any:
        return lambda: command.revision(cfg(name), message="add dunning tables")

    no_dir = cfg("no_dir")
    no_dir.set_main_option("script_location", "/srv/billing-service/db/migrations")

    return [
        ("alembic_env_syntax", "programming", "alembic132", "SyntaxError", up("syntax")),
        ("alembic_env_import", "programming", "alembic132", "ModuleNotFoundError|ImportError", up("import")),
        ("alembic_add_column_str", "programming", "alembic132", "AttributeError|TypeError|ArgumentError",
         up("wrong_arg")),
        ("alembic_unique_violation", "validation", "alembic132", "IntegrityError", up("unique")),
        ("alembic_script_dir_missing", "filesystem", "alembic132", "CommandError",
         lambda: command.upgrade(no_dir, "head")),
        ("alembic_revision_full_disk", "resource", "alembic132", "OSError", new_revision("full")),
        ("alembic_revision_read_only", "filesystem", "alembic132", "OSError", new_revision("ro")),
        ("alembic_url_unparsable", "validation", "alembic132", "ArgumentError", up("bad_url")),
        ("alembic_unknown_dialect", "validation", "alembic132", "NoSuchModuleError|ArgumentError", up("dialect")),
    ]


def _alembic_cli_cases(p: dict[str, Path]) -> list[ToolCase]:
    def cli(name: str, *args: str) -> list[str]:
        return [ALEMBIC, "-c", str(p[name]), *args]

    return [
        ("alembic_cli_env_syntax", "programming", "SyntaxError", cli("syntax", "upgrade", "head")),
        ("alembic_cli_refused", "network", "Connection refused|connection failed", cli("refused", "upgrade", "head")),
        ("alembic_cli_wrong_password", "auth", "password authentication failed", cli("password", "upgrade", "head")),
        ("alembic_cli_standby", "service", STANDBY,
         cli("replica", "upgrade", "head")),
        ("alembic_cli_missing_table", "programming", "does not exist", cli("missing_table", "upgrade", "head")),
        ("alembic_cli_multiple_heads", "validation", "Multiple head", cli("heads", "upgrade", "head")),
        ("alembic_cli_unknown_revision", "validation", "Can't locate revision", cli("plain", "downgrade", "b71e0f")),
        ("alembic_cli_too_many_clients", "resource", "too many clients|remaining connection slots",
         cli("busy", "current")),
        ("alembic_cli_full_disk", "resource", "No space left", cli("full_cli", "revision", "-m", "add credit notes")),
    ]


def _node_project(env: Env, name: str, files: dict[str, str]) -> Path:
    root = NODE132 / "projects" / name
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    return root


def _dbmate_cases(env: Env, d: Dbs) -> list[ToolCase]:
    bin_ = NODE132 / "node_modules" / ".bin" / "dbmate"
    good = f"postgres://app:right-password@127.0.0.1:{d.pg}/billing?sslmode=disable"
    root = _node_project(env, "dbmate", {
        "db/migrations/20261128093000_create_subscriptions.sql":
            "-- migrate:up\nCREATE TABLE subscriptions (id serial primary key, plan text);\n"
            "-- migrate:down\nDROP TABLE subscriptions;\n",
        "bad/migrations/20261128100000_add_plan_index.sql":
            "-- migrate:up\nCREATE INDEX idx_plans_code ON plans (code);\n"
            "-- migrate:down\nDROP INDEX idx_plans_code;\n",
    })

    def dbmate(url: str, *args: str, dir_: str = "db/migrations") -> str:
        return f"cd {root} && DATABASE_URL='{url}' {bin_} --migrations-dir {dir_} --no-dump-schema {' '.join(args)}"

    return [
        ("dbmate_refused", "network", "connection refused|connect",
         dbmate(f"postgres://app:right-password@127.0.0.1:{env.closed_port}/billing?sslmode=disable", "up")),
        ("dbmate_wrong_password", "auth", "password authentication failed",
         dbmate(f"postgres://app:expired-2025@127.0.0.1:{d.pg}/billing?sslmode=disable", "migrate")),
        ("dbmate_standby", "service", STANDBY,
         dbmate(f"postgres://app:right-password@127.0.0.1:{d.standby}/billing?sslmode=disable", "migrate")),
        ("dbmate_too_many_clients", "resource", "too many clients|remaining connection slots",
         dbmate(f"postgres://app:right-password@127.0.0.1:{d.busy}/billing?sslmode=disable", "migrate")),
        ("dbmate_missing_table", "programming", "does not exist",
         dbmate(good, "migrate", dir_="bad/migrations")),
        ("dbmate_missing_dir", "filesystem", "no such file|could not find|not found|does not exist",
         dbmate(good, "migrate", dir_="/srv/billing/db/migrations")),
        ("dbmate_unknown_driver", "validation", "unsupported driver|invalid|unknown",
         dbmate(f"postgress://app:right-password@127.0.0.1:{d.pg}/billing", "migrate")),
    ]


KNEX_MIGRATION = """
exports.up = function (knex) {
  return knex.raw('ALTER TABLE shipments ADD COLUMN carrier_code varchar(16)');
};
exports.down = function (knex) {
  return knex.raw('ALTER TABLE shipments DROP COLUMN carrier_code');
};
"""


def _knexfile(client: str, conn: str, directory: str = "./migrations") -> str:
    return f"module.exports = {{ client: '{client}', connection: {conn}, pool: {{ min: 0, max: 2 }},\n" \
           f"  acquireConnectionTimeout: 8000, migrations: {{ directory: '{directory}' }} }};\n"


def _knex_cases(env: Env, d: Dbs) -> list[ToolCase]:
    bin_ = NODE132 / "node_modules" / ".bin" / "knex"

    def pg(port: int, password: str = "right-password") -> str:
        return f"{{ host: '127.0.0.1', port: {port}, user: 'app', password: '{password}', database: 'billing' }}"

    root = _node_project(env, "knex", {
        "refused/knexfile.js": _knexfile("pg", pg(env.closed_port)),
        "password/knexfile.js": _knexfile("pg", pg(d.pg, "rotated-secret")),
        "busy/knexfile.js": _knexfile("pg", pg(d.busy)),
        "replica/knexfile.js": _knexfile("pg", pg(d.standby)),
        "sql/knexfile.js": _knexfile("pg", pg(d.pg)),
        "sql/migrations/20261127_add_carrier.js": KNEX_MIGRATION,
        "nodir/knexfile.js": _knexfile("pg", pg(d.pg), "/srv/logistics/db/migrations"),
        "syntax/knexfile.js": _knexfile("pg", pg(d.pg)),
        "syntax/migrations/20261127_add_carrier.js": "exports.up = function (knex) {\n  return knex.schema"
                                                     ".alterTable('shipments', (t) => { t.string('carrier' };\n};\n",
        "maria/knexfile.js": _knexfile(
            "mysql2", f"{{ host: '127.0.0.1', port: {d.maria}, user: 'shop', password: 'wrong', database: 'shop' }}"),
    })

    for name in ("refused", "password", "busy", "replica", "maria"):
        (root / name / "migrations").mkdir()

    def knex(name: str, cmd: str = "migrate:latest") -> str:
        return f"cd {root / name} && {bin_} {cmd} --knexfile knexfile.js"

    return [
        ("knex_refused", "network", "ECONNREFUSED", knex("refused")),
        ("knex_wrong_password", "auth", "password authentication failed", knex("password")),
        ("knex_too_many_clients", "resource", "too many clients|remaining connection slots", knex("busy")),
        ("knex_standby", "service", STANDBY, knex("replica")),
        ("knex_missing_table", "programming", "does not exist", knex("sql")),
        ("knex_missing_dir", "filesystem", "ENOENT", knex("nodir")),
        ("knex_migration_syntax", "programming", "SyntaxError", knex("syntax")),
        ("knex_mysql_denied", "auth", "Access denied", knex("maria")),
    ]


def _sequelize_cases(env: Env, d: Dbs) -> list[ToolCase]:
    bin_ = NODE132 / "node_modules" / ".bin" / "sequelize"

    def config(port: int, password: str = "right-password", dialect: str = "postgres", user: str = "app",
               db: str = "billing") -> str:
        return json.dumps({"production": {"username": user, "password": password, "database": db,
                                          "host": "127.0.0.1", "port": port, "dialect": dialect, "logging": False}})

    migration = """
    'use strict';
    module.exports = {
      async up(queryInterface, Sequelize) {
        await queryInterface.addColumn('refunds', 'reason_code', { type: Sequelize.STRING(32) });
      },
      async down(queryInterface) {
        await queryInterface.removeColumn('refunds', 'reason_code');
      },
    };
    """
    root = _node_project(env, "sequelize", {
        "refused/config/config.json": config(env.closed_port),
        "password/config/config.json": config(d.pg, "spring-2025"),
        "busy/config/config.json": config(d.busy),
        "sql/config/config.json": config(d.pg),
        "sql/migrations/20261126120000-add-refund-reason.js": migration,
        "badjson/config/config.json": '{"production": {"username": "app", "password": "right-password",\n'
                                      '  "database": "billing", "host": "127.0.0.1" "dialect": "postgres"}}\n',
        "maria/config/config.json": config(d.maria, "nope", "mysql", "shop", "shop"),
        "dialect/config/config.json": config(d.pg, dialect="postgress"),
    })
    (root / "noconfig").mkdir()
    for name in ("refused", "password", "busy", "badjson", "maria", "dialect", "noconfig"):
        (root / name / "migrations").mkdir()

    def seq(name: str, cmd: str = "db:migrate") -> str:
        return f"cd {root / name} && NODE_ENV=production {bin_} {cmd}"

    return [
        ("sequelize_refused", "network", "ECONNREFUSED|Connection refused|ConnectionRefusedError", seq("refused")),
        ("sequelize_wrong_password", "auth", "password authentication failed", seq("password")),
        ("sequelize_too_many_clients", "resource", "too many clients|remaining connection slots", seq("busy")),
        ("sequelize_missing_table", "programming", "does not exist", seq("sql")),
        ("sequelize_config_json", "validation", "JSON|Unexpected|Expected", seq("badjson")),
        ("sequelize_missing_config", "filesystem", "Cannot find|no such file|ENOENT", seq("noconfig")),
        ("sequelize_unknown_dialect", "validation", "dialect", seq("dialect")),
    ]


def _typeorm_cases(env: Env, d: Dbs) -> list[ToolCase]:
    bin_ = NODE132 / "node_modules" / ".bin" / "typeorm"

    def source(port: int, password: str = "right-password", migrations: str = "migrations/*.js") -> str:
        return ("const { DataSource } = require('typeorm');\n"
                "module.exports = new DataSource({ type: 'postgres', host: '127.0.0.1', "
                f"port: {port}, username: 'app', password: '{password}', database: 'billing', "
                f"migrations: [__dirname + '/{migrations}'] }});\n")

    migration = """
    class AddWarehouseZone1764300000000 {
      name = 'AddWarehouseZone1764300000000';
      async up(queryRunner) {
        await queryRunner.query('ALTER TABLE "warehouses" ADD "zone" character varying(8)');
      }
      async down(queryRunner) {
        await queryRunner.query('ALTER TABLE "warehouses" DROP COLUMN "zone"');
      }
    }
    module.exports = { AddWarehouseZone1764300000000 };
    """
    root = _node_project(env, "typeorm", {
        "refused/data-source.js": source(env.closed_port),
        "password/data-source.js": source(d.pg, "ci-placeholder"),
        "busy/data-source.js": source(d.busy),
        "replica/data-source.js": source(d.standby),
        "sql/data-source.js": source(d.pg),
        "sql/migrations/1764300000000-AddWarehouseZone.js": migration,
    })

    def typeorm(name: str, ds: str = "data-source.js") -> str:
        return f"cd {root / name} && {bin_} migration:run -d {ds}"

    return [
        ("typeorm_refused", "network", "ECONNREFUSED", typeorm("refused")),
        ("typeorm_wrong_password", "auth", "password authentication failed", typeorm("password")),
        ("typeorm_too_many_clients", "resource", "too many clients|remaining connection slots", typeorm("busy")),
        ("typeorm_standby", "service", STANDBY, typeorm("replica")),
        ("typeorm_missing_table", "programming", "does not exist", typeorm("sql")),
        ("typeorm_missing_datasource", "filesystem", "Unable to open file|no such file|not found|Cannot find",
         typeorm("sql", "src/config/ormconfig.prod.js")),
    ]


def _isql_cases(env: Env, d: Dbs) -> list[ToolCase]:
    root = env.tmp / "odbc132"
    root.mkdir()
    dsn = "[{name}]\nDriver = PostgreSQL Unicode\nServername = 127.0.0.1\nPort = {port}\nDatabase = billing\n\n"
    ini = root / "odbc.ini"
    ini.write_text(dsn.format(name="billing_prod", port=d.pg) + dsn.format(name="billing_replica", port=d.standby)
                   + dsn.format(name="billing_dr", port=env.closed_port) + dsn.format(name="billing_batch",
                                                                                      port=d.busy))
    pre = f"export ODBCINI={ini} ODBCSYSINI=/etc; "
    return [
        ("isql_refused", "network", "refused|could not connect", pre + "isql -v billing_dr app right-password 2>&1"),
        ("isql_wrong_password", "auth", "password authentication failed",
         pre + "isql -v billing_prod app Winter2025! 2>&1"),
        ("isql_standby", "service", STANDBY,
         pre + "isql -v billing_replica app right-password 2>&1"),
        ("isql_too_many_clients", "resource", "too many clients|remaining connection slots",
         pre + "isql -v billing_batch app right-password 2>&1"),
        ("isql_unknown_dsn", "validation", "Data source name not found",
         pre + "isql -v billing_reporting app right-password 2>&1"),
        ("isql_sql_error", "programming", "does not exist",
         pre + "echo 'SELECT invoice_no, total FROM invoice_lines WHERE paid' | "
               "isql -b -v billing_prod app right-password 2>&1; exit 1"),
    ]


def _cli_cases(env: Env, d: Dbs) -> dict[str, list[ToolCase]]:
    mycli = VENV132 / "mycli"
    litecli = VENV132 / "litecli"
    pgcli = VENV132 / "pgcli"
    lite = env.tmp / "lite132"
    lite.mkdir()
    (lite / "garbage.db").write_bytes(b"<html>404 Not Found</html>\n" * 200)
    return {
        "mycli132": [
            ("mycli_refused", "network", "Can't connect|refused",
             f"{mycli} -h 127.0.0.1 -P {env.closed_port} -u shop -pright-password shop -e 'select 1'"),
            ("mycli_wrong_password", "auth", "Access denied",
             f"{mycli} -h 127.0.0.1 -P {d.maria} -u shop -pwrong-one shop -e 'select 1'"),
            ("mycli_sql_error", "programming", "doesn't exist|1146|1064",
             f"{mycli} -h 127.0.0.1 -P {d.maria} -u shop -pright-password shop "
             "-e 'select sku, qty from order_items where order_id = 77' ; exit 1"),
        ],
        "litecli132": [
            ("litecli_not_a_database", "validation", "not a database|malformed",
             f"{litecli} {lite / 'garbage.db'} -e 'select * from sessions' ; exit 1"),
            ("litecli_missing_dir", "filesystem", "unable to open|no such|does not exist",
             f"{litecli} /var/lib/inventory/cache/stock.db -e 'select 1' ; exit 1"),
        ],
        "pgcli132": [
            ("pgcli_refused", "network", "refused|connection failed",
             f"{pgcli} -h 127.0.0.1 -p {env.closed_port} -U app -d billing --list"),
            ("pgcli_wrong_password", "auth", "password authentication failed",
             f"PGPASSWORD=stale-secret {pgcli} -h 127.0.0.1 -p {d.pg} -U app -d billing -w --list"),
            ("pgcli_standby", "service", STANDBY,
             f"PGPASSWORD=right-password {pgcli} -h 127.0.0.1 -p {d.standby} -U app -d billing -w --list"),
        ],
    }


def blind132_records(env: Env) -> list[Record]:
    d = prepare_dbs(env)
    projects = _alembic_projects(env, d)
    out = python_records(_alembic_cases(env, d, projects))
    out += tool_records(_alembic_cli_cases(projects), "alembic-cli132", env.tmp)
    for source, cases in (("dbmate132", _dbmate_cases(env, d)), ("knex-cli132", _knex_cases(env, d)),
                          ("sequelize-cli132", _sequelize_cases(env, d)), ("typeorm-cli132", _typeorm_cases(env, d)),
                          ("isql132", _isql_cases(env, d)), *_cli_cases(env, d).items()):
        out += tool_records(cases, source, env.tmp, timeout=60)
    return out


if __name__ == "__main__":
    write_batch(blind132_records)


__all__ = ["BLIND132_SOURCES", "blind132_records"]
