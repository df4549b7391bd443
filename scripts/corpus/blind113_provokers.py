"""Hundred-and-thirteenth batch of blind provokers: workflow orchestrators and pipeline frameworks not seen before,
each run through its own CLI or runner so the record is what the framework prints (its logs and the task's
traceback), failing for a cause provoked here (blind113_support). Prefect flows against a private Prefect server
(a refused, a 503 and a hanging upstream, a missing landing file, a report written onto a full tmpfs, an allocation
under an address-space limit, a flow parameter that is not a date, a wrong Postgres and Redis password, too many
Postgres clients, a standby cluster, the Prefect API itself unreachable, a bug in a task); Dagster assets
materialized with `dagster asset materialize` (a 503 and a reset upstream, a missing file, the filesystem IO manager
on a full and on a read-only tmpfs, run config of the wrong type or missing, a wrong Postgres password, a standby
cluster, a memory limit, a bug in an asset, an asset depending on a misspelt key); `kedro run` of a small project
(a missing raw file, broken catalog YAML, a misspelt dataset type, a malformed --params option, an unknown pipeline,
an output on a full and on a read-only tmpfs, a SQL dataset with a wrong password or a refused port, a ragged CSV,
a node bug and a node wired to the wrong inputs); a Hamilton driver (a missing file, a 503 and a refused upstream,
a config value of the wrong type, malformed JSON, a wrong Redis password, a memory limit, a division by zero and
a type mismatch between two functions of the dataflow); Metaflow flows (a missing file, a parameter that is not a
float, a 503, the local datastore on a full tmpfs, a bug in a step)."""

from __future__ import annotations

from collections.abc import Callable

from blind113_support import Pipelines, prepare
from checked import ToolCase, tool_records
from common import Env, Record, write_batch

BLIND113_SOURCES = frozenset({"prefect113", "dagster113", "kedro113", "hamilton113", "metaflow113"})

MEMORY_LIMIT = "ulimit -v 1800000; "


def _placeholders(env: Env, p: Pipelines) -> dict[str, str]:
    return {"@CLOSED@": str(env.closed_port), "@HANG@": str(env.hang_port), "@RESET@": str(env.reset_port),
            "@HTTP@": env.http, "@PG@": str(p.pg_port), "@STANDBY@": str(p.standby_port),
            "@REDIS@": str(p.redis_port), "@ROOT@": str(p.root), "@FULL@": str(p.full), "@RO@": str(p.ro),
            "@ORDERS@": str(p.orders_csv)}


def _filler(env: Env, p: Pipelines) -> Callable[[str], str]:
    marks = _placeholders(env, p)

    def fill(text: str) -> str:
        for mark, value in marks.items():
            text = text.replace(mark, value)
        return text
    return fill


# --------------------------------------------------------------------------- prefect

PREFECT_FLOWS = '''
import sys
from datetime import date

import httpx
import numpy as np
import pandas as pd
import psycopg2
import redis
from prefect import flow, task, get_run_logger


@task
def fetch_json(url: str) -> dict:
    get_run_logger().info("GET %s", url)
    response = httpx.get(url, timeout=3)
    response.raise_for_status()
    return response.json()


@flow(name="fx-rates-sync")
def fx_rates_sync():
    return fetch_json("http://127.0.0.1:@CLOSED@/api/v2/rates?base=EUR")


@flow(name="partner-catalog-import")
def partner_catalog_import():
    return fetch_json("@HTTP@/status/503?feed=catalog&partner=nordwind")


@flow(name="shipment-tracking-poll")
def shipment_tracking_poll():
    return fetch_json("http://127.0.0.1:@HANG@/v1/shipments/events?since=2026-11-29T00:00:00Z")


@task
def load_ledger(path: str) -> pd.DataFrame:
    return pd.read_csv(path, parse_dates=["booked_at"])


@flow(name="ledger-reconcile")
def ledger_reconcile():
    return load_ledger("@ROOT@/landing/ledger/2026-11-28.csv")


@task
def write_report(frame: pd.DataFrame, path: str) -> str:
    frame.to_csv(path, index=False)
    return path


@flow(name="export-daily-report")
def export_daily_report():
    frame = pd.DataFrame({"sku": [f"SKU-{i:06d}" for i in range(20000)], "units": range(20000)})
    return write_report(frame, "@FULL@/daily_report_2026-11-29.csv")


@task
def build_embedding_matrix(rows: int, dims: int) -> np.ndarray:
    return np.ones((rows, dims), dtype="float64")


@flow(name="embeddings-refresh")
def embeddings_refresh():
    return build_embedding_matrix(400000, 1536).shape


@flow(name="orders-backfill")
def orders_backfill(start: date, days: int = 7):
    return start, days


@task
def count_rows(dsn: str, table: str) -> int:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        return cur.fetchone()[0]


@flow(name="warehouse-load")
def warehouse_load():
    return count_rows("host=127.0.0.1 port=@PG@ dbname=postgres user=app password=Winter2025!", "pg_class")


@flow(name="replica-freshness-check")
def replica_freshness_check():
    return count_rows("host=127.0.0.1 port=@STANDBY@ dbname=postgres user=postgres", "pg_class")


@task
def open_sessions(n: int) -> int:
    conns = [psycopg2.connect(f"host=127.0.0.1 port=@PG@ dbname=postgres user=app password=right-password "
                              f"application_name=orders-shard-{i}") for i in range(n)]
    return len(conns)


@flow(name="parallel-shard-export")
def parallel_shard_export():
    return open_sessions(6)


@task
def warm_cache(keys: list) -> int:
    client = redis.Redis(host="127.0.0.1", port=@REDIS@, password="feature-store-2024")
    return client.exists(*keys)


@flow(name="session-cache-warm")
def session_cache_warm():
    return warm_cache(["session:eu:1842", "session:eu:1843"])


@task
def summarize(invoices: list) -> str:
    total = sum(inv["amount"] for inv in invoices)
    return "Invoiced this week: " + total


@flow(name="invoice-summary")
def invoice_summary():
    return summarize([{"id": "INV-2026-1181", "amount": 1249.5}, {"id": "INV-2026-1182", "amount": 88.0}])


if __name__ == "__main__":
    name = sys.argv[1]
    if name == "orders_backfill":
        orders_backfill(start="2026-11-31", days=14)
    else:
        globals()[name]()
'''


def _prefect_cases(p: Pipelines) -> list[ToolCase]:
    (p.root / "flows").mkdir()
    (p.root / "flows" / "ops_flows.py").write_text(PREFECT_FLOWS)
    run = p.shell_env() + "cd @ROOT@/flows && python ops_flows.py {} 2>&1"
    return [
        ("prefect_upstream_refused", "network", "Connection refused", run.format("fx_rates_sync")),
        ("prefect_upstream_503", "service", "503 Service Unavailable", run.format("partner_catalog_import")),
        ("prefect_upstream_timeout", "network", "ReadTimeout", run.format("shipment_tracking_poll")),
        ("prefect_missing_landing_file", "filesystem", "No such file or directory", run.format("ledger_reconcile")),
        ("prefect_report_full_disk", "resource", "No space left on device", run.format("export_daily_report")),
        ("prefect_memory_limit", "resource", "MemoryError|Unable to allocate",
         MEMORY_LIMIT + run.format("embeddings_refresh")),
        ("prefect_parameter_not_a_date", "validation", "ParameterTypeError|validation error",
         run.format("orders_backfill")),
        ("prefect_postgres_password", "auth", "password authentication failed", run.format("warehouse_load")),
        ("prefect_postgres_standby", "service", "not accepting connections|starting up",
         run.format("replica_freshness_check")),
        ("prefect_postgres_too_many_clients", "resource", "too many clients|remaining connection slots",
         run.format("parallel_shard_export")),
        ("prefect_redis_password", "auth", "WRONGPASS|invalid username-password|AuthenticationError",
         run.format("session_cache_warm")),
        ("prefect_task_type_error", "programming", "TypeError", run.format("invoice_summary")),
        ("prefect_api_unreachable", "network", "Failed to reach API|Connection refused",
         p.shell_env() + "cd @ROOT@/flows && PREFECT_API_URL=http://127.0.0.1:@CLOSED@/api "
         "python ops_flows.py invoice_summary 2>&1"),
    ]


# --------------------------------------------------------------------------- dagster

DAGSTER_ASSETS = '''
import numpy as np
import pandas as pd
import psycopg2
import requests
from dagster import Config, ConfigurableResource, Definitions, asset


class WarehouseResource(ConfigurableResource):
    host: str = "127.0.0.1"
    port: int = @PG@
    user: str = "app"
    password: str = "Summer2026"
    dbname: str = "postgres"

    def query(self, sql: str):
        with psycopg2.connect(host=self.host, port=self.port, user=self.user, password=self.password,
                              dbname=self.dbname) as conn, conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()


class BackfillConfig(Config):
    lookback_days: int
    region: str = "emea"


@asset(group_name="ingest")
def partner_prices() -> pd.DataFrame:
    response = requests.get("@HTTP@/status/503?partner=nordwind&feed=prices", timeout=10)
    response.raise_for_status()
    return pd.DataFrame(response.json())


@asset(group_name="ingest")
def carrier_events() -> pd.DataFrame:
    response = requests.get("http://127.0.0.1:@RESET@/v2/carrier/events?since=2026-11-28", timeout=10)
    return pd.DataFrame(response.json())


@asset(group_name="ingest")
def raw_invoices() -> pd.DataFrame:
    return pd.read_csv("@ROOT@/landing/invoices/invoices_2026-11.csv")


@asset(group_name="warehouse")
def customer_dim(warehouse: WarehouseResource) -> int:
    return len(warehouse.query("SELECT oid FROM pg_class"))


@asset(group_name="warehouse")
def replica_lag_seconds() -> float:
    with psycopg2.connect(host="127.0.0.1", port=@STANDBY@, user="postgres", dbname="postgres") as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())")
            return cur.fetchone()[0]


@asset(group_name="marts")
def orders_backfill(config: BackfillConfig) -> int:
    return config.lookback_days


@asset(group_name="marts")
def revenue_by_region() -> pd.DataFrame:
    orders = {"emea": [19.9, 4.5], "amer": [120.0]}
    return orders.groupby("region").sum()


@asset(group_name="ml")
def product_similarity() -> np.ndarray:
    return np.ones((400000, 1536), dtype="float64")


defs = Definitions(
    assets=[partner_prices, carrier_events, raw_invoices, customer_dim, replica_lag_seconds, orders_backfill,
            revenue_by_region, product_similarity],
    resources={"warehouse": WarehouseResource()},
)
'''

DAGSTER_IO = '''
from dagster import Definitions, FilesystemIOManager, asset


@asset
def daily_orders_snapshot() -> list:
    return [{"order_id": 100000 + i, "sku": f"SKU-{i:06d}", "quantity": i % 7} for i in range(20000)]


defs = Definitions(assets=[daily_orders_snapshot],
                   resources={"io_manager": FilesystemIOManager(base_dir="@BASE@")})
'''

DAGSTER_BROKEN_DEP = '''
from dagster import Definitions, asset


@asset
def daily_revenue() -> float:
    return 1249.5


@asset
def weekly_revenue(daily_revenu: float) -> float:
    return daily_revenu * 7


defs = Definitions(assets=[daily_revenue, weekly_revenue])
'''


def _dagster_cases(p: Pipelines) -> list[ToolCase]:
    code = p.root / "dagster_etl"
    code.mkdir()
    (code / "etl_assets.py").write_text(DAGSTER_ASSETS)
    (code / "snapshot_full.py").write_text(DAGSTER_IO.replace("@BASE@", str(p.full / "dagster_storage")))
    (code / "snapshot_ro.py").write_text(DAGSTER_IO.replace("@BASE@", str(p.ro / "marts" / "dagster_storage")))
    (code / "revenue_assets.py").write_text(DAGSTER_BROKEN_DEP)
    (code / "backfill_bad.yaml").write_text('ops:\n  orders_backfill:\n    config:\n      lookback_days: "two weeks"\n'
                                            '      region: emea\n')
    (code / "backfill_empty.yaml").write_text("ops:\n  orders_backfill:\n    config:\n      region: apac\n")
    head = p.shell_env() + "cd @ROOT@/dagster_etl && "

    def mat(select: str, module: str = "etl_assets.py", extra: str = "") -> str:
        return head + f"dagster asset materialize -f {module} --select {select} {extra} 2>&1"

    return [
        ("dagster_upstream_503", "service", "503 Server Error", mat("partner_prices")),
        ("dagster_upstream_reset", "network", "Connection reset|Connection aborted", mat("carrier_events")),
        ("dagster_missing_file", "filesystem", "No such file or directory", mat("raw_invoices")),
        ("dagster_postgres_password", "auth", "password authentication failed", mat("customer_dim")),
        ("dagster_postgres_standby", "service", "not accepting connections|starting up", mat("replica_lag_seconds")),
        ("dagster_config_wrong_type", "validation", "DagsterInvalidConfigError|Invalid scalar",
         mat("orders_backfill", extra="-c backfill_bad.yaml")),
        ("dagster_config_missing_field", "validation", "Missing required config entry|DagsterInvalidConfigError",
         mat("orders_backfill", extra="-c backfill_empty.yaml")),
        ("dagster_asset_attribute_error", "programming", "AttributeError", mat("revenue_by_region")),
        ("dagster_memory_limit", "resource", "MemoryError|Unable to allocate",
         MEMORY_LIMIT + mat("product_similarity")),
        ("dagster_io_manager_full_disk", "resource", "No space left on device",
         mat("daily_orders_snapshot", "snapshot_full.py")),
        ("dagster_io_manager_read_only", "filesystem", "Read-only file system",
         mat("daily_orders_snapshot", "snapshot_ro.py")),
        ("dagster_misspelt_dependency", "programming", "daily_revenu", mat("weekly_revenue", "revenue_assets.py")),
    ]


# --------------------------------------------------------------------------- kedro

KEDRO_PYPROJECT = '''
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "sales_forecast"
version = "0.4.0"

[tool.kedro]
package_name = "sales_forecast"
project_name = "sales-forecast"
kedro_init_version = "1.7.0"
source_dir = "src"
'''

KEDRO_REGISTRY = '''
from kedro.pipeline import node, pipeline

from sales_forecast.nodes import clean_orders, weekly_totals


def register_pipelines():
    data_processing = pipeline([
        node(clean_orders, ["raw_orders", "params:min_quantity"], "clean_orders", name="clean_orders_node"),
        node(weekly_totals, ["clean_orders", "params:week_anchor"], "weekly_totals", name="weekly_totals_node"),
    ])
    return {"__default__": data_processing, "data_processing": data_processing}
'''

KEDRO_NODES = '''
import pandas as pd


def clean_orders(orders: pd.DataFrame, min_quantity: int) -> pd.DataFrame:
    orders = orders[orders["quantity"] >= min_quantity].copy()
    orders["revenue"] = orders["quantity"] * orders["unit_price"]
    return orders


def weekly_totals(orders: pd.DataFrame, week_anchor: str) -> pd.DataFrame:
    orders["week"] = pd.to_datetime(orders["ordered_at"]).dt.to_period(f"W-{week_anchor}").astype(str)
    return orders.groupby(["week", "region"])["revenue"].sum().reset_index()
'''

KEDRO_CATALOG = '''
raw_orders:
  type: pandas.CSVDataset
  filepath: @RAW@

clean_orders:
  type: pandas.CSVDataset
  filepath: @CLEAN@

weekly_totals:
  type: pandas.CSVDataset
  filepath: data/07_model_output/weekly_totals.csv
'''


def _kedro_project(p: Pipelines, name: str, *, raw: str = "", clean: str = "data/02_intermediate/clean_orders.csv",
                   catalog: str = "", nodes: str = KEDRO_NODES, registry: str = KEDRO_REGISTRY,
                   credentials: str = "") -> str:
    root = p.root / "kedro" / name
    pkg = root / "src" / "sales_forecast"
    pkg.mkdir(parents=True)
    for sub in ("conf/base", "conf/local", "data/02_intermediate", "data/07_model_output"):
        (root / sub).mkdir(parents=True)
    (root / "pyproject.toml").write_text(KEDRO_PYPROJECT)
    (pkg / "__init__.py").write_text('__version__ = "0.4.0"\n')
    (pkg / "settings.py").write_text("")
    (pkg / "pipeline_registry.py").write_text(registry)
    (pkg / "nodes.py").write_text(nodes)
    text = catalog or KEDRO_CATALOG.replace("@RAW@", raw or str(p.orders_csv)).replace("@CLEAN@", clean)
    (root / "conf" / "base" / "catalog.yml").write_text(text)
    (root / "conf" / "base" / "parameters.yml").write_text("min_quantity: 1\nweek_anchor: SUN\n")
    (root / "conf" / "local" / "credentials.yml").write_text(credentials)
    return str(root)


def _kedro_cases(p: Pipelines) -> list[ToolCase]:
    big = p.root / "landing" / "orders_2026_full.csv"
    big.write_text("order_id,ordered_at,region,quantity,unit_price\n" +
                   "".join(f"{20000 + i},2026-11-{1 + i % 28:02d},emea,{1 + i % 5},{9.5 + i % 13}\n"
                           for i in range(3000)))
    ragged = p.root / "landing" / "orders_2026_export_partner.csv"
    ragged.write_text("order_id,ordered_at,region,quantity,unit_price\n10001,2026-11-02,emea,3,19.90\n"
                      "10002,2026-11-10,amer,5,4.50,EUR,express\n")
    broken_yaml = ("raw_orders:\n  type: pandas.CSVDataset\n  filepath: " + str(p.orders_csv) +
                   "\n clean_orders:\n  type: pandas.CSVDataset\n    filepath: data/02_intermediate/clean.csv\n")
    sql_catalog = ("raw_orders:\n  type: pandas.SQLTableDataset\n  table_name: orders\n  credentials: warehouse\n\n"
                   "clean_orders:\n  type: pandas.CSVDataset\n  filepath: data/02_intermediate/clean_orders.csv\n")
    misspelt_type = (KEDRO_CATALOG.replace("@RAW@", str(p.orders_csv))
                     .replace("@CLEAN@", "data/02_intermediate/clean_orders.csv")
                     .replace("CSVDataset", "CSVDatset", 1))
    buggy_nodes = KEDRO_NODES.replace('orders["revenue"] = orders["quantity"] * orders["unit_price"]',
                                      'orders["region"] = orders["region"].upper()')
    miswired = KEDRO_REGISTRY.replace('["raw_orders", "params:min_quantity"]',
                                      '["raw_orders", "params:min_quantity", "params:week_anchor"]')

    def kedro(project: str, args: str = "") -> str:
        return p.shell_env() + f"cd {project} && kedro run {args} 2>&1"

    return [
        ("kedro_missing_raw_file", "filesystem", "No such file or directory",
         kedro(_kedro_project(p, "missing", raw=str(p.root / "landing" / "orders_2026_q3.csv")))),
        ("kedro_catalog_yaml_broken", "validation", "yaml|mapping values|expected",
         kedro(_kedro_project(p, "yaml", catalog=broken_yaml))),
        ("kedro_unknown_dataset_type", "validation", "CSVDatset",
         kedro(_kedro_project(p, "dstype", catalog=misspelt_type))),
        ("kedro_params_option_malformed", "validation", "params",
         kedro(_kedro_project(p, "params"), '--params "min_quantity"')),
        ("kedro_unknown_pipeline", "validation", "feature_engineering",
         kedro(_kedro_project(p, "pipeline"), "--pipeline feature_engineering")),
        ("kedro_output_full_disk", "resource", "No space left on device",
         kedro(_kedro_project(p, "full", raw=str(big), clean=str(p.full / "clean_orders.csv")))),
        ("kedro_output_read_only", "filesystem", "Read-only file system",
         kedro(_kedro_project(p, "ro", clean=str(p.ro / "marts" / "clean_orders.csv")))),
        ("kedro_sql_wrong_password", "auth", "password authentication failed",
         kedro(_kedro_project(p, "sqlauth", catalog=sql_catalog, credentials=(
             "warehouse:\n  con: postgresql+psycopg2://app:Autumn2025@127.0.0.1:@PG@/postgres\n")))),
        ("kedro_sql_refused", "network", "Connection refused",
         kedro(_kedro_project(p, "sqlrefused", catalog=sql_catalog, credentials=(
             "warehouse:\n  con: postgresql+psycopg2://app:right-password@127.0.0.1:@CLOSED@/postgres\n")))),
        ("kedro_ragged_csv", "validation", "Error tokenizing data|Expected",
         kedro(_kedro_project(p, "ragged", raw=str(ragged)))),
        ("kedro_node_attribute_error", "programming", "AttributeError",
         kedro(_kedro_project(p, "nodebug", nodes=buggy_nodes))),
        ("kedro_node_miswired", "programming", "TypeError|expected",
         kedro(_kedro_project(p, "miswired", registry=miswired))),
    ]


# --------------------------------------------------------------------------- hamilton

HAMILTON_FLOW = '''
import json

import numpy as np
import pandas as pd
import redis
import requests


def raw_orders(orders_path: str) -> pd.DataFrame:
    return pd.read_csv(orders_path, parse_dates=["ordered_at"])


def fx_rates(fx_api_url: str) -> dict:
    response = requests.get(fx_api_url, timeout=5)
    response.raise_for_status()
    return response.json()


def window_start(run_date: str, lookback_days: int) -> pd.Timestamp:
    return pd.Timestamp(run_date) - pd.Timedelta(days=lookback_days)


def recent_orders(raw_orders: pd.DataFrame, window_start: pd.Timestamp) -> pd.DataFrame:
    return raw_orders[raw_orders["ordered_at"] >= window_start]


def region_weights(weights_path: str) -> dict:
    with open(weights_path) as fh:
        return json.load(fh)


def segment_cache(redis_url: str) -> dict:
    return redis.Redis.from_url(redis_url).hgetall("segments:2026-11")


def repeat_buyers(recent_orders: pd.DataFrame) -> int:
    return int((recent_orders.groupby("region")["order_id"].count() > 5).sum())


def revenue_per_repeat_buyer(recent_orders: pd.DataFrame, repeat_buyers: int) -> int:
    return int((recent_orders["quantity"] * recent_orders["unit_price"]).sum()) // repeat_buyers


def cooccurrence(raw_orders: pd.DataFrame, catalog_size: int) -> np.ndarray:
    return np.ones((catalog_size, catalog_size), dtype="float64")
'''

HAMILTON_MISMATCH = '''
import pandas as pd


def window_start(run_date: str, lookback_days: int) -> str:
    return (pd.Timestamp(run_date) - pd.Timedelta(days=lookback_days)).isoformat()


def recent_orders(orders: pd.DataFrame, window_start: pd.Timestamp) -> pd.DataFrame:
    return orders[orders["ordered_at"] >= window_start]
'''

HAMILTON_RUNNER = '''
import importlib
import json
import logging
import sys

from hamilton import driver

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
module = importlib.import_module(sys.argv[1])
with open(sys.argv[2]) as fh:
    inputs = json.load(fh)
dr = driver.Builder().with_modules(module).build()
result = dr.execute(sys.argv[3].split(","), inputs=inputs)
print(result)
'''


def _hamilton_cases(p: Pipelines) -> list[ToolCase]:
    import json

    code = p.root / "features"
    code.mkdir()
    (code / "order_features.py").write_text(HAMILTON_FLOW)
    (code / "order_windows.py").write_text(HAMILTON_MISMATCH)
    (code / "build_features.py").write_text(HAMILTON_RUNNER)
    (code / "weights_eu.json").write_text('{"emea": 0.42, "amer": 0.35,\n "apac": 0.23,,}\n')

    def run(name: str, outputs: str, module: str = "order_features", **inputs: object) -> str:
        (code / f"{name}.json").write_text(json.dumps(inputs, indent=2))
        return p.shell_env() + f"cd @ROOT@/features && python build_features.py {module} {name}.json {outputs} 2>&1"

    base = {"orders_path": str(p.orders_csv), "run_date": "2026-11-29", "lookback_days": 30}
    return [
        ("hamilton_missing_input_file", "filesystem", "No such file or directory",
         run("missing", "recent_orders", **{**base, "orders_path": str(p.root / "landing" / "orders_2026_11.csv")})),
        ("hamilton_upstream_503", "service", "503 Server Error",
         run("fx503", "fx_rates", fx_api_url="@HTTP@/status/503?base=EUR&date=2026-11-29")),
        ("hamilton_upstream_refused", "network", "Connection refused",
         run("fxrefused", "fx_rates", fx_api_url="http://127.0.0.1:@CLOSED@/v1/rates?base=EUR")),
        ("hamilton_input_wrong_type", "validation", "lookback_days",
         run("wrongtype", "recent_orders", **{**base, "lookback_days": "thirty"})),
        ("hamilton_weights_json", "validation", "JSONDecodeError|Expecting",
         run("weights", "region_weights", weights_path=str(code / "weights_eu.json"))),
        ("hamilton_redis_password", "auth", "WRONGPASS|invalid username-password|AuthenticationError",
         run("segments", "segment_cache", redis_url="redis://:feature-store-2024@127.0.0.1:@REDIS@/0")),
        ("hamilton_memory_limit", "resource", "MemoryError|Unable to allocate",
         MEMORY_LIMIT + run("cooc", "cooccurrence", **{**base, "catalog_size": 250000})),
        ("hamilton_zero_division", "programming", "ZeroDivisionError",
         run("repeat", "revenue_per_repeat_buyer", **base)),
        ("hamilton_type_mismatch", "programming", "window_start",
         run("mismatch", "recent_orders", "order_windows", run_date="2026-11-29", lookback_days=30, orders=[])),
    ]


# --------------------------------------------------------------------------- metaflow

METAFLOW_TEMPLATE = '''
from metaflow import FlowSpec, Parameter, step


class @NAME@(FlowSpec):
    threshold = Parameter("threshold", type=float, default=0.5, help="churn score cut-off")

    @step
    def start(self):
@BODY@
        self.next(self.end)

    @step
    def end(self):
        print("scored", len(self.scores))


if __name__ == "__main__":
    @NAME@()
'''


def _metaflow_cases(p: Pipelines) -> list[ToolCase]:
    code = p.root / "churn"
    code.mkdir()

    def flow(file: str, name: str, body: str, args: str = "", pre: str = "") -> str:
        indented = "".join(f"        {line}\n" for line in body.strip().splitlines()).rstrip("\n")
        (code / file).write_text(METAFLOW_TEMPLATE.replace("@NAME@", name).replace("@BODY@", indented))
        return p.shell_env() + f"cd @ROOT@/churn && {pre}python {file} run {args} 2>&1"

    return [
        ("metaflow_missing_file", "filesystem", "No such file or directory",
         flow("score_customers.py", "ChurnScoringFlow",
              'import pandas as pd\nself.scores = pd.read_csv("@ROOT@/exports/customers_2026-11.csv")')),
        ("metaflow_param_not_float", "validation", "threshold",
         flow("score_threshold.py", "ChurnThresholdFlow", "self.scores = [0.1, 0.7]", "--threshold high")),
        ("metaflow_upstream_503", "service", "503 Server Error",
         flow("score_remote.py", "RemoteScoringFlow",
              'import requests\nr = requests.get("@HTTP@/status/503?model=churn-v7", timeout=5)\n'
              "r.raise_for_status()\nself.scores = r.json()")),
        ("metaflow_datastore_full", "resource", "No space left on device",
         flow("score_bulk.py", "BulkScoringFlow", "self.scores = [float(i % 97) / 97 for i in range(200000)]",
              pre="METAFLOW_DATASTORE_SYSROOT_LOCAL=@FULL@ ")),
        ("metaflow_step_type_error", "programming", "TypeError",
         flow("score_weighted.py", "WeightedScoringFlow",
              'weights = {"tenure": 0.4, "tickets": "0.6"}\nself.scores = [sum(weights.values())]')),
    ]


def _fill_tree(p: Pipelines, fill: Callable[[str], str]) -> None:
    """Put the ports and paths of this run into the project files just written."""
    for path in p.root.rglob("*"):
        if path.suffix in {".py", ".yml", ".yaml", ".json"} and path.is_file():
            path.write_text(fill(path.read_text()))


def blind113_records(env: Env) -> list[Record]:
    p = prepare(env)
    fill = _filler(env, p)
    makers = (("prefect113", _prefect_cases, 120), ("dagster113", _dagster_cases, 150),
              ("kedro113", _kedro_cases, 90), ("hamilton113", _hamilton_cases, 90),
              ("metaflow113", _metaflow_cases, 120))
    batches = [(source, make(p), timeout) for source, make, timeout in makers]
    _fill_tree(p, fill)
    out: list[Record] = []
    for source, cases, timeout in batches:
        out += tool_records(cases, source, p.root, fill=fill, timeout=timeout)
    return out


if __name__ == "__main__":
    write_batch(blind113_records)


__all__ = ["BLIND113_SOURCES", "blind113_records"]
