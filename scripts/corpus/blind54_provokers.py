"""Fifty-fourth batch of blind provokers: data tooling on the Python side, as data pipelines and training jobs
meet it. DuckDB (a parse error, a missing table, a value that does not cast, a missing export, a truncated
Parquet file, a query past a tiny memory_limit, a database file another process holds), pandera schema
failures against a schema written wrongly, cerberus document errors against a rule misspelt in the schema, h5py
(missing, foreign, read-only for `nobody`, locked by another process, on a full tmpfs, written while open
read-only), PySpark on local[1] (an unknown column, a malformed CSV in FAILFAST mode, a missing input path, a
closed HDFS port, JDBC to a closed port and to a table the role may not read on the local PostgreSQL, a WebHDFS
gateway answering 503) and PyTorch (shape and dtype defects, a truncated checkpoint, an allocation past memory,
torch.hub downloads from a local server answering 503/403 or a closed port, a TCPStore nobody listens on).
Only 127.0.0.1."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from blind54_support import as_nobody, expect, holder, quiet_stderr, shared_dir, spark_session, status_gateway
from checked import PyCase, python_records
from common import Env, Record, write_batch
from servers import mount_tmpfs

BLIND54_SOURCES = frozenset({"duckdb54", "pandera54", "cerberus54", "h5py54", "pyspark54", "torch54"})
PG_JAR = "/usr/share/java/postgresql.jar"
PG = "host=127.0.0.1 port=5432 user=postgres dbname=test"

_DUCK_HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(120)"
_H5_HOLD = "import h5py, sys, time; f = h5py.File(sys.argv[1], 'w'); print('ok', flush=True); time.sleep(120)"

warnings.filterwarnings("ignore")


def _duckdb_cases(env: Env) -> list[PyCase]:
    import duckdb

    work = env.tmp / "warehouse54"
    work.mkdir()
    (work / "payouts.csv").write_text('payout_id,amount\n1,250.00\n2,"1.000,00"\n')

    def parser_error() -> None:
        duckdb.connect().sql("SELECT customer_id, sum(amount) FROM orders GROUP customer_id")

    def missing_table() -> None:
        con = duckdb.connect()
        con.sql("CREATE TABLE orders (order_id INTEGER, amount DECIMAL(10, 2))")
        con.sql("SELECT o.order_id, l.sku FROM orders o JOIN order_lines l USING (order_id)").fetchall()

    def cast_bad_value() -> None:
        duckdb.sql(f"SELECT payout_id, CAST(amount AS DECIMAL(10, 2)) FROM read_csv('{work}/payouts.csv', "
                   "all_varchar = true)").fetchall()

    def missing_export() -> None:
        duckdb.sql(f"SELECT count(*) FROM read_csv_auto('{work}/exports/2026-11-29/orders.csv')").fetchall()

    def truncated_parquet() -> None:
        target = work / "events.parquet"
        duckdb.sql(f"COPY (SELECT range AS id, md5(range::VARCHAR) AS payload FROM range(20000)) TO '{target}' "
                   "(FORMAT parquet)")
        data = target.read_bytes()
        target.write_bytes(data[: len(data) * 3 // 5])
        duckdb.sql(f"SELECT count(*), max(id) FROM read_parquet('{target}')").fetchall()

    def out_of_memory() -> None:
        con = duckdb.connect(config={"memory_limit": "20MB", "threads": 1, "temp_directory": ""})
        con.sql("SELECT range % 10 AS bucket, string_agg(md5(range::VARCHAR), ',') FROM range(3000000) "
                "GROUP BY bucket").fetchall()

    def locked_database() -> None:
        path = work / "analytics.duckdb"
        with holder(_DUCK_HOLD, path):
            duckdb.connect(str(path))

    return [
        ("duckdb_parser_error", "programming", "duckdb54", "ParserException", parser_error),
        ("duckdb_missing_table", "programming", "duckdb54", "CatalogException", missing_table),
        ("duckdb_cast_bad_value", "validation", "duckdb54", "ConversionException|InvalidInputException",
         expect("convert|conversion|cast|could not|invalid", cast_bad_value)),
        ("duckdb_missing_export", "filesystem", "duckdb54", "IOException",
         expect("no files found|does not exist|no such file", missing_export)),
        ("duckdb_truncated_parquet", "validation", "duckdb54", "Error",
         expect("magic|corrupt|invalid|metadata|footer|truncat|too small", truncated_parquet)),
        ("duckdb_out_of_memory", "resource", "duckdb54", "OutOfMemoryException", out_of_memory),
        ("duckdb_locked_database", "resource", "duckdb54", "IOException", expect("lock", locked_database)),
    ]


def _pandera_cases() -> list[PyCase]:
    import pandas as pd
    import pandera.pandas as pa

    def batch() -> Any:
        return pd.DataFrame({"order_id": [1, 2, 3], "amount": [10.0, -5.0, 7.5], "currency": ["EUR", "usd", "EUR"]})

    def range_check() -> None:
        schema = pa.DataFrameSchema({"amount": pa.Column(float, pa.Check.gt(0)),
                                     "currency": pa.Column(str, pa.Check.isin(["EUR", "USD"]))})
        schema.validate(batch())

    def lazy_report() -> None:
        schema = pa.DataFrameSchema({"order_id": pa.Column(int, unique=True),
                                     "amount": pa.Column(float, pa.Check.ge(0)), "sku": pa.Column(str)}, strict=True)
        schema.validate(batch(), lazy=True)

    def unknown_dtype() -> None:
        pa.DataFrameSchema({"amount": pa.Column("flaot64"), "currency": pa.Column(str)}).validate(batch())

    def check_on_wrong_type() -> None:
        schema = pa.DataFrameSchema({"amount": pa.Column(float, pa.Check(lambda s: s.str.len() > 0))})
        schema.validate(batch())

    return [
        ("pandera_range_check", "validation", "pandera54", "SchemaError", range_check),
        ("pandera_lazy_report", "validation", "pandera54", "SchemaErrors", lazy_report),
        ("pandera_unknown_dtype", "programming", "pandera54", "TypeError", unknown_dtype),
        ("pandera_check_wrong_type", "programming", "pandera54", "SchemaError",
         expect("attributeerror|.str accessor", check_on_wrong_type)),
    ]


def _cerberus_cases() -> list[PyCase]:
    import cerberus

    schema = {"host": {"type": "string", "required": True}, "port": {"type": "integer", "min": 1, "max": 65535},
              "replicas": {"type": "integer", "min": 1}}

    def document_errors() -> None:
        validator = cerberus.Validator(schema)
        if not validator.validate({"port": "8080", "replicas": 0, "region": "eu-west"}):
            raise ValueError(validator.errors)

    def not_a_document() -> None:
        cerberus.Validator(schema).validate([{"host": "db1", "port": 5432}])

    def unknown_rule() -> None:
        cerberus.Validator({"host": {"type": "string", "requried": True}})

    return [
        ("cerberus_document_errors", "validation", "cerberus54", "ValueError", document_errors),
        ("cerberus_not_a_document", "validation", "cerberus54", "DocumentError", not_a_document),
        ("cerberus_unknown_rule", "programming", "cerberus54", "SchemaError", unknown_rule),
    ]


def _h5py_cases(env: Env, full: Path) -> list[PyCase]:
    import h5py
    import numpy as np

    work = env.tmp / "features54"
    work.mkdir()
    (work / "labels.h5").write_text("sample_id,label\n1,cat\n2,dog\n")
    with h5py.File(work / "train.h5", "w") as f:
        f.create_dataset("x", data=np.arange(12).reshape(3, 4))

    def missing() -> None:
        h5py.File(work / "2026-11-29" / "embeddings.h5", "r")

    def not_hdf5() -> None:
        h5py.File(work / "labels.h5", "r")

    def locked() -> None:
        path = work / "checkpoint.h5"
        with holder(_H5_HOLD, path):
            h5py.File(path, "a")

    def disk_full() -> None:
        with h5py.File(full / "activations.h5", "w") as f:
            f.create_dataset("layer1", data=np.random.default_rng(54).random((400, 400)))

    def write_read_only_handle() -> None:
        with h5py.File(work / "train.h5", "r") as f:
            f.create_dataset("y", data=np.zeros(3))

    return [
        ("h5py_missing_file", "filesystem", "h5py54", "FileNotFoundError", missing),
        ("h5py_not_hdf5", "validation", "h5py54", "OSError", expect("signature", not_hdf5)),
        ("h5py_locked_file", "resource", "h5py54", "OSError", expect("lock", locked)),
        ("h5py_disk_full", "resource", "h5py54", "OSError", expect("no space|errno = 28", disk_full)),
        ("h5py_write_read_only_handle", "programming", "h5py54", "OSError|ValueError|KeyError",
         expect("write intent|read-only|no write", write_read_only_handle)),
    ]


def _h5py_nobody_cases(env: Env) -> list[PyCase]:
    import h5py

    shared = shared_dir(env, "h5py54")
    path = shared / "model_weights.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("w", data=[1.0, 2.0])
    path.chmod(0o644)

    def append_read_only() -> None:
        with h5py.File(path, "r+") as f:
            f["w"][0] = 3.0

    return [("h5py_permission_denied", "filesystem", "h5py54", "PermissionError", append_read_only)]


def _torch_cases(env: Env) -> list[PyCase]:
    import datetime

    import torch

    work = env.tmp / "models54"
    work.mkdir()

    def matmul_shapes() -> None:
        features = torch.randn(32, 128)
        weights = torch.randn(64, 10)
        features @ weights

    def wrong_dtype() -> None:
        layer = torch.nn.Linear(4, 2)
        layer(torch.arange(8).reshape(2, 4))

    def truncated_checkpoint() -> None:
        path = work / "epoch_12.pt"
        torch.save({"weight": torch.randn(256, 256), "step": 12}, path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        torch.load(path)

    def huge_allocation() -> None:
        torch.zeros(400_000, 1_000_000)

    def hub_download(url: str) -> None:
        torch.hub.download_url_to_file(url, str(work / "resnet18.pth"), progress=False)

    def store_unreachable() -> None:
        with quiet_stderr():
            torch.distributed.TCPStore("127.0.0.1", env.closed_port, is_master=False,
                                       timeout=datetime.timedelta(seconds=2))

    return [
        ("torch_matmul_shapes", "programming", "torch54", "RuntimeError",
         expect("cannot be multiplied|mat1|shape", matmul_shapes)),
        ("torch_wrong_dtype", "programming", "torch54", "RuntimeError", expect("dtype|long|float", wrong_dtype)),
        ("torch_truncated_checkpoint", "validation", "torch54", "RuntimeError|UnpicklingError|EOFError",
         expect("zip|central directory|pytorchstreamreader|pickle|eof", truncated_checkpoint)),
        ("torch_huge_allocation", "resource", "torch54", "RuntimeError|MemoryError",
         expect("allocate|memory", huge_allocation)),
        ("torch_hub_503", "service", "torch54", "HTTPError", expect("503", lambda: hub_download(env.url(503)))),
        ("torch_hub_403", "auth", "torch54", "HTTPError", expect("403", lambda: hub_download(env.url(403)))),
        ("torch_hub_refused", "network", "torch54", "URLError|ConnectionRefusedError",
         expect("refused", lambda: hub_download(f"http://127.0.0.1:{env.closed_port}/models/resnet18.pth"))),
        ("torch_store_unreachable", "network", "torch54", "DistNetworkError|RuntimeError",
         expect("timed out|refused|connect", store_unreachable)),
    ]


def _pg_reader() -> Any:
    """A table on the local PostgreSQL that a fresh login role may not read; returns a cleanup function."""
    import psycopg

    with psycopg.connect(PG, autocommit=True) as admin:
        admin.execute("DROP TABLE IF EXISTS b54_ledger")
        admin.execute("CREATE TABLE b54_ledger (entry_id int, amount numeric)")
        admin.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'b54_etl') THEN "
                      "CREATE ROLE b54_etl LOGIN; END IF; END $$")

    def cleanup() -> None:
        with psycopg.connect(PG, autocommit=True) as admin:
            admin.execute("DROP TABLE IF EXISTS b54_ledger")
            admin.execute("DROP ROLE IF EXISTS b54_etl")

    return cleanup


def _spark_cases(env: Env, spark: Any) -> list[PyCase]:
    work = env.tmp / "lake54"
    work.mkdir()
    (work / "orders.csv").write_text("order_id,amount\n1,10\n2,ten\n3,4,extra\n")
    body = b"<html><body><h2>HTTP ERROR 503 Service Unavailable</h2></body></html>"
    gateway = status_gateway(env, 503, body, "text/html")
    jdbc = "jdbc:postgresql://127.0.0.1:{port}/test"

    def unknown_column() -> None:
        orders = spark.createDataFrame([(1, "c-1", 10.0)], ["order_id", "customer_id", "amount"])
        orders.groupBy("custmer_id").sum("amount").collect()

    def failfast_csv() -> None:
        (spark.read.schema("order_id INT, amount INT").option("header", "true").option("mode", "FAILFAST")
         .csv(str(work / "orders.csv")).collect())

    def missing_input() -> None:
        spark.read.parquet(str(work / "events" / "dt=2026-11-29")).count()

    def hdfs_refused() -> None:
        spark.read.csv(f"hdfs://127.0.0.1:{env.closed_port}/warehouse/orders/part-0000.csv").count()

    def jdbc_read(port: int, user: str, table: str) -> None:
        spark.read.jdbc(jdbc.format(port=port), table, properties={"user": user, "driver": "org.postgresql.Driver"}
                        ).collect()

    def webhdfs_unavailable() -> None:
        spark.read.csv(f"webhdfs://127.0.0.1:{gateway}/warehouse/orders/part-0000.csv").count()

    return [
        ("pyspark_unknown_column", "programming", "pyspark54", "AnalysisException", unknown_column),
        ("pyspark_failfast_csv", "validation", "pyspark54", "Py4JJavaError|SparkException|PySparkException",
         expect("malformed|failfast", failfast_csv)),
        ("pyspark_missing_input", "filesystem", "pyspark54", "AnalysisException",
         expect("path_not_found|does not exist", missing_input)),
        ("pyspark_hdfs_refused", "network", "pyspark54", "Py4JJavaError|PySparkException",
         expect("connection refused", hdfs_refused)),
        ("pyspark_jdbc_refused", "network", "pyspark54", "AnalysisException|Py4JJavaError|PySparkException",
         expect("refused|failed_jdbc.connection", lambda: jdbc_read(env.closed_port, "postgres", "orders"))),
        ("pyspark_jdbc_permission", "auth", "pyspark54", "Py4JJavaError|PySparkException",
         expect("permission denied", lambda: jdbc_read(5432, "b54_etl", "b54_ledger"))),
        ("pyspark_webhdfs_503", "service", "pyspark54", "Py4JJavaError|PySparkException",
         expect("503|service unavailable", webhdfs_unavailable)),
    ]


def blind54_records(env: Env) -> list[Record]:
    full = mount_tmpfs(env, "full54", "size=256k")
    out = as_nobody(_h5py_nobody_cases(env))
    out += python_records(_h5py_cases(env, full))
    out += python_records(_duckdb_cases(env))
    out += python_records(_pandera_cases())
    out += python_records(_cerberus_cases())
    out += python_records(_torch_cases(env))
    cleanup = _pg_reader()
    spark = spark_session(env, PG_JAR)
    try:
        out += python_records(_spark_cases(env, spark))
    finally:
        spark.stop()
        cleanup()
    return out


if __name__ == "__main__":
    write_batch(blind54_records)


__all__ = ["BLIND54_SOURCES", "blind54_records"]
