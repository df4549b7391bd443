"""Sixty-seventh batch of blind provokers: data transformation tools. dbt (dbt-core 1.10 with dbt-postgres) runs
tiny projects against the shared PostgreSQL and private clusters: a model selecting a missing column, Jinja that
does not compile, a ref to a missing model, a division by zero, a cast of bad source data, a schema file and --vars
that do not parse, not_null / unique / accepted_values data tests failing on a source, a role without privileges
(source freshness, creating its schema), a wrong password, a closed port, a full connection table, a standby that
refuses connections and a project on a full tmpfs. csvkit's CLIs (csvjson, in2csv, csvsql, csvcut) meet malformed
CSV/XLSX/JSON, a missing input, a database on a closed port or with a wrong password, a NOT NULL column, a role
without INSERT, a read-only directory and a full disk; agate (csvkit's engine) is called in-process. pgloader loads
a CSV with bad rows, to a wrong password, a closed port and from a missing file. Only 127.0.0.1."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

from blind67_support import DbtCase, dbt_records, run_case, write_project
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, run, write_batch
from servers import mount_tmpfs, private_postgres

BLIND67_SOURCES = frozenset({"dbt67", "csvkit67", "agate67", "pgloader67"})
_VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
_PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q", "-v", "ON_ERROR_STOP=1"]

_SETUP_SQL = """
DROP SCHEMA IF EXISTS b67_src CASCADE;
DROP SCHEMA IF EXISTS b67_dbt CASCADE;
DROP TABLE IF EXISTS public.b67_metrics;
DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'b67_analyst') THEN
  REVOKE ALL ON DATABASE test FROM b67_analyst; DROP ROLE b67_analyst; END IF; END $$;
CREATE SCHEMA b67_src;
CREATE TABLE b67_src.orders (id int, customer_id int, status text, amount text, loaded_at timestamp);
INSERT INTO b67_src.orders VALUES (1, 10, 'shipped', '12.50', now()), (2, NULL, 'placed', 'n/a', now()),
  (2, 11, 'lost_in_transit', '7.00', now());
CREATE TABLE b67_src.payroll (employee int, amount numeric, loaded_at timestamp);
CREATE TABLE b67_src.signups (email text NOT NULL, plan text);
CREATE TABLE public.b67_metrics (id int, value int);
CREATE ROLE b67_analyst LOGIN;
GRANT USAGE ON SCHEMA b67_src TO b67_analyst;
"""
_CLEANUP_SQL = """
DROP SCHEMA IF EXISTS b67_src CASCADE;
DROP SCHEMA IF EXISTS b67_dbt CASCADE;
DROP TABLE IF EXISTS public.b67_metrics;
DROP ROLE IF EXISTS b67_analyst;
"""

_SOURCES_YML = """version: 2
sources:
  - name: shop
    schema: b67_src
    tables:
      - name: orders
        columns:
          - name: id
            data_tests: [unique]
          - name: customer_id
            data_tests: [not_null]
          - name: status
            data_tests:
              - accepted_values:
                  arguments:
                    values: ['placed', 'shipped', 'delivered']
"""
_PAYROLL_YML = """version: 2
sources:
  - name: finance
    schema: b67_src
    loaded_at_field: loaded_at
    freshness:
      warn_after: {count: 12, period: hour}
    tables:
      - name: payroll
"""
_BROKEN_YML = """version: 2
models:
  - name: orders_daily
    columns:
      - name: order_date
        description: "day the order was placed
      - name: revenue
\tdescription: sum of amounts
"""


def _dbt_cases(private_port: int, crowded_port: int, standby_port: int, closed: int) -> list[DbtCase]:
    run_ = ["run", "--no-use-colors"]
    model = "models/orders_daily.sql"
    return [
        DbtCase("dbt_missing_column", "programming", "column", run_,
                {model: "select id, customer_email, amount from b67_src.orders\n"}),
        DbtCase("dbt_jinja_syntax", "programming", "Compilation Error", run_,
                {model: "{{ config(materialized='table' }}\nselect id from b67_src.orders\n"}),
        DbtCase("dbt_undefined_macro", "programming", "Compilation Error|undefined", run_,
                {model: "select id, {{ cents_to_dollars('amount') }} as amount_usd from b67_src.orders\n"}),
        DbtCase("dbt_missing_ref", "programming", "not found|stg_customers", run_,
                {model: "select o.id from b67_src.orders o join {{ ref('stg_customers') }} c using (id)\n"}),
        DbtCase("dbt_division_by_zero", "programming", "division by zero", run_,
                {model: "{{ config(materialized='table') }}\nselect status, count(*) / (count(*) - count(*)) as share "
                 "from b67_src.orders group by status\n"}),
        DbtCase("dbt_cast_bad_source_row", "validation", "invalid input syntax", run_,
                {model: "{{ config(materialized='table') }}\n"
                 "select id, amount::numeric(10, 2) as amount from b67_src.orders\n"}),
        DbtCase("dbt_schema_yaml", "validation", "yaml|scan|parsing|syntax", run_,
                {model: "select 1 as order_date, 2 as revenue\n", "models/schema.yml": _BROKEN_YML}),
        DbtCase("dbt_vars_yaml", "validation", "yaml|vars|parsing|flow", [*run_, "--vars", "{run_date: [2026-11-29"],
                {model: "select '{{ var(\"run_date\") }}' as run_date\n"}),
        DbtCase("dbt_test_unique", "validation", "unique", ["test", "--no-use-colors", "--select",
                                                           "source:shop.orders,test_name:unique"],
                {"models/sources.yml": _SOURCES_YML}),
        DbtCase("dbt_test_not_null", "validation", "not_null", ["test", "--no-use-colors", "--select",
                                                               "source:shop.orders,test_name:not_null"],
                {"models/sources.yml": _SOURCES_YML}),
        DbtCase("dbt_test_accepted_values", "validation", "accepted_values",
                ["test", "--no-use-colors", "--select", "source:shop.orders,test_name:accepted_values"],
                {"models/sources.yml": _SOURCES_YML}),
        DbtCase("dbt_build_json_logs", "validation", "not_null",
                ["build", "--no-use-colors", "--log-format", "json", "--select", "source:shop.orders"],
                {"models/sources.yml": _SOURCES_YML}),
        DbtCase("dbt_freshness_permission", "auth", "permission denied", ["source", "freshness", "--no-use-colors"],
                {"models/sources.yml": _PAYROLL_YML}, user="b67_analyst"),
        DbtCase("dbt_create_schema_denied", "auth", "permission denied", run_,
                {model: "select 1 as order_date\n"}, user="b67_analyst", schema="b67_analyst_sandbox"),
        DbtCase("dbt_wrong_password", "auth", "password authentication failed", run_,
                {model: "select 1 as order_date\n"}, port=private_port, user="app", password="stale-ci-secret"),
        DbtCase("dbt_closed_port", "network", "refused|could not connect|connection to server", ["debug",
                "--no-use-colors"], {model: "select 1 as order_date\n"}, port=closed),
        DbtCase("dbt_connection_slots", "resource", "slots|too many clients|reserved", run_,
                {model: "select 1 as order_date\n"}, port=crowded_port, user="app", password="right-password"),
        DbtCase("dbt_standby_refuses", "service", "not yet accepting|starting up|not accepting|standby", run_,
                {model: "select 1 as order_date\n"}, port=standby_port),
        DbtCase("dbt_json_missing_column", "programming", "column",
                [*run_, "--log-format", "json"], {model: "select id, customer_email from b67_src.orders\n"}),
    ]


def _dbt_on_full_disk(mount: Path, name: str, category: str, token: str) -> list[Record]:
    """A project on a tmpfs that is then filled: dbt cannot write its target/ and logs/."""
    case = DbtCase(name, category, token, ["run", "--no-use-colors"], {"models/orders_daily.sql": "select 1 as n\n"})
    write_project(mount / "proj", case)
    run(["bash", "-c", f"head -c 10000000 /dev/zero > {mount}/ballast"])
    return run_case(mount / "proj", case, "dbt67")


def _csvkit_cases(closed: int, private_port: int) -> list[ToolCase]:
    v = str(_VENV_BIN)
    pg = "postgresql://postgres@127.0.0.1:5432/test"
    return [
        ("csvjson_missing_input", "filesystem", "No such file", f"{v}/csvjson exports/orders-2026-11-28.csv"),
        ("in2csv_not_xlsx", "validation", "zip|not a|xlsx", f"{v}/in2csv TMP/report.xlsx"),
        ("in2csv_bad_json", "validation", "Expecting|JSON|decode", f"{v}/in2csv -f json TMP/events.json"),
        ("csvjson_latin1", "validation", "utf-8|decode|encod", f"{v}/csvjson TMP/customers_latin1.csv"),
        ("csvjson_ragged_rows", "validation", "values|columns|row", f"{v}/csvjson TMP/ragged.csv"),
        ("csvsql_closed_port", "network", "refused|could not connect|connection to server",
         f"{v}/csvsql --db postgresql://postgres@127.0.0.1:{closed}/test --insert --tables orders_stage "
         "TMP/orders.csv"),
        ("csvsql_wrong_password", "auth", "password authentication failed",
         f"{v}/csvsql --db postgresql://app:expired-token@127.0.0.1:{private_port}/postgres --insert "
         "--tables orders_stage TMP/orders.csv"),
        ("csvsql_not_null", "validation", "null value|NotNull",
         f"{v}/csvsql --db {pg} --db-schema b67_src --no-create --insert --tables signups TMP/signups.csv"),
        ("csvsql_insert_denied", "auth", "permission denied",
         f"{v}/csvsql --db postgresql://b67_analyst@127.0.0.1:5432/test --db-schema b67_src --no-create --insert "
         "--tables signups TMP/signups_ok.csv"),
        ("csvsql_query_syntax", "programming", "syntax error|near",
         f"{v}/csvsql --query 'SELECT status, COUNT(*) FROM orders GROUP status' TMP/orders.csv"),
        ("csvsql_sqlite_read_only", "filesystem", "readonly|read-only|unable to open",
         f"{v}/csvsql --db sqlite:///RODIR/warehouse.db --insert --tables orders TMP/orders.csv"),
        ("csvcut_disk_full", "resource", "No space left", f"{v}/csvcut -c id,amount TMP/big.csv > DISK/cut.csv"),
    ]


def _pgloader(target: str, source: str) -> str:
    """pgloader exits 0 even when it rejected rows, so a CI step fails on its summary's errors (as here)."""
    cmd = (f"pgloader --root-dir TMP/pgloader-logs --on-error-stop --type csv --field id --field value "
           f"--with 'skip header = 1' --with \"fields terminated by ','\" {source} '{target}'")
    return f"out=$({cmd} 2>&1); rc=$?; echo \"$out\" >&2; [ $rc -eq 0 ] && ! grep -qE 'ERROR|FATAL' <<<\"$out\""


def _pgloader_cases(closed: int, private_port: int) -> list[ToolCase]:
    shared = "postgresql://postgres@127.0.0.1:5432/test?tablename=b67_metrics"
    return [
        ("pgloader_bad_rows", "validation", "invalid input syntax", _pgloader(shared, "TMP/metrics.csv")),
        ("pgloader_wrong_password", "auth", "password authentication failed|authentication",
         _pgloader(f"postgresql://app:old-password@127.0.0.1:{private_port}/postgres?tablename=metrics",
                   "TMP/metrics_ok.csv")),
        ("pgloader_closed_port", "network", "refused|connect",
         _pgloader(f"postgresql://postgres@127.0.0.1:{closed}/test?tablename=metrics", "TMP/metrics_ok.csv")),
        ("pgloader_missing_file", "filesystem", "No such file|does not exist|not found",
         _pgloader(shared, "TMP/incoming/metrics-2026-11-29.csv")),
    ]


def _agate_cases(closed: int, tmp: Path) -> list[PyCase]:
    def ragged() -> None:
        import agate  # type: ignore[import-untyped]

        agate.Table.from_csv(str(tmp / "ragged.csv"))

    def cast_error() -> None:
        import agate

        agate.Table.from_csv(str(tmp / "orders.csv"), column_types={"amount": agate.Number()})

    def missing_column() -> None:
        import agate

        table = agate.Table.from_csv(str(tmp / "orders_ok.csv"))
        print(table.columns["customer_email"].values())

    def missing_file() -> None:
        import agate

        agate.Table.from_csv(str(tmp / "exports" / "orders-2026-11-29.csv"))

    def sql_closed() -> None:
        import agate
        import agatesql  # type: ignore[import-untyped]  # noqa: F401  (patches Table.from_sql)

        agate.Table.from_sql(f"postgresql://postgres@127.0.0.1:{closed}/test", "orders")

    def bad_xlsx() -> None:
        import agate
        import agateexcel  # type: ignore[import-untyped]  # noqa: F401  (patches Table.from_xlsx)

        agate.Table.from_xlsx(str(tmp / "report.xlsx"))

    def json_trailing_comma() -> None:
        import agate

        agate.Table.from_json(str(tmp / "events.json"))

    def sum_text() -> None:
        import agate

        table = agate.Table.from_csv(str(tmp / "orders_ok.csv"))
        table.aggregate(agate.Sum("status"))

    def ratio_zero() -> None:
        import agate

        rows = [(Decimal(3), Decimal(0))]
        table = agate.Table(rows, ["shipped", "placed"], [agate.Number(), agate.Number()])
        table.compute([("ratio", agate.Formula(agate.Number(), lambda r: r["shipped"] / r["placed"]))])

    return [
        ("agate_ragged_csv", "validation", "agate67", "ValueError", ragged),
        ("agate_number_cast", "validation", "agate67", "CastError", cast_error),
        ("agate_select_missing_column", "programming", "agate67", "KeyError", missing_column),
        ("agate_missing_file", "filesystem", "agate67", "FileNotFoundError", missing_file),
        ("agatesql_closed_port", "network", "agate67", "OperationalError", sql_closed),
        ("agateexcel_not_zip", "validation", "agate67", "BadZipFile", bad_xlsx),
        ("agate_json_trailing_comma", "validation", "agate67", "JSONDecodeError", json_trailing_comma),
        ("agate_sum_text_column", "programming", "agate67", "DataTypeError", sum_text),
        ("agate_formula_zero", "programming", "agate67", "ZeroDivisionError|DivisionByZero", ratio_zero),
    ]


def _inputs(tmp: Path) -> None:
    (tmp / "report.xlsx").write_text("id,amount\n1,12.50\n")  # a CSV saved under an .xlsx name
    (tmp / "events.json").write_text('[{"id": 1, "type": "click"}, {"id": 2, "type": "view",}]\n')
    (tmp / "customers_latin1.csv").write_bytes("id,name,city\n1,Jos\u00e9,M\u00fcnchen\n".encode("latin-1"))
    (tmp / "ragged.csv").write_text("id,status,amount\n1,shipped,12.50\n2,placed,7.00,EUR,extra\n")
    (tmp / "orders.csv").write_text("id,status,amount\n1,shipped,12.50\n2,placed,twelve\n")
    (tmp / "orders_ok.csv").write_text("id,status,amount\n1,shipped,12.50\n2,placed,7.00\n")
    (tmp / "signups.csv").write_text("email,plan\na@example.org,pro\n,free\n")
    (tmp / "signups_ok.csv").write_text("email,plan\na@example.org,pro\n")
    (tmp / "metrics.csv").write_text("id,value\n1,20\n2,twenty-one\n")
    (tmp / "metrics_ok.csv").write_text("id,value\n1,20\n")
    with (tmp / "big.csv").open("w") as fh:
        fh.write("id,status,amount\n")
        for i in range(20000):
            fh.write(f"{i},shipped,{i}.50\n")


def _hold_slots(port: int, n: int, stop: threading.Event) -> None:
    import psycopg

    conns: list[Any] = [psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres")
                        for _ in range(n)]
    stop.wait(180)
    for c in conns:
        c.close()


def blind67_records(env: Env) -> list[Record]:
    tmp = env.tmp
    _inputs(tmp)
    setup = run([*_PSQL, "-c", _SETUP_SQL])
    if setup.returncode:
        raise RuntimeError("batch 67 setup failed")

    def cleanup() -> None:
        run([*_PSQL, "-c", _CLEANUP_SQL])

    env._closers.append(cleanup)
    private = private_postgres(env)
    crowded = private_postgres(env, max_connections=4, reserved=1)
    standby = private_postgres(env, standby=True)
    stop = threading.Event()
    env._closers.append(stop.set)
    holder = threading.Thread(target=_hold_slots, args=(crowded.port, 3, stop), daemon=True)
    holder.start()
    disk = mount_tmpfs(env, "disk67", "size=128k")
    ro = mount_tmpfs(env, "ro67", "size=64k,ro")
    dbt_full = mount_tmpfs(env, "dbtfull67", "size=256k")

    def fill(text: str) -> str:
        return text.replace("TMP", str(tmp)).replace("DISK", str(disk)).replace("RODIR", str(ro))

    import time

    time.sleep(1.0)  # the holder takes its slots
    out = python_records(_agate_cases(env.closed_port, tmp))
    out += dbt_records(_dbt_cases(private.port, crowded.port, standby.port, env.closed_port), tmp, "dbt67")
    out += _dbt_on_full_disk(dbt_full, "dbt_disk_full", "resource", "No space left")
    out += tool_records(_csvkit_cases(env.closed_port, private.port), "csvkit67", tmp, fill)
    out += tool_records(_pgloader_cases(env.closed_port, private.port), "pgloader67", tmp, fill, timeout=90)
    stop.set()
    return out


if __name__ == "__main__":
    write_batch(blind67_records)


__all__ = ["BLIND67_SOURCES", "blind67_records"]
